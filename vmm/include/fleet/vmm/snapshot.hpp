// fleet — snapshot restore: a Linux guest booted once to the point where it
// waits for its exec block, saved with QEMU's migration, and later VMs of
// the same image started from that save instead of booting.
//
//   <runtime>/snapshots/lock               flock(2)ed by whoever builds
//   <runtime>/snapshots/<16 hex>.vmstate    QEMU's migration stream
//   <runtime>/snapshots/<16 hex>.json       its key, size and content hash
//
// The key names everything the saved guest depends on: this fleet (its
// version, the guest ABI and the snapshot format), the host's boot, the QEMU
// binary, the kernel and initrd files (path, inode, size, mtime), the
// accelerator and CPU model, and QEMU's device line for the spec (memory,
// devices, kernel command line): a change of any of them is another key,
// hence another file, built on first use. A restore reads the record and
// hashes the whole stream first: a stream that is missing, short, changed
// or named by a record of another key is not used — the guest boots cold,
// with a note, and the bad files are removed so the next start rebuilds.
//
// A restored guest has its own channels (new socket pairs, as a cold boot)
// and gets its own exec block, with the host trailer (<fleet/abi/guest.h>:
// FLEET_EXEC_F_HOST) that reseeds its RNG and sets its clock.
#pragma once

#include <fleet/base/error.hpp>
#include <fleet/vmm/spec.hpp>

#include <sys/stat.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace fleet::vmm {

struct SnapshotContext {
    std::string qemu;         // the resolved QEMU binary
    std::string runtime_dir;  // snapshots live in <runtime_dir>/snapshots/
};

// "" if a snapshot can serve this spec, else why not: virtio guests with an
// initrd (Linux) whose accelerator is settled, without shares, disks, rng
// or network interfaces (their devices are not saved), not started paused.
std::string snapshot_unfit(const VmSpec& spec);

// The full key for a spec (see above).
std::string snapshot_key(const VmSpec& spec, const std::string& qemu);

// What a start uses: the stream to restore from, or "" to boot cold; `note`
// says why a snapshot was not used or was made now ("" when there is
// nothing to say). Builds the snapshot when there is none (one boot, under
// the lock: racing starts build once). Never fails.
struct SnapshotPick {
    std::string path;
    std::string note;
    bool built = false;
};
SnapshotPick pick_snapshot(const VmSpec& spec, const SnapshotContext& ctx);

// Checks a stream against its record: "" if good, else what is wrong. The
// whole stream is hashed unless it is the very file the record's hash was
// taken of (its "checked" identity: device, inode, size, mtime and ctime).
std::string check_snapshot(const std::string& stream_path, const std::string& record_path, std::string_view key);

// That identity of a stat'ed stream.
std::string stream_identity(const struct stat& st);

// Removes the snapshots in `dir` made for the same device line as `key`
// under another key (an older fleet, QEMU or kernel file): they cannot be
// used again, and each is tens of MB, often in a tmpfs. Called under the
// folder's lock once `stem`'s snapshot is in place; a start that had
// already picked one of them boots cold (vm_launch's open_incoming).
void drop_superseded(const std::string& dir, const std::string& stem, std::string_view key);

// A 64-bit hash of a file's contents (a few ms for a Linux guest's stream:
// once at the build, and at a restore only when the stream has changed).
Result<std::uint64_t> content_hash(const std::string& path);

// Boot `spec` to "waiting" and save it to `stream_path` (not there before),
// within the spec's boot timeout.
Result<> save_snapshot(const VmSpec& spec, const SnapshotContext& ctx, const std::string& stream_path);

}  // namespace fleet::vmm
