// fleet — the owner of one VM for the daemonless CLI.
//
// `fleet-vmm run` is a supervisor in the foreground: the terminal is the
// guest's stdio. `fleet-vmm start` forks a detached supervisor (like
// podman's conmon): it keeps the guest's output in console.log, serves
// console.sock for `fleet-vmm console`, records how the VM ended, and goes
// away with it. Either way the supervisor is QEMU's parent, so it reaps it at
// once and knows its exit status; QEMU gets SIGKILL if its supervisor dies.
//
// Signals the supervisor acts on: SIGTERM/SIGINT/SIGHUP — power button, then
// kill after the stop deadline (sent with sigqueue, the value is the deadline
// in ms; 0 means the default); SIGUSR1 — kill now.
#pragma once

#include <fleet/vmm/store.hpp>
#include <fleet/vmm/vm.hpp>

#include <chrono>
#include <string>

namespace fleet::vmm {

struct SupervisorOptions {
    VmSpec spec;
    LaunchOptions launch;
    std::string image;             // catalog name or path, for listings
    bool detached = false;         // false: stdio is fds 0, 1, 2
    bool auto_remove = false;      // delete the VM's folder when it ends
    // Foreground: read fd 0 into the guest, then end its stdin. Detached:
    // keep stdin open for console clients; if false, the guest's stdin ends
    // at once (like a program started with </dev/null).
    bool forward_stdin = true;
    int ready_fd = -1;             // detached: "ready\n" or "error MESSAGE\n" goes here
    std::chrono::milliseconds stop_deadline{10000};
};

// Run the VM to its end; returns the exit status for the caller's own exit
// (the guest's status, or 125 with a message on stderr/ready_fd when it
// could not start). The store folder for spec.name must already be claimed.
int supervise(const Store& store, SupervisorOptions options);

}  // namespace fleet::vmm
