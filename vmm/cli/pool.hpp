// fleet-vmm — warm pools from the command line: `fleet-vmm pool` (pool_cmd.cpp;
// the daemon is vmm/pool_daemon.hpp) and `run` from a pool (claimant.cpp).
#pragma once

#include "cli.hpp"

#include <fleet/vmm/store.hpp>
#include <fleet/vmm/supervisor.hpp>

#include <optional>
#include <string>

namespace fleet::cli {

int cmd_pool(const Context& ctx, const Args& args);

// `fleet-vmm run` from a warm pool: when a pool for o.image has an idle VM
// with o.spec's key, claim it, hand it this process's stdio and program,
// and stand in for it until it ends (signals forwarded). nullopt: no VM
// fits or none is left; the caller boots cold.
std::optional<int> run_from_pool(const Context& ctx, const vmm::SupervisorOptions& o, bool verbose);

}  // namespace fleet::cli
