// router-domain-unit — shared helpers: the sample documents in samples/,
// a minimal document around a fragment, and the error a document gets.
#pragma once

#include <fleet/router/domain.hpp>

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>

namespace fleet::router::testing {

inline std::string sample(const std::string& name)
{
    std::ifstream in(std::string(FLEET_DOMAIN_SAMPLES) + "/" + name);
    REQUIRE(in);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// A valid domain with `inside` added at the end of <domain>.
inline std::string domain_with(const std::string& inside, const std::string& attrs = "type='qemu'")
{
    return "<domain " + attrs + "><name>t</name><os><kernel>/k</kernel></os>" + inside + "</domain>";
}

// The document must be refused; this is why.
inline std::string error_of(const std::string& xml)
{
    auto def = parse_domain_xml(xml);
    REQUIRE_FALSE(def);
    return def.error().message;
}

inline DomainDef parsed(const std::string& xml)
{
    auto def = parse_domain_xml(xml);
    if (!def) FAIL(def.error().what());
    return *def;
}

}  // namespace fleet::router::testing
