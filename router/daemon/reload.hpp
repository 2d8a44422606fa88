// fleet-router — the firewall policy's reloads: the running router writes
// the result of every load to <runtime>/router/policy-status, and
// `fleet-router reload` asks the running router for one (SIGHUP) and
// prints its result.
//
// policy-status is JSON: {"generation": N, "ok": true|false, "message":
// "..."}, N counting the loads since the router started (0: the one at
// start). A bad policy's message is its "FILE:LINE:COLUMN: reason".
#pragma once

#include <fleet/base/error.hpp>

#include <string>

namespace fleet::router {

// The router's side: the result of load number `generation`.
Result<> write_policy_status(const std::string& runtime_dir, unsigned generation, const Result<>& loaded);

// `fleet-router reload [--runtime-dir DIR] [--timeout SECONDS]`: finds the
// router holding <runtime>/router.lock, sends it SIGHUP, waits for the
// next policy-status and prints it. 0 if the policy was loaded, 1 if it
// was refused (the running rules stay) or no router answered, 2 for bad
// usage. argv[0] is "reload".
int reload_command(int argc, char** argv);

}  // namespace fleet::router
