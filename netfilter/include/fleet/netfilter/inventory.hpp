// fleet netfilter — the VMs on the bridge, as the firewall sees them.
#pragma once

#include <fleet/base/error.hpp>
#include <fleet/netfilter/address.hpp>
#include <fleet/netfilter/policy.hpp>

#include <optional>
#include <string>
#include <vector>

namespace fleet::netfilter {

// One VM interface on fleet's bridge.
struct Endpoint {
    std::string name;                 // the VM (domain) name, as the policy names it
    std::string port;                 // its bridge port: the tap (a veth in tests)
    Mac mac;                          // the only MAC it may send from
    std::optional<Ipv4> ipv4;         // its leased addresses: the only ones it may
    std::optional<Ipv6> ipv6;         // send from (and its MAC's IPv6 link-local)
    std::vector<std::string> groups;  // groups from the domain's metadata
    bool outbound = false;            // may it reach outside (masquerade)? off by default
    bool operator==(const Endpoint&) const = default;
};

using Inventory = std::vector<Endpoint>;

// A usable endpoint: a name, a valid interface name for its port, a
// unicast MAC, group names the policy language could write.
Result<> check_endpoint(const Endpoint& endpoint);

// Every endpoint usable, and no two share a name, port, MAC or address.
Result<> check_inventory(const Inventory& inventory);

// Would adding `endpoint` keep the inventory valid?
Result<> check_join(const Inventory& inventory, const Endpoint& endpoint);

// Does a rule's subject stand for this endpoint? A group holds the VMs its
// `group` line lists and those whose metadata names it.
bool matches(const Policy& policy, const Subject& subject, const Endpoint& endpoint);

}  // namespace fleet::netfilter
