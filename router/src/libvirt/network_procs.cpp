// fleet-router — the fleet network as a libvirt network (the `networks`
// group of wire/procedures.def). A router started with `--bridge NAME`
// runs one network, named `fleet`: its bridge and subnets (network.hpp),
// active, persistent and autostarted (the router builds it at every
// start). Without a bridge there is none: the lists are empty and a lookup
// is libvirt's "Network not found", so clients that look at networks while
// setting up (libvirt-tck, virt-manager, virt-install) go on. Networks are
// not defined, started or changed through libvirt: the router's options
// say what the network is (docs/ARCHITECTURE.md).
#include "dispatch.hpp"

#include <fleet/router/domain.hpp>

#include <cstdint>

namespace fleet::router::libvirt {

using namespace fleet::wire;

namespace {

constexpr const char* network_name = "fleet";

// virConnectListAllNetworksFlags.
enum : std::uint32_t {
    net_inactive = 1,
    net_active = 2,
    net_persistent = 4,
    net_transient = 8,
    net_autostart = 16,
    net_no_autostart = 32,
};

LibvirtError no_network(const std::string& what)
{
    return LibvirtError{err::no_network, "Network not found: no network with matching " + what, errdom::network};
}

LibvirtError fixed_network(const std::string& api)
{
    return LibvirtError{err::no_support,
                        "this function is not supported by the connection driver: " + api +
                            " (the fleet network is the router's --bridge; it changes with the router's options)",
                        errdom::network};
}

// The network's UUID: the same for the same bridge across restarts (two
// FNV-1a hashes of the bridge name), with RFC 4122's variant and version 8
// (a custom UUID) bits.
Uuid network_uuid(const std::string& bridge)
{
    Uuid u{};
    auto fnv = [&](std::uint64_t h) {
        for (unsigned char c : "fleet-network:" + bridge) h = (h ^ c) * 0x100000001b3ull;
        return h;
    };
    std::uint64_t a = fnv(0xcbf29ce484222325ull), b = fnv(0x84222325cbf29ce4ull);
    for (int i = 0; i < 8; ++i) {
        u[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(a >> (56 - 8 * i));
        u[static_cast<std::size_t>(8 + i)] = static_cast<std::uint8_t>(b >> (56 - 8 * i));
    }
    u[6] = static_cast<std::uint8_t>((u[6] & 0x0f) | 0x80);
    u[8] = static_cast<std::uint8_t>((u[8] & 0x3f) | 0x80);
    return u;
}

std::optional<NonnullNetwork> the_network(const Call& call)
{
    auto n = call.launcher().network();
    if (!n) return std::nullopt;
    return NonnullNetwork{network_name, network_uuid(n->bridge)};
}

// f(facts) for the network a client names, or libvirt's "not found".
template <class F>
void with_network(const Call& call, const NonnullNetwork& net, F&& f)
{
    auto n = call.launcher().network();
    if (!n || net.name != network_name || net.uuid != network_uuid(n->bridge))
        return call.fail(no_network("name '" + net.name + "'"));
    f(*n);
}

// <ip address='10.77.0.1' prefix='24'/> from "10.77.0.1/24".
std::string ip_element(const std::string& cidr, bool v6)
{
    auto slash = cidr.find('/');
    std::string addr = cidr.substr(0, slash), prefix = slash == std::string::npos ? "" : cidr.substr(slash + 1);
    return std::string("  <ip") + (v6 ? " family='ipv6'" : "") + " address='" + escape_xml_attribute(addr) + "'" +
           (prefix.empty() ? "" : " prefix='" + escape_xml_attribute(prefix) + "'") + "/>\n";
}

// No <forward>: between VMs the policy decides, and outbound access is per
// domain (<fleet:net outbound='yes'/>), so as a whole the network routes
// nowhere; no <dhcp>: a guest gets its address on its kernel command line.
std::string network_xml(const NetworkFacts& n)
{
    std::string x = "<network>\n  <name>" + std::string(network_name) + "</name>\n  <uuid>" +
                    format_uuid(network_uuid(n.bridge)) + "</uuid>\n  <bridge name='" + escape_xml_attribute(n.bridge) +
                    "' stp='off' delay='0'/>\n";
    x += ip_element(n.ipv4, false);
    if (!n.ipv6.empty()) x += ip_element(n.ipv6, true);
    return x + "</network>\n";
}

bool listed(std::uint32_t f)
{
    auto pair = [f](std::uint32_t yes, std::uint32_t no) { return !(f & (yes | no)) || (f & yes) != 0; };
    return pair(net_active, net_inactive) && pair(net_persistent, net_transient) &&
           pair(net_autostart, net_no_autostart);
}

}  // namespace

void connect_num_of_networks(const Call& call, const Void&)
{
    call.reply(ConnectNumOfNetworksRet{the_network(call) ? 1 : 0});
}

void connect_num_of_defined_networks(const Call& call, const Void&)
{
    call.reply(ConnectNumOfNetworksRet{0});  // defined but not active: never
}

void connect_list_networks(const Call& call, const ConnectListNetworksArgs& a)
{
    ConnectListNetworksRet r;
    if (the_network(call) && a.maxnames > 0) r.names.push_back(network_name);
    call.reply(r);
}

void connect_list_defined_networks(const Call& call, const ConnectListNetworksArgs&)
{
    call.reply(ConnectListNetworksRet{});
}

void connect_list_all_networks(const Call& call, const ConnectListAllNetworksArgs& a)
{
    ConnectListAllNetworksRet r;
    if (auto net = the_network(call); net && listed(a.flags)) {
        if (a.need_results) r.nets.push_back(*net);
        r.ret = 1;
    }
    call.reply(r);
}

void network_lookup_by_name(const Call& call, const NetworkLookupByNameArgs& a)
{
    auto net = the_network(call);
    if (!net || a.name != network_name) return call.fail(no_network("name '" + a.name + "'"));
    call.reply(NetworkRet{*net});
}

void network_lookup_by_uuid(const Call& call, const NetworkLookupByUuidArgs& a)
{
    auto net = the_network(call);
    if (!net || a.uuid != net->uuid) return call.fail(no_network("uuid '" + format_uuid(a.uuid) + "'"));
    call.reply(NetworkRet{*net});
}

void network_get_xml_desc(const Call& call, const NetworkFlagsArgs& a)
{
    with_network(call, a.net, [&](const NetworkFacts& n) { call.reply(StringRet{network_xml(n)}); });
}

void network_get_autostart(const Call& call, const NetworkArgs& a)
{
    with_network(call, a.net, [&](const NetworkFacts&) { call.reply(IntRet{1}); });
}

void network_get_bridge_name(const Call& call, const NetworkArgs& a)
{
    with_network(call, a.net, [&](const NetworkFacts& n) { call.reply(StringRet{n.bridge}); });
}

void network_is_active(const Call& call, const NetworkArgs& a)
{
    with_network(call, a.net, [&](const NetworkFacts&) { call.reply(IntRet{1}); });
}

void network_is_persistent(const Call& call, const NetworkArgs& a)
{
    with_network(call, a.net, [&](const NetworkFacts&) { call.reply(IntRet{1}); });
}

// The network is what the router's options say: it is not started,
// stopped or removed through libvirt.
void network_create(const Call& call, const NetworkArgs& a)
{
    with_network(call, a.net, [&](const NetworkFacts&) { call.fail(fixed_network("virNetworkCreate")); });
}

void network_destroy(const Call& call, const NetworkArgs& a)
{
    with_network(call, a.net, [&](const NetworkFacts&) { call.fail(fixed_network("virNetworkDestroy")); });
}

void network_undefine(const Call& call, const NetworkArgs& a)
{
    with_network(call, a.net, [&](const NetworkFacts&) { call.fail(fixed_network("virNetworkUndefine")); });
}

// fleet's extension (docs/fleet-protocol.md): a tap on the fleet network
// for a VM the caller runs itself, passed back with the reply. Only over
// the local read-write socket (dispatch checks the write access): an fd
// cannot travel over TCP or TLS, and a VM's hypervisor channel is no
// place to make taps from. The name is shared with domains: one that a
// domain holds, defined or running, is refused.
void fleet_net_attach(const Call& call, const FleetNetAttachArgs& a)
{
    if (a.flags & ~net_attach_outbound)
        return call.fail(LibvirtError{err::invalid_arg,
                                      "unsupported flags " + std::to_string(a.flags) + " for a network attach",
                                      errdom::network});
    if (!call.connection().passes_fds() || call.connection().peer().channel)
        return call.fail(LibvirtError{err::operation_invalid,
                                      "a tap is handed out over the router's local socket only (libvirt-sock)",
                                      errdom::network});
    if (auto d = call.registry().by_name(a.name))
        return call.fail(LibvirtError{err::operation_invalid,
                                      "domain '" + a.name + "' exists: a VM on the network needs a name of its own",
                                      errdom::network});
    auto tap = call.launcher().attach_vm(a.name, (a.flags & net_attach_outbound) != 0, call.caller());
    if (!tap) return call.fail(tap.error());
    FleetNetAttachRet ret{tap->nic.tap_name, tap->nic.mac, tap->nic.ipv4, tap->nic.gateway};
    std::vector<Fd> fds;
    fds.push_back(std::move(tap->fd));
    call.connection().log().info("network: fleet-vmm's VM '" + a.name + "' joins on " + ret.tap + " (" + ret.ipv4 +
                                 ") for " + call.caller().describe());
    call.reply_with_fds(ret, std::move(fds));
}

FLEET_SERVE_GROUP(networks)

}  // namespace fleet::router::libvirt
