// The policy language: what parses, to what, and every error with its position.
#include <fleet/test/support.hpp>

#include <fleet/netfilter/policy.hpp>

using namespace fleet::netfilter;
using fleet::test::contains;

namespace {

Policy parse_ok(const std::string& text)
{
    auto p = parse_policy(text, "p.conf");
    INFO(text << "\n" << (p ? std::string() : p.error().what()));
    REQUIRE(p);
    return *p;
}

std::string parse_error(const std::string& text)
{
    auto p = parse_policy(text, "p.conf");
    INFO(text);
    REQUIRE_FALSE(p);
    return p.error().message;
}

Subject vm(const std::string& name)
{
    return {Subject::Kind::vm, name};
}
Subject group(const std::string& name)
{
    return {Subject::Kind::group, name};
}

}  // namespace

TEST_CASE("the examples of the issue parse to what they say", "[policy]")
{
    const Policy p = parse_ok(
        "# fleet policy\n"
        "group backend = api worker\n"
        "\n"
        "allow web -> db tcp/5432   # the database\n"
        "allow group:backend -> dns udp/53\n"
        "allow web -> outside tcp/443\n"
        "deny *\n");
    REQUIRE(p.groups.size() == 1);
    CHECK(p.groups[0].name == "backend");
    CHECK(p.groups[0].members == std::vector<std::string>{"api", "worker"});
    CHECK(p.groups[0].line == 2);
    REQUIRE(p.rules.size() == 4);
    CHECK(p.rules[0].action == Action::allow);
    CHECK(p.rules[0].from == std::vector{vm("web")});
    CHECK(p.rules[0].to == std::vector{vm("db")});
    CHECK(p.rules[0].services == std::vector{Service{Protocol::tcp, {{5432, 5432}}}});
    CHECK(p.rules[0].line == 4);
    CHECK(p.rules[1].from == std::vector{group("backend")});
    CHECK(p.rules[1].services == std::vector{Service{Protocol::udp, {{53, 53}}}});
    CHECK(p.rules[2].to == std::vector{Subject{Subject::Kind::outside, ""}});
    CHECK(p.rules[3].action == Action::deny);
    CHECK(p.rules[3].from == std::vector{Subject{Subject::Kind::any, ""}});
    CHECK(p.rules[3].to == std::vector{Subject{Subject::Kind::any, ""}});
    CHECK(p.rules[3].services.empty());
    CHECK(p.rules[3].line == 7);
    CHECK(p.source == "p.conf");
}

TEST_CASE("lists of subjects, ports, ranges and services", "[policy]")
{
    const Policy p = parse_ok("allow web, group:g, vm:host -> db, * tcp/80,443,8000-8080 udp icmp\n");
    const Rule& r = p.rules.at(0);
    CHECK(r.from == std::vector{vm("web"), group("g"), vm("host")});
    CHECK(r.to == std::vector{vm("db"), Subject{Subject::Kind::any, ""}});
    REQUIRE(r.services.size() == 3);
    CHECK(r.services[0].ports == std::vector<PortRange>{{80, 80}, {443, 443}, {8000, 8080}});
    CHECK(r.services[1] == Service{Protocol::udp, {}});
    CHECK(r.services[2] == Service{Protocol::icmp, {}});
}

TEST_CASE("blanks are free: tabs, CRLF, no spaces around the arrow, a file without a last newline", "[policy]")
{
    const Policy p = parse_ok("\tallow\tweb->db tcp/1\r\n  deny   a ,b->  c");
    REQUIRE(p.rules.size() == 2);
    CHECK(p.rules[0].to == std::vector{vm("db")});
    CHECK(p.rules[1].from == std::vector{vm("a"), vm("b")});
    CHECK(parse_ok("").rules.empty());
    CHECK(parse_ok("# only a comment").rules.empty());
}

TEST_CASE("names with dots and dashes; a dash before '>' is the arrow", "[policy]")
{
    const Policy p = parse_ok("allow web-1.eu->db-2 tcp/1-2\n");
    CHECK(p.rules[0].from == std::vector{vm("web-1.eu")});
    CHECK(p.rules[0].to == std::vector{vm("db-2")});
    CHECK(p.rules[0].services[0].ports == std::vector<PortRange>{{1, 2}});
}

