// fleet netfilter — the firewall a router keeps: the policy in force, the
// VMs on the bridge, and the kernel's tables kept in step with them
// through an Nft (libnftables, or the fake in unit tests).
//
// Every change is one nft transaction: a policy load replaces both tables
// at once; a VM joining or leaving adds or deletes set elements only. When
// the kernel refuses a change, nothing changed, here or there: a bad
// reload leaves the running rules and this object as they were.
#pragma once

#include <fleet/base/error.hpp>
#include <fleet/netfilter/compile.hpp>
#include <fleet/netfilter/nft.hpp>

#include <string_view>

namespace fleet::netfilter {

class Firewall {
public:
    Firewall(Nft& nft, CompileOptions options) : nft_(nft), options_(std::move(options)) {}

    // Which Conntrack this kernel has: a bridge-family table using ct is
    // checked (not committed); refused with EPROTO ("Protocol error") means
    // no nf_conntrack_bridge. Any other refusal (no CAP_NET_ADMIN) is an error.
    static Result<Conntrack> probe(Nft& nft);

    // Compile `policy` with the current VMs and replace both tables.
    Result<> load(Policy policy);
    // A VM on the bridge: its elements join the sets (or, before the first
    // load, it is only remembered).
    Result<> join(const Endpoint& endpoint);
    Result<> leave(std::string_view name);
    // The same VM with other addresses, groups or outbound access.
    Result<> update(const Endpoint& endpoint);
    // Both tables gone; the VMs and policy are kept for a later load.
    Result<> remove();

    [[nodiscard]] bool loaded() const { return loaded_; }
    [[nodiscard]] const Policy& policy() const { return policy_; }
    [[nodiscard]] const Inventory& inventory() const { return inventory_; }
    [[nodiscard]] const CompileOptions& options() const { return options_; }

private:
    Nft& nft_;
    CompileOptions options_;
    Policy policy_;
    Inventory inventory_;
    bool loaded_ = false;

    Inventory::iterator find(std::string_view name);
};

}  // namespace fleet::netfilter
