// The compiler, byte for byte: whole rulesets against golden files (both
// conntrack modes), join and leave scripts, the checks on its input.
//
// To refresh the golden files after a deliberate change:
//   FLEET_UPDATE_GOLDEN=1 build/netfilter/tests/netfilter-unit "[golden]"
// and read the diff before committing it.
#include <fleet/test/support.hpp>

#include <fleet/netfilter/compile.hpp>

#include "inventory_file.hpp"

#include <cstdlib>

using namespace fleet::netfilter;
using fleet::test::contains;
using fleet::test::data_path;
using fleet::test::read_file;

namespace {

Policy example_policy()
{
    auto p = parse_policy(read_file(data_path("example.policy")), "example.policy");
    REQUIRE(p);
    return *p;
}

Inventory example_inventory()
{
    auto inv = cli::parse_inventory(read_file(data_path("example.inventory")), "example.inventory");
    REQUIRE(inv);
    return *inv;
}

void check_golden(const std::string& name, const std::string& text)
{
    const std::string path = data_path(name);
    if (const char* update = std::getenv("FLEET_UPDATE_GOLDEN"); update && *update == '1')
        fleet::test::write_file(path, text);
    const std::string golden = read_file(path);
    INFO("golden file " << path << " (FLEET_UPDATE_GOLDEN=1 rewrites it)");
    CHECK(text == golden);
}

CompileOptions mode(Conntrack c)
{
    CompileOptions o;
    o.conntrack = c;
    return o;
}

}  // namespace

TEST_CASE("the example ruleset, VM-to-VM policy in the bridge family", "[compile][golden]")
{
    auto script = compile_ruleset(example_policy(), example_inventory(), mode(Conntrack::bridge));
    REQUIRE(script);
    check_golden("example-bridge.nft", *script);
}

TEST_CASE("the example ruleset, VM-to-VM policy in the inet family (br_netfilter)", "[compile][golden]")
{
    auto script = compile_ruleset(example_policy(), example_inventory(), mode(Conntrack::inet));
    REQUIRE(script);
    check_golden("example-inet.nft", *script);
}

TEST_CASE("no policy and no VMs: anti-spoofing, default deny, no rule of the policy", "[compile][golden]")
{
    CompileOptions o;
    o.table = "fleet_test";
    o.bridge = "br-test";
    auto script = compile_ruleset(Policy{"none", {}, {}}, {}, o);
    REQUIRE(script);
    check_golden("empty.nft", *script);
}

TEST_CASE("the compiled ruleset does not depend on the inventory's order", "[compile]")
{
    Inventory inv = example_inventory();
    auto a = compile_ruleset(example_policy(), inv, {});
    std::reverse(inv.begin(), inv.end());
    auto b = compile_ruleset(example_policy(), inv, {});
    REQUIRE(a);
    REQUIRE(b);
    CHECK(*a == *b);
}

TEST_CASE("rules carry comments naming their policy line", "[compile]")
{
    auto script = compile_ruleset(example_policy(), {}, {});
    REQUIRE(script);
    CHECK(contains(*script,
                   "ip saddr @vm_web_ipv4 ip daddr @vm_db_ipv4 tcp dport 5432 accept comment "
                   "\"example.policy:4: allow web -> db tcp/5432\""));
    CHECK(contains(*script,
                   "ip6 saddr @group_backend_ipv6 ip6 daddr @vm_dns_ipv6 udp dport 53 accept comment "
                   "\"example.policy:5: allow group:backend -> dns udp/53 tcp/53\""));
    CHECK(contains(*script,
                   "ip saddr @vm_web_ipv4 tcp dport { 443, 80 } accept comment "
                   "\"example.policy:7: allow web -> outside tcp/443,80\""));
}

