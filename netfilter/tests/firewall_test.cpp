// Firewall over the fake Nft: every change is one script, a refused change
// changes nothing, joins and leaves are set elements.
#include <fleet/test/support.hpp>

#include <fleet/netfilter/firewall.hpp>

using namespace fleet::netfilter;
using fleet::test::contains;

namespace {

Endpoint endpoint(const std::string& name, int n)
{
    Endpoint e;
    e.name = name;
    e.port = "v" + name;
    e.mac.bytes = {0x0e, 0, 0, 0, 0, static_cast<std::uint8_t>(n)};
    e.ipv4 = Ipv4{0x0a4d0000u + static_cast<std::uint32_t>(n)};
    return e;
}

Policy policy(const std::string& text)
{
    auto p = parse_policy(text, "policy");
    REQUIRE(p);
    return *p;
}

}  // namespace

TEST_CASE("load, join, leave and update are one script each", "[firewall]")
{
    FakeNft nft;
    Firewall fw(nft, {});
    REQUIRE(fw.join(endpoint("web", 2)));  // before the first load: remembered only
    CHECK(nft.scripts.empty());
    REQUIRE(fw.load(policy("allow web -> db tcp/5432\n")));
    REQUIRE(nft.scripts.size() == 1);
    CHECK(contains(nft.ruleset, "elements = { \"vweb\" }"));
    REQUIRE(fw.join(endpoint("db", 3)));
    REQUIRE(nft.scripts.size() == 2);
    CHECK(nft.scripts[1].starts_with("add element bridge fleet ports { \"vdb\" }\n"));
    CHECK(contains(nft.scripts[1], "add element bridge fleet vm_db_ipv4 { 10.77.0.3 }\n"));
    CHECK_FALSE(contains(nft.scripts[1], "table"));

    Endpoint db = endpoint("db", 3);
    db.outbound = true;
    REQUIRE(fw.update(db));
    REQUIRE(nft.scripts.size() == 3);
    CHECK(contains(nft.scripts[2], "delete element bridge fleet ports { \"vdb\" }\n"));
    CHECK(contains(nft.scripts[2], "add element inet fleet outbound_ipv4 { 10.77.0.3 }\n"));
    CHECK(fw.inventory().at(1).outbound);

    REQUIRE(fw.leave("web"));
    CHECK(nft.scripts.back().starts_with("delete element bridge fleet ports { \"vweb\" }\n"));
    CHECK(fw.inventory().size() == 1);
    CHECK_FALSE(fw.leave("web"));
}

TEST_CASE("a refused reload leaves the policy and the kernel's tables as they were", "[firewall]")
{
    FakeNft nft;
    Firewall fw(nft, {});
    REQUIRE(fw.join(endpoint("web", 2)));
    REQUIRE(fw.load(policy("allow web -> db tcp/5432\n")));
    const std::string before = nft.ruleset;
    nft.fail_next = 1;
    auto r = fw.load(policy("allow web -> db tcp/1\n"));
    REQUIRE_FALSE(r);
    CHECK(nft.ruleset == before);
    CHECK(format_policy(fw.policy()) == "allow web -> db tcp/5432\n");
    // A refused join is not in the inventory either.
    nft.fail_next = 1;
    CHECK_FALSE(fw.join(endpoint("db", 3)));
    CHECK(fw.inventory().size() == 1);
}

TEST_CASE("a VM that clashes with one on the bridge is refused before the kernel sees it", "[firewall]")
{
    FakeNft nft;
    Firewall fw(nft, {});
    REQUIRE(fw.load(policy("")));
    REQUIRE(fw.join(endpoint("web", 2)));
    Endpoint twin = endpoint("twin", 2);
    twin.port = "vweb";
    auto r = fw.join(twin);
    REQUIRE_FALSE(r);
    CHECK(r.error().message == "'web' and 'twin' share the port vweb");
    twin.port = "vtwin";
    CHECK(contains(fw.join(twin).error().message, "share the MAC"));
    CHECK(nft.scripts.size() == 2);
}

TEST_CASE("probe: the bridge family when the kernel takes ct there, else inet", "[firewall]")
{
    FakeNft nft;
    CHECK(*Firewall::probe(nft) == Conntrack::bridge);
    nft.bridge_conntrack = false;
    CHECK(*Firewall::probe(nft) == Conntrack::inet);
}

TEST_CASE("remove drops both tables and keeps what the firewall knows", "[firewall]")
{
    FakeNft nft;
    Firewall fw(nft, {});
    REQUIRE(fw.load(policy("deny *\n")));
    REQUIRE(fw.remove());
    CHECK(nft.scripts.back() == remove_script({}));
    CHECK_FALSE(fw.loaded());
    REQUIRE(fw.join(endpoint("web", 2)));
    CHECK(nft.scripts.size() == 2);  // not loaded: no script for the join
}
