// fleet — starting a detached process: the one path `fleet-vmm start`,
// every router domain and `fleet-vmm pool start` take.
//
// The child is the supervisor (supervisor.hpp) in a session of its own, its
// stdio on /dev/null (or the pipes of a router's run), holding only what it needs: the write end of the
// ready pipe at fd 3 (close-on-exec, so QEMU never holds it) and the VM's
// taps at 4, 5, ... (QEMU gets those as -netdev tap,fd=N); every other fd
// of the parent is closed, so a listening socket or a client connection of
// the router never outlives it. It reports on the pipe once: "ready\n", or
// "error MESSAGE\n"; an end of the pipe without a line means it died first.
#pragma once

#include <fleet/base/error.hpp>
#include <fleet/base/fd.hpp>
#include <fleet/vmm/supervisor.hpp>

#include <sys/types.h>
#include <array>
#include <functional>
#include <string>
#include <vector>

namespace fleet::vmm {

struct DetachOptions {
    // true: fork twice, so the supervisor is nobody's child but init's (or
    // the nearest subreaper's) and `pid` is the one that has already ended;
    // false: the caller is its parent and watches it (a router is a
    // subreaper and reaps it).
    bool orphan = false;
    // Runs in the child first (e.g. to rename the process).
    std::function<void()> in_child;
    // The child's stdin, stdout and stderr (a router's run: pipes); -1
    // each: /dev/null.
    std::array<int, 3> stdio{-1, -1, -1};
};

struct Detached {
    pid_t pid = -1;  // the supervisor, or with orphan the reaped intermediate
    Fd ready;        // read end of the ready pipe
};

// What runs in the detached child: given the ready pipe's fd and the taps'
// new numbers, it returns the process's exit status.
using DetachedBody = std::function<int(int ready_fd, const std::vector<int>& taps)>;

// Fork `body` detached as above (any long-lived process that reports on a
// ready pipe: a VM's supervisor, a warm pool's daemon), handing it `taps`
// placed at 4, 5, ...
Result<Detached> fork_detached(const DetachOptions& how, std::vector<int> taps, const DetachedBody& body);

// Fork the supervisor of `options.spec` (its store folder already claimed).
Result<Detached> start_detached(const Store& store, SupervisorOptions options, const DetachOptions& how);

// The supervisor's ready line, without its newline: ok for "ready", else the
// reason it gave, or `died` for a pipe that ended without a line.
Result<> parse_ready_line(std::string_view line, std::string_view died);

// Read the ready pipe to its end (the CLI's blocking wait).
std::string read_ready_line(const Fd& ready);

}  // namespace fleet::vmm
