// libfleet-netfilter against the real kernel, each test in a network
// namespace of its own: the bridge and taps over netlink, rulesets through
// libnftables read back with the real nft, a tap carrying real frames
// through fleet's anti-spoofing, and a process killed with -9 at every step
// leaving nothing behind once a "restarted" one cleans up.
#include "frames.hpp"
#include "kernel_support.hpp"

#include <fleet/netfilter/firewall.hpp>
#include <fleet/netfilter/flows.hpp>
#include <fleet/netfilter/identity.hpp>
#include <fleet/netfilter/links.hpp>
#include <fleet/netfilter/nft.hpp>

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <memory>

using namespace fleet;
using namespace fleet::netfilter;
using namespace fleet::netfilter::test;
using fleet::test::contains;

namespace {

std::unique_ptr<Netlink> netlink()
{
    auto n = Netlink::open();
    REQUIRE(n);
    return std::move(*n);
}

std::unique_ptr<Libnftables> libnftables()
{
    auto n = Libnftables::open();
    REQUIRE(n);
    return std::move(*n);
}

BridgeConfig bridge_config()
{
    BridgeConfig c;
    c.ipv4 = *parse_subnet4("192.0.2.1/24");
    c.ipv6 = *parse_subnet6("2001:db8::1/64");
    return c;
}

Endpoint vm(const std::string& name, const std::string& port, int n)
{
    Endpoint e;
    e.name = name;
    e.port = port;
    e.mac.bytes = {0x0e, 0, 0, 0, 0, static_cast<std::uint8_t>(n)};
    e.ipv4 = Ipv4{0xc0000200u + static_cast<std::uint32_t>(n)};  // 192.0.2.n
    return e;
}

Policy policy(const std::string& text)
{
    auto p = parse_policy(text, "kernel.policy");
    REQUIRE(p);
    return *p;
}

// Nothing of fleet's in this namespace: no marked link, no fleet table.
void require_clean()
{
    const Shell links = sh("ip -o link show");
    CHECK_FALSE(contains(links.out, "fleet:"));
    CHECK_FALSE(contains(links.out, "fleet0"));
    const Shell tables = sh("nft list tables");
    CHECK_FALSE(contains(tables.out, "fleet"));
}

}  // namespace

TEST_CASE("the bridge: made, marked, addressed, up; adopted on a second call", "[kernel][links]")
{
    fresh_netns();
    auto links = netlink();
    auto bridge = links->ensure_bridge(bridge_config());
    REQUIRE(bridge);
    CHECK(bridge->kind == "bridge");
    CHECK(bridge->alias == "fleet:bridge");
    CHECK(bridge->up);
    const Shell ip = sh("ip -o addr show dev fleet0; ip -o link show dev fleet0; ip -d link show dev fleet0");
    INFO(ip.out);
    CHECK(contains(ip.out, "inet 192.0.2.1/24"));
    CHECK(contains(ip.out, "inet6 2001:db8::1/64"));
    CHECK_FALSE(contains(ip.out, "tentative"));
    CHECK(contains(ip.out, format(derive_bridge_mac("fleet0"))));
    CHECK(contains(ip.out, "stp_state 0"));
    CHECK(contains(ip.out, "mcast_snooping 0"));

    BridgeConfig changed = bridge_config();
    changed.ipv4 = *parse_subnet4("198.51.100.1/24");
    auto again = links->ensure_bridge(changed);
    REQUIRE(again);
    CHECK(again->index == bridge->index);
    const Shell after = sh("ip -o addr show dev fleet0");
    CHECK(contains(after.out, "inet 198.51.100.1/24"));
    CHECK_FALSE(contains(after.out, "192.0.2.1"));
}

TEST_CASE("a link of the bridge's name that fleet did not make is refused and left alone", "[kernel][links]")
{
    fresh_netns();
    REQUIRE(sh("ip link add fleet0 type bridge").status == 0);
    auto links = netlink();
    auto r = links->ensure_bridge(bridge_config());
    REQUIRE_FALSE(r);
    CHECK(contains(r.error().message, "exists and is not fleet's bridge"));
    CHECK_FALSE(links->remove("fleet0"));
    CHECK(sh("ip -o link show dev fleet0").status == 0);
    CHECK(links->owned()->empty());
}

