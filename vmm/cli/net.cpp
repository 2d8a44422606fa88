// fleet-vmm — --net (see net.hpp).
#include "net.hpp"

#include <fleet/base/socket.hpp>
#include <fleet/netfilter/identity.hpp>
#include <fleet/netfilter/links.hpp>
#include <fleet/vmm/net.hpp>
#include <fleet/wire/blocking_client.hpp>
#include <fleet/wire/domain_messages.hpp>

#include <nlohmann/json.hpp>

#include <signal.h>

#include <cerrno>
#include <chrono>
#include <fstream>

namespace fleet::cli {

namespace po = boost::program_options;

namespace {

// The router's tap for spec.name (FLEET_NET_ATTACH): MAC, address and
// gateway are the router's; the VM is in its firewall while the tap lives.
Result<> attach_through_router(const std::string& runtime_dir, bool outbound, vmm::VmSpec& spec)
{
    const std::string path = runtime_dir + "/libvirt-sock";
    auto sock = connect_unix(path, "fleet-router at " + path);
    if (!sock) return std::unexpected(sock.error());
    wire::BlockingClient router(std::move(*sock), std::chrono::seconds(10));
    if (auto o = router.open("fleet:///system", false, "fleet-vmm"); !o)
        return fail("fleet-router at " + path + ": " + o.error().what());
    const wire::FleetNetAttachArgs args{spec.name, outbound ? wire::net_attach_outbound : 0u};
    auto attached = router.call_with_fds<wire::FleetNetAttachRet>(wire::RemoteProc::fleet_net_attach, args);
    if (!attached) return fail("the router gave no tap: " + attached.error().message);
    auto fds = router.take_fds(attached->nfds);
    if (!fds) return fail("the router's tap did not come: " + fds.error().message);
    if (fds->size() != 1) return fail("the router sent " + std::to_string(fds->size()) + " fds for one tap");
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
