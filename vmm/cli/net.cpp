// fleet-vmm — --net (see net.hpp).
#include "net.hpp"

#include <fleet/base/socket.hpp>
#include <fleet/netfilter/identity.hpp>
#include <fleet/netfilter/links.hpp>
#include <fleet/vmm/claim.hpp>
#include <fleet/vmm/net.hpp>
#include <fleet/wire/client.hpp>
#include <fleet/wire/connect_messages.hpp>
#include <fleet/wire/domain_messages.hpp>
#include <fleet/wire/message.hpp>
#include <fleet/wire/packet.hpp>
#include <fleet/wire/xdr.hpp>

#include <nlohmann/json.hpp>

#include <signal.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <fstream>

namespace fleet::cli {

namespace po = boost::program_options;

namespace {

// Calls to the router over its local socket, one at a time, blocking.
class RouterCalls {
public:
    static constexpr std::chrono::milliseconds timeout{10000};
    // Far more than any reply here; the router never sends more unasked.
    static constexpr std::uint32_t max_packet = 1u << 20;

    explicit RouterCalls(int sock) : sock_(sock) {}

    // The answer to one call; whatever else comes meanwhile (a keepalive)
    // is passed over. Fds that come with the answer's bytes are refused.
    template <class Args>
    Result<wire::Packet> call(wire::RemoteProc proc, const Args& args)
    {
        const std::uint32_t serial = serial_++;
        auto bytes = wire::encode_call(proc, serial, args);
        if (!bytes) return std::unexpected(bytes.error());
        if (auto s = send_all(*bytes); !s) return std::unexpected(s.error());
        const wire::Header sent{
            wire::remote_program, wire::protocol_version, wire::to_int(proc), wire::MessageType::call, serial,
            wire::Status::ok};
        for (;;) {
            auto head = recv_with_fds(sock_, wire::length_word_size, fds_, 0, timeout);
            if (!head) return std::unexpected(head.error());
            wire::XdrReader word(*head);
            auto length = wire::check_length(*word.u32());
            if (!length) return std::unexpected(length.error());
            if (*length > max_packet) return fail("a packet of " + std::to_string(*length) + " bytes");
            auto rest = recv_with_fds(sock_, *length - wire::length_word_size, fds_, 0, timeout);
            if (!rest) return std::unexpected(rest.error());
            auto p = wire::decode_packet(*head + *rest);
            if (!p) return std::unexpected(p.error());
            if (wire::answers(sent, p->header)) return p;
        }
    }