TEST_CASE("a bridge made by a process killed before it marked it is recognised by its MAC", "[kernel][links]")
{
    fresh_netns();
    REQUIRE(sh("ip link add fleet0 address " + format(derive_bridge_mac("fleet0")) + " type bridge").status == 0);
    auto links = netlink();
    auto r = links->ensure_bridge(bridge_config());
    REQUIRE(r);
    CHECK(r->alias == "fleet:bridge");
}

TEST_CASE("a tap: QEMU's flags, attached and up, marked, gone with its fd", "[kernel][links]")
{
    fresh_netns();
    auto links = netlink();
    REQUIRE(links->ensure_bridge(bridge_config()));
    auto fd = links->create_tap({"fl0000000001", "fleet0", "web"});
    REQUIRE(fd);
    CHECK((::fcntl(fd->get(), F_GETFD) & FD_CLOEXEC) != 0);
    ifreq ifr{};
    REQUIRE(::ioctl(fd->get(), TUNGETIFF, &ifr) == 0);
    CHECK((ifr.ifr_flags & IFF_TAP) != 0);
    CHECK((ifr.ifr_flags & IFF_NO_PI) != 0);
    CHECK((ifr.ifr_flags & IFF_VNET_HDR) != 0);
    auto info = links->find("fl0000000001");
    REQUIRE(info);
    REQUIRE(*info);
    CHECK((*info)->kind == "tun");
    CHECK((*info)->master == "fleet0");
    CHECK((*info)->alias == "fleet:tap:web");
    CHECK((*info)->up);
    CHECK(links->owned()->size() == 2);
    fd->reset();
    CHECK_FALSE(*links->find("fl0000000001"));
    CHECK_FALSE(links->create_tap({"fl0000000002", "nobridge", "web"}));
}

TEST_CASE("remove_owned removes fleet's taps and bridge, and nothing else", "[kernel][links]")
{
    fresh_netns();
    REQUIRE(sh("ip link add other0 type bridge").status == 0);
    auto links = netlink();
    REQUIRE(links->ensure_bridge(bridge_config()));
    auto tap = links->create_tap({"fl0000000001", "fleet0", "web"});
    REQUIRE(tap);
    auto removed = remove_owned(*links);
    REQUIRE(removed);
    CHECK(*removed == std::vector<std::string>{"fl0000000001", "fleet0"});
    require_clean();
    CHECK(sh("ip -o link show dev other0").status == 0);
}

TEST_CASE("rulesets through libnftables, read back with nft; other tables untouched", "[kernel][nft]")
{
    fresh_netns();
    const std::string other =
        "table inet other {\n\tchain c {\n\t\ttype filter hook input priority 10; policy accept;\n"
        "\t\ttcp dport 22 accept\n\t}\n}\n";
    REQUIRE(sh("printf '" + other + "' | nft -f -").status == 0);
    const std::string other_before = sh("nft list table inet other").out;

    auto nft = libnftables();
    auto mode = Firewall::probe(*nft);
    REQUIRE(mode);
    CompileOptions options;
    options.conntrack = *mode;
    Firewall fw(*nft, options);
    REQUIRE(fw.join(vm("web", "vweb", 2)));
    REQUIRE(fw.load(policy("allow web -> db tcp/5432\nallow web -> outside tcp/443\n")));
    const std::string table = options.conntrack == Conntrack::bridge ? "bridge" : "inet";
    const Shell listed = sh("nft list table " + table + " fleet");
    INFO(listed.out);
    CHECK(contains(listed.out, "comment \"kernel.policy:1: allow web -> db tcp/5432\""));
    CHECK(contains(sh("nft list table inet fleet").out, "comment \"kernel.policy:2: allow web -> outside tcp/443\""));

    // A join adds set elements and changes no rule.
    const std::string rules_before = sh("nft -a list chain " + table + " fleet vm_to_vm").out;
    REQUIRE(fw.join(vm("db", "vdb", 3)));
    CHECK(contains(sh("nft list set " + table + " fleet vm_db_ipv4").out, "192.0.2.3"));
    CHECK(contains(sh("nft list set bridge fleet ports").out, "\"vdb\""));
    CHECK(sh("nft -a list chain " + table + " fleet vm_to_vm").out == rules_before);
    REQUIRE(fw.leave("db"));
    CHECK_FALSE(contains(sh("nft list set " + table + " fleet vm_db_ipv4").out, "192.0.2.3"));

    // A reload the kernel refuses changes nothing: one transaction.
    const std::string before = sh("nft list ruleset").out;
    auto script = compile_ruleset(policy("deny *\n"), fw.inventory(), options);
    REQUIRE(script);
    auto refused = nft->run(*script + "add rule inet fleet no_such_chain accept\n");
    REQUIRE_FALSE(refused);
    CHECK(sh("nft list ruleset").out == before);

    REQUIRE(fw.remove());
    CHECK(sh("nft list table inet other").out == other_before);
    require_clean();
    REQUIRE(fw.remove());  // removing what is gone is no error
}

