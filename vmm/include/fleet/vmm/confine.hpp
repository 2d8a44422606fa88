// fleet — confining QEMU: who it runs as and the files it is handed.
//
// Under root, QEMU runs as an unprivileged user (fleet-qemu, created by
// tools/setup) with no capabilities and no_new_privs, and always under its
// own seccomp sandbox (-sandbox). It then opens nothing the launcher names:
// the kernel and initrd reach it as sealed in-memory copies, disks and
// shared folders as file descriptors the launcher opened, the public
// monitor as a listening socket the launcher bound (docs/SECURITY.md).
#pragma once

#include <fleet/base/error.hpp>
#include <fleet/base/fd.hpp>
#include <fleet/base/process.hpp>

#include <fleet/vmm/cmdline.hpp>
#include <fleet/vmm/spec.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace fleet::vmm {

// QEMU's -sandbox: seccomp on, and no obsolete system calls, no setuid,
// no fork/exec, no scheduler or CPU affinity changes.
inline constexpr const char* sandbox_options =
    "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny";

// The user QEMU runs as: nullopt when the launcher is not root (QEMU then
// runs as the launcher's own user). Under root, FLEET_QEMU_USER (default
// fleet-qemu); "root" keeps QEMU root (unconfined but still sandboxed). A
// missing user is an error: a root launcher never falls back to root. A
// local user: read from /etc/passwd and /etc/group, not through NSS.
Result<std::optional<SpawnOptions::Credentials>> qemu_credentials();
// The name qemu_credentials looks up: FLEET_QEMU_USER, else fleet-qemu.
std::string qemu_user_name();

// The read-write shares of spec that QEMU running as `qemu` (a confined
// QEMU's user) could not write into: checked with that user's file-system
// ids (setfsuid), on the folder itself, not the path to it (QEMU gets the
// folder open). The guest's writes there would fail with EACCES, so the
// launcher says why before they do.
std::vector<std::string> shares_unwritable_by(const VmSpec& spec, const SpawnOptions::Credentials& qemu);

// A sealed, read-only in-memory copy of the file at path, made with the
// launcher's rights (of the open file `from`, when given); any user may
// open it through /proc/self/fd/N.
Result<Fd> sealed_copy(const std::string& path, int from = -1);

// The same of bytes in memory (the exec block QEMU offers through fw_cfg);
// `what` names them in an error.
Result<Fd> sealed_bytes(std::string_view bytes, const std::string& what);

// A kernel or initrd for QEMU at path (`opened`: already open, else opened
// here with the launcher's rights): that open file itself when anyone may
// read it, else its sealed_copy.
Result<Fd> boot_file(const std::string& path, Fd opened = Fd());

// The files a client named, opened with its owner's rights rather than
// the launcher's (base open_as): every disk and shared folder, and the
// kernel and initrd when the client named them (an image of the launcher's
// catalog stays the launcher's). Whatever a path has become since the
// router checked it, the kernel checks the owner at the open.
struct ClientFiles {
    SpawnOptions::Credentials owner;
    bool kernel = false;
    bool initrd = false;
};

// What a confined QEMU sees of the host, in a mount namespace of its own
// (base spawn's mount_view): the program `qemu` (its folder) and the
// system's libraries and firmware (/usr and the /lib, /bin links), the
// loader's cache, /sys, /proc and a few device nodes; no /home, /root,
// /tmp, /run, /var, /srv or other users' files. Everything else it gets
// as fds.
SpawnOptions::MountView qemu_mount_view(const std::string& qemu);

// What QEMU's environment gets on top of the launcher's: glibc's malloc in
// transparent huge pages where the host allows them (THP "madvise" or
// "always"), so QEMU's heap faults in 2 MiB at a time; it is ready sooner
// and its exit frees far fewer pages (docs/cold-path.md). A GLIBC_TUNABLES
// of the launcher's is kept; one that sets glibc.malloc.hugetlb wins.
std::vector<std::string> qemu_environment();

// What a confined QEMU is handed instead of paths: fds the launcher keeps
// open until QEMU has started, and where each lands in QEMU.
struct Confinement {
    std::vector<Fd> fds;
    std::vector<std::pair<int, int>> pass_fds;  // parent fd -> fd in QEMU
};

// Open spec's kernel, initrd, disks and shared folders (with the launcher's
// rights, or client's owner's for its files) and bind the public monitor at
// public_qmp_path (if any); rewrite argv_spec's paths to the inherited fds
// (a share: /proc/self/fd/N) and fill wiring's fd fields.
Result<Confinement> confine_files(VmSpec& argv_spec, Wiring& wiring, const std::string& public_qmp_path,
                                  const std::optional<ClientFiles>& client = std::nullopt);

}  // namespace fleet::vmm
