// fleet-router — the fleet bridge, taps, leases and firewall (network.hpp).
#include <fleet/router/network.hpp>

#include <fleet/netfilter/firewall.hpp>
#include <fleet/netfilter/flows.hpp>
#include <fleet/netfilter/identity.hpp>
#include <fleet/netfilter/leases.hpp>
#include <fleet/netfilter/links.hpp>
#include <fleet/netfilter/nft.hpp>

#include <net/if.h>

#include <algorithm>
#include <fstream>
#include <optional>
#include <sstream>
#include <string_view>

namespace fleet::router {

namespace nf = netfilter;

namespace {

constexpr std::string_view vmm_prefix = "vmm:";  // VmTapMark (network.hpp)
constexpr std::string_view outbound_suffix = ":outbound";
constexpr std::string_view by_separator = " by ";
// The name of a released lease whose flows are still to be forgotten.
const std::string released_prefix = "-released:";

}  // namespace

std::string vm_tap_mark(const VmTapMark& mark)
{
    return std::string(vmm_prefix) + mark.name + (mark.outbound ? std::string(outbound_suffix) : "") +
           (mark.owner.empty() ? "" : std::string(by_separator) + mark.owner);
}

std::optional<VmTapMark> parse_vm_tap_mark(std::string_view text)
{
    if (!text.starts_with(vmm_prefix)) return std::nullopt;
    text.remove_prefix(vmm_prefix.size());
    VmTapMark mark;
    if (auto by = text.find(by_separator); by != text.npos) {  // a VM name has no blank
        mark.owner = std::string(text.substr(by + by_separator.size()));
        text = text.substr(0, by);
        if (mark.owner.empty()) return std::nullopt;
    }
    mark.outbound = text.ends_with(outbound_suffix);
    if (mark.outbound) text.remove_suffix(outbound_suffix.size());
    mark.name = std::string(text);
    if (!vmm::is_valid_name(mark.name)) return std::nullopt;
    return mark;
}

struct Network::Impl {
    NetworkOptions o;
    Log log;
    nf::Subnet4 ipv4;
    std::optional<nf::Subnet6> ipv6;
    std::unique_ptr<nf::Netlink> links;
    std::unique_ptr<nf::Libnftables> nft;
    std::optional<nf::LeaseFile> leases;
    std::unique_ptr<nf::Firewall> firewall;
    std::map<std::string, std::vector<InterfaceAddress>> attached;  // by domain
    // fleet-vmm's VMs (attach_vm), by name: the tap that keeps each in.
    struct VmTap {
        std::string tap;
        unsigned ifindex = 0;
        std::string owner;  // "": not counted
    };
    std::map<std::string, VmTap> vms;

    [[nodiscard]] std::string policy_path() const { return o.state_dir + "/policy"; }

    // The endpoint of `def`'s one interface with this lease, and its address.
    std::pair<nf::Endpoint, InterfaceAddress> endpoint(const DomainDef& def, const nf::Lease& lease) const
    {
        // <fleet:groups>, <fleet:net outbound=>
        return endpoint(def.name, def.groups, def.outbound.value_or(false), lease);
    }
    std::pair<nf::Endpoint, InterfaceAddress> endpoint(const std::string& name, const std::vector<std::string>& groups,
                                                       bool outbound, const nf::Lease& lease) const
    {
        nf::Endpoint e{.name = name,
                       .port = nf::tap_name(lease.mac),
                       .mac = lease.mac,
                       .ipv4 = lease.ipv4,
                       .ipv6 = lease.ipv6,
                       .groups = groups,
                       .outbound = outbound};
        InterfaceAddress a{.name = e.port,
                           .mac = nf::format(lease.mac),
                           .ipv4 = nf::format(lease.ipv4),
                           .ipv4_prefix = static_cast<unsigned>(ipv4.prefix),
                           // The IPv6 lease is kept and allowed by the firewall,
                           // but the guest is told only its IPv4 address (so far).
                           .ipv6 = "",
                           .ipv6_prefix = 0};
        return {std::move(e), std::move(a)};
    }

    // The lease of `name` under `mac`. One lease per name: one under
    // another MAC is stale (a new transient domain of that name, or a
    // changed definition). A lease that `mac` holds under another name
    // (a MAC given in a domain's XML, another's released address) changes
    // hands here: its tracked flows go first, as at a release.
    Result<nf::Lease> lease_for(const std::string& name, const nf::Mac& mac)
    {
        std::vector<nf::Mac> stale;
        for (const auto& l : leases->leases().all())
            if (l.name == name && l.mac != mac) stale.push_back(l.mac);
        for (const auto& old : stale) release(old);
        if (const nf::Lease* held = leases->leases().find(mac);
            held && held->name != name && held->name != released_prefix + name)
            if (auto f =
                    nf::forget_flows({held->ipv4}, held->ipv6 ? std::vector{*held->ipv6} : std::vector<nf::Ipv6>{});
                !f)
                return fail("cannot forget the flows of " + nf::format(held->ipv4) + ": " + f.error().what());
        return leases->allocate(mac, name);
    }

