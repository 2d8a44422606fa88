// fleet-vmm — warm pools from the command line: `fleet-vmm pool` (pool_cmd.cpp),
// the pool daemon (pool_daemon.cpp) and `run` from a pool (claimant.cpp).
#pragma once

#include "cli.hpp"

#include <fleet/vmm/store.hpp>
#include <fleet/vmm/supervisor.hpp>

#include <optional>
#include <string>

namespace fleet::cli {

int cmd_pool(const Context& ctx, const Args& args);

// What the daemon keeps: `size` VMs of `base` (its spec without program)
// waiting in `dir`. ready_fd hears "ready" once all are idle, or "error
// MESSAGE" if one fails first (the daemon then ends).
struct PoolDaemon {
    std::string dir, image;
    unsigned size = 1;
    vmm::SupervisorOptions base;
    int ready_fd = -1;
};

// The pool daemon's life (in the detached process): keep `size` idle,
// replace each claimed or failed one, and on SIGTERM end the unclaimed
// ones and clear the folder. Claimed VMs outlive it.
int run_pool_daemon(const vmm::Store& store, PoolDaemon d);

// `fleet-vmm run` from a warm pool: when a pool for o.image has an idle VM
// with o.spec's key, claim it, hand it this process's stdio and program,
// and stand in for it until it ends (signals forwarded). nullopt: no VM
// fits or none is left; the caller boots cold.
std::optional<int> run_from_pool(const Context& ctx, const vmm::SupervisorOptions& o, bool verbose);

}  // namespace fleet::cli
