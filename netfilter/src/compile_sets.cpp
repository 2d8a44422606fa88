// fleet netfilter — the compiler's sets and their elements.
#include "compile_detail.hpp"

#include <fleet/netfilter/address.hpp>

#include <algorithm>

namespace fleet::netfilter::detail {

namespace {

void add_once(std::vector<Subject>& list, const Subject& s)
{
    if (std::find(list.begin(), list.end(), s) == list.end()) list.push_back(s);
}

bool vm_side(const Subject& s)
{
    return s.kind == Subject::Kind::any || s.kind == Subject::Kind::vm || s.kind == Subject::Kind::group;
}

std::string quoted(const std::string& port)
{
    return "\"" + port + "\"";
}

std::string subject_comment(const Subject& s)
{
    switch (s.kind) {
        case Subject::Kind::vm:
            return "the VM " + s.name;
        case Subject::Kind::group:
            return "the group " + s.name;
        default:
            return "every VM";
    }
}

}  // namespace

std::string family_name(Family family)
{
    return family == Family::bridge ? "bridge" : "inet";
}

std::string set_base(const Subject& subject)
{
    switch (subject.kind) {
        case Subject::Kind::vm:
            return "vm_" + subject.name;
        case Subject::Kind::group:
            return "group_" + subject.name;
        default:
            return "vms";
    }
}

SetPlan plan_sets(const Policy& policy, Conntrack conntrack)
{
    SetPlan plan;
    std::vector<Subject>& vm_table = conntrack == Conntrack::bridge ? plan.bridge : plan.inet;
    for (const Rule& r : policy.rules) {
        for (const Subject& from : r.from) {
            for (const Subject& to : r.to) {
                if (vm_side(to)) {
                    add_once(vm_table, from);
                    add_once(vm_table, to);
                }
                if (!vm_side(to) || to.kind == Subject::Kind::any) add_once(plan.inet, from);
            }
        }
    }
    return plan;
}

std::vector<SetDecl> set_decls(const SetPlan& plan, Family family)
{
    std::vector<SetDecl> out;
    if (family == Family::bridge) {
        out.push_back({"ports", "type ifname", "every VM's bridge port"});
        out.push_back({"port_mac", "type ifname . ether_addr", "the MAC each port may send from"});
        out.push_back(
            {"port_ipv4", "type ifname . ether_addr . ipv4_addr", "the MAC and IPv4 address each port may send from"});
        out.push_back({"port_ipv6", "type ifname . ipv6_addr", "the IPv6 addresses each port may send from"});
        out.push_back({"port_nd", "typeof iifname . @th,64,128", "the ND targets each port may announce"});
    } else {
        out.push_back({"outbound_ipv4", "type ipv4_addr", "VMs with outbound access"});
        out.push_back({"outbound_ipv6", "type ipv6_addr", "VMs with outbound access"});
    }
    for (const Subject& s : family == Family::bridge ? plan.bridge : plan.inet) {
        out.push_back({set_base(s) + "_ipv4", "type ipv4_addr", subject_comment(s)});
        out.push_back({set_base(s) + "_ipv6", "type ipv6_addr", subject_comment(s)});
    }
    return out;
}

std::vector<Element> endpoint_elements(const Policy& policy, const SetPlan& plan, const Endpoint& e)
{
    std::vector<Element> out;
    const std::string port = quoted(e.port);
    const Ipv6 local = link_local(e.mac);
    out.push_back({Family::bridge, "ports", port});
    out.push_back({Family::bridge, "port_mac", port + " . " + format(e.mac)});
    if (e.ipv4) out.push_back({Family::bridge, "port_ipv4", port + " . " + format(e.mac) + " . " + format(*e.ipv4)});
    if (e.ipv6) out.push_back({Family::bridge, "port_ipv6", port + " . " + format(*e.ipv6)});
    out.push_back({Family::bridge, "port_ipv6", port + " . " + format(local)});
    if (e.ipv6) out.push_back({Family::bridge, "port_nd", port + " . " + format_hex(*e.ipv6)});
    out.push_back({Family::bridge, "port_nd", port + " . " + format_hex(local)});
    if (e.outbound && e.ipv4) out.push_back({Family::inet, "outbound_ipv4", format(*e.ipv4)});
    if (e.outbound && e.ipv6) out.push_back({Family::inet, "outbound_ipv6", format(*e.ipv6)});
    for (const Family family : {Family::bridge, Family::inet}) {
        for (const Subject& s : family == Family::bridge ? plan.bridge : plan.inet) {
            if (!matches(policy, s, e)) continue;
            if (e.ipv4) out.push_back({family, set_base(s) + "_ipv4", format(*e.ipv4)});
            if (e.ipv6) out.push_back({family, set_base(s) + "_ipv6", format(*e.ipv6)});
        }
    }
    return out;
}

std::string comment(std::string_view text)
{
    std::string out;
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        out += (u < ' ' || u >= 0x7f || c == '"' || c == '\\') ? '?' : c;
    }
    if (out.size() > 128) out = out.substr(0, 125) + "...";
    return out;
}

}  // namespace fleet::netfilter::detail
