// fleet-router — the fleet bridge, taps, leases and firewall (network.hpp).
#include <fleet/router/network.hpp>

#include <fleet/netfilter/firewall.hpp>
#include <fleet/netfilter/identity.hpp>
#include <fleet/netfilter/leases.hpp>
#include <fleet/netfilter/links.hpp>
#include <fleet/netfilter/nft.hpp>

#include <fstream>
#include <optional>
#include <sstream>

namespace fleet::router {

namespace nf = netfilter;

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

    [[nodiscard]] std::string policy_path() const { return o.state_dir + "/policy"; }

    // The endpoint of `def`'s one interface with this lease, and its address.
    std::pair<nf::Endpoint, InterfaceAddress> endpoint(const DomainDef& def, const nf::Lease& lease) const
    {
        nf::Endpoint e{.name = def.name,
                       .port = nf::tap_name(lease.mac),
                       .mac = lease.mac,
                       .ipv4 = lease.ipv4,
                       .ipv6 = lease.ipv6,
                       .groups = def.groups,                       // <fleet:groups>
                       .outbound = def.outbound.value_or(false)};  // <fleet:net outbound=>
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
    std::vector<Tap> taps;
    for (const auto& iface : def.interfaces) {
        if (iface.type == "bridge" && iface.source != m.o.bridge)
            return domain_fail(Errc::unsupported,
                               "<interface>: bridge '" + iface.source + "' is not fleet's bridge '" + m.o.bridge + "'");
        auto mac = nf::parse_mac(iface.mac);
        if (!mac) return domain_fail(Errc::invalid_argument, "<interface/mac>: " + mac.error().message);
        // One lease per domain name: one under another MAC is stale (a new
        // transient domain of that name, or a changed definition).
        std::vector<nf::Mac> stale;
        for (const auto& l : m.leases->leases().all())
            if (l.name == def.name && l.mac != *mac) stale.push_back(l.mac);
        for (const auto& old : stale) (void)m.leases->release(old);
        auto lease = m.leases->allocate(*mac, def.name);
        if (!lease) return domain_fail(Errc::failed, "address lease: " + lease.error().what());
        auto [endpoint, address] = m.endpoint(def, *lease);
        auto fd = m.links->create_tap({.name = endpoint.port, .bridge = m.o.bridge, .owner = def.name});
        if (!fd) return domain_fail(Errc::failed, "tap " + endpoint.port + ": " + fd.error().what());
        (void)m.firewall->leave(def.name);  // a stale entry of an earlier run, if any
        if (auto j = m.firewall->join(endpoint); !j) return domain_fail(Errc::failed, "firewall: " + j.error().message);
        vmm::NetInterface nic{.tap_fd = fd->get(),
                              .tap_name = endpoint.port,
                              .mac = address.mac,
                              .ipv4 = address.ipv4 + "/" + std::to_string(address.ipv4_prefix),
                              .gateway = nf::format(m.ipv4.address)};
        taps.push_back(Tap{std::move(*fd), std::move(nic)});
        m.attached[def.name] = {address};
    }
    return taps;
}

void Network::detach(const std::string& name)
{
    Impl& m = *impl_;
    if (!m.attached.erase(name)) return;
    if (auto l = m.firewall->leave(name); !l) m.log.info("firewall: " + name + " leaving: " + l.error().message);
}

void Network::adopt(const DomainDef& def)
{
    Impl& m = *impl_;
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
