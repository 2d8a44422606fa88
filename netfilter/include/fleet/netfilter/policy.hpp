// fleet netfilter — the policy language: who may talk to whom.
//
//     # comments run to the end of the line
//     group backend = api worker          # a group by a list of VM names
//     allow web -> db tcp/5432
//     allow web, api -> db tcp/5432,5433 udp/53
//     allow group:backend -> dns udp/53 tcp/53
//     allow web -> outside tcp/443        # the host's uplink (masquerade)
//     allow * -> host icmp                # the host itself
//     deny web -> db                      # first match wins
//     deny *                              # = deny * -> *; the default anyway
//
// netfilter/README.md is the reference. The parser is pure (text in, a
// Policy or one error out) and rejects a bad file as a whole, naming
// file:line:column and the reason.
#pragma once

#include <fleet/base/error.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace fleet::netfilter {

enum class Action { allow, deny };

// One side of a rule.
struct Subject {
    enum class Kind {
        any,      // "*": every VM (as a destination also outside and host)
        vm,       // a VM by name ("web", or "vm:web" for a VM named like a keyword)
        group,    // "group:backend"
        outside,  // beyond the host: the uplink, through masquerade
        host,     // the host itself, through the bridge's addresses
    };
    Kind kind = Kind::any;
    std::string name;  // for vm and group
    bool operator==(const Subject&) const = default;
};

enum class Protocol { tcp, udp, icmp };

struct PortRange {
    std::uint16_t first = 0;
    std::uint16_t last = 0;  // == first for a single port
    bool operator==(const PortRange&) const = default;
};

// "tcp", "tcp/80,443,8000-8080", "udp/53", "icmp" (echo requests, IPv4 and
// IPv6). No ports: every port.
struct Service {
    Protocol protocol = Protocol::tcp;
    std::vector<PortRange> ports;
    bool operator==(const Service&) const = default;
};

struct Rule {
    Action action = Action::deny;
    std::vector<Subject> from;
    std::vector<Subject> to;
    std::vector<Service> services;  // none: all traffic
    int line = 0;                   // where it was written (1-based); not compared
    bool operator==(const Rule& o) const
    {
        return action == o.action && from == o.from && to == o.to && services == o.services;
    }
};

struct Group {
    std::string name;
    std::vector<std::string> members;  // VM names
    int line = 0;                      // not compared
    bool operator==(const Group& o) const { return name == o.name && members == o.members; }
};

struct Policy {
    std::string source;  // the file name rules are reported by ("policy" if none)
    std::vector<Group> groups;
    std::vector<Rule> rules;  // in file order: the first that matches decides
    bool operator==(const Policy& o) const { return groups == o.groups && rules == o.rules; }
};

// Limits: a policy file is at most 4 MiB; a name at most 64 bytes
// ([A-Za-z0-9_][A-Za-z0-9_.-]*).
inline constexpr std::size_t max_policy_bytes = 4 << 20;
inline constexpr std::size_t max_name_bytes = 64;

// Parse a whole file. `source` names it in errors: "policy.conf:3:14: ...".
Result<Policy> parse_policy(std::string_view text, std::string_view source = "policy");

// Canonical text: one statement per line, groups first, then the rules in
// order; parse_policy(format_policy(p)) == p.
std::string format_policy(const Policy& policy);
std::string format_rule(const Rule& rule);
std::string format_group(const Group& group);
std::string format_subject(const Subject& subject);
std::string format_service(const Service& service);

// Is `name` (a VM) in group `group` by the policy's own lists? (Membership
// by a domain's metadata is the inventory's: compile.hpp.)
bool listed_in_group(const Policy& policy, std::string_view group, std::string_view name);

}  // namespace fleet::netfilter