TEST_CASE("a tap carries real frames through fleet's anti-spoofing", "[kernel][traffic]")
{
    fresh_netns();
    auto links = netlink();
    auto nft = libnftables();
    auto mode = Firewall::probe(*nft);
    REQUIRE(mode);
    BridgeConfig config = bridge_config();
    config.nf_call = *mode == Conntrack::inet;
    REQUIRE(links->ensure_bridge(config));
    const Endpoint web = vm("web", tap_name(*parse_mac("0e:00:00:00:00:02")), 2);
    auto tap = links->create_tap({web.port, "fleet0", "web"});
    REQUIRE(tap);
    REQUIRE(::fcntl(tap->get(), F_SETFL, O_NONBLOCK) == 0);
    // The host answers the VM without asking ARP first.
    REQUIRE(sh("ip neigh replace 192.0.2.2 lladdr " + format(web.mac) + " dev fleet0 nud permanent").status == 0);
    REQUIRE(sh("ip neigh replace 192.0.2.99 lladdr " + format(web.mac) + " dev fleet0 nud permanent").status == 0);
    CompileOptions options;
    options.conntrack = *mode;
    Firewall fw(*nft, options);
    REQUIRE(fw.join(web));
    REQUIRE(fw.load(policy("allow * -> host icmp\n")));
    const Mac bridge_mac = derive_bridge_mac("fleet0");
    const Ipv4 host{0xc0000201u};

    // Ping the bridge's address from `from` (the VM's MAC, or another); true if a reply comes back.
    auto ping = [&](Ipv4 from, const Mac& mac, std::uint16_t id) {
        const auto frame = echo_request(mac, bridge_mac, from, host, id);
        REQUIRE(::write(tap->get(), frame.data(), frame.size()) == static_cast<ssize_t>(frame.size()));
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(700);
        std::vector<std::uint8_t> buf(2048);
        while (std::chrono::steady_clock::now() < deadline) {
            pollfd p{tap->get(), POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0) continue;
            const ssize_t n = ::read(tap->get(), buf.data(), buf.size());
            if (n <= 0) continue;
            if (is_echo_reply({buf.begin(), buf.begin() + n}, from, id)) return true;
        }
        return false;
    };
    CHECK(ping(*web.ipv4, web.mac, 1));                                // its own address and MAC: answered
    CHECK_FALSE(ping(Ipv4{0xc0000263u}, web.mac, 2));                  // 192.0.2.99: spoofed, dropped
    CHECK_FALSE(ping(*web.ipv4, *parse_mac("0e:00:00:00:00:63"), 3));  // another MAC: dropped
    REQUIRE(fw.load(policy("deny *\n")));
    CHECK_FALSE(ping(*web.ipv4, web.mac, 4));  // the policy says no
    REQUIRE(fw.remove());
    CHECK(ping(Ipv4{0xc0000263u}, web.mac, 5));  // no table: the spoof would have worked
}