    // The n fds that follow a REPLY_WITH_FDS, one byte each.
    Result<std::vector<Fd>> take_fds(std::uint32_t n)
    {
        std::vector<Fd> fds;
        for (std::uint32_t i = 0; i < n; ++i) {
            auto byte = recv_with_fds(sock_, 1, fds, i + 1, timeout);
            if (!byte) return std::unexpected(byte.error());
        }
        if (fds.size() != n)
            return fail("the router sent " + std::to_string(fds.size()) + " of " + std::to_string(n) + " fds");
        return fds;
    }

private:
    Result<> send_all(std::string_view bytes)
    {
        while (!bytes.empty()) {
            ssize_t n = ::send(sock_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return fail_errno("cannot send to the router");
            bytes.remove_prefix(static_cast<std::size_t>(n));
        }
        return {};
    }

    int sock_;
    std::uint32_t serial_ = 1;
    std::vector<Fd> fds_;  // none expected: any that come are closed
};

// The router's tap for spec.name (FLEET_NET_ATTACH): MAC, address and
// gateway are the router's; the VM is in its firewall while the tap lives.
Result<> attach_through_router(const std::string& runtime_dir, bool outbound, vmm::VmSpec& spec)
{
    const std::string path = runtime_dir + "/libvirt-sock";
    auto sock = connect_unix(path, "fleet-router at " + path);
    if (!sock) return std::unexpected(sock.error());
    RouterCalls router(sock->get());
    auto auth = router.call(wire::RemoteProc::auth_list, wire::Void{});
    auto types = auth ? wire::decode_reply<wire::AuthListRet>(*auth) : std::unexpected(auth.error());
    if (!types) return fail("fleet-router at " + path + ": " + types.error().message);
    bool none = false;
    for (auto t : types->types) none = none || t == 0;
    if (!none) return fail("fleet-router at " + path + " asks for an authentication fleet-vmm does not do");
    auto open = router.call(wire::RemoteProc::connect_open, wire::ConnectOpenArgs{"fleet:///system", 0});
    auto opened = open ? wire::decode_reply<wire::Void>(*open) : std::unexpected(open.error());
    if (!opened) return fail("fleet-router at " + path + " refused the connection: " + opened.error().message);
    const wire::FleetNetAttachArgs args{spec.name, outbound ? wire::net_attach_outbound : 0u};
    auto reply = router.call(wire::RemoteProc::fleet_net_attach, args);
    auto attached =
        reply ? wire::decode_reply_with_fds<wire::FleetNetAttachRet>(*reply) : std::unexpected(reply.error());
    if (!attached) return fail("the router gave no tap: " + attached.error().message);
    auto fds = router.take_fds(attached->nfds);
    if (!fds) return fail("the router's tap did not come: " + fds.error().message);
    if (fds->size() != 1) return fail("the router sent " + std::to_string(fds->size()) + " fds for one tap");
    (void)router.call(wire::RemoteProc::connect_close, wire::Void{});
    const auto& r = attached->body;
    spec.nets.push_back(vmm::NetInterface{
        .tap_fd = (*fds)[0].release(), .tap_name = r.tap, .mac = r.mac, .ipv4 = r.ipv4, .gateway = r.gateway});
    return {};
}

}  // namespace

void add_net_options(po::options_description& d, NetFlags& f)
{
    d.add_options()("net", po::value(&f.bridge),
                    "a network interface on this bridge, or none (default: the running router's bridge, if it has "
                    "one; else none). On the router's bridge the router makes the tap, gives the address and puts "
                    "the VM in its firewall; on another bridge fleet-vmm makes the tap itself (CAP_NET_ADMIN)")(
        "ip", po::value(&f.ipv4),
        "the guest's IPv4 address, A.B.C.D/PREFIX (Linux images; not on the router's bridge, which leases one)")(
        "gateway", po::value(&f.gateway), "the guest's default route via this address (with --ip)")(
        "outbound", po::bool_switch(&f.outbound),
        "let the VM reach outside the host through the router (masquerade; on the router's bridge)");
}

std::string router_bridge(const std::string& runtime_dir)
{
    std::ifstream in(runtime_dir + "/router.json");
    auto j = nlohmann::json::parse(in, nullptr, false);
    if (!in || j.is_discarded() || !j.is_object() || !j.contains("bridge") || !j["bridge"].is_string()) return "";
    const long pid = j.value("pid", 0L);  // a router killed with -9 leaves its router.json
    if (pid <= 0 || (::kill(static_cast<pid_t>(pid), 0) != 0 && errno != EPERM)) return "";
    return j["bridge"].get<std::string>();
}

Result<> attach_net(const NetFlags& given, const std::string& runtime_dir, vmm::VmSpec& spec)
{
    NetFlags f = given;
    const std::string routers = router_bridge(runtime_dir);
    if (f.bridge.empty()) f.bridge = routers;
    if (f.bridge.empty() || f.bridge == "none") {
        if (!f.ipv4.empty() || !f.gateway.empty() || f.outbound)
            return fail("--ip, --gateway and --outbound need a network (--net BRIDGE, or a router with a bridge)");
        return {};
    }
    if (!netfilter::valid_ifname(f.bridge)) return fail("--net: '" + f.bridge + "' is not an interface name");
    if (f.bridge == routers) {
        if (!f.ipv4.empty() || !f.gateway.empty())
            return fail("--ip and --gateway: on the router's bridge " + routers +
                        " the router leases the address (leave them out)");
        if (auto a = attach_through_router(runtime_dir, f.outbound, spec); !a)
            return fail("--net " + f.bridge + ": " + a.error().what());
        return {};
    }
    if (f.outbound) return fail("--outbound: only on the router's bridge (its firewall masquerades)");
    if (!f.ipv4.empty() && !vmm::valid_ipv4(f.ipv4, true))
        return fail("--ip: '" + f.ipv4 + "' is not an IPv4 address with a prefix (10.77.0.2/24)");
    if (!f.gateway.empty() && (f.ipv4.empty() || !vmm::valid_ipv4(f.gateway, false)))
        return fail("--gateway: '" + f.gateway + "' is not an IPv4 address (and needs --ip)");
    auto links = netfilter::Netlink::open();
    if (!links) return std::unexpected(links.error());
    auto bridge = (*links)->find(f.bridge);
    if (!bridge) return std::unexpected(bridge.error());
    if (!*bridge || (*bridge)->kind != "bridge") return fail("--net: no bridge '" + f.bridge + "'");
    const netfilter::Mac mac = netfilter::derive_name_mac(spec.name, 0);
    const std::string tap = netfilter::tap_name(mac);
    auto fd = (*links)->create_tap({.name = tap, .bridge = f.bridge, .owner = spec.name});
    if (!fd) return fail("--net " + f.bridge + ": " + fd.error().what());
    spec.nets.push_back(vmm::NetInterface{
        .tap_fd = fd->release(), .tap_name = tap, .mac = netfilter::format(mac), .ipv4 = f.ipv4, .gateway = f.gateway});
    return {};
}

}  // namespace fleet::cli
