// fleet — the exec block: a program's argv, environment, working folder
// and shared folders' mount points as the guest reads them from its ctl
// channel (<fleet/abi/guest.h>, "the exec block"; images/README.md).
#pragma once

#include <fleet/base/error.hpp>
#include <fleet/vmm/spec.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace fleet::vmm {

// The block for a spec: its args, env, workdir and the shares' mount
// points. Fails, naming the limit, when they are over the ABI's
// (FLEET_EXEC_MAX_SIZE bytes of strings, FLEET_EXEC_MAX_STRINGS arguments
// and variables, FLEET_MAX_SHARES shares).
// With `host`, the block carries it as its trailer (FLEET_EXEC_F_HOST): a
// fresh seed and the host's clock, which a guest restored from a snapshot
// needs; host_trailer() makes one.
struct ExecHost {
    std::string seed;  // FLEET_EXEC_SEED_SIZE bytes
    std::uint64_t realtime_ns = 0;
};
Result<std::string> exec_block(const VmSpec& spec, const ExecHost* host = nullptr);

// FLEET_EXEC_SEED_SIZE bytes from getrandom(2) and CLOCK_REALTIME now.
Result<ExecHost> host_trailer();

// A rehearsal (FLEET_EXEC_F_REHEARSE) with a fresh host trailer: Linux init
// runs `true` as it would a program, on /dev/null, then waits for the next
// block. What runs is any image's busybox applet, and the paths it takes
// (the reseed, a vfork and an exec of a static program, its end) are a
// start's.
Result<std::string> rehearsal_block();

// Percent-encoding for the kernel command line (FLEET_CMDLINE_EXEC): every
// byte but [A-Za-z0-9._/-] becomes %XX.
std::string percent_encode(std::string_view bytes);

}  // namespace fleet::vmm