TEST_CASE("killed with -9 at any step, a restart finds and removes everything fleet made", "[kernel][crash]")
{
    constexpr int steps = 5;
    for (int kill_after = 0; kill_after <= steps; ++kill_after) {
        fresh_netns();
        int progress[2];
        REQUIRE(::pipe2(progress, O_CLOEXEC) == 0);
        const pid_t child = ::fork();
        REQUIRE(child >= 0);
        if (child == 0) {
            // The "router": each step done is one byte on the pipe; then it waits to be killed.
            ::close(progress[0]);
            auto step = [&] { (void)::write(progress[1], "s", 1); };
            auto links = Netlink::open();
            auto nft = Libnftables::open();
            if (!links || !nft) ::_exit(1);
            BridgeConfig config = bridge_config();
            (void)(*links)->ensure_bridge(config);
            step();
            auto tap1 = (*links)->create_tap({"fl0000000001", "fleet0", "a"});
            step();
            auto tap2 = (*links)->create_tap({"fl0000000002", "fleet0", "b"});
            step();
            CompileOptions options;
            options.conntrack = Firewall::probe(**nft).value_or(Conntrack::inet);
            Firewall fw(**nft, options);
            (void)fw.load(*parse_policy("allow a -> b tcp/1\n"));
            step();
            (void)fw.join(vm("a", "fl0000000001", 2));
            step();
            (void)fw.join(vm("b", "fl0000000002", 3));
            step();
            ::pause();
            ::_exit(0);
        }
        ::close(progress[1]);
        char c;
        for (int i = 0; i < kill_after; ++i) REQUIRE(::read(progress[0], &c, 1) == 1);
        ::kill(child, SIGKILL);
        int status = 0;
        ::waitpid(child, &status, 0);
        ::close(progress[0]);
        INFO("killed after step " << kill_after);
        // The restart: find what fleet made, reuse the bridge, then clean up.
        auto links = netlink();
        auto nft = libnftables();
        auto owned = links->owned();
        REQUIRE(owned);
        for (const LinkInfo& l : *owned) CHECK(l.kind == "bridge");  // the taps died with their fds
        if (kill_after > 0) REQUIRE(links->ensure_bridge(bridge_config()));
        REQUIRE(remove_owned(*links));
        REQUIRE(nft->run(remove_script({})));
        require_clean();
    }
}

namespace {

// One UDP datagram from `from` to `to` port 9, numeric addresses of one
// family (the kernel tracks it as a flow once a table asks for conntrack).
void udp(const char* from, const char* to)
{
    auto numeric = [](const char* host, const char* port) {
        addrinfo hints{};
        hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
        hints.ai_socktype = SOCK_DGRAM;
        addrinfo* list = nullptr;
        REQUIRE(::getaddrinfo(host, port, &hints, &list) == 0);
        return std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)>(list, ::freeaddrinfo);
    };
    const auto a = numeric(from, "0");
    const auto b = numeric(to, "9");
    Fd s(::socket(a->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    REQUIRE(s);
    REQUIRE(::bind(s.get(), a->ai_addr, a->ai_addrlen) == 0);
    REQUIRE(::sendto(s.get(), "x", 1, 0, b->ai_addr, b->ai_addrlen) == 1);
}

}  // namespace

TEST_CASE("a released address's tracked flows are forgotten, and no one else's", "[kernel][flows]")
{
    fresh_netns();
    // Nothing tracked yet (conntrack may not even be on here): nothing to forget.
    auto none = forget_flows({*parse_ipv4("127.0.0.3")}, {});
    REQUIRE(none);
    CHECK(*none == 0);

    REQUIRE(sh("ip link set lo up && ip -6 addr add fd00::2/128 dev lo && ip -6 addr add fd00::3/128 dev lo && "
               "nft add table inet t && "
               "nft add chain inet t c '{ type filter hook output priority 0; policy accept; }' && "
               "nft add rule inet t c ct state new accept")
                .status == 0);
    udp("127.0.0.2", "127.0.0.3");  // the released VM's, as destination
    udp("127.0.0.3", "127.0.0.4");  // and as source
    udp("127.0.0.5", "127.0.0.6");  // someone else's
    udp("fd00::2", "fd00::3");      // its IPv6 address

    auto gone = forget_flows({*parse_ipv4("127.0.0.3")}, {*parse_ipv6("fd00::3")});
    REQUIRE(gone);
    CHECK(*gone == 3);
    auto again = forget_flows({*parse_ipv4("127.0.0.3")}, {*parse_ipv6("fd00::3")});
    REQUIRE(again);
    CHECK(*again == 0);
    auto other = forget_flows({*parse_ipv4("127.0.0.6"), *parse_ipv4("127.0.0.9")}, {});
    REQUIRE(other);
    CHECK(*other == 1);
}
