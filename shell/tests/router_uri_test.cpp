// Tests for router_uri.hpp: libvirt-style URIs naming a fleet-router, and
// the router entries made from mDNS announcements (router_session.hpp).
#include <fleet/shell/router_session.hpp>
#include <fleet/shell/router_uri.hpp>

#include <catch2/catch.hpp>

using namespace fleet::shell;

TEST_CASE("a unix socket URI, as virsh takes it", "[router-uri]")
{
    auto u = parse_router_uri("qemu+unix:///system?socket=/run/fleet/libvirt-sock");
    REQUIRE(u);
    CHECK(u->transport == RouterTransport::unix_socket);
    CHECK(u->socket == "/run/fleet/libvirt-sock");
    CHECK(u->host.empty());
    CHECK(u->open_name() == "qemu:///system");
    CHECK(format_router_uri(*u) == "qemu+unix:///system?socket=/run/fleet/libvirt-sock");
}

TEST_CASE("qemu:///system is the local router", "[router-uri]")
{
    auto u = parse_router_uri("qemu:///system");
    REQUIRE(u);
    CHECK(u->transport == RouterTransport::unix_socket);
    CHECK(u->socket.empty());
    auto fleet = parse_router_uri("fleet:///session");
    REQUIRE(fleet);
    CHECK(fleet->driver == "qemu");
    CHECK(fleet->open_name() == "qemu:///session");
}

TEST_CASE("network URIs: host, port, default ports, IPv6", "[router-uri]")
{
    auto tcp = parse_router_uri("qemu+tcp://127.0.0.1:16600/system");
    REQUIRE(tcp);
    CHECK(tcp->transport == RouterTransport::tcp);
    CHECK(tcp->host == "127.0.0.1");
    CHECK(tcp->effective_port() == 16600);
    auto dflt = parse_router_uri("qemu+tcp://box/system");
    REQUIRE(dflt);
    CHECK(dflt->effective_port() == 16509);
    auto tls = parse_router_uri("qemu+tls://[fe80::1]/system?pkipath=/etc/p%20ki&no_verify=1");
    REQUIRE(tls);
    CHECK(tls->host == "fe80::1");
    CHECK(tls->effective_port() == 16514);
    CHECK(tls->pkipath == "/etc/p ki");
    CHECK(tls->no_verify);
    CHECK(format_router_uri(*tls) == "qemu+tls://[fe80::1]/system?pkipath=/etc/p%20ki&no_verify=1");
    auto user = parse_router_uri("qemu+tcp://me@box:1/system");
    REQUIRE(user);
    CHECK(user->host == "box");
}

TEST_CASE("a socket path with odd bytes survives a round trip", "[router-uri]")
{
    RouterUri u;
    u.socket = "/tmp/a b?c&d=%e/libvirt-sock";
    auto back = parse_router_uri(format_router_uri(u));
    REQUIRE(back);
    CHECK(*back == u);
}

TEST_CASE("bad URIs are one-line errors", "[router-uri]")
{
    const char* bad[] = {
        "",
        "libvirt-sock",
        "http://x/system",
        "qemu+ssh://box/system",
        "qemu+unix://box/system",
        "qemu+tcp:///system",
        "qemu+tcp://box:0/system",
        "qemu+tcp://box:65536/system",
        "qemu+tcp://box:12x/system",
        "qemu+tcp://[::1/system",
        "qemu+tcp://box/system?socket=/x",
        "qemu+unix:///system?socket=relative",
        "qemu+unix:///system?socket=/a%00b",
        "qemu+unix:///system?socket=/a%zz",
        "qemu+unix:///system?socket=/a%2",
        "qemu+unix:///system?bogus=1",
        "qemu+unix:///system?pkipath=/x",
        "qemu+tls://box/system?no_verify=yes",
        "qemu:///other",
        "qemu+tcp://bad\nhost/system",
    };
    for (const char* text : bad) {
        INFO(text);
        auto u = parse_router_uri(text);
        REQUIRE_FALSE(u);
        CHECK(u.error().message.starts_with("bad router URI"));
        CHECK(u.error().message.find('\n') == std::string::npos);
    }
    CHECK_FALSE(parse_router_uri(std::string(5000, 'a')));
    // Found by the fuzzer: a raw NUL in a value would print as %00, which
    // does not parse back.
    CHECK_FALSE(parse_router_uri(std::string("qemu+unix:///system?socket=/a\0b", 31)));
}

TEST_CASE("an mDNS announcement becomes a router entry only if it is fleet's", "[router-uri]")
{
    auto e = entry_from_announcement("fleet on box", "10.0.0.5", 16514,
                                     {"impl=fleet", "version=0.1.0", "path=/system", "transport=tls"});
    REQUIRE(e);
    CHECK(e->name == "fleet on box");
    CHECK(e->uri == "qemu+tls://10.0.0.5:16514/system");
    CHECK(e->source == "mDNS");
    CHECK_FALSE(entry_from_announcement("libvirtd", "10.0.0.5", 16509, {}));
    CHECK_FALSE(entry_from_announcement("x", "10.0.0.5", 16514, {"impl=fleet", "transport=carrier-pigeon"}));
    CHECK_FALSE(entry_from_announcement("x", "a b", 16514, {"impl=fleet"}));
    auto v6 = entry_from_announcement("x", "fe80::2", 16514, {"impl=fleet"});
    REQUIRE(v6);
    CHECK(v6->uri == "qemu+tls://[fe80::2]:16514/system");
}
