// fleet netfilter — a Policy as canonical text.
#include <fleet/netfilter/policy.hpp>

namespace fleet::netfilter {

namespace {

bool keyword_name(const std::string& name)
{
    return name == "outside" || name == "host" || name == "group" || name == "vm";
}

std::string join(const std::vector<Subject>& subjects)
{
    std::string out;
    for (const Subject& s : subjects) {
        if (!out.empty()) out += ", ";
        out += format_subject(s);
    }
    return out;
}

}  // namespace

std::string format_subject(const Subject& subject)
{
    switch (subject.kind) {
        case Subject::Kind::any:
            return "*";
        case Subject::Kind::vm:
            return keyword_name(subject.name) ? "vm:" + subject.name : subject.name;
        case Subject::Kind::group:
            return "group:" + subject.name;
        case Subject::Kind::outside:
            return "outside";
        case Subject::Kind::host:
            return "host";
    }
    return "?";
}

std::string format_service(const Service& service)
{
    std::string out = service.protocol == Protocol::tcp ? "tcp" : service.protocol == Protocol::udp ? "udp" : "icmp";
    for (std::size_t i = 0; i < service.ports.size(); ++i) {
        const PortRange& p = service.ports[i];
        out += i == 0 ? "/" : ",";
        out += std::to_string(p.first);
        if (p.last != p.first) out += "-" + std::to_string(p.last);
    }
    return out;
}

std::string format_rule(const Rule& rule)
{
    std::string out = rule.action == Action::allow ? "allow " : "deny ";
    const bool everything = rule.from.size() == 1 && rule.to.size() == 1 && rule.from[0].kind == Subject::Kind::any &&
                            rule.to[0].kind == Subject::Kind::any && rule.services.empty();
    if (everything) return out + "*";
    out += join(rule.from) + " -> " + join(rule.to);
    for (const Service& s : rule.services) out += " " + format_service(s);
    return out;
}

std::string format_group(const Group& group)
{
    std::string out = "group " + group.name + " =";
    for (const std::string& m : group.members) out += " " + (keyword_name(m) ? "vm:" + m : m);
    return out;
}

std::string format_policy(const Policy& policy)
{
    std::string out;
    for (const Group& g : policy.groups) out += format_group(g) + "\n";
    for (const Rule& r : policy.rules) out += format_rule(r) + "\n";
    return out;
}

}  // namespace fleet::netfilter
