// fleet — what a VM is: the launcher's input, validated before QEMU runs.
#pragma once

#include <fleet/base/error.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fleet::vmm {

enum class Accel { automatic, kvm, tcg };

// How the guest's stdin/stdout/stderr, its control channel and its exit
// status travel (images/README.md, "guest contract"). `isa`: COM1 carries
// stdout and stdin, COM2 stderr, the UART at 0x3e8 the control lines, and
// isa-debug-exit ends the VM at once. `virtio`: one virtio-serial device with
// the ports fleet.stdin, fleet.stdout, fleet.stderr and fleet.ctl (binary
// safe, block transfers, end of stdin seen as the port closing); COM1 is
// the console (kernel messages).
enum class StdioKind { isa, virtio };
std::string_view to_string(StdioKind k);
Result<StdioKind> parse_stdio(std::string_view text);

// A host folder shared into a virtio guest over virtio-9p. The guest learns
// where to mount it from `fleet.shareN=GUEST_PATH[:rw]` on its command line.
struct SharedFolder {
    std::string host_path;
    std::string guest_path;
    bool read_only = true;
};

// "HOST[:GUEST][:ro|:rw]" -> a share; GUEST defaults to /mnt/<basename>.
Result<SharedFolder> parse_share(std::string_view text);

struct VmSpec {
    std::string name;
    std::string kernel;                   // ELF with a PVH entry note
    std::string initrd;                   // optional
    std::vector<std::string> args;        // become the kernel command line
    std::string extra_cmdline;            // prepended verbatim (image defaults)
    std::uint64_t memory_mib = 64;
    unsigned vcpus = 1;
    Accel accel = Accel::automatic;
    std::string cpu;  // QEMU -cpu model (accel.hpp chooses it); empty: fleet chooses at launch
    StdioKind stdio = StdioKind::isa;
    bool start_paused = false;
    std::chrono::milliseconds boot_timeout{10000};
    std::vector<SharedFolder> shares;  // virtio guests only
    // A tap for the router's bridge (a later part of fleet); refused by
    // validate() until the command-line builder wires it.
    std::optional<int> tap_fd;
};

std::string_view to_string(Accel a);
Result<Accel> parse_accel(std::string_view text);

// "64", "64M", "64MiB", "1G", "1GiB" -> MiB. Plain numbers are MiB.
Result<std::uint64_t> parse_memory(std::string_view text);

// A VM name: 1..64 of [A-Za-z0-9_.-], starting with a letter or digit.
Result<> validate_name(std::string_view name);

// Everything checkable before starting QEMU: name, sizes, that the kernel is
// a readable ELF with a PVH note, that the initrd is readable.
Result<> validate(const VmSpec& spec);

// The kernel command line QEMU gets (-append): extra_cmdline, then args.
// Arguments may not contain whitespace or NUL since the guest splits on it.
std::string kernel_cmdline(const VmSpec& spec);

inline constexpr std::uint64_t min_memory_mib = 2;
inline constexpr std::uint64_t max_memory_mib = 1024 * 1024;
inline constexpr unsigned max_vcpus = 64;

}  // namespace fleet::vmm