    // A lease goes back in two steps. Here it is renamed
    // "-released:NAME" (no VM name starts with '-'), so no one else is
    // given its addresses; drain_released then deletes the flows the
    // kernel still tracks for them (one walk of the conntrack table for
    // all, off the path of a start) and frees them: the next VM given the
    // addresses must not inherit the last one's flows. Its own name may
    // take it back meanwhile (the same name: the same policy).
    void release(const nf::Mac& mac)
    {
        const nf::Lease* lease = leases->leases().find(mac);
        if (lease == nullptr || lease->name.starts_with(released_prefix)) return;
        const std::string name = lease->name;
        if (auto r = leases->allocate(mac, released_prefix + name); !r)
            log.info("network: " + name + "'s lease: " + r.error().what());
    }

    void drain_released()
    {
        std::vector<nf::Mac> macs;
        std::vector<nf::Ipv4> v4;
        std::vector<nf::Ipv6> v6;
        for (const auto& l : leases->leases().all()) {
            if (!l.name.starts_with(released_prefix)) continue;
            macs.push_back(l.mac);
            v4.push_back(l.ipv4);
            if (l.ipv6) v6.push_back(*l.ipv6);
        }
        if (macs.empty()) return;
        if (auto f = nf::forget_flows(v4, v6); !f)
            return log.info("network: released addresses kept until their flows are forgotten: " + f.error().what());
        for (const auto& mac : macs)
            if (auto r = leases->release(mac); !r) log.info("network: a released lease: " + r.error().what());
    }

    // The guest's side of a tap: what QEMU and the guest ABI are told.
    vmm::NetInterface nic(int fd, const InterfaceAddress& a) const
    {
        return vmm::NetInterface{.tap_fd = fd,
                                 .tap_name = a.name,
                                 .mac = a.mac,
                                 .ipv4 = a.ipv4 + "/" + std::to_string(a.ipv4_prefix),
                                 .gateway = nf::format(ipv4.address)};
    }

    // A fleet-vmm VM's tap is gone (its QEMU ended, or it never ran).
    static bool tap_gone(const VmTap& vm)
    {
        char now[IF_NAMESIZE] = {};
        return ::if_indextoname(vm.ifindex, now) == nullptr || vm.tap != now;
    }

    // A fleet-vmm VM whose tap has gone leaves the firewall, and its
    // address goes back: names are cheap, and a user cycling through them
    // must not use up the subnet.
    void forget_vm(const std::string& name)
    {
        vms.erase(name);
        attached.erase(name);
        if (auto l = firewall->leave(name); !l) log.info("firewall: " + name + " leaving: " + l.error().message);
        release(nf::derive_name_mac(name, 0));
    }

    // Forget the fleet-vmm VMs whose tap has gone; how many.
    std::size_t sweep_vms()
    {
        std::vector<std::string> gone;
        for (const auto& [name, vm] : vms)
            if (tap_gone(vm)) gone.push_back(name);
        for (const auto& name : gone) forget_vm(name);
        return gone.size();
    }

    // `name` is a running fleet-vmm VM's. One whose tap went since the
    // last sweep is forgotten now: a name is free as soon as its VM ended.
    bool holds_vm(const std::string& name)
    {
        auto it = vms.find(name);
        if (it == vms.end()) return false;
        if (!tap_gone(it->second)) return true;
        forget_vm(name);
        return false;
    }

