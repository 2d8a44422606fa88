// fleet-router — the Launcher: what the registry asks of whatever runs its
// VMs. The real one (supervisor_launcher.hpp) forks the launcher's own
// supervisor per VM, as `fleet-vmm start` does; tests use a scripted fake
// (router/tests/fake_launcher.hpp).
//
// VMs are named by their domain's name: the registry starts at most one VM
// per name at a time.
#pragma once

#include <fleet/base/fd.hpp>
#include <fleet/router/domain.hpp>
#include <fleet/router/domain_error.hpp>
#include <fleet/router/principal.hpp>
#include <fleet/vmm/spec.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace fleet::router {

// How a VM ended, as much as the registry needs to know.
enum class EndKind {
    exited,         // the guest powered off or exited, or the supervisor stopped it when asked
    killed,         // killed (by whom, the registry knows: a destroy it asked for, or anyone else)
    crashed,        // died: QEMU crashed, a guest panic, the supervisor killed behind our back
    boot_timeout,   // never became ready within its deadline
    launch_failed,  // QEMU could not start
};

struct Ending {
    EndKind kind = EndKind::crashed;
    std::string detail;  // for the log: " (stopped, status 0)"
    int status = 137;    // as a shell's $?: the program's, 128+N after signal N
};

// The stdio of one stage of a run (fleet's extension, docs/fleet-protocol.md):
// the pipes its supervisor gets as fds 0, 1 and 2 instead of a console.
struct RunStdio {
    Fd in, out, err;
};

// One network interface of a running VM, as `virsh domifaddr` shows it.
struct InterfaceAddress {
    std::string name;  // the tap
    std::string mac;
    std::string ipv4;  // "" if none
    unsigned ipv4_prefix = 0;
    std::string ipv6;  // "" if none
    unsigned ipv6_prefix = 0;
};

// One vCPU of a running VM: its number and host thread (QEMU's
// query-cpus-fast), where that thread last ran, its CPU time and the host
// CPUs it may run on (/proc and sched_getaffinity).
struct VcpuFacts {
    unsigned number = 0;
    int thread = 0;
    int host_cpu = -1;
    std::uint64_t cpu_time_ns = 0;
    std::vector<bool> affinity;  // index: host CPU; empty if unknown
};

// The fleet network as the router runs it (network.hpp), for clients that
// ask for libvirt networks.
struct NetworkFacts {
    std::string bridge;
    std::string ipv4;  // "10.77.0.1/24"
    std::string ipv6;  // "" if none
};

// A tap made for a VM: the fd that goes to its QEMU, and what the
// launcher's spec says about it.
struct Tap {
    Fd fd;
    vmm::NetInterface nic;
};

// A VM an earlier router left running.
struct Adopted {
    bool paused = false;
};

class Launcher {
public:
    struct Watch {
        // At most once, and always before `ended`: ready ({}), or why the
        // VM failed to start.
        std::function<void(DomainResult<>)> ready;
        // Exactly once: the VM is gone.
        std::function<void(const Ending&)> ended;
    };

    virtual ~Launcher() = default;

    // Spawn a VM for def (paused: stopped before its first instruction) and
    // watch it; the files def names are opened with owner's rights
    // (docs/SECURITY.md). stdio: a run's stage (its program's stdio are
    // these pipes, it has no console), else nullptr. An error means
    // nothing was started and no callback comes.
    virtual DomainResult<> start(const DomainDef& def, const Principal& owner, bool paused, Watch watch,
                                 const RunStdio* stdio) = 0;
    // Watch a VM an earlier router started (only `ended` is called).
    // not_found if it is not running any more; what it left is cleared.
    virtual DomainResult<Adopted> adopt(const std::string& name, Watch watch) = 0;
    // Clear what a VM of this name left behind (one that is not adopted).
    virtual void clear(const std::string& name) = 0;
    // Ask the guest to power off (killed at the stop deadline).
    virtual DomainResult<> shutdown(const std::string& name) = 0;
    // Kill it now (a destroy).
    virtual DomainResult<> kill(const std::string& name) = 0;
    // Its program's terminal (fleet:terminal) is now rows x cols: the
    // program gets SIGWINCH. Nothing happens for a VM without a terminal.
    virtual DomainResult<> resize_terminal(const std::string& name, std::uint16_t rows, std::uint16_t cols) = 0;
    // Pause or resume its vCPUs; done is called once, maybe later.
    virtual void pause(const std::string& name, bool pause, std::function<void(DomainResult<>)> done) = 0;
    // Stop watching every VM (the router is stopping): they keep running,
    // and no callback comes any more.
    virtual void detach() = 0;

    // Facts.
    virtual std::string console_socket(const std::string& name) const = 0;
    virtual std::uint64_t cpu_time_ns(const std::string& name) const = 0;
    // The memory a VM of this image gets when its definition names none.
    virtual std::uint64_t image_memory_kib(const std::string& image) const = 0;
    // Its network interfaces and their addresses (none without a bridge).
    virtual std::vector<InterfaceAddress> interface_addresses(const std::string&) const { return {}; }
    // The resident memory of its QEMU process (KiB, /proc); 0 if unknown.
    virtual std::uint64_t rss_kib(const std::string&) const { return 0; }
    // Its vCPUs, asked of its monitor; done is called once, maybe later.
    virtual void vcpus(const std::string&, std::function<void(DomainResult<std::vector<VcpuFacts>>)> done)
    {
        done(domain_fail(Errc::unsupported, "this launcher cannot tell a VM's vCPUs"));
    }
    // The fleet network, if the router runs one.
    virtual std::optional<NetworkFacts> network() const { return std::nullopt; }
    // A tap on the fleet network for a VM `by` runs itself (fleet-vmm
    // --net, FLEET_NET_ATTACH): it is in the firewall as `name` while the
    // tap lives (network.hpp).
    virtual DomainResult<Tap> attach_vm(const std::string&, bool /*outbound*/, const Principal&)
    {
        return domain_fail(Errc::unsupported, "the router runs no network (it was started without --bridge)");
    }
};

}  // namespace fleet::router
