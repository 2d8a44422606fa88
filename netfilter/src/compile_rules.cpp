// fleet netfilter — the policy's rules as nft rules, chain by chain.
#include "compile_detail.hpp"

namespace fleet::netfilter::detail {

namespace {

bool vm_side(const Subject& s)
{
    return s.kind == Subject::Kind::any || s.kind == Subject::Kind::vm || s.kind == Subject::Kind::group;
}

bool in_chain(const Subject& to, Chain chain)
{
    switch (chain) {
        case Chain::vm_to_vm:
            return vm_side(to);
        case Chain::vm_to_host:
            return to.kind == Subject::Kind::host || to.kind == Subject::Kind::any;
        case Chain::vm_to_outside:
            return to.kind == Subject::Kind::outside || to.kind == Subject::Kind::any;
    }
    return false;
}

std::string ports(const std::vector<PortRange>& ranges)
{
    std::string out;
    for (const PortRange& p : ranges) {
        if (!out.empty()) out += ", ";
        out += std::to_string(p.first);
        if (p.last != p.first) out += "-" + std::to_string(p.last);
    }
    return ranges.size() == 1 ? out : "{ " + out + " }";
}

// What a service matches, for IPv4 (v6 false) or IPv6.
std::string service_match(const Service& s, bool v6)
{
    if (s.protocol == Protocol::icmp) return v6 ? " icmpv6 type echo-request" : " icmp type echo-request";
    const std::string proto = s.protocol == Protocol::tcp ? "tcp" : "udp";
    if (s.ports.empty()) return " meta l4proto " + proto;
    return " " + proto + " dport " + ports(s.ports);
}

std::string basename(const std::string& path)
{
    const auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

std::vector<std::string> chain_rules(const Policy& policy, Chain chain)
{
    std::vector<std::string> out;
    const std::string source = basename(policy.source);
    for (const Rule& r : policy.rules) {
        const std::string verdict = r.action == Action::allow ? " accept" : " drop";
        const std::string note =
            " comment \"" + comment(source + ":" + std::to_string(r.line) + ": " + format_rule(r)) + "\"";
        for (const Subject& from : r.from) {
            for (const Subject& to : r.to) {
                if (!in_chain(to, chain)) continue;
                for (const bool v6 : {false, true}) {
                    const std::string ip = v6 ? "ip6" : "ip";
                    const std::string suffix = v6 ? "_ipv6" : "_ipv4";
                    std::string match = ip + " saddr @" + set_base(from) + suffix;
                    if (chain == Chain::vm_to_vm) match += " " + ip + " daddr @" + set_base(to) + suffix;
                    if (r.services.empty()) out.push_back(match + verdict + note);
                    for (const Service& s : r.services) out.push_back(match + service_match(s, v6) + verdict + note);
                }
            }
        }
    }
    return out;
}

}  // namespace fleet::netfilter::detail
