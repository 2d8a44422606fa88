// fleet netfilter — what every Links shares, and FakeLinks.
#include <fleet/netfilter/links.hpp>

#include <sys/eventfd.h>

namespace fleet::netfilter {

Result<std::vector<std::string>> remove_owned(Links& links)
{
    auto owned = links.owned();
    if (!owned) return std::unexpected(owned.error());
    std::vector<std::string> removed;
    for (const bool bridges : {false, true}) {
        for (const LinkInfo& link : *owned) {
            if ((link.kind == "bridge") != bridges) continue;
            if (auto r = links.remove(link.name); !r) return std::unexpected(r.error());
            removed.push_back(link.name);
        }
    }
    return removed;
}

Result<LinkInfo> FakeLinks::ensure_bridge(const BridgeConfig& config)
{
    auto it = links.find(config.name);
    if (it != links.end() && (it->second.alias != bridge_alias || it->second.kind != "bridge"))
        return fail("a link named " + config.name + " exists and is not fleet's bridge");
    if (it == links.end())
        it = links
                 .emplace(config.name,
                          LinkInfo{config.name, next_index_++, "bridge", std::string(bridge_alias), "", true})
                 .first;
    bridges[config.name] = config;
    return it->second;
}

Result<Fd> FakeLinks::create_tap(const TapConfig& config)
{
    if (links.contains(config.name)) return fail("cannot create the tap " + config.name, EBUSY);
    if (!links.contains(config.bridge)) return fail("no bridge " + config.bridge);
    Fd fd(::eventfd(0, EFD_CLOEXEC));
    if (!fd) return fail_errno("eventfd");
    links[config.name] =
        LinkInfo{config.name, next_index_++, "tun", std::string(tap_alias_prefix) + config.owner, config.bridge, true};
    return fd;
}

Result<> FakeLinks::remove(const std::string& name)
{
    auto it = links.find(name);
    if (it == links.end()) return fail("no link " + name);
    if (!fleet_made(it->second)) return fail(name + " is not fleet's: left alone");
    links.erase(it);
    for (auto& [n, link] : links)
        if (link.master == name) link.master.clear();
    return {};
}

Result<std::optional<LinkInfo>> FakeLinks::find(const std::string& name)
{
    auto it = links.find(name);
    if (it == links.end()) return std::optional<LinkInfo>{};
    return std::optional<LinkInfo>{it->second};
}

Result<std::vector<LinkInfo>> FakeLinks::owned()
{
    std::vector<LinkInfo> out;
    for (const auto& [name, link] : links)
        if (fleet_made(link)) out.push_back(link);
    return out;
}

}  // namespace fleet::netfilter
