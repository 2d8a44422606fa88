// fleet-router — the real Launcher: each VM gets the launcher's own
// supervisor (vmm/supervisor.hpp, the one `fleet-vmm start` forks), forked by
// the router into a session of its own with none of the router's fds, and
// watched through a pidfd and a ready pipe. The supervisor owns QEMU,
// console.sock, qmp.sock and the record of how the VM ended
// (<runtime>/vms/<name>/), so VMs outlive the router and the next one
// adopts them.
#pragma once

#include <fleet/base/fd.hpp>
#include <fleet/base/loop.hpp>
#include <fleet/router/hypervisor.hpp>
#include <fleet/router/launcher.hpp>
#include <fleet/router/log.hpp>
#include <fleet/router/network.hpp>
#include <fleet/vmm/qmp.hpp>
#include <fleet/vmm/store.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace fleet::router {

class WarmPools;

struct LauncherOptions {
    std::string images;  // image catalog folders, colon-separated; empty: the defaults
    std::string qemu = "qemu-system-x86_64";
    std::chrono::milliseconds stop_deadline{10000};  // a shutdown kills after this
    std::string runtime_dir;                         // where the launcher's KVM verdicts live (vmm/accel.hpp)
    std::size_t console_log_max = 2u << 20;          // a guest's console.log rotates past this
    unsigned console_log_backups = 3;
    Network* network = nullptr;                // the fleet bridge (network.hpp); null: none
    HypervisorChannels* hypervisor = nullptr;  // channels for <fleet:hypervisor> (hypervisor.hpp); null: none
    WarmPools* pools = nullptr;                // warm pools (pools.hpp): starts claim from them; null: none
};

class SupervisorLauncher final : public Launcher {
public:
    SupervisorLauncher(Loop& loop, vmm::Store store, LauncherOptions options, Log log);
    ~SupervisorLauncher() override;

    DomainResult<> start(const DomainDef& def, const Principal& owner, bool paused, Watch watch,
                         const RunStdio* stdio) override;
    DomainResult<Adopted> adopt(const std::string& name, Watch watch) override;
    void clear(const std::string& name) override;
    DomainResult<> shutdown(const std::string& name) override;
    DomainResult<> kill(const std::string& name) override;
    DomainResult<> resize_terminal(const std::string& name, std::uint16_t rows, std::uint16_t cols) override;
    void pause(const std::string& name, bool pause, std::function<void(DomainResult<>)> done) override;
    void detach() override;

    std::string console_socket(const std::string& name) const override;
    std::uint64_t cpu_time_ns(const std::string& name) const override;
    std::uint64_t rss_kib(const std::string& name) const override;
    std::uint64_t image_memory_kib(const std::string& image) const override;
    std::vector<InterfaceAddress> interface_addresses(const std::string& name) const override;
    void vcpus(const std::string& name, std::function<void(DomainResult<std::vector<VcpuFacts>>)> done) override;
    std::optional<NetworkFacts> network() const override;
    DomainResult<Tap> attach_vm(const std::string& name, bool outbound, const Principal& by) override;

private:
    struct Vm;
    using VmPtr = std::shared_ptr<Vm>;
    struct Started {
        pid_t supervisor = 0;
        Fd ready, pidfd;
        bool own_child = true;  // false: a pooled VM's supervisor, the pool daemon's child
    };
    DomainResult<Started> fork_supervisor(const DomainDef& def, const Principal& owner, bool paused,
                                          const RunStdio* stdio);
    void watch_ready(const VmPtr& vm);
    void on_ready_line(const VmPtr& vm);
    void watch_end(const VmPtr& vm);
    void on_end(const VmPtr& vm);
    static constexpr std::chrono::milliseconds resize_spacing{20};
    DomainResult<> send_terminal_size(Vm& vm);
    VmPtr find(const std::string& name) const;
    static int signal_supervisor(const Vm& vm, int sig, int value);  // 0 or errno
    pid_t qemu_pid(const std::string& name) const;                   // 0 if not running
    // One QMP command on a VM's public monitor (monitor.cpp): pause,
    // resume, queries. One monitor connection per domain at a time, never
    // a blocking connect.
    using MonitorClock = std::chrono::steady_clock;
    using MonitorDone = std::function<void(DomainResult<vmm::json>)>;
    struct MonitorRequest {
        std::string command;
        MonitorDone done;
        MonitorClock::time_point deadline;
    };
    void monitor(const std::string& name, std::string command, MonitorDone done);
    void monitor_attempt(const std::string& name);
    void monitor_finish(const std::string& name, DomainResult<vmm::json> r);
    void run_monitor(const std::string& name, const std::string& command, Fd fd, MonitorClock::time_point deadline);

    Loop& loop_;
    vmm::Store store_;
    LauncherOptions o_;
    Log log_;
    std::vector<std::string> catalog_;
    std::map<std::string, VmPtr> vms_;
    std::map<std::string, std::deque<MonitorRequest>> monitor_;  // per domain, the head in progress
    mutable std::map<std::string, std::uint64_t> image_memory_;  // image -> its default, resolved once
};

}  // namespace fleet::router