    // fleet-vmm's taps an earlier router made, still on the bridge: in
    // the firewall again, from their leases.
    void adopt_vms()
    {
        auto owned = links->owned();
        if (!owned) return log.info("network: cannot list fleet's links: " + owned.error().what());
        for (const auto& link : *owned) {
            if (link.master != o.bridge || !link.alias.starts_with(nf::tap_alias_prefix)) continue;
            auto mark = parse_vm_tap_mark(std::string_view(link.alias).substr(nf::tap_alias_prefix.size()));
            if (!mark) continue;  // a domain's tap
            const std::string& name = mark->name;
            const bool outbound = mark->outbound;
            auto lease = std::find_if(leases->leases().all().begin(), leases->leases().all().end(),
                                      [&](const nf::Lease& l) { return l.name == name; });
            const unsigned ifindex = ::if_nametoindex(link.name.c_str());
            if (lease == leases->leases().all().end() || nf::tap_name(lease->mac) != link.name || ifindex == 0) {
                log.info("network: " + link.name + " (fleet-vmm's " + name +
                         ") has no lease: left out of the firewall");
                continue;
            }
            auto [endpoint, address] = this->endpoint(name, {}, outbound, *lease);
            if (auto j = firewall->join(endpoint); !j) {
                log.info("firewall: fleet-vmm's " + name + " joining again: " + j.error().message);
                continue;
            }
            vms[name] = VmTap{link.name, ifindex, mark->owner};  // counted for its owner again
            attached[name] = {address};
        }
    }
};

Network::Network(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Network::~Network() = default;

Result<std::unique_ptr<Network>> Network::open(const NetworkOptions& options, Log log)
{
    auto m = std::make_unique<Impl>();
    m->o = options;
    m->log = std::move(log);
    auto v4 = nf::parse_subnet4(options.ipv4);
    if (!v4) return fail("--bridge-ipv4: " + v4.error().message);
    m->ipv4 = *v4;
    if (options.ipv6 != "none") {
        auto v6 = nf::parse_subnet6(options.ipv6);
        if (!v6) return fail("--bridge-ipv6: " + v6.error().message);
        m->ipv6 = *v6;
    }
    auto links = nf::Netlink::open();
    if (!links) return std::unexpected(links.error());
    m->links = std::move(*links);
    auto nft = nf::Libnftables::open();
    if (!nft) return std::unexpected(nft.error());
    m->nft = std::move(*nft);
    auto conntrack = nf::Firewall::probe(*m->nft);
    if (!conntrack) return std::unexpected(conntrack.error());
    nf::BridgeConfig bc{
        .name = options.bridge, .ipv4 = m->ipv4, .ipv6 = m->ipv6, .nf_call = *conntrack == nf::Conntrack::inet};
    if (auto b = m->links->ensure_bridge(bc); !b) return fail("bridge " + options.bridge + ": " + b.error().what());
    auto leases = nf::LeaseFile::open(options.state_dir, m->ipv4, m->ipv6);
    if (!leases) return std::unexpected(leases.error());
    m->leases.emplace(std::move(*leases));
    m->firewall = std::make_unique<nf::Firewall>(
        *m->nft, nf::CompileOptions{.table = "fleet", .bridge = options.bridge, .conntrack = *conntrack});
    auto net = std::unique_ptr<Network>(new Network(std::move(m)));
    if (auto p = net->reload_policy(); !p) return std::unexpected(p.error());
    net->impl_->adopt_vms();
    net->impl_->drain_released();  // an earlier router's, killed before it could
    return net;
}

Result<> Network::reload_policy()
{
    Impl& m = *impl_;
    std::string text;
    if (std::ifstream in(m.policy_path()); in) {
        std::ostringstream s;
        s << in.rdbuf();
        text = s.str();
    }
    auto policy = nf::parse_policy(text, m.policy_path());
    if (!policy) return std::unexpected(policy.error());
    if (auto l = m.firewall->load(std::move(*policy)); !l) return fail("policy: " + l.error().message);
    return {};
}

DomainResult<std::vector<Tap>> Network::attach(const DomainDef& def)
{
    Impl& m = *impl_;
    if (def.interfaces.size() > 1)
        return domain_fail(Errc::unsupported, "<interface>: fleet gives a domain one interface on its bridge");
    if (m.holds_vm(def.name))
        return domain_fail(Errc::invalid_argument,
                           "a VM that fleet-vmm runs is on the network as '" + def.name + "': choose another name");
    std::vector<Tap> taps;
    for (const auto& iface : def.interfaces) {
        if (iface.type == "bridge" && iface.source != m.o.bridge)
            return domain_fail(Errc::unsupported,
                               "<interface>: bridge '" + iface.source + "' is not fleet's bridge '" + m.o.bridge + "'");
        auto mac = nf::parse_mac(iface.mac);
        if (!mac) return domain_fail(Errc::invalid_argument, "<interface/mac>: " + mac.error().message);
        auto lease = m.lease_for(def.name, *mac);
        if (!lease) return domain_fail(Errc::failed, "address lease: " + lease.error().what());
        auto [endpoint, address] = m.endpoint(def, *lease);
        auto fd = m.links->create_tap({.name = endpoint.port, .bridge = m.o.bridge, .owner = def.name});
        if (!fd) return domain_fail(Errc::failed, "tap " + endpoint.port + ": " + fd.error().what());
        (void)m.firewall->leave(def.name);  // a stale entry of an earlier run, if any
        if (auto j = m.firewall->join(endpoint); !j) return domain_fail(Errc::failed, "firewall: " + j.error().message);
        vmm::NetInterface nic = m.nic(fd->get(), address);
        taps.push_back(Tap{std::move(*fd), std::move(nic)});
        m.attached[def.name] = {address};
    }
    return taps;
}

DomainResult<Tap> Network::attach_vm(const std::string& name, bool outbound, const std::string& owner)
{
    Impl& m = *impl_;
    if (!vmm::is_valid_name(name))
        return domain_fail(Errc::invalid_argument, "bad VM name '" + name + "' (" + vmm::name_rule + ")");
    m.sweep_vms();  // the VMs that ended since the last sweep neither hold names nor count
    if (m.vms.count(name) || m.attached.count(name))
        return domain_fail(Errc::invalid_argument, "'" + name + "' is on the network already: choose another name");
    if (m.vms.size() >= max_vms)
        return domain_fail(Errc::limit, "the router holds " + std::to_string(m.vms.size()) +
                                            " fleet-vmm VMs on its network, the most it allows");
    if (!owner.empty() && std::count_if(m.vms.begin(), m.vms.end(), [&](const auto& v) {
                              return v.second.owner == owner;
                          }) >= static_cast<std::ptrdiff_t>(max_vms_per_owner))
        return domain_fail(Errc::limit, owner + " has " + std::to_string(max_vms_per_owner) +
                                            " fleet-vmm VMs on the network, the most one user may");
    const nf::Mac mac = nf::derive_name_mac(name, 0);
    auto lease = m.lease_for(name, mac);
    if (!lease) return domain_fail(Errc::failed, "address lease: " + lease.error().what());
    // A start that fails from here gives the address back: failed attaches
    // under ever new names must not use up the subnet.
    auto failed = [&](std::string why) {
        (void)m.firewall->leave(name);
        m.release(mac);
        return domain_fail(Errc::failed, std::move(why));
    };
    auto [endpoint, address] = m.endpoint(name, {}, outbound, *lease);
    auto fd = m.links->create_tap(
        {.name = endpoint.port, .bridge = m.o.bridge, .owner = vm_tap_mark({name, outbound, owner})});
    if (!fd) return failed("tap " + endpoint.port + ": " + fd.error().what());
    const unsigned ifindex = ::if_nametoindex(endpoint.port.c_str());
    if (ifindex == 0) return failed("tap " + endpoint.port + ": gone as soon as made");
    (void)m.firewall->leave(name);  // a stale entry, if any
    if (auto j = m.firewall->join(endpoint); !j) return failed("firewall: " + j.error().message);
    m.vms[name] = Impl::VmTap{endpoint.port, ifindex, owner};
    m.attached[name] = {address};
    vmm::NetInterface nic = m.nic(fd->get(), address);
    return Tap{std::move(*fd), std::move(nic)};
}

std::size_t Network::sweep()
{
    Impl& m = *impl_;
    const std::size_t gone = m.sweep_vms();
    m.drain_released();
    return gone;
}

void Network::detach(const std::string& name)
{
    Impl& m = *impl_;
    if (m.holds_vm(name) || !m.attached.erase(name)) return;  // a fleet-vmm VM's name: not a domain's
    if (auto l = m.firewall->leave(name); !l) m.log.info("firewall: " + name + " leaving: " + l.error().message);
}

void Network::adopt(const DomainDef& def)
{
    Impl& m = *impl_;
    if (m.holds_vm(def.name)) {
        m.log.info("network: domain '" + def.name + "' and a fleet-vmm VM share a name: the domain stays out");
        return;
    }
    for (const auto& iface : def.interfaces) {
        auto mac = nf::parse_mac(iface.mac);
        const nf::Lease* lease = mac ? m.leases->leases().find(*mac) : nullptr;
        if (!lease) continue;
        auto [endpoint, address] = m.endpoint(def, *lease);
        (void)m.firewall->leave(def.name);
        if (auto j = m.firewall->join(endpoint); !j)
            m.log.info("firewall: " + def.name + " joining again: " + j.error().message);
        m.attached[def.name] = {address};
    }
}

Result<bool> Network::remove_if_unused()
{
    Impl& m = *impl_;
    auto owned = m.links->owned();
    if (!owned) return std::unexpected(owned.error());
    for (const auto& link : *owned)
        if (link.master == m.o.bridge) return false;  // a VM still uses the bridge
    if (auto r = m.firewall->remove(); !r) return fail("removing fleet's tables: " + r.error().message);
    if (auto r = m.links->remove(m.o.bridge); !r) return fail("removing " + m.o.bridge + ": " + r.error().message);
    return true;
}

std::vector<InterfaceAddress> Network::addresses(const std::string& name) const
{
    auto it = impl_->attached.find(name);
    return it == impl_->attached.end() ? std::vector<InterfaceAddress>{} : it->second;
}

const std::string& Network::bridge() const
{
    return impl_->o.bridge;
}

const NetworkOptions& Network::options() const
{
    return impl_->o;
}

}  // namespace fleet::router
