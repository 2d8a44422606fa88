// fleet — claiming a pooled VM: what travels on the claim socket.
//
// A pooled VM (pool.hpp) has booted without its exec block and waits. A
// claimant connects to its claim socket and sends one request, with its
// stdin, stdout and stderr as SCM_RIGHTS: the VM's name in the runtime
// folder (the claimant has created that folder), how to run, and the
// program's exec block as the guest reads it (<fleet/abi/guest.h>).
//
//   u32 magic "FLCQ"  u32 version 1  u32 flags  u32 stop_deadline_ms
//   u32 size (bytes after this 20-byte header)
//   size bytes: the name, NUL, then the exec block (its 32-byte header and strings)
//
// Then lines, each at most claim_line_max bytes. The pooled supervisor
// sends `ready` (the program started), `stopped` (it paused the guest for a
// SIGTSTP: the claimant stops itself now) and, last, `exit STATUS REPORT
// MESSAGE` (REPORT 1: print MESSAGE as a cold `run` would). The claimant
// sends `signal SIG VALUE` for each signal it gets (VALUE: the sigqueue
// value, or -1), which the supervisor treats as its own. A claimant that
// goes away (end of file) kills the VM.
//
// A detached claim (flag 4: fleet-router's domains) sends one fd instead
// of three: the write end of a ready pipe; or, for a stage of a router's
// run, four: the ready pipe, then the stage's stdin, stdout and stderr,
// which the VM then uses as a foreground one uses its stdio. The VM then runs as a detached
// supervisor does (`fleet-vmm start`, detached.hpp): console.log and
// console.sock in its folder, "ready" or "error MESSAGE" on that pipe,
// signals from its owner; it sends no lines and does not care whether the
// claimant stays.
#pragma once

#include <fleet/base/error.hpp>
#include <fleet/base/fd.hpp>
#include <fleet/vmm/spec.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fleet::vmm {

struct ClaimRequest {
    std::string name;  // the VM's name in the store
    std::vector<std::string> args, env;
    std::string workdir;
    std::optional<Terminal> tty;  // the program's terminal, in the exec block
    bool forward_stdin = true;
    bool auto_remove = true;
    bool detached = false;  // one fd (a ready pipe) instead of stdio
    std::chrono::milliseconds stop_deadline{10000};
};

struct SupervisorOptions;
// What a claim for the run `o` describes carries: its name, program and how
// it runs (detached: the router's, with a ready pipe instead of stdio).
ClaimRequest claim_request(const SupervisorOptions& o, bool detached);

inline constexpr std::size_t claim_header_size = 20;
inline constexpr std::size_t claim_line_max = 1024;

// The request's bytes; fails when the exec block is over the ABI's limits.
Result<std::string> encode_claim(const ClaimRequest& request);
// The bytes after the header a request with this header carries; fails on
// a bad magic, version or size.
Result<std::size_t> claim_body_size(std::string_view header);
// A whole request (header and body), checked as the guest would check its
// exec block; never trusts its input.
Result<ClaimRequest> decode_claim(std::string_view bytes);

// One line from the supervisor to the claimant.
struct ClaimEvent {
    enum Kind { ready, stopped, exit } kind = ready;
    int status = 0;
    bool report = false;
    std::string message;
};
std::string format_event(const ClaimEvent& e);
Result<ClaimEvent> parse_event(std::string_view line);

// One line from the claimant: a signal and its sigqueue value (-1: none).
struct ClaimSignal {
    int sig = 0;
    int value = -1;
};
std::string format_signal(const ClaimSignal& s);
Result<ClaimSignal> parse_signal_line(std::string_view line);

}  // namespace fleet::vmm
