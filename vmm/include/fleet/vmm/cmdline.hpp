// fleet — the QEMU microvm command line for a VM spec.
#pragma once

#include <fleet/vmm/spec.hpp>

#include <string>
#include <utility>
#include <vector>

namespace fleet::vmm {

// Where each guest channel goes, as a QEMU chardev backend: "socket,fd=4"
// (an inherited, connected socket), "stdio", "file,path=/x", "null". An empty
// qmp/qmp_public leaves that monitor out.
struct Wiring {
    std::string qmp;         // private monitor of the process that owns QEMU
    std::string qmp_public;  // path of a listening unix socket for other clients
    std::string out = "null";
    std::string err = "null";
    std::string ctl = "null";
    std::string in = "null";              // virtio guests: fleet.stdin (isa: COM1 carries it)
    std::string console = "null";         // virtio guests: COM1, the kernel's console
    std::vector<std::string> hypervisor;  // virtio guests: the hypervisor channel's ports; empty: none
    // Without a launcher to write the exec block on ctl (a raw command line),
    // it goes on the kernel command line: FLEET_CMDLINE_EXEC + this, the
    // block percent-encoded (exec.hpp). Empty: not there.
    std::string exec_on_cmdline;
    // The exec block as an inherited sealed memfd QEMU offers the guest as
    // fw_cfg file FLEET_FWCFG_EXEC (VmSpec::exec_fw_cfg); -1: none.
    int exec_fw_cfg_fd = -1;
    // A listening socket QEMU inherits for the public monitor (instead of
    // qmp_public's path); -1: none.
    int qmp_public_fd = -1;
    // Inherited fds QEMU files in fd sets (-add-fd fd=FD,set=SET), opened
    // as /dev/fdset/SET: the disks of a confined QEMU (confine.hpp).
    std::vector<std::pair<int, int>> fd_sets;  // fd, set
    // Read-write shares keep the guest's modes and owners in xattrs, never
    // on the host files (security_model=mapped-xattr): a guest makes no
    // setuid or device file there. Else security_model=none.
    bool mapped_shares = false;
    // QEMU's -incoming: "defer" restores the guest from a saved migration
    // stream that the launcher hands over the monitor (migrate-incoming,
    // snapshot.hpp) instead of booting it. Empty: boot.
    std::string incoming;
    // Guest RAM in an inherited memfd QEMU maps shared (-object
    // memory-backend-file on /proc/self/fd/N), left out of migration streams
    // (x-ignore-shared): a snapshot's save, and each restore's own copy of
    // the saved RAM (snapshot.hpp). -1: QEMU's own anonymous RAM.
    int ram_fd = -1;
    // ram_fd mapped privately (share=off): the snapshot file itself, whose
    // first pages are the RAM, for a QEMU of the file's own user.
    bool ram_private = false;
};

// The machine type and its options but ACPI, which qemu_argv adds: on, or
// off for VmSpec::power_ctl. Without ACPI there is one IOAPIC: QEMU puts
// virtio-mmio slots on GSI 5 and up and adds
// "virtio_mmio.device=512@ADDR:GSI" words to the kernel command line.
inline constexpr const char* machine_options = "microvm,x-option-roms=off,pit=off,pic=off,rtc=on,isa-serial=on";

// argv for QEMU (argv[0] = qemu). `accel` must be kvm or tcg (resolved).
std::vector<std::string> qemu_argv(const std::string& qemu, const VmSpec& spec, Accel accel, const Wiring& wiring);

// QEMU's option syntax doubles commas inside a value.
std::string qemu_escape(const std::string& value);

// argv joined for a shell: words quoted where they need it.
std::string shell_join(const std::vector<std::string>& argv);

}  // namespace fleet::vmm
