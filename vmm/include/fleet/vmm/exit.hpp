// fleet — a VM's lifecycle words (its states, how it ended), and how it
// ended decided from facts alone.
//
// VmState and ExitReason are what records, listings and the router speak;
// their spellings exist only here (to_string / parse_*), so a record with
// a word that is not one of them is an error, not a third spelling.
//
// A Vm learns facts on the way to its end (the status the program reported
// on ctl, a panic, who asked for a stop or a kill, QEMU's wait status and
// last words, the SHUTDOWN event). decide_exit turns them into one ExitInfo:
// a reason, the status a shell's $? becomes, and one line for a human. It
// does no I/O, so every row of the decision is a table test
// (vmm/tests/exit_test.cpp). foreground_exit is the policy of a foreground
// `fleet-vmm run` on top of it: which endings are worth a message.
#pragma once

#include <fleet/base/process.hpp>
#include <fleet/vmm/spec.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace fleet::vmm {

enum class VmState { starting, running, paused, stopping, exited };
std::string_view to_string(VmState s);
std::optional<VmState> parse_vm_state(std::string_view text);

enum class ExitReason {
    guest_exit,      // the program reported its status (ctl "exit N")
    guest_poweroff,  // the guest powered off without a status
    host_stop,       // powered off or quit at the host's request
    killed,          // killed at the host's request (or after a stop deadline)
    crashed,         // QEMU died on its own, or the guest kernel panicked
    boot_timeout,    // not ready within the spec's boot timeout
    launch_failed,   // QEMU refused to start the VM
    broken_pipe,     // nobody reads its stdout any more (an isa guest, killed: 141)
};
std::string_view to_string(ExitReason r);
std::optional<ExitReason> parse_exit_reason(std::string_view text);

struct ExitInfo {
    ExitReason reason = ExitReason::guest_exit;
    int status = 0;       // what a shell's $? becomes: 0..255
    std::string message;  // one line for a human
};

// Everything decide_exit looks at.
struct ExitFacts {
    std::string name;  // the VM's name
    Accel accel = Accel::tcg;
    std::chrono::milliseconds boot_timeout{0};
    ExitStatus qemu;                 // QEMU's wait status
    std::optional<int> reported;     // "exit N" from the program on ctl
    bool boot_timed_out = false;     // we killed it: not ready in time
    bool panicked = false;           // the guest kernel said it panicked
    bool stdout_gone = false;        // nobody reads its stdout any more
    bool kill_requested = false;     // the host asked for a kill
    bool stop_requested = false;     // the host asked for a stop
    bool shutdown_seen = false;      // QMP SHUTDOWN arrived
    bool shutdown_by_guest = false;  // ... with "guest": true
    std::string shutdown_reason;     // ... its "reason"
    std::string qemu_messages;       // the tail of QEMU's stderr
};

ExitInfo decide_exit(const ExitFacts& f);

// A foreground run: the process's exit status, and whether the ending is
// worth a line on stderr (a program's own status or power-off is not;
// neither is the stop the user asked for with Ctrl-C, which is 130).
struct ForegroundExit {
    int status = 0;
    bool report = false;
};
ForegroundExit foreground_exit(const ExitInfo& info, bool interrupted);

}  // namespace fleet::vmm
