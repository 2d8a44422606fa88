// fleet — snapshot restore: a Linux guest booted once to the point where it
// waits for its exec block, saved with QEMU's migration, and later VMs of
// the same image started from that save instead of booting.
//
//   <runtime>/snapshots/lock               flock(2)ed by whoever builds
//   <runtime>/snapshots/<16 hex>.vmstate    the saved guest (below)
//   <runtime>/snapshots/<16 hex>.json       its key, size and content hash
//
// A .vmstate file is the guest's RAM, then QEMU's migration stream. The
// RAM is the first memory_mib MiB, a sparse image (pages that were zero
// are holes); the stream starts right after it and holds the devices only.
// The guest runs on a memfd (cmdline.hpp: Wiring::ram_fd) that QEMU maps
// shared, and migration leaves such RAM out (x-ignore-shared): the save
// writes the memfd's pages out once QEMU has stopped. A restore sets the
// same capability, then hands QEMU the stream from its offset, after the
// RAM is in place: a QEMU of the launcher's own user maps the file's RAM
// privately (nothing copied; the pages no guest writes stay one copy in the
// page cache), a confined QEMU gets a memfd copy of its own (RamFill),
// since QEMU 7.2 opens a backend's file read-write. No VM ever writes the
// file. docs/cold-path.md has the figures.
//
// The key names everything the saved guest depends on: this fleet (its
// version, the guest ABI and the snapshot format), the host's boot, the QEMU
// binary, the kernel and initrd files (path, inode, size, mtime), the
// accelerator and CPU model, and QEMU's device line for the spec (memory,
// devices, kernel command line): a change of any of them is another key,
// hence another file, built on first use. A restore reads the record and
// hashes the whole file first unless it is the file the record was made of:
// a file that is missing, short, changed or named by a record of another key
// is not used — the guest boots cold, with a note, and the bad files are
// removed so the next start rebuilds.
//
// A restored guest has its own channels (new socket pairs, as a cold boot)
// and gets its own exec block, with the host trailer (<fleet/abi/guest.h>:
// FLEET_EXEC_F_HOST) that reseeds its RNG and sets its clock.
#pragma once

#include <fleet/base/error.hpp>
#include <fleet/base/fd.hpp>
#include <fleet/vmm/spec.hpp>

#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

namespace fleet::vmm {

struct SnapshotContext {
    std::string qemu;         // the resolved QEMU binary
    std::string runtime_dir;  // snapshots live in <runtime_dir>/snapshots/
};

// "" if a snapshot can serve this spec, else why not: virtio guests with an
// initrd (Linux) whose accelerator is settled, without disks (their
// contents are outside QEMU, and a guest caches what it read of them at
// boot), not started paused. Shared folders and network interfaces are
// fine: the guest mounts the one and configures the other only once its
// exec block says how, and neither the folder behind a share nor the tap
// behind an interface is in the saved state (the guest sets the
// interface's MAC). So is an rng: its source and rate are in the device
// line (the key), and whatever the saved boot took from it is mixed with
// the exec block's fresh seed.
std::string snapshot_unfit(const VmSpec& spec);

// The spec a snapshot is booted with: the same devices, no program, and
// every share a read-only one on `share_folder` (an empty folder of the
// snapshots' own: snapshot_save.cpp), every interface on no network with
// MAC snapshot_mac(N) (net.hpp). One snapshot serves every start with the
// same number of shares and interfaces, wherever they are and are
// mounted, whatever their taps, MACs and addresses.
VmSpec saved_spec(const VmSpec& spec, const std::string& share_folder);

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

// At most this many snapshots in a folder: each key (memory size, vCPUs,
// number of shares and interfaces) has its own, and a client of the
// router chooses those. Once `stem`'s is in place (under the lock), the
// least recently used others go until max_snapshots are left; a start
// that picks one marks it used (its record's mtime).
inline constexpr std::size_t max_snapshots = 16;
void drop_least_used(const std::string& dir, const std::string& stem);

// A 64-bit hash of a file's contents, read through (holes as zeros): once
// at the build, and at a restore only when the file has changed.
Result<std::uint64_t> content_hash(const std::string& path);

// Boot `spec` to "waiting" and save it to `path` (not there before; RAM,
// then stream), within the spec's boot timeout.
Result<> save_snapshot(const VmSpec& spec, const SnapshotContext& ctx, const std::string& path);

// Where a spec's snapshot file has its stream: the RAM's size.
std::uint64_t snapshot_ram_bytes(const VmSpec& spec);

// migrate-set-capabilities' arguments that leave the memfd RAM out of the
// stream (x-ignore-shared), as both the save and a restore (QEMU's
// -incoming defer) must set them: the stream's RAM header differs with it.
nlohmann::json ram_out_of_stream();

// A new memfd of `ram_bytes` for a VM's RAM (Wiring::ram_fd), sealed at
// that size.
Result<Fd> new_ram(std::uint64_t ram_bytes);

// A confined restore's RAM: a new memfd (ram()) getting the first
// `ram_bytes` of the snapshot `file` (only its data extents are copied) on
// a thread of its own, so that the copy runs while QEMU starts (QEMU maps
// the memfd at once and reads it only when given the stream). `file` is
// the open snapshot, opened again through /proc: the copy moves its own
// offset, never that of the stream QEMU reads.
class RamFill {
public:
    static Result<std::unique_ptr<RamFill>> start(int file, std::uint64_t ram_bytes);
    ~RamFill();  // waits for the copy
    RamFill(const RamFill&) = delete;
    RamFill& operator=(const RamFill&) = delete;

    [[nodiscard]] int ram() const { return ram_.get(); }
    [[nodiscard]] int done_fd() const { return done_.get(); }  // readable once the copy has ended
    Result<> result();                                         // waits; how the copy ended

private:
    RamFill() = default;
    Fd file_, ram_, done_;
    std::uint64_t bytes_ = 0;
    std::thread thread_;
    Result<> result_;
};

// A save's RAM out to `file`: every page of `ram` that is not all zero, at
// its own offset; the rest of the first `ram_bytes` stays a hole.
Result<> write_ram(int ram, int file, std::uint64_t ram_bytes);

}  // namespace fleet::vmm
