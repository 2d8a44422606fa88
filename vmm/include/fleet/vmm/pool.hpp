// fleet — warm pools: VMs booted in advance, each waiting for one program.
//
//   <runtime>/pool/<image>/lock          flock(2)ed by the pool's daemon while it lives
//   <runtime>/pool/<image>/pool.json     the daemon: pid, size, the spec's key, memory, accel, boot
//   <runtime>/pool/<image>/slots/<slot>/ a pooled VM's files until it is claimed
//                                        (claim.sock, qmp.sock, vmm.log, kernel.log, slot.json)
//   <runtime>/pool/<image>/idle/<slot>   the claim socket of a VM that waits, renamed here
//                                        from its slot once the guest says `waiting`
//   <runtime>/pool/<image>/taken/<slot>.<pid>  a claim under way
//
// Claiming is renaming an idle entry into taken/: of racing claimants
// exactly one succeeds, the others see it gone and try the next. The pooled
// supervisor then accepts exactly one connection, from its own uid
// (SO_PEERCRED), and is never published again: a VM runs one program.
#pragma once

#include <fleet/base/error.hpp>
#include <fleet/base/fd.hpp>
#include <fleet/vmm/spec.hpp>

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fleet::vmm {

struct PoolInfo {
    std::string image;
    unsigned size = 0;  // idle VMs it keeps
    pid_t pid = 0;      // the daemon
    std::uint64_t pid_start = 0;
    std::string key;  // pool_key of its VMs' spec
    std::uint64_t memory_mib = 0;
    std::string accel;
    std::string boot;  // pool_boot: how its VMs come to wait
};

struct SlotInfo {
    pid_t pid = 0;  // QEMU
    std::uint64_t pid_start = 0;
    pid_t supervisor_pid = 0;
};

// <runtime>/pool and <runtime>/pool/<image>.
std::string pool_root(const std::string& runtime_dir);
std::string pool_dir(const std::string& runtime_dir, const std::string& image);

// What a pooled VM must share with `spec` to stand in for its cold boot:
// kernel and initrd (path and identity), kernel command line, memory,
// vCPUs, accelerator and CPU model, stdio. "" when a spec cannot come from
// a pool: shares, disks, network interfaces, rng, a working folder, or
// created paused. Name, arguments and environment do not count.
std::string pool_key(const VmSpec& spec);

// How a pool's VMs come to wait. `automatic` (its owner did not say):
// spec.snapshot as the image has it, under any accelerator. A restored VM
// holds the same guest at a fraction of a boot's CPU, and its RAM's
// untouched pages are the snapshot file's, one copy for every VM; under
// TCG its empty translation cache is filled by the rehearsal every pooled
// Linux VM runs (vm.hpp), so its claim is within 1.06-1.25x of a booted
// one's (docs/cold-path.md, "Rehearsed pools"). Sets spec.snapshot.
enum class PoolBoot { automatic, snapshot, cold };
void settle_pool_boot(VmSpec& spec, PoolBoot how);
// "auto", "snapshot" or "cold"; the error names the word.
Result<PoolBoot> parse_pool_boot(std::string_view word);
// "snapshot" where a pool of this spec restores its VMs, else "cold".
std::string pool_boot(const VmSpec& spec);

Result<PoolInfo> read_pool_info(const std::string& dir);
Result<> write_pool_info(const std::string& dir, const PoolInfo& info);
Result<SlotInfo> read_slot(const std::string& dir, const std::string& slot);
Result<> write_slot(const std::string& dir, const std::string& slot, const SlotInfo& info);

// The slots whose VM waits (entries of idle/), sorted.
std::vector<std::string> idle_slots(const std::string& dir);

// Take one idle VM of the pool at `dir` for this process: a connected claim
// socket, or nullopt when none is left. Entries whose VM is gone are
// removed on the way.
std::optional<Fd> claim_idle(const std::string& dir);

// Is a daemon holding the pool's lock? If not and `reconcile`, take the
// lock and clear what a dead daemon left (pool.json, idle, taken, slots).
Result<bool> pool_alive(const std::string& dir, bool reconcile);

// End the pool daemon that `pidfd` pins (base pin_process: never a reused
// pid): SIGTERM, then at most `wait` for its end; one still there gets
// SIGKILL (its waiting VMs die with it) and the folder at `dir` is
// reconciled. 0, or the errno of the SIGTERM (ESRCH: it had ended).
int end_pool_daemon(int pidfd, const std::string& dir, std::chrono::milliseconds wait);

}  // namespace fleet::vmm
