// fleet — remembered accelerator verdicts (private to accel.cpp).
//
//   <runtime>/accel/lock             flock(2)ed by whoever probes
//   <runtime>/accel/<16 hex>.json    one verdict, replaced atomically
//
// A verdict's key names everything the answer depends on: the host's boot
// (a reboot, a reloaded kvm module or a new host kernel re-probes), the
// QEMU binary (path, inode, size, mtime: an upgrade re-probes) and the
// guest (its kind, and a Linux kernel and initrd by the same identity). The file
// name is a hash of the key and the file repeats the key in full; a file
// that does not parse, names another key or holds a CPU model fleet would
// not choose is ignored, and the probe runs again.
#pragma once

#include <fleet/base/error.hpp>
#include <fleet/base/fd.hpp>
#include <fleet/vmm/accel.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace fleet::vmm::accel {

// "PATH dev:ino size mtime_ns", or "PATH missing".
std::string file_identity(const std::string& path);

// This boot of this host and its KVM device: boot id, kernel release, the
// device node's identity.
std::string host_identity(const std::string& kvm_device);

// What the probes check (accel_probe.hpp): a fleet whose probes check
// something else re-probes instead of trusting an older fleet's verdicts.
inline constexpr int probes_version = 1;

// The full key; `guest` is "tiny", "runtime" or "linux KERNEL-ID initrd INITRD-ID".
std::string verdict_key(std::string_view host, std::string_view qemu, std::string_view guest);

// The FNV-1a 64 of a key, 16 hex digits; verdict_file_name adds ".json".
// (Snapshots, snapshot.hpp, name their files the same way.)
std::string key_digest(std::string_view key);
std::string verdict_file_name(std::string_view key);

// A small file's contents; "" if it is missing, unreadable or over `max`.
std::string read_small(const std::string& path, std::size_t max);

// `path` (created 0600 if missing) opened and flock(2)ed; released when the
// fd closes.
Result<Fd> lock_file(const std::string& path);

// One JSON object; parse_verdict(format_verdict(k, c), k) gives c back
// (accel, cpu, why).
std::string format_verdict(std::string_view key, const AccelChoice& choice);
std::optional<AccelChoice> parse_verdict(std::string_view text, std::string_view key);

class VerdictStore {
public:
    // Creates <runtime_dir>/accel (private to this user) if missing.
    static Result<VerdictStore> open(const std::string& runtime_dir);

    // nullopt: none yet, or one that cannot be trusted.
    [[nodiscard]] std::optional<AccelChoice> read(const std::string& key) const;
    Result<> write(const std::string& key, const AccelChoice& choice) const;
    // Held while probing: a second process waits, then reads the verdict.
    Result<Fd> lock() const;

    [[nodiscard]] const std::string& dir() const { return dir_; }

private:
    explicit VerdictStore(std::string dir) : dir_(std::move(dir)) {}
    std::string dir_;
};

}  // namespace fleet::vmm::accel
