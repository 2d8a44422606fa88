// fleet — the runtime folder: one sub-folder per VM, listing = enumerating.
//
//   <runtime>/vms/.lock           flock(2)ed while creating, reconciling, removing
//   <runtime>/vms/<name>/state.json   the record below, replaced atomically
//   <runtime>/vms/<name>/qmp.sock     QEMU's monitor for other clients
//   <runtime>/vms/<name>/console.sock the supervisor's console (detached VMs)
//   <runtime>/vms/<name>/console.log  what the guest printed (stdout and stderr)
//   <runtime>/vms/<name>/vmm.log      QEMU's and the supervisor's own messages
//   <runtime>/vms/.retired-<name>-<pid>-<n>  an ended VM's folder, renamed
//                                     away from its name, not yet deleted
//
// A record whose supervisor died without writing an ending is reconciled to
// "crashed" and its sockets removed, by whoever reads it first.
#pragma once

#include <fleet/base/error.hpp>
#include <fleet/base/fd.hpp>
#include <fleet/vmm/exit.hpp>
#include <fleet/vmm/spec.hpp>

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fleet::vmm {

struct VmRecord {
    std::string name;
    VmState state = VmState::starting;
    std::string image;
    std::string kernel;
    Accel accel = Accel::tcg;  // kvm or tcg
    std::string cpu;           // QEMU's -cpu model (accel.hpp: which one KVM takes here)
    std::uint64_t memory_mib = 0;
    unsigned vcpus = 1;
    pid_t pid = 0;  // QEMU
    std::uint64_t pid_start = 0;
    pid_t supervisor_pid = 0;
    std::uint64_t supervisor_start = 0;
    std::int64_t started_at_ms = 0;  // wall clock, ms since the epoch
    std::int64_t ended_at_ms = 0;
    bool auto_remove = false;
    bool detached = false;
    bool tty = false;  // its program has a terminal: terminal_size_request resizes it
    // Its network interfaces, "TAP MAC [A.B.C.D/P]" each (net.hpp).
    std::vector<std::string> networks;
    // Set once state is exited.
    ExitReason exit_reason = ExitReason::guest_exit;
    int exit_status = 0;
    std::string exit_message;

    [[nodiscard]] bool ended() const { return state == VmState::exited; }
};

// --runtime-dir, else $FLEET_RUNTIME_DIR, else /run/fleet as root, else
// $XDG_RUNTIME_DIR/fleet, else /tmp/fleet-<uid>.
std::string default_runtime_dir(const std::string& flag);

class Store {
public:
    static Result<Store> open(const std::string& runtime_dir);

    [[nodiscard]] const std::string& root() const { return root_; }
    // The runtime folder the store is in (root() is <runtime>/vms).
    [[nodiscard]] std::string runtime_dir() const { return root_.substr(0, root_.rfind('/')); }
    [[nodiscard]] std::string dir(const std::string& name) const;
    [[nodiscard]] std::string path(const std::string& name, const char* file) const;

    // Claim a name: exactly one of any number of racing callers wins.
    Result<> create(const std::string& name) const;
    Result<VmRecord> read(const std::string& name) const;
    Result<> write(const VmRecord& record) const;
    // Read, and settle a record whose supervisor is gone.
    Result<VmRecord> inspect(const std::string& name) const;
    // Every VM, reconciled, sorted by name.
    Result<std::vector<VmRecord>> list() const;
    // Delete the folder of an ended VM (or of one that never started).
    Result<> remove(const std::string& name) const;
    // Delete what the folder of a VM being killed holds, but not the folder:
    // the name stays taken until remove(), once its QEMU is gone.
    Result<> clear(const std::string& name) const;
    // Take an ended VM's folder away from its name at once (one rename,
    // under the lock) and leave its deletion for later, off the path of
    // whoever waits for the end: retire() returns where the folder went,
    // for remove_retired(). The name is free when retire() returns, and
    // nothing lists or reads a retired folder. Fails where the folder
    // cannot be renamed (then remove() it).
    Result<std::string> retire(const std::string& name) const;
    // Delete a folder retire() returned; errors are ignored (the next sweep
    // tries again).
    void remove_retired(const std::string& path) const;
    // Delete every retired folder: those a process that retired them did
    // not live to delete. Only for the store's one retirer, at its start.
    void sweep_retired() const;

    Result<Fd> lock() const;

private:
    explicit Store(std::string root) : root_(std::move(root)) {}
    Result<VmRecord> reconcile(VmRecord record) const;
    std::string root_;  // <runtime>/vms
};

}  // namespace fleet::vmm
