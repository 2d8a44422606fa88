// fleet — one running VM: a QEMU microvm process driven from a Loop.
//
// Vm::launch starts QEMU with its guest channels and its private monitor on
// socket pairs this process owns, so nothing the guest prints is lost and no
// socket path can be raced. The Vm then reports, through its hooks, the
// guest's output, its readiness, state changes, every QMP event, and finally
// how it ended. Many Vms share one Loop; none of them blocks or sleeps.
#pragma once

#include <fleet/base/error.hpp>
#include <fleet/base/loop.hpp>
#include <fleet/base/process.hpp>
#include <fleet/vmm/confine.hpp>
#include <fleet/vmm/exit.hpp>
#include <fleet/vmm/qmp.hpp>
#include <fleet/vmm/spec.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace fleet::vmm {

struct VmHooks {
    // stream 1 stdout, 2 stderr, 3 the console (virtio guests: kernel messages)
    std::function<void(int stream, std::string_view bytes)> output;
    std::function<void()> ready;
    // Something the user should know that is not an error (a snapshot that
    // could not be used, so the guest boots cold).
    std::function<void(const std::string&)> note;
    std::function<void(VmState)> state_changed;
    std::function<void(const QmpMessage&)> event;
    std::function<void(const ExitInfo&)> exited;
    // The guest said `waiting` (or was restored, and runs again) and its
    // exec block was deferred (LaunchOptions::defer_exec): it has booted
    // and waits for deliver_exec.
    std::function<void()> waiting;
};

struct LaunchOptions {
    std::string qemu = "qemu-system-x86_64";
    std::string public_qmp_path;  // a listening monitor socket for other clients
    int qemu_log_fd = -1;         // QEMU's own messages are copied here too,
    // at most this many bytes of them: a guest can make QEMU complain
    // without end (a virtio-serial control message with a bad port id is a
    // line each time), and the log sits in the runtime folder
    std::size_t qemu_log_max = 2u << 20;
    std::string runtime_dir;  // accelerator verdicts and snapshots ("": the default)
    // Boot without the exec block (a warm pool; a snapshot's first boot,
    // saved while it waits): the boot deadline ends at the guest's `waiting`
    // line, hooks.waiting runs, and deliver_exec writes the block later. A
    // restore (a pool's, spec.snapshot) is a guest saved waiting: it waits
    // once QEMU says RESUME.
    bool defer_exec = false;
    // ... and before it counts as waiting, a Linux guest under TCG runs a
    // rehearsal (rehearsal_block, exec.hpp), so that the code paths of its
    // start are translated before its claim (a warm pool's VMs).
    bool rehearse = false;
    // Restore the guest from this snapshot file (snapshot.hpp: its RAM,
    // then QEMU's stream) instead of booting it; "" and spec.snapshot: find
    // or make one.
    std::string incoming;
    // The guest's RAM on this memfd, which the caller keeps (a snapshot's
    // save writes it out once QEMU has stopped); -1: QEMU's own.
    int ram_fd = -1;
    // A client's files, opened with its owner's rights (confine.hpp); they
    // reach QEMU as fds even when QEMU is not confined.
    std::optional<ClientFiles> client_files;
};

class Vm {
public:
    static Result<std::unique_ptr<Vm>> launch(Loop& loop, VmSpec spec, const LaunchOptions& options, VmHooks hooks);
    ~Vm();
    Vm(const Vm&) = delete;
    Vm& operator=(const Vm&) = delete;

    [[nodiscard]] const VmSpec& spec() const;
    [[nodiscard]] pid_t pid() const;
    [[nodiscard]] Accel accel() const;  // kvm or tcg
    [[nodiscard]] VmState state() const;
    [[nodiscard]] const std::vector<std::string>& argv() const;

    // Guest stdin (for isa guests COM1's receive side).
    void write_stdin(std::string bytes);
    // Bytes written to stdin that QEMU has not taken yet, and a way to wait
    // until it has taken them all: back-pressure for the writer. One waiter
    // at a time (a later call replaces it); never called if the VM ends.
    [[nodiscard]] std::size_t stdin_queued() const;
    void when_stdin_taken(std::function<void()> fn);
    // End of stdin: the guest's reads return end-of-file once it has read
    // what was written (virtio guests; isa guests cannot be told).
    void close_stdin();
    // Stop (true) or resume (false) reading the guest's stdout and stderr:
    // back-pressure for a consumer slower than the guest.
    void hold_output(bool hold);
    // Nobody reads stdout any more. A virtio guest sees its port close (its
    // writes fail; the runtime exits 141, like a program on SIGPIPE); an isa
    // guest cannot be told and is killed, ending with status 141.
    void close_stdout();
    // A VM launched with defer_exec: write its exec block now, once, from
    // `program`'s args, env and workdir (its name becomes the VM's); the
    // boot deadline starts again.
    Result<> deliver_exec(const VmSpec& program);
    // QMP passthrough on the private monitor.
    void execute(const std::string& command, json arguments, QmpClient::Reply reply);
    // The same with an fd attached (QmpClient::execute_with_fd).
    void execute_with_fd(const std::string& command, json arguments, int fd, QmpClient::Reply reply);
    void pause();
    void resume();  // also starts a VM created paused
    // Press the ACPI power button; kill after `deadline` if still running.
    void stop(std::chrono::milliseconds deadline);
    // SIGKILL now.
    void kill();
    // Deliver signal `sig` (1..64, Linux numbering) to the guest's program
    // ("signal N" on ctl, <fleet/abi/guest.h>); the VM ends when the program
    // does. A guest that does not speak the ABI ignores it.
    void signal_program(int sig);
    // The program's terminal (VmSpec::tty) has a new size ("winsize" on
    // ctl); nothing for a VM without one, or before its exec block.
    void resize_terminal(std::uint16_t rows, std::uint16_t cols);

private:
    struct Impl;
    explicit Vm(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace fleet::vmm
