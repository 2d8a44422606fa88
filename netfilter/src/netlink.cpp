// fleet netfilter — Netlink: the bridge and taps over rtnetlink (libnl-route).
//
// Messages that libnl-route 3.7 has no setter for (the bridge's own
// options in IFLA_INFO_DATA) are built with libnl's message API; listing
// uses its caches.
#include <fleet/netfilter/identity.hpp>
#include <fleet/netfilter/links.hpp>

#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>

#include <arpa/inet.h>

#include <cstring>

namespace fleet::netfilter {

namespace {

std::unexpected<Error> nl_fail(const std::string& what, int err)
{
    return fail(what + ": " + nl_geterror(err));
}

// An RTM_NEWLINK or RTM_DELLINK for `index` (0: a new link), up if asked.
nl_msg* link_message(int type, int flags, int index, bool up)
{
    nl_msg* msg = nlmsg_alloc_simple(type, flags);
    if (msg == nullptr) return nullptr;
    ifinfomsg ifi{};
    ifi.ifi_family = AF_UNSPEC;
    ifi.ifi_index = index;
    if (up) ifi.ifi_flags = ifi.ifi_change = IFF_UP;
    if (nlmsg_append(msg, &ifi, sizeof ifi, NLMSG_ALIGNTO) < 0) {
        nlmsg_free(msg);
        return nullptr;
    }
    return msg;
}

// The bridge's options: STP and multicast snooping off (a small flat
// bridge; multicast is flooded), br_netfilter's calls as configured.
void put_bridge_info(nl_msg* msg, bool nf_call)
{
    nlattr* info = nla_nest_start(msg, IFLA_LINKINFO);
    nla_put_string(msg, IFLA_INFO_KIND, "bridge");
    nlattr* data = nla_nest_start(msg, IFLA_INFO_DATA);
    nla_put_u32(msg, IFLA_BR_STP_STATE, 0);
    nla_put_u8(msg, IFLA_BR_MCAST_SNOOPING, 0);
    nla_put_u8(msg, IFLA_BR_NF_CALL_IPTABLES, nf_call ? 1 : 0);
    nla_put_u8(msg, IFLA_BR_NF_CALL_IP6TABLES, nf_call ? 1 : 0);
    nla_nest_end(msg, data);
    nla_nest_end(msg, info);
}

Result<> send(nl_sock* sock, nl_msg* msg, const std::string& what)
{
    if (msg == nullptr) return fail(what + ": out of memory");
    const int err = nl_send_sync(sock, msg);  // frees msg; waits for the ACK
    if (err < 0) return nl_fail(what, err);
    return {};
}

Result<> add_address(nl_sock* sock, int index, int family, const void* bytes, int prefix)
{
    nl_msg* msg = nlmsg_alloc_simple(RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE);
    if (msg == nullptr) return fail("out of memory");
    ifaddrmsg ifa{};
    ifa.ifa_family = static_cast<unsigned char>(family);
    ifa.ifa_prefixlen = static_cast<unsigned char>(prefix);
    ifa.ifa_flags = family == AF_INET6 ? IFA_F_NODAD : 0;  // usable at once: no 1-2 s of "tentative"
    ifa.ifa_scope = RT_SCOPE_UNIVERSE;
    ifa.ifa_index = static_cast<unsigned>(index);
    nlmsg_append(msg, &ifa, sizeof ifa, NLMSG_ALIGNTO);
    const int size = family == AF_INET ? 4 : 16;
    nla_put(msg, IFA_LOCAL, size, bytes);
    nla_put(msg, IFA_ADDRESS, size, bytes);
    return send(sock, msg, "cannot add an address to the bridge");
}

LinkInfo info_of(rtnl_link* link, nl_cache* cache)
{
    LinkInfo info;
    info.name = rtnl_link_get_name(link) ? rtnl_link_get_name(link) : "";
    info.index = rtnl_link_get_ifindex(link);
    info.kind = rtnl_link_get_type(link) ? rtnl_link_get_type(link) : "";
    info.alias = rtnl_link_get_ifalias(link) ? rtnl_link_get_ifalias(link) : "";
    info.up = (rtnl_link_get_flags(link) & IFF_UP) != 0;
    if (const int master = rtnl_link_get_master(link); master > 0) {
        char name[IFNAMSIZ + 1] = {};
        if (rtnl_link_i2name(cache, master, name, sizeof name)) info.master = name;
    }
    return info;
}

bool ours(const LinkInfo& link, const Mac& mac_of_ours, const Mac& mac)
{
    return link.alias == bridge_alias || (link.alias.empty() && link.kind == "bridge" && mac == mac_of_ours);
}

}  // namespace

Result<std::unique_ptr<Netlink>> Netlink::open()
{
    nl_sock* sock = nl_socket_alloc();
    if (sock == nullptr) return fail("cannot allocate a netlink socket");
    if (const int err = nl_connect(sock, NETLINK_ROUTE); err < 0) {
        nl_socket_free(sock);
        return nl_fail("cannot open a netlink socket", err);
    }
    return std::unique_ptr<Netlink>(new Netlink(sock));
}

Netlink::~Netlink()
{
    nl_socket_free(sock_);
}

Result<std::vector<LinkInfo>> Netlink::all()
{
    nl_cache* cache = nullptr;
    if (const int err = rtnl_link_alloc_cache(sock_, AF_UNSPEC, &cache); err < 0)
        return nl_fail("cannot list links", err);
    std::vector<LinkInfo> out;
    for (nl_object* o = nl_cache_get_first(cache); o != nullptr; o = nl_cache_get_next(o))
        out.push_back(info_of(reinterpret_cast<rtnl_link*>(o), cache));
    nl_cache_free(cache);
    return out;
}

Result<std::optional<LinkInfo>> Netlink::find(const std::string& name)
{
    auto links = all();
    if (!links) return std::unexpected(links.error());
    for (LinkInfo& l : *links)
        if (l.name == name) return std::optional<LinkInfo>{std::move(l)};
    return std::optional<LinkInfo>{};
}

Result<std::vector<LinkInfo>> Netlink::owned()
{
    auto links = all();
    if (!links) return std::unexpected(links.error());
    std::vector<LinkInfo> out;
    for (LinkInfo& l : *links)
        if (fleet_made(l)) out.push_back(std::move(l));
    return out;
}

Result<LinkInfo> Netlink::ensure_bridge(const BridgeConfig& config)
{
    if (!valid_ifname(config.name)) return fail("'" + config.name + "' is not a valid bridge name");
    const Mac mac = derive_bridge_mac(config.name);
    auto existing = find(config.name);
    if (!existing) return std::unexpected(existing.error());
    int index = 0;
    if (*existing) {
        // Adopt it only if it is fleet's: marked, or a bridge with fleet's MAC
        // for this name (made by a process killed before it set the mark).
        rtnl_link* link = nullptr;
        Mac current;
        if (rtnl_link_get_kernel(sock_, 0, config.name.c_str(), &link) >= 0) {
            if (nl_addr* a = rtnl_link_get_addr(link); a && nl_addr_get_len(a) == 6)
                std::memcpy(current.bytes.data(), nl_addr_get_binary_addr(a), 6);
            rtnl_link_put(link);
        }
        if (!ours(**existing, mac, current))
            return fail("a link named " + config.name + " exists and is not fleet's bridge (no '" +
                        std::string(bridge_alias) + "' ifalias): choose another bridge name");
        index = (*existing)->index;
    } else {
        nl_msg* msg = link_message(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0, false);
        if (msg) {
            nla_put_string(msg, IFLA_IFNAME, config.name.c_str());
            nla_put(msg, IFLA_ADDRESS, 6, mac.bytes.data());
            put_bridge_info(msg, config.nf_call);
        }
        if (auto r = send(sock_, msg, "cannot create the bridge " + config.name); !r) return std::unexpected(r.error());
        auto made = find(config.name);
        if (!made) return std::unexpected(made.error());
        if (!*made) return fail("the bridge " + config.name + " vanished as it was made");
        index = (*made)->index;
    }
    // Mark it, set its options, bring it up: the same for a new bridge and an adopted one.
    nl_msg* msg = link_message(RTM_NEWLINK, 0, index, true);
    if (msg) {
        nla_put_string(msg, IFLA_IFALIAS, std::string(bridge_alias).c_str());
        put_bridge_info(msg, config.nf_call);
    }
    if (auto r = send(sock_, msg, "cannot set up the bridge " + config.name); !r) return std::unexpected(r.error());
    if (auto r = set_addresses(index, config); !r) return std::unexpected(r.error());
    auto done = find(config.name);
    if (!done) return std::unexpected(done.error());
    if (!*done) return fail("the bridge " + config.name + " vanished as it was set up");
    return **done;
}

Result<> Netlink::set_addresses(int index, const BridgeConfig& config)
{
    // Remove the global addresses that are not (or no longer) configured.
    nl_cache* cache = nullptr;
    if (const int err = rtnl_addr_alloc_cache(sock_, &cache); err < 0) return nl_fail("cannot list addresses", err);
    Result<> result;
    for (nl_object* o = nl_cache_get_first(cache); o != nullptr && result; o = nl_cache_get_next(o)) {
        auto* addr = reinterpret_cast<rtnl_addr*>(o);
        if (rtnl_addr_get_ifindex(addr) != index || rtnl_addr_get_scope(addr) == RT_SCOPE_LINK) continue;
        nl_addr* local = rtnl_addr_get_local(addr);
        const int family = rtnl_addr_get_family(addr);
        const int prefix = rtnl_addr_get_prefixlen(addr);
        bool wanted = false;
        if (local && family == AF_INET && config.ipv4 && nl_addr_get_len(local) == 4) {
            const std::uint32_t want = htonl(config.ipv4->address.value);
            wanted = prefix == config.ipv4->prefix && std::memcmp(nl_addr_get_binary_addr(local), &want, 4) == 0;
        } else if (local && family == AF_INET6 && config.ipv6 && nl_addr_get_len(local) == 16) {
            wanted = prefix == config.ipv6->prefix &&
                     std::memcmp(nl_addr_get_binary_addr(local), config.ipv6->address.bytes.data(), 16) == 0;
        }
        if (!wanted)
            if (const int err = rtnl_addr_delete(sock_, addr, 0); err < 0)
                result = nl_fail("cannot remove an old address from the bridge", err);
    }
    nl_cache_free(cache);
    if (!result) return result;
    if (config.ipv4) {
        const std::uint32_t a = htonl(config.ipv4->address.value);
        if (auto r = add_address(sock_, index, AF_INET, &a, config.ipv4->prefix); !r) return r;
    }
    if (config.ipv6)
        if (auto r = add_address(sock_, index, AF_INET6, config.ipv6->address.bytes.data(), config.ipv6->prefix); !r)
            return r;
    return {};
}

Result<Fd> Netlink::create_tap(const TapConfig& config)
{
    auto bridge = find(config.bridge);
    if (!bridge) return std::unexpected(bridge.error());
    if (!*bridge || !fleet_made(**bridge)) return fail("no fleet bridge " + config.bridge);
    auto fd = open_tap(config.name);
    if (!fd) return fd;
    auto tap = find(config.name);
    if (!tap) return std::unexpected(tap.error());
    if (!*tap) return fail("the tap " + config.name + " vanished as it was made");
    // Mark it, attach it, bring it up: one message. If this process dies
    // before, the tap dies with its fd.
    nl_msg* msg = link_message(RTM_NEWLINK, 0, (*tap)->index, true);
    if (msg) {
        nla_put_string(msg, IFLA_IFALIAS, (std::string(tap_alias_prefix) + config.owner).c_str());
        nla_put_u32(msg, IFLA_MASTER, static_cast<std::uint32_t>((*bridge)->index));
    }
    if (auto r = send(sock_, msg, "cannot attach the tap " + config.name + " to " + config.bridge); !r)
        return std::unexpected(r.error());
    return fd;
}

Result<> Netlink::remove(const std::string& name)
{
    auto link = find(name);
    if (!link) return std::unexpected(link.error());
    if (!*link) return fail("no link " + name);
    if (!fleet_made(**link))
        return fail(name + " is not fleet's (no '" + std::string(alias_prefix) + "' ifalias): left alone");
    return send(sock_, link_message(RTM_DELLINK, 0, (*link)->index, false), "cannot remove " + name);
}

}  // namespace fleet::netfilter
