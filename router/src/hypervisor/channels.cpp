// fleet-router — hypervisor channels (hypervisor.hpp): the socket pair of
// each channel, and the rule that no child outlives its parent.
#include <fleet/router/hypervisor.hpp>
#include <fleet/router/server.hpp>

#include <fleet/abi/guest.h>

#include <sys/socket.h>

#include <cerrno>

namespace fleet::router {

Result<std::vector<Fd>> HypervisorChannels::open(const DomainDef& def)
{
    if (!server_) return fail("the router serves no hypervisor channels yet");
    // Every pair first: a failure serves none of them.
    std::vector<Fd> router_ends, guest_ends;
    for (int i = 0; i < FLEET_HYPERVISOR_PORTS; ++i) {
        int sv[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
            return fail("cannot make the hypervisor channel's socket pair", errno);
        router_ends.emplace_back(sv[0]);
        guest_ends.emplace_back(sv[1]);
    }
    for (auto& end : router_ends)
        server_->serve(
            std::move(end),
            Peer{.who = Principal::guest(def.name), .read_only = false, .via = "hypervisor", .channel = true});
    log_.debug("domain '" + def.name + "': hypervisor channel open (" + std::to_string(FLEET_HYPERVISOR_PORTS) +
               " ports)");
    return guest_ends;
}

void HypervisorChannels::end_children_of(const std::string& parent)
{
    if (!registry_) return;
    const Principal owner = Principal::guest(parent);
    for (const auto& child : registry_->all()) {
        if (!child->active() || !(child->owner == owner)) continue;
        log_.info("domain '" + child->def.name + "': ending it with its parent '" + parent + "'");
        std::string name = child->def.name;
        registry_->destroy(child, [log = log_, name](DomainResult<> r) {
            if (!r) log.info("domain '" + name + "': cannot end it with its parent: " + r.error().message);
        });
    }
}

void HypervisorChannels::on_event(const Domain& d, Lifecycle event)
{
    switch (event) {
        case Lifecycle::stopped_shutdown:
        case Lifecycle::stopped_destroyed:
        case Lifecycle::stopped_crashed:
        case Lifecycle::stopped_failed:
            end_children_of(d.def.name);
            break;
        default:
            break;
    }
}

void HypervisorChannels::end_orphans()
{
    if (!registry_) return;
    for (const auto& d : registry_->all()) {
        if (!d->active() || d->owner.kind != Principal::Kind::guest) continue;
        log_.info("domain '" + d->def.name + "': ending it: the hypervisor channel of its parent '" + d->owner.dn +
                  "' did not survive the router's restart");
        std::string name = d->def.name;
        registry_->destroy(d, [log = log_, name](DomainResult<> r) {
            if (!r) log.info("domain '" + name + "': cannot end it: " + r.error().message);
        });
    }
}

}  // namespace fleet::router
