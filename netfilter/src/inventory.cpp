// fleet netfilter — inventory checks and subject matching.
#include <fleet/netfilter/identity.hpp>
#include <fleet/netfilter/inventory.hpp>

#include <algorithm>

namespace fleet::netfilter {

namespace {

bool group_name_ok(const std::string& name)
{
    if (name.empty() || name.size() > max_name_bytes || name[0] == '-' || name[0] == '.') return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
               c == '-';
    });
}

Result<> clash(const Endpoint& a, const Endpoint& b)
{
    const std::string who = "'" + a.name + "' and '" + b.name + "'";
    if (a.name == b.name) return fail("two endpoints are named '" + a.name + "'");
    if (a.port == b.port) return fail(who + " share the port " + a.port);
    if (a.mac == b.mac) return fail(who + " share the MAC " + format(a.mac));
    if (a.ipv4 && a.ipv4 == b.ipv4) return fail(who + " share the address " + format(*a.ipv4));
    if (a.ipv6 && a.ipv6 == b.ipv6) return fail(who + " share the address " + format(*a.ipv6));
    return {};
}

}  // namespace

Result<> check_endpoint(const Endpoint& e)
{
    if (e.name.empty()) return fail("an endpoint has no name");
    if (e.name.size() > 256) return fail("the endpoint name '" + e.name.substr(0, 40) + "...' is too long");
    if (!valid_ifname(e.port)) return fail("'" + e.name + "': '" + e.port + "' is not a valid interface name");
    if (e.mac.bytes[0] & 1) return fail("'" + e.name + "': " + format(e.mac) + " is a multicast MAC");
    if (e.mac == Mac{}) return fail("'" + e.name + "' has no MAC");
    for (const std::string& g : e.groups)
        if (!group_name_ok(g)) return fail("'" + e.name + "': '" + g + "' is not a valid group name");
    return {};
}

Result<> check_join(const Inventory& inventory, const Endpoint& endpoint)
{
    if (auto r = check_endpoint(endpoint); !r) return r;
    for (const Endpoint& other : inventory)
        if (auto r = clash(other, endpoint); !r) return r;
    return {};
}

Result<> check_inventory(const Inventory& inventory)
{
    for (std::size_t i = 0; i < inventory.size(); ++i) {
        if (auto r = check_endpoint(inventory[i]); !r) return r;
        for (std::size_t j = 0; j < i; ++j)
            if (auto r = clash(inventory[j], inventory[i]); !r) return r;
    }
    return {};
}

bool matches(const Policy& policy, const Subject& subject, const Endpoint& endpoint)
{
    switch (subject.kind) {
        case Subject::Kind::any:
            return true;
        case Subject::Kind::vm:
            return subject.name == endpoint.name;
        case Subject::Kind::group:
            return listed_in_group(policy, subject.name, endpoint.name) ||
                   std::find(endpoint.groups.begin(), endpoint.groups.end(), subject.name) != endpoint.groups.end();
        case Subject::Kind::outside:
        case Subject::Kind::host:
            return false;
    }
    return false;
}

}  // namespace fleet::netfilter
