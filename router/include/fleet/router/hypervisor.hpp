// fleet-router — hypervisor channels: VMs that start VMs (docs/hypervisor.md).
//
// A domain whose definition has <fleet:hypervisor> gets more virtio-serial
// ports, org.fleet.hypervisor and its siblings (FLEET_HYPERVISOR_PORTS: one
// connection each, so programs in the guest can be connected at once). The
// host end of each is one end of a socket pair the router makes at the
// domain's start and serves as one more client connection (the same
// transport, session and dispatch as a unix socket's), whose principal is Principal::guest(domain): authenticated by
// being that VM's own channel, nothing else can reach it. Over it the guest
// sees only the domains it created (its children), within its quotas
// (router/src/hypervisor/scope.cpp). Its children end when it ends, and a
// restarted router (which no longer holds any channel) ends every child.
#pragma once

#include <fleet/base/error.hpp>
#include <fleet/base/fd.hpp>
#include <fleet/router/domain.hpp>
#include <fleet/router/log.hpp>
#include <fleet/router/registry.hpp>

namespace fleet::router {

class Server;

class HypervisorChannels {
public:
    explicit HypervisorChannels(Log log) : log_(std::move(log)) {}

    // What the channels need once they exist (the launcher is made first).
    void attach(DomainRegistry& registry, Server& server)
    {
        registry_ = &registry;
        server_ = &server;
    }
    // A new channel for domain def: the guest's ends, one per port (for
    // QEMU); the router's ends are served from now on. Fails if the router
    // serves no clients yet.
    Result<std::vector<Fd>> open(const DomainDef& def);
    // Every lifecycle event: a domain that stopped takes its children along.
    void on_event(const Domain& d, Lifecycle event);
    // After adoption: no channel survived the previous router, so every
    // child an adopted parent made is ended (no orphan outlives a restart).
    void end_orphans();

private:
    void end_children_of(const std::string& parent);

    Log log_;
    DomainRegistry* registry_ = nullptr;
    Server* server_ = nullptr;
};

}  // namespace fleet::router