TEST_CASE("errors name file:line:column and the reason", "[policy]")
{
    struct Case {
        const char* text;
        const char* error;
    };
    const Case cases[] = {
        {"allow web db", "p.conf:1:11: expected '->' after the source, found 'db'"},
        {"\n\nallow web -> db tcp/70000", "p.conf:3:21: '70000' is not a port (1-65535) or a range of them"},
        {"allow web -> db tcp/0", "p.conf:1:21: '0' is not a port"},
        {"allow web -> db tcp/90-80", "p.conf:1:21: the range '90-80' runs backwards"},
        {"allow web -> db tcp/", "p.conf:1:21: expected a port or a range (80, 8000-8080), found the end of the file"},
        {"allow web -> db tcp/80,\n",
         "p.conf:1:24: expected a port or a range (80, 8000-8080), found the end of the line"},
        {"allow web -> db sctp/9",
         "p.conf:1:17: expected a service (tcp, udp, icmp, tcp/PORTS, udp/PORTS), found 'sctp'"},
        {"allow web -> db icmp/8", "p.conf:1:21: icmp has no ports"},
        {"permit web -> db", "p.conf:1:1: expected 'allow', 'deny' or 'group', found 'permit'"},
        {"allow outside -> web", "p.conf:1:7: 'outside' can only be a destination"},
        {"allow host -> web", "p.conf:1:7: 'host' can only be a destination"},
        {"allow web ->",
         "p.conf:1:13: expected a destination (a VM name, group:NAME, *, outside, host), found the end"},
        {"allow -> db", "p.conf:1:7: expected a source (a VM name, group:NAME, *), found '->'"},
        {"allow team:x -> db", "p.conf:1:7: unknown prefix 'team:' (group: or vm:)"},
        {"allow group: -> db", "p.conf:1:14: expected a group name, found '->'"},
        {"allow web -> db;", "p.conf:1:16: expected a service"},
        {"allow web -> db\xc3\xa9",
         "p.conf:1:16: expected a service (tcp, udp, icmp, tcp/PORTS, udp/PORTS), found the byte 0xc3"},
        {"allow .web -> db", "p.conf:1:7: '.web' is not a valid name"},
        {"allow * tcp", "p.conf:1:9: expected '->' after the source, found 'tcp'"},
        {"group = a", "p.conf:1:7: expected a group name, found '='"},
        {"group g a", "p.conf:1:9: expected '=' after the group name, found 'a'"},
        {"group g =", "p.conf:1:10: group 'g' needs at least one member"},
        {"group g = a,", "p.conf:1:13: expected a VM name after ',', found the end of the file"},
        {"group g = a\ngroup g = b", "p.conf:2:7: group 'g' is already defined on line 1"},
        {"group g = vm", "p.conf:1:13: expected ':' after 'vm'"},
        {"deny * extra", "p.conf:1:8: expected '->' after the source, found 'extra'"},
    };
    for (const Case& c : cases) {
        const std::string error = parse_error(c.text);
        INFO(c.text << " -> " << error);
        CHECK(error.starts_with(c.error));
    }
}

TEST_CASE("a name over 64 bytes is refused", "[policy]")
{
    CHECK(contains(parse_error("allow " + std::string(65, 'a') + " -> db"), "is not a valid name"));
    CHECK(parse_ok("allow " + std::string(64, 'a') + " -> db").rules.size() == 1);
}

TEST_CASE("a file over the size limit is refused before parsing", "[policy]")
{
    const std::string big(max_policy_bytes + 1, '#');
    CHECK(contains(parse_error(big), "p.conf: the file is larger than 4 MiB"));
}

TEST_CASE("format_policy is canonical and parses back to the same policy", "[policy][roundtrip]")
{
    const char* texts[] = {
        "group backend = api, worker # c\nallow web->db tcp/5432\n",
        "allow web, group:g -> db, outside, host tcp/80,443,8000-8080 udp icmp\ndeny *\nallow *\n",
        "group g = vm:host vm:outside group vm:vm\nallow vm:group -> vm:vm\ndeny * -> * tcp\n",
    };
    for (const char* text : texts) {
        const Policy p = parse_ok(text);
        const std::string canonical = format_policy(p);
        const Policy again = parse_ok(canonical);
        CHECK(again == p);
        CHECK(format_policy(again) == canonical);
    }
    CHECK(format_policy(parse_ok("group b = x ,y\nallow  web->db  tcp/5432,1-3\ndeny * -> *\n")) ==
          "group b = x y\nallow web -> db tcp/5432,1-3\ndeny *\n");
}

TEST_CASE("group membership by the policy's lists", "[policy]")
{
    const Policy p = parse_ok("group backend = api worker\n");
    CHECK(listed_in_group(p, "backend", "api"));
    CHECK_FALSE(listed_in_group(p, "backend", "web"));
    CHECK_FALSE(listed_in_group(p, "frontend", "api"));
}
