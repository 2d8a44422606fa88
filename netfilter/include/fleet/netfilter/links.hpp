// fleet netfilter — the links fleet makes: its bridge and one tap per VM
// interface. A small interface (Links) with netlink behind it (Netlink,
// libnl-route) and a fake for unit tests (FakeLinks).
//
// What fleet made is marked, so a router killed with -9 and started again
// finds it: every link fleet creates carries an ifalias starting with
// "fleet:" ("fleet:bridge", "fleet:tap:<owner>"), and taps are named
// "fl..." (identity.hpp). A link without the marker is never changed or
// removed, even if its name matches.
#pragma once

#include <fleet/base/error.hpp>
#include <fleet/base/fd.hpp>
#include <fleet/netfilter/address.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct nl_sock;  // libnl

namespace fleet::netfilter {

inline constexpr std::string_view alias_prefix = "fleet:";
inline constexpr std::string_view bridge_alias = "fleet:bridge";
inline constexpr std::string_view tap_alias_prefix = "fleet:tap:";

// The defaults a router gets with no options (netfilter/README.md).
inline constexpr std::string_view default_bridge = "fleet0";
inline constexpr std::string_view default_ipv4 = "10.77.0.1/24";
inline constexpr std::string_view default_ipv6 = "fd66:6c65:6574::1/64";

struct BridgeConfig {
    std::string name{default_bridge};
    std::optional<Subnet4> ipv4;  // the bridge's own address: the VMs' gateway
    std::optional<Subnet6> ipv6;
    // br_netfilter's nf_call_iptables and nf_call_ip6tables on this bridge
    // only: Conntrack::inet needs bridged packets in the inet hooks.
    bool nf_call = false;
};

struct TapConfig {
    std::string name;    // tap_name(mac) for a VM interface
    std::string bridge;  // attached to it, and up
    std::string owner;   // who it is for (the VM), kept in the ifalias
};

struct LinkInfo {
    std::string name;
    int index = 0;
    std::string kind;    // "bridge", "tun", "veth", ... ("" if the kernel says none)
    std::string alias;   // the ifalias ("fleet:..." for fleet's)
    std::string master;  // the bridge it is a port of, if any
    bool up = false;
    bool operator==(const LinkInfo&) const = default;
};

inline bool fleet_made(const LinkInfo& link)
{
    return link.alias.starts_with(alias_prefix);
}

class Links {
public:
    virtual ~Links() = default;
    // Create the bridge, or adopt fleet's own of that name: STP and
    // multicast snooping off, a stable MAC, exactly the configured
    // addresses (IPv6 without duplicate address detection), up. A link of
    // that name that fleet did not make is refused.
    virtual Result<LinkInfo> ensure_bridge(const BridgeConfig& config) = 0;
    // A new tap (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, what QEMU's
    // -netdev tap,fd=N expects), marked, attached to the bridge and up. Its
    // fd (O_CLOEXEC) is the tap's life: it is not persistent, so it goes
    // away when the last process holding the fd (QEMU) ends.
    virtual Result<Fd> create_tap(const TapConfig& config) = 0;
    // Remove a link fleet made (refused for any other).
    virtual Result<> remove(const std::string& name) = 0;
    virtual Result<std::optional<LinkInfo>> find(const std::string& name) = 0;
    // Every link with fleet's marker.
    virtual Result<std::vector<LinkInfo>> owned() = 0;
};

// Remove every link fleet made: taps first, then bridges. Returns their names.
Result<std::vector<std::string>> remove_owned(Links& links);

class Netlink final : public Links {
public:
    static Result<std::unique_ptr<Netlink>> open();
    ~Netlink() override;
    Result<LinkInfo> ensure_bridge(const BridgeConfig& config) override;
    Result<Fd> create_tap(const TapConfig& config) override;
    Result<> remove(const std::string& name) override;
    Result<std::optional<LinkInfo>> find(const std::string& name) override;
    Result<std::vector<LinkInfo>> owned() override;

private:
    ::nl_sock* sock_ = nullptr;
    explicit Netlink(::nl_sock* sock) : sock_(sock) {}
    Result<std::vector<LinkInfo>> all();
    Result<> set_addresses(int index, const BridgeConfig& config);
};

// Links in memory: taps are eventfds standing in for tun fds.
class FakeLinks final : public Links {
public:
    Result<LinkInfo> ensure_bridge(const BridgeConfig& config) override;
    Result<Fd> create_tap(const TapConfig& config) override;
    Result<> remove(const std::string& name) override;
    Result<std::optional<LinkInfo>> find(const std::string& name) override;
    Result<std::vector<LinkInfo>> owned() override;

    std::map<std::string, LinkInfo> links;  // by name; add others' links here to test refusals
    std::map<std::string, BridgeConfig> bridges;

private:
    int next_index_ = 100;
};

// Open a tap: /dev/net/tun, TUNSETIFF (tap.cpp). Netlink does the rest.
Result<Fd> open_tap(const std::string& name);

}  // namespace fleet::netfilter
