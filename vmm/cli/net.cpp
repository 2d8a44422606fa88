// fleet-vmm — --net (see net.hpp).
#include "net.hpp"

#include <fleet/netfilter/identity.hpp>
#include <fleet/netfilter/links.hpp>
#include <fleet/vmm/net.hpp>

#include <nlohmann/json.hpp>

#include <signal.h>

#include <cerrno>
#include <fstream>

namespace fleet::cli {

namespace po = boost::program_options;

void add_net_options(po::options_description& d, NetFlags& f)
{
    d.add_options()("net", po::value(&f.bridge),
                    "a network interface on this existing bridge, or none (default: the running router's bridge, "
                    "if it has one; else none)")(
        "ip", po::value(&f.ipv4), "the guest's IPv4 address on it, A.B.C.D/PREFIX (Linux images; default: none)")(
        "gateway", po::value(&f.gateway), "the guest's default route via this address (with --ip)");
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
    if (f.bridge.empty()) f.bridge = router_bridge(runtime_dir);
    if (f.bridge.empty() || f.bridge == "none") {
        if (!f.ipv4.empty() || !f.gateway.empty()) return fail("--ip and --gateway need --net BRIDGE");
        return {};
    }
    if (!netfilter::valid_ifname(f.bridge)) return fail("--net: '" + f.bridge + "' is not an interface name");
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
