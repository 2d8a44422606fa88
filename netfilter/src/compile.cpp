// fleet netfilter — compile_ruleset and the join, leave and remove scripts.
#include <fleet/netfilter/compile.hpp>
#include <fleet/netfilter/identity.hpp>

#include "compile_detail.hpp"

#include <algorithm>
#include <map>

namespace fleet::netfilter {

using namespace detail;

namespace {

using Lines = std::vector<std::string>;

// Elements of every set, by "family set", in inventory order (sorted by name).
using ElementMap = std::map<std::string, Lines>;

std::string key(Family family, const std::string& set)
{
    return family_name(family) + " " + set;
}

void emit_sets(std::string& out, Family family, const SetPlan& plan, const ElementMap& elements)
{
    for (const SetDecl& d : set_decls(plan, family)) {
        out += "\tset " + d.name + " {\n\t\t" + d.type + "\n\t\tcomment \"" + d.comment + "\"\n";
        if (auto it = elements.find(key(family, d.name)); it != elements.end()) {
            out += "\t\telements = {";
            for (std::size_t i = 0; i < it->second.size(); ++i) out += (i ? ", " : " ") + it->second[i];
            out += " }\n";
        }
        out += "\t}\n";
    }
}

void emit_chain(std::string& out, const std::string& name, const Lines& head, const Lines& policy_rules,
                const Lines& tail)
{
    out += "\tchain " + name + " {\n";
    for (const Lines* part : {&head, &policy_rules, &tail})
        for (const std::string& line : *part) out += "\t\t" + line + "\n";
    out += "\t}\n";
}

const Lines neighbour_discovery = {
    "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept comment \"neighbour discovery\""};

Lines state_rules(const Lines& extra)
{
    Lines out = {"ct state established,related accept comment \"replies of allowed flows\"", "ct state invalid drop"};
    out.insert(out.begin() + 1, extra.begin(), extra.end());
    return out;
}

void emit_bridge(std::string& out, const Policy& policy, const SetPlan& plan, const ElementMap& elements,
                 const CompileOptions& o)
{
    const bool vm_policy = o.conntrack == Conntrack::bridge;
    out += "table bridge " + o.table + "\ndelete table bridge " + o.table + "\ntable bridge " + o.table + " {\n";
    out += "\tcomment \"fleet: anti-spoofing" + std::string(vm_policy ? " and VM-to-VM policy" : "") + " on " +
           o.bridge + " (generated: do not edit)\"\n";
    emit_sets(out, Family::bridge, plan, elements);
    emit_chain(out, "prerouting", {"type filter hook prerouting priority filter; policy accept;"},
               {"iifname @ports jump from_vm"}, {});
    emit_chain(
        out, "from_vm", {},
        {"ether type ip iifname . ether saddr . ip saddr @port_ipv4 accept comment \"its own MAC and IPv4 address\"",
         "iifname . ether saddr != @port_mac drop comment \"anti-spoofing: a VM sends from its own MAC\"",
         "ether type ip drop comment \"anti-spoofing: IPv4 from its own address\"",
         "ether type arp iifname . arp saddr ether . arp saddr ip != @port_ipv4 drop comment \"anti-spoofing: ARP for "
         "its own address only\"",
         "ip6 saddr :: icmpv6 type nd-neighbor-solicit iifname . @th,64,128 @port_nd accept comment \"duplicate "
         "address detection of its own address\"",
         "ether type ip6 iifname . ip6 saddr != @port_ipv6 drop comment \"anti-spoofing: IPv6 from its own addresses\"",
         "icmpv6 type nd-neighbor-advert iifname . @th,64,128 != @port_nd drop comment \"anti-spoofing: ND for its own "
         "address only\"",
         "icmpv6 type { nd-router-advert, nd-redirect } drop comment \"a VM is not a router\"",
         "ether type != { ip, ip6, arp } drop comment \"IPv4, IPv6 and ARP only\""},
        {});
    if (vm_policy) {
        emit_chain(out, "forward", {"type filter hook forward priority filter; policy accept;"},
                   {"iifname @ports oifname @ports jump vm_to_vm"}, {});
        Lines head = state_rules(neighbour_discovery);
        head.insert(head.begin(), "ether type arp accept comment \"ARP (anti-spoofing checked it)\"");
        emit_chain(out, "vm_to_vm", head, chain_rules(policy, Chain::vm_to_vm),
                   {"drop comment \"default: deny between VMs\""});
    }
    out += "}\n";
}

void emit_inet(std::string& out, const Policy& policy, const SetPlan& plan, const ElementMap& elements,
               const CompileOptions& o)
{
    const bool vm_policy = o.conntrack == Conntrack::inet;
    const std::string br = "\"" + o.bridge + "\"";
    out += "table inet " + o.table + "\ndelete table inet " + o.table + "\ntable inet " + o.table + " {\n";
    out += "\tcomment \"fleet: " + std::string(vm_policy ? "VM-to-VM policy, " : "") + "VMs to the host and outside" +
           " on " + o.bridge + " (generated: do not edit)\"\n";
    emit_sets(out, Family::inet, plan, elements);
    emit_chain(out, "input", {"type filter hook input priority filter; policy accept;"},
               {"iifname " + br + " jump vm_to_host"}, {});
    emit_chain(out, "vm_to_host",
               state_rules({"icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit } accept "
                            "comment \"neighbour discovery\""}),
               chain_rules(policy, Chain::vm_to_host), {"drop comment \"default: deny from VMs to the host\""});
    emit_chain(
        out, "forward", {"type filter hook forward priority filter; policy accept;"},
        {vm_policy ? "iifname " + br + " oifname " + br + " jump vm_to_vm"
                   : "iifname " + br + " oifname " + br + " accept comment \"bridged: the bridge table decides\"",
         "iifname " + br + " jump vm_to_outside", "oifname " + br + " jump outside_to_vm"},
        {});
    if (vm_policy)
        emit_chain(out, "vm_to_vm", state_rules(neighbour_discovery), chain_rules(policy, Chain::vm_to_vm),
                   {"drop comment \"default: deny between VMs\""});
    emit_chain(out, "vm_to_outside",
               state_rules({"ip saddr != @outbound_ipv4 drop comment \"outbound access is off for this VM\"",
                            "ip6 saddr != @outbound_ipv6 drop comment \"outbound access is off for this VM\""}),
               chain_rules(policy, Chain::vm_to_outside), {"drop comment \"default: deny from VMs to outside\""});
    emit_chain(out, "outside_to_vm", {"ct state established,related accept comment \"replies of allowed flows\""}, {},
               {"drop comment \"nothing from outside reaches a VM unasked\""});
    emit_chain(out, "postrouting", {"type nat hook postrouting priority srcnat; policy accept;"},
               {"oifname != " + br + " ip saddr @outbound_ipv4 masquerade comment \"outbound access\"",
                "oifname != " + br + " ip6 saddr @outbound_ipv6 masquerade comment \"outbound access\""},
               {});
    out += "}\n";
}

bool table_name_ok(const std::string& name)
{
    if (name.empty() || name.size() > 64) return false;
    const char c0 = name[0];
    if (!((c0 >= 'a' && c0 <= 'z') || (c0 >= 'A' && c0 <= 'Z') || c0 == '_')) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
               c == '.';
    });
}

