// router-domain-unit — UUIDs (formats, randomness) and domain names.
#include "helpers.hpp"

#include <set>

using namespace fleet::router;
using namespace fleet::router::testing;
using Catch::Matchers::Equals;

TEST_CASE("uuid: dashed or not, any case; written dashed, lower case", "[uuid]")
{
    const std::string canonical = "c7a5fdbd-edaf-9455-926a-d65c16db1809";
    for (const std::string& text : {canonical, std::string("C7A5FDBD-EDAF-9455-926A-D65C16DB1809"),
                                    std::string("c7a5fdbdedaf9455926ad65c16db1809")}) {
        auto uuid = parse_uuid(text);
        REQUIRE(uuid);
        CHECK(format_uuid(*uuid) == canonical);
    }
    CHECK(format_uuid(Uuid{}) == "00000000-0000-0000-0000-000000000000");
    for (const std::string bad : {"", "c7a5fdbd-edaf-9455-926a-d65c16db180", "c7a5fdbd-edaf-9455-926a-d65c16db18099",
                                  "c7a5fdbdedaf-9455-926a-d65c-16db1809", "g7a5fdbdedaf9455926ad65c16db1809",
                                  "c7a5fdbd+edaf+9455+926a+d65c16db1809", " c7a5fdbdedaf9455926ad65c16db1809"}) {
        INFO(bad);
        auto uuid = parse_uuid(bad);
        REQUIRE_FALSE(uuid);
        CHECK_THAT(uuid.error().message,
                   Equals("'" + bad + "' is not a UUID (32 hex digits, dashed 8-4-4-4-12 or not)"));
    }
}

TEST_CASE("uuid in a document: blanks around it are fine, errors name <uuid>", "[uuid]")
{
    CHECK(format_uuid(parsed(domain_with("<uuid>\n  c7a5fdbdedaf9455926ad65c16db1809\n</uuid>")).uuid) ==
          "c7a5fdbd-edaf-9455-926a-d65c16db1809");
    CHECK_THAT(error_of(domain_with("<uuid>nope</uuid>")),
               Equals("<uuid>: 'nope' is not a UUID (32 hex digits, dashed 8-4-4-4-12 or not)"));
}

TEST_CASE("random uuids are version 4, variant 1, and differ", "[uuid]")
{
    std::set<Uuid> seen;
    for (int i = 0; i < 1000; ++i) {
        const Uuid u = random_uuid();
        CHECK((u[6] >> 4) == 4);
        CHECK((u[8] >> 6) == 2);
        seen.insert(u);
    }
    CHECK(seen.size() == 1000);
    // A document without <uuid> gets a fresh one each time.
    CHECK(parsed(domain_with("")).uuid != parsed(domain_with("")).uuid);
}

TEST_CASE("domain names: the launcher's rule", "[name]")
{
    for (const std::string& good : std::vector<std::string>{"a", "web-1", "A.b_c-9", "9lives", std::string(64, 'x')}) {
        INFO(good);
        CHECK(check_domain_name(good));
    }
    for (const std::string& bad : std::vector<std::string>{"", ".hidden", "-x", "_x", "a b", "a/b", "a+b",
                                                           "caf\xc3\xa9", "x\n", std::string(65, 'x')}) {
        INFO(bad);
        CHECK_FALSE(check_domain_name(bad));
    }
}
