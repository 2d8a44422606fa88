// fleet netfilter — the policy compiler: a Policy and the VMs on the bridge
// in, nft script text out. Pure (no I/O) and deterministic, so its output is
// tested byte for byte; nft.hpp applies it in one transaction.
//
// Two tables of fleet's own, replaced whole (add, delete, define: one
// transaction) and never any other:
//   bridge <table>  anti-spoofing on every VM port (a VM sends only from
//                   its MAC and addresses; ARP and ND for its own address
//                   only) and, with Conntrack::bridge, the VM-to-VM policy;
//   inet <table>    VMs to the host and to outside, masquerade for VMs with
//                   outbound access, and, with Conntrack::inet, the VM-to-VM
//                   policy.
// Who is who lives in named sets, so a VM joining or leaving changes set
// elements (join_script, leave_script), never a rule. netfilter/README.md
// shows a whole ruleset.
#pragma once

#include <fleet/base/error.hpp>
#include <fleet/netfilter/inventory.hpp>
#include <fleet/netfilter/policy.hpp>

#include <string>

namespace fleet::netfilter {

// Where the state of VM-to-VM flows is tracked (replies of allowed flows
// pass): in the bridge family (nf_conntrack_bridge, Linux >= 5.3), or, on a
// kernel without it, in the inet family, which sees bridged packets through
// br_netfilter (the bridge's nf_call_iptables/ip6tables on). firewall.hpp
// probes which one the kernel has.
enum class Conntrack { bridge, inet };

struct CompileOptions {
    std::string table = "fleet";    // the name of both tables
    std::string bridge = "fleet0";  // fleet's bridge
    Conntrack conntrack = Conntrack::bridge;
};

// The names nft accepts: a letter or '_' first, then letters, digits, '_',
// '-', '.', at most 64 bytes (the table name), and a valid interface name.
Result<> check_options(const CompileOptions& options);

// The whole ruleset: both tables, replaced in one transaction. Fails on a
// bad inventory (check_inventory) or bad options, never on a parsed policy.
Result<std::string> compile_ruleset(const Policy& policy, const Inventory& inventory, const CompileOptions& options);

// Set elements for one endpoint joining or leaving a ruleset compiled from
// the same policy and options (one transaction each; nothing else changes).
std::string join_script(const Policy& policy, const Endpoint& endpoint, const CompileOptions& options);
std::string leave_script(const Policy& policy, const Endpoint& endpoint, const CompileOptions& options);

// Both tables gone (and no error if either is missing already).
std::string remove_script(const CompileOptions& options);

}  // namespace fleet::netfilter
