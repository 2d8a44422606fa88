// fleet — what a VM is: the launcher's input, validated before QEMU runs.
#pragma once

#include <fleet/base/error.hpp>
#include <fleet/vmm/block.hpp>

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
// where to mount it from the exec block (exec.hpp), not its command line.
struct SharedFolder {
    std::string host_path;
    std::string guest_path;
    bool read_only = true;
};

// A share's guest path: absolute, without ':' (the exec block's ":rw"
// follows it) or NUL. Blanks and commas are fine: it travels in the exec
// block, never on a command line. validate() and parse_share() hold every
// share to it.
inline constexpr std::string_view mount_point_rule = "the guest path must be absolute, without ':'";
bool is_mount_point(std::string_view path);

// "HOST[:GUEST][:ro|:rw]" -> a share; GUEST defaults to /mnt/<basename>.
Result<SharedFolder> parse_share(std::string_view text);

// One network interface: a virtio-net device on an open tap. The tap fd
// (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR) is the caller's; QEMU gets a copy at
// launch and never opens a tap by name. The guest learns its address from
// the exec block (<fleet/abi/guest.h>). A snapshot's boot has no tap
// (tap_fd -1, MAC snapshot_mac(N), net.hpp).
struct NetInterface {
    int tap_fd = -1;
    std::string tap_name;  // for listings ("" if unknown)
    std::string mac;       // "0e:12:34:56:78:9a", lower case
    std::string ipv4;      // "10.77.0.2/24", or "" for none
    std::string gateway;   // "10.77.0.1", or "" for none
};

// The program's terminal (Linux images, FLEET_EXEC_F_TTY): a pseudo-
// terminal in the guest, the program's stdin and stdout, stderr too if
// stderr_too; the launcher's side relays it raw.
struct Terminal {
    std::uint16_t rows = 24, cols = 80;  // 1..FLEET_TTY_MAX
    bool stderr_too = true;
};
// The rule every launcher on a terminal follows (fleet-vmm run, fsh's
// router runs): stdin and stdout are a terminal this process's group is in
// front of; the program then gets stdin's size (24x80 if it has none,
// capped at FLEET_TTY_MAX), and stderr on it too if fd 2 is a terminal.
bool in_front_of_terminal();
Terminal terminal_here();

struct VmSpec {
    std::string name;
    std::string kernel;  // ELF with a PVH entry note
    std::string initrd;  // optional
    // The program's arguments (the image's, then the user's), environment
    // ("NAME=VALUE") and working folder ("" = the guest's default; else on a
    // share): the exec block on ctl (exec.hpp), any bytes but NUL.
    std::vector<std::string> args;
    std::vector<std::string> env;
    std::string workdir;
    std::optional<Terminal> tty;  // in the exec block too; virtio guests whose init makes one (Linux)
    std::string extra_cmdline;    // the kernel command line (image defaults)
    std::uint64_t memory_mib = 64;
    unsigned vcpus = 1;
    Accel accel = Accel::automatic;
    std::string cpu;  // QEMU -cpu model (accel.hpp chooses it); empty: fleet chooses at launch
    StdioKind stdio = StdioKind::isa;
    bool start_paused = false;
    std::chrono::milliseconds boot_timeout{10000};
    std::vector<SharedFolder> shares;  // virtio guests only
    // The guest waits after "exit N" until the launcher says its stdout and
    // stderr are drained (<fleet/abi/guest.h>, FLEET_CMDLINE_DRAIN): guests
    // whose writes return before QEMU has taken the data (Linux).
    bool drain = false;
    // Start from a saved boot of this guest, made on first use (snapshot.hpp):
    // Linux images. A spec a snapshot cannot serve boots cold.
    bool snapshot = false;
    // A cold start hands the exec block over as the fw_cfg file
    // FLEET_FWCFG_EXEC rather than on ctl (<fleet/abi/guest.h>): the guest
    // reads it in a few port accesses instead of a UART's FIFO at a time.
    // Images that say exec=fw_cfg; a warm pool's or a restored VM uses ctl.
    bool exec_fw_cfg = false;
    // The power button is the ctl line FLEET_CTL_POWER, not ACPI's: QEMU
    // runs without ACPI, which saves ~3-5 ms of every start
    // (docs/cold-path.md). Images that say power=ctl (the runtime's).
    bool power_ctl = false;
    std::vector<BlockDevice> disks;  // virtio-blk (block.hpp)
    std::optional<RngDevice> rng;    // virtio-rng (block.hpp)
    // Network interfaces (net.hpp): each a tap fd QEMU gets as -netdev
    // tap,fd=N, a MAC, and the address the guest gives it.
    std::vector<NetInterface> nets;
    // Connected sockets whose other ends serve the libvirt protocol (the
    // router's hypervisor channel, docs/hypervisor.md), one per port
    // (FLEET_HYPERVISOR_PORTS): QEMU gets copies as the virtio-serial ports
    // FLEET_PORT_HYPERVISOR, ".1", ... Empty: none. Virtio guests.
    std::vector<int> hypervisor_fds;
};

std::string_view to_string(Accel a);
Result<Accel> parse_accel(std::string_view text);

// "64", "64M", "64MiB", "1G", "1GiB" -> MiB. Plain numbers are MiB.
Result<std::uint64_t> parse_memory(std::string_view text);

// A VM name: 1..64 of [A-Za-z0-9_.-], starting with a letter or digit (a
// folder name in the runtime folder; router domain names follow it too).
bool is_valid_name(std::string_view name);
inline constexpr const char* name_rule = "1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit";
Result<> validate_name(std::string_view name);

// A guest run by fleet's Linux init (images/linux): an initrd, and stdio
// on virtio-serial. What a snapshot and a rehearsal need of a guest.
bool is_linux_guest(const VmSpec& spec);

// Everything checkable before starting QEMU: name, sizes, that the kernel is
// a readable ELF with a PVH note, that the initrd is readable.
Result<> validate(const VmSpec& spec);

// The kernel command line QEMU gets (-append): the drain request, the
// hypervisor channel and network words, then extra_cmdline. The program's
// arguments and the shares' mount points are not on it: they travel in the
// exec block.
std::string kernel_cmdline(const VmSpec& spec);

// "NAME=VALUE" with a non-empty NAME without '=' or NUL.
Result<> validate_env(std::string_view var);

inline constexpr std::uint64_t min_memory_mib = 2;
inline constexpr std::uint64_t max_memory_mib = 1024 * 1024;
inline constexpr unsigned max_vcpus = 64;

}  // namespace fleet::vmm
