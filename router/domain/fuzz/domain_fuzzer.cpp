// fleet — fuzz target for domain XML (libFuzzer entry point).
//
// The input is what a hostile client could send as a domain definition
// (virDomainDefineXML, virDomainCreateXML). parse_domain_xml may refuse it
// (as malformed or as unsupported configuration), never crash, hang or
// read out of bounds. Whatever it accepts must format to a document that
// parses back to the same definition, and formats to the same text again;
// otherwise the target aborts.
#include <fleet/router/domain.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

using namespace fleet::router;

namespace {

[[noreturn]] void die(const char* what, const std::string& text)
{
    std::fprintf(stderr, "domain-fuzzer: %s\n%s\n", what, text.c_str());
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string input(reinterpret_cast<const char*>(data), size);
    auto def = parse_domain_xml(input);
    if (!def) {
        if (def.error().message.empty()) die("an error without a message", input);
        // Parse errors carry no errno but the unsupported-configuration mark.
        if (def.error().sys_errno != 0 && !is_unsupported_configuration(def.error()))
            die("an error with a stray errno", input);
        return 0;
    }
    const std::string text = format_domain_xml(*def, 5);
    auto again = parse_domain_xml(text);
    if (!again) die(("the formatted definition does not parse: " + again.error().what()).c_str(), text);
    if (!(*again == *def)) die("the formatted definition parses to something else", text);
    if (format_domain_xml(*again, 5) != text) die("formatting is not stable", text);
    return 0;
}
