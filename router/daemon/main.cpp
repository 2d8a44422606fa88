// fleet-router — the daemon: a libvirt-protocol façade over fleet's launcher.
//
// Start-up is a list of steps, in order; each part is a library piece
// (router/include/fleet/router/): the launcher runs VMs, the registry keeps
// domains, the libvirt mapping serves procedures, the server carries them.
#include "options.hpp"
#include "reload.hpp"
#include "runtime.hpp"

#include <fleet/router/announce.hpp>
#include <fleet/router/hypervisor.hpp>
#include <fleet/router/libvirt.hpp>
#include <fleet/router/network.hpp>
#include <fleet/router/pools.hpp>
#include <fleet/router/process_title.hpp>
#include <fleet/router/registry.hpp>
#include <fleet/router/server.hpp>
#include <fleet/router/supervisor_launcher.hpp>
#include <fleet/vmm/catalog.hpp>
#include <fleet/vmm/store.hpp>

using namespace fleet;
using namespace fleet::router;

namespace {

// The router stops: the bridge and fleet's tables go unless a VM uses them.
void remove_network(Network& network, const Log& log)
{
    auto r = network.remove_if_unused();
    if (!r)
        log.info("network: " + r.error().what());
    else if (*r)
        log.info("removed the bridge " + network.bridge() + " and fleet's nft tables: no VM uses them");
    else
        log.info("the bridge " + network.bridge() + " and fleet's nft tables stay: VMs use them");
}

// Serve until SIGTERM or SIGINT; then stop, leaving the VMs running (and
// the bridge and fleet's tables while a VM uses them). SIGHUP reads the
// firewall policy again (a bad one changes nothing); every load's result
// goes to <runtime>/router/policy-status.
int serve(Loop& loop, Signals& signals, Network* network, WarmPools& pools, Server& server, DomainRegistry& registry,
          std::unique_ptr<Announcement>& announcement, const Options& o, const Log& log)
{
    bool done = false;
    unsigned loads = 0;
    const auto no_policy = [] { return Result<>(fail("no --bridge: no firewall policy")); };
    (void)write_policy_status(o.runtime_dir, loads, network ? Result<>{} : no_policy());
    auto reload = [&] {
        const Result<> r = network ? network->reload_policy() : no_policy();
        log.info(r ? "policy reloaded" : "policy not reloaded, the running rules stay: " + r.error().what());
        if (auto w = write_policy_status(o.runtime_dir, ++loads, r); !w) log.info(w.error().what());
    };
    // fleet-vmm's VMs leave the firewall when their tap goes (network.hpp).
    OpId sweep_op = 0;
    std::function<void()> sweep = [&] {
        sweep_op = loop.timer(std::chrono::seconds(1), [&](int) {
            if (done) return;
            network->sweep();
            sweep();
        });
    };
    if (network) sweep();
    signals.watch(
        loop,
        [&] {
            log.info("stopping (VMs keep running; the next router adopts them)");
            if (sweep_op) loop.cancel(sweep_op);
            server.stop();
            remove_router_info(o.runtime_dir);
            announcement.reset();  // withdraws it
            registry.stop();
            pools.stop();  // their waiting VMs; claimed ones are domains and run on
            if (network) remove_network(*network, log);
            done = true;
        },
        reload);
    auto ran = loop.run_until([&] { return done; });
    if (!ran && !done) return fail_with(ran.error().what());
    return 0;
}

}  // namespace

