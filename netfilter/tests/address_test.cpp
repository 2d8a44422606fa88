// Addresses as text, link-local addresses, derived MACs and tap names.
#include <fleet/test/support.hpp>

#include <fleet/netfilter/address.hpp>
#include <fleet/netfilter/identity.hpp>

#include <set>

using namespace fleet::netfilter;

TEST_CASE("MACs, IPv4 and IPv6 addresses round-trip through text", "[address]")
{
    CHECK(format(*parse_mac("0E:12:34:56:78:9A")) == "0e:12:34:56:78:9a");
    CHECK_FALSE(parse_mac("0e:12:34:56:78"));
    CHECK_FALSE(parse_mac("0e-12-34-56-78-9a"));
    CHECK_FALSE(parse_mac("0e:12:34:56:78:9g"));
    CHECK(parse_ipv4("10.77.0.2")->value == 0x0a4d0002u);
    CHECK(format(Ipv4{0x0a4d0002u}) == "10.77.0.2");
    CHECK_FALSE(parse_ipv4("10.77.0"));
    CHECK_FALSE(parse_ipv4("10.77.0.256"));
    CHECK(format(*parse_ipv6("FD66:6c65:6574:0:0:0:0:2")) == "fd66:6c65:6574::2");
    CHECK_FALSE(parse_ipv6("fd66::6c65::2"));
    CHECK(format_hex(*parse_ipv6("fe80::1")) == "0xfe800000000000000000000000000001");
}

TEST_CASE("subnets: the host address and a bounded prefix", "[address]")
{
    auto s = parse_subnet4("10.77.0.1/24");
    REQUIRE(s);
    CHECK(s->prefix == 24);
    CHECK(format(*s) == "10.77.0.1/24");
    CHECK_FALSE(parse_subnet4("10.77.0.1"));
    CHECK_FALSE(parse_subnet4("10.77.0.1/31"));
    CHECK_FALSE(parse_subnet4("10.77.0.1/24x"));
    CHECK(format(*parse_subnet6("fd66:6c65:6574::1/64")) == "fd66:6c65:6574::1/64");
    CHECK_FALSE(parse_subnet6("fd66::1/48"));
}

TEST_CASE("the link-local address is the modified EUI-64 of the MAC", "[address]")
{
    // What Linux gives a veth with this MAC (ip -6 addr shows it).
    CHECK(format(link_local(*parse_mac("0e:00:00:00:00:01"))) == "fe80::c00:ff:fe00:1");
    CHECK(format(link_local(*parse_mac("52:54:00:12:34:56"))) == "fe80::5054:ff:fe12:3456");
}

TEST_CASE("derived MACs: stable, unicast, locally administered, distinct", "[identity]")
{
    const std::string uuid = "c7a5fdbd-edaf-9455-926a-d65c16db1809";
    auto a = derive_mac(uuid, 0);
    REQUIRE(a);
    CHECK(*a == *derive_mac("C7A5FDBD-EDAF-9455-926A-D65C16DB1809", 0));  // case does not matter
    CHECK(format(*a) == format(*derive_mac(uuid, 0)));
    CHECK(*a != *derive_mac(uuid, 1));
    CHECK(a->bytes[0] == 0x0e);
    // Golden: the derivation must never change, or leases and taps of
    // running VMs would no longer match after an upgrade.
    CHECK(format(*a) == "0e:50:d9:c9:d7:d1");
    CHECK_FALSE(derive_mac("not-a-uuid", 0));
    CHECK_FALSE(derive_mac("c7a5fdbd-edaf-9455-926a-d65c16db180", 0));
    CHECK_FALSE(derive_mac("c7a5fdbd+edaf-9455-926a-d65c16db1809", 0));

    std::set<Mac> seen;
    char uuid_text[40];
    for (unsigned i = 0; i < 10000; ++i) {
        std::snprintf(uuid_text, sizeof uuid_text, "00000000-0000-0000-0000-%012x", i);
        seen.insert(*derive_mac(uuid_text, 0));
    }
    CHECK(seen.size() == 10000);
}

TEST_CASE("tap names follow the MAC and fit IFNAMSIZ", "[identity]")
{
    const Mac mac = *parse_mac("0e:12:34:56:78:9a");
    CHECK(tap_name(mac) == "fl123456789a");
    CHECK(valid_ifname(tap_name(mac)));
    CHECK(valid_ifname("fleet0"));
    CHECK(valid_ifname("v-web.1_x"));
    CHECK_FALSE(valid_ifname(""));
    CHECK_FALSE(valid_ifname("sixteen-chars-xx"));
    CHECK_FALSE(valid_ifname("a b"));
    CHECK_FALSE(valid_ifname("a/b"));
    CHECK_FALSE(valid_ifname("a\"b"));
    CHECK_FALSE(valid_ifname(".."));
    CHECK(derive_bridge_mac("fleet0") == derive_bridge_mac("fleet0"));
    CHECK(derive_bridge_mac("fleet0") != derive_bridge_mac("fleet1"));
    CHECK(derive_name_mac("web", 0) == derive_name_mac("web", 0));
    CHECK(derive_name_mac("web", 0) != derive_name_mac("web", 1));
    CHECK(derive_name_mac("web", 0) != derive_name_mac("db", 0));
    CHECK(derive_name_mac("web", 0).bytes[0] == mac_first_octet);
}
