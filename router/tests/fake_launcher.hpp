// router-unit — a scripted Launcher: runs nothing, records what it is
// asked, and lets a test say when a VM is ready, fails or ends, and which
// VMs an earlier router left running. Beside the real-QEMU integration tests
// (tests/integration/router_*_test.py), never instead of them.
#pragma once

#include <fleet/router/launcher.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace fleet::router::testing {

class FakeLauncher final : public Launcher {
public:
    // ---- The script ----
    std::optional<DomainError> refuse_start;      // the next start fails at once with this
    std::map<std::string, Adopted> left_running;  // what adopt finds (name -> paused?)
    std::optional<DomainError> refuse_pause;      // pause/resume fail with this
    bool hold_pauses = false;                     // pause/resume answer at answer_pauses(), in order
    void answer_pauses();
    // attach_vm's answer (unset: the Launcher's "no network").
    std::function<DomainResult<Tap>(const std::string& name, bool outbound)> attach;

    // ---- What it was asked, in order: "start web", "start web paused",
    // "shutdown web", "kill web", "pause web", "resume web", "adopt web",
    // "clear web", "detach", "resize web 40x120".
    std::vector<std::string> calls;
    std::vector<std::function<void()>> held_pauses;

    // ---- Events a test makes happen ----
    void ready(const std::string& name);
    // The supervisor said why the guest could not start; the VM ends.
    void fail(const std::string& name, const std::string& why);
    // The VM ends (a start that never was ready hears that first), its
    // program with this status; a run's stage closes its stdio copies.
    void end(const std::string& name, EndKind how, int status = 0);
    // A run's stage: the copies of its stdio pipes, as its supervisor
    // would hold them (fds 0, 1, 2), until it ends.
    [[nodiscard]] const RunStdio* stdio(const std::string& name) const;

    [[nodiscard]] bool running(const std::string& name) const { return vms_.count(name) > 0; }
    [[nodiscard]] bool asked(const std::string& call) const;

    DomainResult<> start(const DomainDef& def, const Principal& owner, bool paused, Watch watch,
                         const RunStdio* stdio) override;
    DomainResult<Adopted> adopt(const std::string& name, Watch watch) override;
    void clear(const std::string& name) override;
    DomainResult<> shutdown(const std::string& name) override;
    DomainResult<> kill(const std::string& name) override;
    DomainResult<> resize_terminal(const std::string& name, std::uint16_t rows, std::uint16_t cols) override;
    void pause(const std::string& name, bool pause, std::function<void(DomainResult<>)> done) override;
    void detach() override;

    std::string console_socket(const std::string& name) const override { return "/nonexistent/" + name; }
    std::uint64_t cpu_time_ns(const std::string&) const override { return 0; }
    std::uint64_t image_memory_kib(const std::string&) const override { return 64 * 1024; }
    DomainResult<Tap> attach_vm(const std::string& name, bool outbound, const Principal& by) override
    {
        return attach ? attach(name, outbound) : Launcher::attach_vm(name, outbound, by);
    }

private:
    struct Vm {
        Watch watch;
        bool ready = false;
        std::shared_ptr<RunStdio> stdio;
    };
    std::map<std::string, Vm> vms_;
};

}  // namespace fleet::router::testing