TEST_CASE("a VM joining or leaving changes set elements only", "[compile]")
{
    const Policy policy = example_policy();
    Endpoint worker = example_inventory().at(3);
    const std::string join = join_script(policy, worker, mode(Conntrack::bridge));
    CHECK(join ==
          "add element bridge fleet ports { \"flaa0000000004\" }\n"
          "add element bridge fleet port_mac { \"flaa0000000004\" . 0e:aa:00:00:00:04 }\n"
          "add element bridge fleet port_ipv4 { \"flaa0000000004\" . 0e:aa:00:00:00:04 . 10.77.0.5 }\n"
          "add element bridge fleet port_ipv6 { \"flaa0000000004\" . fe80::caa:ff:fe00:4 }\n"
          "add element bridge fleet port_nd { \"flaa0000000004\" . 0xfe800000000000000caa00fffe000004 }\n"
          "add element bridge fleet group_backend_ipv4 { 10.77.0.5 }\n"
          "add element bridge fleet vm_worker_ipv4 { 10.77.0.5 }\n"
          "add element bridge fleet vms_ipv4 { 10.77.0.5 }\n"
          "add element inet fleet vms_ipv4 { 10.77.0.5 }\n"
          "add element inet fleet vm_worker_ipv4 { 10.77.0.5 }\n");
    const std::string leave = leave_script(policy, worker, mode(Conntrack::bridge));
    std::string expected = join;
    for (std::size_t at = 0; (at = expected.find("add element", at)) != std::string::npos;)
        expected.replace(at, 3, "delete");
    CHECK(leave == expected);
    // With outbound access, the VM's addresses join the masquerade sets too.
    worker.outbound = true;
    CHECK(contains(join_script(policy, worker, {}), "add element inet fleet outbound_ipv4 { 10.77.0.5 }\n"));
}

TEST_CASE("group membership comes from the policy's lists and the VM's metadata", "[compile]")
{
    const Policy policy = example_policy();
    const Inventory inv = example_inventory();
    CHECK(matches(policy, {Subject::Kind::group, "backend"}, inv[2]));  // api: listed
    CHECK(matches(policy, {Subject::Kind::group, "backend"}, inv[4]));  // dns: its metadata
    CHECK_FALSE(matches(policy, {Subject::Kind::group, "backend"}, inv[0]));
    CHECK(matches(policy, {Subject::Kind::group, "infra"}, inv[4]));
    CHECK(matches(policy, {Subject::Kind::any, ""}, inv[0]));
    CHECK_FALSE(matches(policy, {Subject::Kind::outside, ""}, inv[0]));
}

TEST_CASE("a bad inventory or bad options are refused with a reason", "[compile]")
{
    const Policy policy = example_policy();
    Inventory inv = example_inventory();
    inv[1].ipv4 = inv[0].ipv4;
    auto r = compile_ruleset(policy, inv, {});
    REQUIRE_FALSE(r);
    CHECK(r.error().message == "'web' and 'db' share the address 10.77.0.2");
    inv = example_inventory();
    inv[1].port = inv[0].port;
    CHECK(compile_ruleset(policy, inv, {}).error().message == "'web' and 'db' share the port flaa0000000001");
    inv = example_inventory();
    inv[1].mac = inv[0].mac;
    CHECK(contains(compile_ruleset(policy, inv, {}).error().message, "share the MAC"));
    inv = example_inventory();
    inv[1].name = "web";
    CHECK(compile_ruleset(policy, inv, {}).error().message == "two endpoints are named 'web'");
    inv = example_inventory();
    inv[0].port = "a\"b";
    CHECK(contains(compile_ruleset(policy, inv, {}).error().message, "is not a valid interface name"));
    inv = example_inventory();
    inv[0].mac = *parse_mac("01:00:5e:00:00:01");
    CHECK(contains(compile_ruleset(policy, inv, {}).error().message, "is a multicast MAC"));
    inv = example_inventory();
    inv[0].groups = {"bad group"};
    CHECK(contains(compile_ruleset(policy, inv, {}).error().message, "is not a valid group name"));

    CompileOptions o;
    o.table = "1fleet";
    CHECK(contains(compile_ruleset(policy, {}, o).error().message, "is not a valid nft table name"));
    o = {};
    o.bridge = "bridge name";
    CHECK(contains(compile_ruleset(policy, {}, o).error().message, "is not a valid bridge name"));
}

TEST_CASE("comments stay inside nft's limits whatever the source is called", "[compile]")
{
    Policy policy =
        *parse_policy("allow " + std::string(60, 'a') + " -> " + std::string(60, 'b') + " tcp/1", "/x/\"q\".conf");
    auto script = compile_ruleset(policy, {}, {});
    REQUIRE(script);
    CHECK(contains(*script, "comment \"?q?.conf:1: allow aaaa"));
    CHECK(contains(*script, "...\"\n"));
    CHECK(contains(*script, "# fleet: generated from /x/?q?.conf; do not edit\n"));
}

TEST_CASE("the remove script deletes both tables, whether they exist or not", "[compile]")
{
    CHECK(remove_script({}) ==
          "table bridge fleet\ndelete table bridge fleet\ntable inet fleet\ndelete table inet fleet\n");
}
