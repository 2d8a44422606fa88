// fleet — the owner of one VM for the daemonless CLI.
//
// `fleet-vmm run` is a supervisor in the foreground: the terminal is the
// guest's stdio. `fleet-vmm start` forks a detached supervisor (like
// podman's conmon): it keeps the guest's output in console.log, serves
// console.sock for `fleet-vmm console`, records how the VM ended, and goes
// away with it. Either way the supervisor is QEMU's parent, so it reaps it at
// once and knows its exit status; QEMU gets SIGKILL if its supervisor dies.
//
// Signals the supervisor acts on: SIGTERM/SIGHUP — power button, then kill
// after the stop deadline (sent with sigqueue, the value is the deadline in
// ms; 0 means the default); SIGUSR1 — kill now; SIGUSR2 (sigqueue, value
// from program_signal_value) — deliver a signal to the guest's program, and
// if stop_after is not 0 and the VM still runs that much later, stop it as
// SIGTERM does. SIGINT (Ctrl-C on `fleet-vmm run`): the first delivers
// SIGINT to the program, the second presses the power button, the third
// kills.
#pragma once

#include <fleet/vmm/store.hpp>
#include <fleet/vmm/vm.hpp>

#include <chrono>
#include <csignal>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace fleet::vmm {

// A VM of a warm pool (pool.hpp): booted without its exec block, it waits
// in <dir>/slots/<slot>/ and publishes its claim socket as <dir>/idle/<slot>
// once the guest says `waiting`. One claimant (claim.hpp) gets it; from then
// on it runs as `fleet-vmm run` would, for that claimant, and is never
// pooled again. notify_fd hears "idle", "claimed" or "error MESSAGE" lines.
struct PoolSlot {
    std::string dir;  // <runtime>/pool/<image>; empty: not pooled
    std::string slot;
    int notify_fd = -1;
};

struct SupervisorOptions {
    VmSpec spec;
    LaunchOptions launch;
    std::string image;      // catalog name or path, for listings
    bool detached = false;  // false: stdio is fds 0, 1, 2
    // Detached, yet the guest's stdio is fds 0, 1, 2 as in the foreground
    // (a router's run: pipes to the next stage or to its client). No
    // console.log or console.sock then.
    bool stdio_fds = false;
    bool auto_remove = false;  // delete the VM's folder when it ends
    // Foreground: read fd 0 into the guest, then end its stdin. Detached:
    // keep stdin open for console clients; if false, the guest's stdin ends
    // at once (like a program started with </dev/null).
    bool forward_stdin = true;
    int ready_fd = -1;  // detached: "ready\n" or "error MESSAGE\n" goes here
    std::chrono::milliseconds stop_deadline{10000};
    // Detached: console.log and kernel.log are rotated past this size,
    // keeping this many older ones (NAME.1, ...), as virtlogd does.
    std::size_t log_max_size = 2u << 20;
    unsigned log_backups = 3;
    PoolSlot pool;  // pooled: the spec has no args, env or workdir yet
};

inline constexpr int program_signal_request = SIGUSR2;
// The sigqueue value for program_signal_request: the signal in the low 7
// bits, stop_after in ms above them (at most 16777 s).
int program_signal_value(int sig, std::chrono::milliseconds stop_after);

// A new size for the program's terminal from a launcher whose stdin is
// not the terminal (the router's): this real-time signal, sent with
// sigqueue, the value rows << 16 | cols. Real-time signals queue, each
// with its value, so the last size sent is the last one applied (a second
// SIGWINCH pending would be dropped, its size with it). A plain SIGWINCH
// reads the size from the supervisor's stdin.
int terminal_size_request();  // SIGRTMIN + 1
int terminal_size_value(std::uint16_t rows, std::uint16_t cols);
// That signal to a supervisor: through its pidfd where there is one
// (pidfd >= 0; never to a process that reused its pid), else to pid.
// 0 or errno (ESRCH: it has ended).
int request_terminal_size(int pidfd, pid_t pid, std::uint16_t rows, std::uint16_t cols);

// "TERM", "SIGTERM", "term" or "15" -> 15; nullopt for anything else.
std::optional<int> parse_signal(std::string_view text);

// Run the VM to its end; returns the exit status for the caller's own exit
// (the guest's status, or 125 with a message on stderr/ready_fd when it
// could not start). The store folder for spec.name must already be claimed.
int supervise(const Store& store, SupervisorOptions options);

}  // namespace fleet::vmm
