// The Links contract, on the fake: adopt only fleet's, remove only fleet's,
// taps before bridges.
#include <fleet/test/support.hpp>

#include <fleet/netfilter/links.hpp>

using namespace fleet::netfilter;
using fleet::test::contains;

TEST_CASE("a bridge name taken by someone else is refused; fleet's own is adopted", "[links]")
{
    FakeLinks links;
    links.links["fleet0"] = LinkInfo{"fleet0", 7, "bridge", "", "", true};
    auto r = links.ensure_bridge({});
    REQUIRE_FALSE(r);
    CHECK(contains(r.error().message, "is not fleet's"));
    links.links.clear();
    auto first = links.ensure_bridge({});
    REQUIRE(first);
    auto again = links.ensure_bridge({});
    REQUIRE(again);
    CHECK(again->index == first->index);
}

TEST_CASE("remove_owned removes fleet's taps, then its bridge, and nothing else", "[links]")
{
    FakeLinks links;
    REQUIRE(links.ensure_bridge({}));
    links.links["eth0"] = LinkInfo{"eth0", 2, "veth", "", "", true};
    auto tap = links.create_tap({"fl0000000001", "fleet0", "web"});
    REQUIRE(tap);
    CHECK(links.links["fl0000000001"].alias == "fleet:tap:web");
    CHECK_FALSE(links.remove("eth0"));
    auto removed = remove_owned(links);
    REQUIRE(removed);
    CHECK(*removed == std::vector<std::string>{"fl0000000001", "fleet0"});
    CHECK(links.links.size() == 1);
    CHECK(links.links.contains("eth0"));
}
