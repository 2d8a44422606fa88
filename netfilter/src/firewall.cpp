// fleet netfilter — Firewall: the policy and VMs, kept in step with the kernel.
#include <fleet/netfilter/firewall.hpp>

#include <algorithm>

namespace fleet::netfilter {

Result<Conntrack> Firewall::probe(Nft& nft)
{
    const char* script =
        "table bridge fleet_probe {\n"
        "\tchain forward {\n"
        "\t\ttype filter hook forward priority filter; policy accept;\n"
        "\t\tct state established accept\n"
        "\t}\n"
        "}\n";
    auto r = nft.check(script);
    if (r) return Conntrack::bridge;
    if (r.error().message.find("Protocol error") != std::string::npos) return Conntrack::inet;
    return fail("cannot probe the kernel's bridge conntrack: " + r.error().message);
}

Inventory::iterator Firewall::find(std::string_view name)
{
    return std::find_if(inventory_.begin(), inventory_.end(), [&](const Endpoint& e) { return e.name == name; });
}

Result<> Firewall::load(Policy policy)
{
    auto script = compile_ruleset(policy, inventory_, options_);
    if (!script) return std::unexpected(script.error());
    if (auto r = nft_.run(*script); !r) return r;
    policy_ = std::move(policy);
    loaded_ = true;
    return {};
}

Result<> Firewall::join(const Endpoint& endpoint)
{
    if (auto r = check_join(inventory_, endpoint); !r) return r;
    if (loaded_)
        if (auto r = nft_.run(join_script(policy_, endpoint, options_)); !r) return r;
    inventory_.push_back(endpoint);
    return {};
}

Result<> Firewall::leave(std::string_view name)
{
    const auto it = find(name);
    if (it == inventory_.end()) return fail("no VM '" + std::string(name) + "' on the bridge");
    if (loaded_)
        if (auto r = nft_.run(leave_script(policy_, *it, options_)); !r) return r;
    inventory_.erase(it);
    return {};
}

Result<> Firewall::update(const Endpoint& endpoint)
{
    const auto it = find(endpoint.name);
    if (it == inventory_.end()) return fail("no VM '" + endpoint.name + "' on the bridge");
    Inventory others;
    for (const Endpoint& e : inventory_)
        if (e.name != endpoint.name) others.push_back(e);
    if (auto r = check_join(others, endpoint); !r) return r;
    if (loaded_) {
        const std::string script = leave_script(policy_, *it, options_) + join_script(policy_, endpoint, options_);
        if (auto r = nft_.run(script); !r) return r;
    }
    *it = endpoint;
    return {};
}

Result<> Firewall::remove()
{
    if (auto r = nft_.run(remove_script(options_)); !r) return r;
    loaded_ = false;
    return {};
}

}  // namespace fleet::netfilter