std::string element_script(const char* verb, const Policy& policy, const Endpoint& e, const CompileOptions& o)
{
    std::string out;
    for (const Element& el : endpoint_elements(policy, plan_sets(policy, o.conntrack), e))
        out += std::string(verb) + " element " + family_name(el.family) + " " + o.table + " " + el.set + " { " +
               el.value + " }\n";
    return out;
}

}  // namespace

Result<> check_options(const CompileOptions& options)
{
    if (!table_name_ok(options.table)) return fail("'" + options.table + "' is not a valid nft table name");
    if (!valid_ifname(options.bridge)) return fail("'" + options.bridge + "' is not a valid bridge name");
    return {};
}

Result<std::string> compile_ruleset(const Policy& policy, const Inventory& inventory, const CompileOptions& options)
{
    if (auto r = check_options(options); !r) return std::unexpected(r.error());
    if (auto r = check_inventory(inventory); !r) return std::unexpected(r.error());
    std::vector<const Endpoint*> sorted;
    for (const Endpoint& e : inventory) sorted.push_back(&e);
    std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->name < b->name; });
    const SetPlan plan = plan_sets(policy, options.conntrack);
    ElementMap elements;
    for (const Endpoint* e : sorted)
        for (const Element& el : endpoint_elements(policy, plan, *e))
            elements[key(el.family, el.set)].push_back(el.value);
    std::string out = "# fleet: generated from " + detail::comment(policy.source) + "; do not edit\n";
    emit_bridge(out, policy, plan, elements, options);
    emit_inet(out, policy, plan, elements, options);
    return out;
}

std::string join_script(const Policy& policy, const Endpoint& endpoint, const CompileOptions& options)
{
    return element_script("add", policy, endpoint, options);
}

std::string leave_script(const Policy& policy, const Endpoint& endpoint, const CompileOptions& options)
{
    return element_script("delete", policy, endpoint, options);
}

std::string remove_script(const CompileOptions& o)
{
    return "table bridge " + o.table + "\ndelete table bridge " + o.table + "\ntable inet " + o.table +
           "\ndelete table inet " + o.table + "\n";
}

}  // namespace fleet::netfilter