int main(int argc, char** argv)
{
    if (argc > 1 && std::string_view(argv[1]) == "reload") return reload_command(argc - 1, argv + 1);
    init_process_title(argc, argv);  // forked supervisors rename themselves

    // 1. Options: flags, environment, defaults.
    auto parsed = parse_options(argc, argv);
    if (!parsed) return parsed.error();
    const Options& o = *parsed;
    const Log log{{}, o.verbose};

    // 2. The runtime and state folders: the router's own, nobody else's;
    //    enough file descriptors for the clients it admits.
    if (auto m = prepare_dirs(o.runtime_dir, o.state_dir); !m) return fail_with(m.error().what());
    raise_fd_limit(o.server.limits.max_clients + 256, log);

    // 3. The stores: the launcher's VM records, the persistent definitions.
    auto store = vmm::Store::open(o.runtime_dir);
    if (!store) return fail_with(store.error().what());
    auto defs = DefinitionStore::open(o.state_dir + "/domains");
    if (!defs) return fail_with(defs.error().what());

    // 4. The loop.
    auto loop = Loop::create(1024);
    if (!loop) return fail_with(loop.error().what());

    // 5. One router per runtime folder.
    auto lock = lock_runtime_dir(o.runtime_dir);
    if (!lock) return fail_with(lock.error().what());

    // 6. Signals: a subreaper; SIGTERM, SIGINT, SIGCHLD on the loop.
    auto signals = Signals::take();
    if (!signals) return fail_with(signals.error().what());

    // 7. The fleet bridge, leases and firewall, when configured; the
    // launcher: a supervisor per VM.
    std::unique_ptr<Network> network;
    if (!o.bridge.empty()) {
        auto n = Network::open(NetworkOptions{o.bridge, o.bridge_ipv4, o.bridge_ipv6, o.state_dir}, log);
        if (!n) return fail_with(n.error().what());
        network = std::move(*n);
    }
    HypervisorChannels channels(log);  // VMs that start VMs (docs/hypervisor.md)
    LauncherOptions lo{
        o.images,      o.qemu,   o.stop_deadline, o.runtime_dir, o.console_log_max, o.console_log_backups,
        network.get(), &channels};
    WarmPools pools(**loop, *store, o.pools, lo, log);
    if (!o.pools.empty()) lo.pools = &pools;
    SupervisorLauncher launcher(**loop, std::move(*store), lo, log);

    // 8. The registry: the definitions, then the VMs an earlier router left running.
    DomainRegistry registry(**loop, launcher, std::move(*defs),
                            RegistryOptions{o.state_dir, o.runtime_dir + "/router/live", o.quotas}, log);
    registry.load_definitions();
    registry.adopt();
    if (network)  // adopted VMs' firewall elements, from their leases
        for (const auto& d : registry.all())
            if (d->active()) network->adopt(d->def);

    // 8b. The warm pools of the `pool` setting: adopted from an earlier
    //     router, or started; they fill in the background.
    pools.start();

    // 9. The libvirt façade on its listeners (docs/SECURITY.md); lifecycle
    //    events to its clients.
    LibvirtService libvirt(registry, launcher, vmm::AccelContext{o.qemu, o.runtime_dir, vmm::catalog_dirs(o.images)});
    ServerOptions so = o.server;
    so.group = fleet_group(o.group, log);
    Server server(**loop, libvirt, so, log);
    registry.on_event([&](const Domain& d, Lifecycle e) {
        libvirt.announce(server, d, e);
        channels.on_event(d, e);
    });
    channels.attach(registry, server);
    channels.end_orphans();
    if (auto l = server.listen(); !l) return fail_with(l.error().what());

    // 10. router.json: where clients find this router.
    if (auto w = write_router_info(o.runtime_dir, so, server.tcp_port(), server.tls_port(), o.bridge); !w)
        log.info(w.error().what());

    // 11. The mDNS announcement: the TLS listener, when other hosts can reach it.
    std::unique_ptr<Announcement> announcement;
    if (o.mdns) announcement = announce_reachable(**loop, o.mdns_name, so.tls_host, server.tls_port(), log);

    // 12. The boot manifest, one domain after another.
    if (o.autostart) registry.boot_manifest();

    // 13. Serve until SIGTERM or SIGINT.
    return serve(**loop, *signals, network.get(), pools, server, registry, announcement, o, log);
}
