// fleet netfilter — the compiler's parts (private): which sets a policy
// needs, the elements an endpoint puts in them, and the rules of each chain.
#pragma once

#include <fleet/netfilter/compile.hpp>

#include <string>
#include <vector>

namespace fleet::netfilter::detail {

enum class Family { bridge, inet };

// The sets a policy's rules name, per table, each subject once, in the
// order the policy first names them.
struct SetPlan {
    std::vector<Subject> bridge;
    std::vector<Subject> inet;
};
SetPlan plan_sets(const Policy& policy, Conntrack conntrack);

// "vm_web", "group_backend", "vms" (for *); the sets are NAME_ipv4, NAME_ipv6.
std::string set_base(const Subject& subject);

// A set with the declaration lines that go inside `set NAME { ... }`.
struct SetDecl {
    std::string name;
    std::string type;  // "type ipv4_addr" or "typeof ..."
    std::string comment;
};
std::vector<SetDecl> set_decls(const SetPlan& plan, Family family);

// One element of one set, as nft writes it ("\"fl12\" . 10.77.0.2").
struct Element {
    Family family;
    std::string set;
    std::string value;
};
std::vector<Element> endpoint_elements(const Policy& policy, const SetPlan& plan, const Endpoint& endpoint);

// The policy rules of a chain, one nft rule per line, in policy order.
enum class Chain { vm_to_vm, vm_to_host, vm_to_outside };
std::vector<std::string> chain_rules(const Policy& policy, Chain chain);

// Text safe inside an nft comment: printable ASCII without quotes or
// backslashes, at most 128 bytes (nft's limit).
std::string comment(std::string_view text);

std::string family_name(Family family);

}  // namespace fleet::netfilter::detail
