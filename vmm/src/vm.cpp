// fleet — a VM driven from the event loop (see vm.hpp): its methods; the
// start is vm_launch.cpp, the shared inside vm_impl.hpp.
#include "vm_impl.hpp"

namespace fleet::vmm {

using vm_detail::exec_block_now;

Vm::Vm(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Vm::~Vm()
{
    if (!impl_) return;
    Impl& m = *impl_;
    for (OpId op : {m.out_op, m.err_op, m.ctl_op, m.log_op, m.console_op, m.exit_op, m.boot_timer, m.stop_timer,
                    m.drain_timer, m.exit_guard, m.ram_fill_op, m.watch_timer})
        if (op) m.loop.cancel(op);
    m.unwatch_threads();
    m.stdin_sink.reset();
    m.ctl_sink.reset();
    if (m.state != VmState::exited && m.child.pidfd) {
        // A Vm dropped while its QEMU runs: do not leave the process behind.
        m.signal(SIGKILL);
        (void)reap(m.child);
    }
}

const VmSpec& Vm::spec() const
{
    return impl_->spec;
}
pid_t Vm::pid() const
{
    return impl_->child.pid;
}
Accel Vm::accel() const
{
    return impl_->accel;
}
VmState Vm::state() const
{
    return impl_->state;
}
const std::vector<std::string>& Vm::argv() const
{
    return impl_->argv;
}

void Vm::write_stdin(std::string bytes)
{
    Impl& m = *impl_;
    if (m.state == VmState::exited || !m.stdin_sink || m.stdin_closing) return;
    m.stdin_sink->write(std::move(bytes));
}

std::size_t Vm::stdin_queued() const
{
    return impl_->stdin_sink ? impl_->stdin_sink->queued() : 0;
}

void Vm::when_stdin_taken(std::function<void()> fn)
{
    Impl& m = *impl_;
    if (m.state == VmState::exited || !m.stdin_sink || m.stdin_closing) return;
    m.stdin_sink->when_idle(std::move(fn));
}

void Vm::hold_output(bool hold)
{
    if (impl_->state != VmState::exited) impl_->hold_output(hold);
}

void Vm::close_stdout()
{
    Impl& m = *impl_;
    if (m.state == VmState::exited || m.stdout_gone) return;
    m.stdout_gone = true;
    if (m.spec.stdio == StdioKind::isa) {  // COM1 cannot be unplugged
        m.kill();
        return;
    }
    if (m.out_op) m.loop.cancel(std::exchange(m.out_op, 0));
    m.out.reset();  // QEMU sees the socket close and unplugs fleet.stdout
    // Nothing will drain the stdout queue any more: let stderr flow (a parked
    // stdout read now fails at once on the closed fd and stops).
    m.hold_output(false);
}

void Vm::close_stdin()
{
    Impl& m = *impl_;
    if (m.state == VmState::exited || !m.in || m.stdin_closing) return;
    m.stdin_closing = true;
    // Half-close once every queued byte is in the socket: QEMU reads the end
    // of file only after the data, and then closes the guest's port.
    Impl* self = &m;
    m.stdin_sink->when_idle([self] { ::shutdown(self->in.get(), SHUT_WR); });
}

Result<> Vm::deliver_exec(const VmSpec& program)
{
    Impl& m = *impl_;
    if (m.state == VmState::exited || !m.ctl_sink) return fail("VM '" + m.spec.name + "' has exited");
    if (!m.exec_deferred) return fail("VM '" + m.spec.name + "' already has its exec block");
    // Its guest would read the block's bytes as lines while the rehearsal runs.
    if (m.rehearsal_sent && !m.waiting) return fail("VM '" + m.spec.name + "' is rehearsing a start");
    VmSpec with = m.spec;
    with.name = program.name;
    with.args = program.args;
    with.env = program.env;
    with.workdir = program.workdir;
    with.tty = program.tty;
    if (with.tty && with.stdio != StdioKind::virtio) return fail("a terminal for the program needs a Linux image");
    auto block = exec_block_now(with);
    if (!block) return std::unexpected(block.error());
    m.exec_deferred = false;
    m.spec = std::move(with);
    m.ctl_sink->write(FLEET_EXEC_PREAMBLE + std::move(*block));
    m.arm_boot_timer();
    return {};
}

void Vm::execute(const std::string& command, json arguments, QmpClient::Reply reply)
{
    if (!impl_->qmp) return reply(fail("VM '" + impl_->spec.name + "' has exited"));
    impl_->qmp->execute(command, std::move(arguments), std::move(reply));
}

void Vm::execute_with_fd(const std::string& command, json arguments, int fd, QmpClient::Reply reply)
{
    if (!impl_->qmp) return reply(fail("VM '" + impl_->spec.name + "' has exited"));
    impl_->qmp->execute_with_fd(command, std::move(arguments), fd, std::move(reply));
}

void Vm::pause()
{
    execute("stop", json(), [](Result<json>) {});
}

void Vm::resume()
{
    Impl* m = impl_.get();
    execute("cont", json(), [m](Result<json> r) {
        if (r) m->arm_boot_timer();
    });
}

void Vm::stop(std::chrono::milliseconds deadline)
{
    Impl& m = *impl_;
    if (m.state == VmState::exited || m.stop_requested) return;
    m.stop_requested = true;
    if (m.boot_timer) m.loop.cancel(std::exchange(m.boot_timer, 0));
    // The button first: the state change below may do I/O (the supervisor
    // records it), which must not delay the guest's power-off. Without ACPI
    // (power=ctl) it is a ctl line; a guest still waiting for its exec
    // block has no program to stop: the deadline's kill ends it.
    if (!m.spec.power_ctl)
        execute("system_powerdown", json(), [](Result<json>) {});
    else if (m.ctl_sink && !m.exec_deferred)
        m.send_line(FLEET_CTL_POWER "\n");
    m.set_state(VmState::stopping);
    Impl* self = &m;
    m.stop_timer = m.loop.timer(deadline, [self](int) {
        self->stop_timer = 0;
        self->kill_requested = true;
        self->kill();
    });
}

void Vm::signal_program(int sig)
{
    Impl& m = *impl_;
    if (m.state == VmState::exited || !m.ctl_sink || sig < 1 || sig > FLEET_SIGNAL_MAX) return;
    m.send_line(std::string(FLEET_CTL_SIGNAL " ") + std::to_string(sig) + "\n");
}

void Vm::resize_terminal(std::uint16_t rows, std::uint16_t cols)
{
    Impl& m = *impl_;
    if (m.state == VmState::exited || !m.ctl_sink || m.exec_deferred || !m.spec.tty) return;
    if (rows < 1 || rows > FLEET_TTY_MAX || cols < 1 || cols > FLEET_TTY_MAX) return;
    m.send_line(std::string(FLEET_CTL_WINSIZE " ") + std::to_string(rows) + " " + std::to_string(cols) + "\n");
}

void Vm::kill()
{
    if (impl_->state == VmState::exited) return;
    if (impl_->boot_timer) impl_->loop.cancel(std::exchange(impl_->boot_timer, 0));
    impl_->kill_requested = true;
    impl_->kill();
}

}  // namespace fleet::vmm
