// Leases: allocation from the subnet, the file's text, and the file itself
// across "restarts".
#include <fleet/test/support.hpp>

#include <fleet/netfilter/leases.hpp>

#include <sys/stat.h>

using namespace fleet::netfilter;
using fleet::test::contains;

namespace {

Mac mac(int n)
{
    Mac m;
    m.bytes = {0x0e, 0, 0, 0, 0, static_cast<std::uint8_t>(n)};
    return m;
}

Subnet4 v4(const char* text)
{
    return *parse_subnet4(text);
}
Subnet6 v6(const char* text)
{
    return *parse_subnet6(text);
}

}  // namespace

TEST_CASE("the lowest free address, never the network, the bridge or broadcast", "[leases]")
{
    auto leases = Leases::make(v4("10.77.0.1/29"), v6("fd66:6c65:6574::1/64"));
    REQUIRE(leases);
    // 10.77.0.0/29: .0 network, .1 bridge, .7 broadcast: .2 to .6 are free.
    for (int i = 2; i <= 6; ++i) {
        auto l = leases->allocate(mac(i), "vm" + std::to_string(i));
        REQUIRE(l);
        CHECK(format(l->ipv4) == "10.77.0." + std::to_string(i));
        CHECK(format(*l->ipv6) == "fd66:6c65:6574::" + std::to_string(i));
    }
    auto full = leases->allocate(mac(7), "vm7");
    REQUIRE_FALSE(full);
    CHECK(full.error().message == "no free address left in 10.77.0.1/29");
    // The same MAC gets the same lease; a released address is taken again.
    CHECK(format(leases->allocate(mac(4), "renamed")->ipv4) == "10.77.0.4");
    CHECK(leases->find(mac(4))->name == "renamed");
    CHECK(leases->release(mac(3)));
    CHECK_FALSE(leases->release(mac(3)));
    CHECK(format(leases->allocate(mac(9), "vm9")->ipv4) == "10.77.0.3");
}

TEST_CASE("a bridge address in the middle of the subnet is skipped", "[leases]")
{
    auto leases = Leases::make(v4("192.0.2.2/30"), std::nullopt);
    REQUIRE(leases);
    auto l = leases->allocate(mac(1), "a");
    REQUIRE(l);
    CHECK(format(l->ipv4) == "192.0.2.1");
    CHECK_FALSE(l->ipv6);
    CHECK_FALSE(leases->allocate(mac(2), "b"));
}

TEST_CASE("an IPv6 subnet smaller than the IPv4 one is refused", "[leases]")
{
    CHECK_FALSE(Leases::make(v4("10.0.0.1/8"), v6("fd00::1/120")));
    CHECK(Leases::make(v4("10.0.0.1/24"), v6("fd00::1/120")));
}

TEST_CASE("the lease file's text round-trips; leases outside the subnet are dropped", "[leases]")
{
    auto leases = Leases::make(v4("10.77.0.1/24"), v6("fd66:6c65:6574::1/64"));
    REQUIRE(leases);
    REQUIRE(
        leases->parse("# fleet leases: MAC IPv4 IPv6|- NAME\n"
                      "0e:00:00:00:00:02 10.77.0.9 - web server\n"
                      "\n"
                      "0e:00:00:00:00:01 10.77.0.5 fd66:6c65:6574::5 db\n"
                      "0e:00:00:00:00:03 10.78.0.5 - elsewhere\n"
                      "0e:00:00:00:00:04 10.77.0.1 - the-bridge\n",
                      "leases"));
    CHECK(leases->format() ==
          "# fleet leases: MAC IPv4 IPv6|- NAME\n"
          "0e:00:00:00:00:01 10.77.0.5 fd66:6c65:6574::5 db\n"
          "0e:00:00:00:00:02 10.77.0.9 fd66:6c65:6574::9 web server\n");
    CHECK(format(leases->allocate(mac(7), "x")->ipv4) == "10.77.0.2");
}

TEST_CASE("a corrupt lease file is an error naming its line", "[leases]")
{
    auto leases = Leases::make(v4("10.77.0.1/24"), std::nullopt);
    REQUIRE(leases);
    auto r = leases->parse("0e:00:00:00:00:01 10.77.0.5 - a\nxx 10.77.0.6 - b\n", "/s/leases");
    REQUIRE_FALSE(r);
    CHECK(r.error().message == "/s/leases:2: 'xx' is not a MAC address (xx:xx:xx:xx:xx:xx)");
    r = leases->parse("0e:00:00:00:00:01 10.77.0.5\n", "leases");
    CHECK(r.error().message == "leases:1: expected MAC IPv4 IPv6|- [NAME]");
    r = leases->parse("0e:00:00:00:00:01 10.77.0.5 - a\n0e:00:00:00:00:01 10.77.0.6 - b\n", "leases");
    CHECK(contains(r.error().message, "leases:2: a second lease for 0e:00:00:00:00:01"));
}

TEST_CASE("the lease file survives a restart and is locked while open", "[leases]")
{
    fleet::test::TempDir dir;
    const Subnet4 s4 = v4("10.77.0.1/24");
    const Subnet6 s6 = v6("fd66:6c65:6574::1/64");
    {
        auto file = LeaseFile::open(dir.path(), s4, s6);
        REQUIRE(file);
        CHECK(format(file->allocate(mac(1), "web")->ipv4) == "10.77.0.2");
        CHECK(format(file->allocate(mac(2), "db")->ipv4) == "10.77.0.3");
        auto second = LeaseFile::open(dir.path(), s4, s6);
        REQUIRE_FALSE(second);
        CHECK(contains(second.error().message, "is another fleet router using"));
        REQUIRE(file->release(mac(1)));
    }
    struct stat st {};
    REQUIRE(::stat((dir / "leases").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    auto file = LeaseFile::open(dir.path(), s4, s6);
    REQUIRE(file);
    CHECK(file->leases().all().size() == 1);
    CHECK(format(file->allocate(mac(2), "db")->ipv4) == "10.77.0.3");  // kept
    CHECK(fleet::test::read_file(dir / "leases") ==
          "# fleet leases: MAC IPv4 IPv6|- NAME\n0e:00:00:00:00:02 10.77.0.3 fd66:6c65:6574::3 db\n");
}
