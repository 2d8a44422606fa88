// fleet — a warm pool's daemon (pool.hpp): it keeps `size` VMs of one
// image booted and waiting, replaces each one claimed or failed, and on
// SIGTERM ends the unclaimed ones and clears the pool's folder. Claimed
// VMs outlive it. `fleet-vmm pool start` and fleet-router's `pool` setting
// both run this one daemon.
#pragma once

#include <fleet/base/error.hpp>
#include <fleet/vmm/detached.hpp>
#include <fleet/vmm/store.hpp>
#include <fleet/vmm/supervisor.hpp>

#include <string>

namespace fleet::vmm {

// What the daemon keeps: `size` VMs of `base` (its spec without program)
// waiting in `dir` (pool_dir). ready_fd hears "ready" once all are idle,
// or "error MESSAGE" if one fails first (the daemon then ends).
struct PoolDaemon {
    std::string dir, image;
    unsigned size = 1;
    SupervisorOptions base;
    int ready_fd = -1;
};

// The daemon's life, in the process that calls it.
int run_pool_daemon(const Store& store, PoolDaemon d);

// Fork the daemon detached (detached.hpp; its ready pipe says "ready" once
// the pool is full, or why not).
Result<Detached> start_pool_daemon(const Store& store, PoolDaemon d, const DetachOptions& how);

}  // namespace fleet::vmm
