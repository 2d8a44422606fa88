// fleet — a VM driven from the event loop (see vm.hpp).
#include <fleet/vmm/vm.hpp>

#include <fleet/vmm/net.hpp>

#include <fleet/base/sink.hpp>
#include <fleet/vmm/accel.hpp>
#include <fleet/vmm/catalog.hpp>
#include <fleet/vmm/cmdline.hpp>
#include <fleet/vmm/confine.hpp>
#include <fleet/vmm/exec.hpp>
#include <fleet/vmm/snapshot.hpp>
#include <fleet/vmm/store.hpp>

#include <fleet/abi/guest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <charconv>
#include <cstring>

namespace fleet::vmm {

namespace {

// Child fd numbers for the channels (cmdline "socket,fd=N").
constexpr int child_qmp = 3, child_out = 4, child_err = 5, child_ctl = 6, child_in = 7, child_console = 8,
              child_incoming = 9;

struct Pair {
    Fd host, guest;
};

Result<Pair> socket_pair()
{
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return fail_errno("cannot create a socket pair");
    Pair p{Fd(sv[0]), Fd(sv[1])};
    int fl = ::fcntl(p.host.get(), F_GETFL);
    ::fcntl(p.host.get(), F_SETFL, fl | O_NONBLOCK);
    return p;
}

std::string runtime_of(const LaunchOptions& options)
{
    return options.runtime_dir.empty() ? default_runtime_dir("") : options.runtime_dir;
}

// The saved boot a spec restores from ("": boot it). A snapshot that cannot
// be used is a note, never an error: the guest boots cold.
std::string choose_incoming(const VmSpec& spec, const LaunchOptions& options, const std::string& qemu,
                            const VmHooks& hooks)
{
    if (!options.incoming.empty() || !spec.snapshot || options.defer_exec) return options.incoming;
    SnapshotPick pick = pick_snapshot(spec, SnapshotContext{qemu, runtime_of(options)});
    if (!pick.note.empty() && hooks.note) hooks.note(pick.note);
    return pick.path;
}

// The exec block as the launcher sends it: with the host trailer (a fresh
// seed and the clock), which a restored guest needs.
Result<std::string> exec_block_now(const VmSpec& spec)
{
    auto host = host_trailer();
    if (!host) return std::unexpected(host.error());
    return exec_block(spec, &*host);
}

}  // namespace

struct Vm::Impl {
    Loop& loop;
    VmSpec spec;
    VmHooks hooks;
    Accel accel = Accel::tcg;
    std::vector<std::string> argv;
    Child child;
    Fd out, err, ctl, in, console, qemu_stderr;
    std::unique_ptr<Sink> stdin_sink;
    std::unique_ptr<Sink> ctl_sink;  // host -> guest: the exec block, then lines
    bool stdin_closing = false;
    bool output_held = false;
    std::vector<std::function<void()>> parked;
    int qemu_log_fd = -1;
    std::unique_ptr<QmpClient> qmp;
    VmState state = VmState::starting;
    bool ready = false;
    OpId out_op = 0, err_op = 0, ctl_op = 0, log_op = 0, console_op = 0, exit_op = 0, boot_timer = 0, stop_timer = 0;

    // What we learn on the way to the end.
    std::string ctl_line;
    std::optional<int> reported_status;
    std::string qemu_messages;  // tail of QEMU's own stderr
    json shutdown;              // data of the SHUTDOWN event, if any
    bool panicked = false, stop_requested = false, kill_requested = false, boot_timed_out = false;
    bool stdout_gone = false;
    bool exec_deferred = false;  // launched without its exec block (a warm pool)
    bool waiting = false;        // ... and the guest waits for it: booted, no deadline
    // Drain (virtio guests whose command line has fleet.drain=1): after the
    // guest's "exit N", make sure QEMU has handed over everything the guest
    // queued on stdout/stderr, then say so on ctl; only then does it end.
    bool drain_wanted = false, draining = false, drained = false, drain_query_out = false;
    std::string serial_path;  // QOM path of the virtio-serial device
    OpId drain_timer = 0;

    explicit Impl(Loop& l) : loop(l) {}

    void set_state(VmState s)
    {
        if (state == s || state == VmState::exited) return;
        state = s;
        if (hooks.state_changed) hooks.state_changed(s);
    }

    void mark_ready()
    {
        if (ready) return;
        ready = true;
        if (boot_timer) loop.cancel(std::exchange(boot_timer, 0));
        if (state == VmState::starting) set_state(VmState::running);
        if (hooks.ready) hooks.ready();
    }

    void on_output(int stream, std::string_view bytes)
    {
        if (stream != 3) mark_ready();
        if (hooks.output) hooks.output(stream, bytes);
        if (draining && stream != 3) query_drain();  // data still flowing: ask again
    }

    // Guest -> host queues of fleet.stdout and fleet.stderr (the ABI's port numbers).
    static constexpr int stdout_txq = FLEET_VSERIAL_TXQ(FLEET_PORT_NR_STDOUT);
    static constexpr int stderr_txq = FLEET_VSERIAL_TXQ(FLEET_PORT_NR_STDERR);

    void start_drain()
    {
        draining = true;
        hold_output(false);  // from here on, read whatever QEMU hands over
        execute_qmp("x-query-virtio", json(), [this](Result<json> r) {
            if (r && r->is_array())
                for (const auto& d : *r)
                    if (d.value("name", "") == "virtio-serial") serial_path = d.value("path", "");
            if (serial_path.empty()) return finish_drain();  // cannot tell: do not keep the guest waiting
            query_drain();
        });
    }

    void query_drain()
    {
        if (drained || drain_query_out || serial_path.empty()) return;
        drain_query_out = true;
        auto pending = std::make_shared<int>(2);
        auto busy = std::make_shared<bool>(false), failed = std::make_shared<bool>(false);
        for (int q : {stdout_txq, stderr_txq}) {
            execute_qmp("x-query-virtio-queue-status", json{{"path", serial_path}, {"queue", q}},
                        [this, pending, busy, failed](Result<json> r) {
                            // inuse: elements QEMU took but has not written out yet.
                            if (!r)
                                *failed = true;
                            else if (r->value("inuse", 0) != 0 ||
                                     r->value("last-avail-idx", 0) != r->value("shadow-avail-idx", 0))
                                *busy = true;
                            if (--*pending) return;
                            drain_query_out = false;
                            if (!*busy || *failed) return finish_drain();  // failed: cannot tell, do not hang
                            // Not yet: more output will arrive (and ask again); a timer
                            // covers a queue that empties without further output.
                            if (!drain_timer)
                                drain_timer = loop.timer(std::chrono::milliseconds(20), [this](int) {
                                    drain_timer = 0;
                                    query_drain();
                                });
                        });
        }
    }

    void finish_drain()
    {
        if (drained) return;
        drained = true;
        if (ctl_sink) ctl_sink->write(FLEET_CTL_DRAINED "\n");
    }

    void execute_qmp(const std::string& cmd, json args, QmpClient::Reply reply)
    {
        if (!qmp) return reply(fail("no monitor"));
        qmp->execute(cmd, std::move(args), std::move(reply));
    }

    void on_ctl(std::string_view bytes)
    {
        for (char c : bytes) {
            if (c != '\n') {
                if (ctl_line.size() < FLEET_CTL_LINE_MAX) ctl_line += c;
                continue;
            }
            std::string_view line = ctl_line;
            constexpr std::string_view exit_word = FLEET_CTL_EXIT " ";
            if (line == FLEET_CTL_READY) {
                mark_ready();
            } else if (line == FLEET_CTL_WAITING && exec_deferred) {
                waiting = true;
                if (boot_timer) loop.cancel(std::exchange(boot_timer, 0));  // booted: it waits for its program
                if (hooks.waiting) hooks.waiting();
            } else if (line.starts_with(exit_word)) {
                int v = -1;
                auto num = line.substr(exit_word.size());
                auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), v);
                if (ec == std::errc() && p == num.data() + num.size() && v >= 0 && v <= FLEET_EXIT_STATUS_MAX)
                    reported_status = v;
                if (drain_wanted && !draining) start_drain();
            }
            ctl_line.clear();
        }
    }

    void on_qemu_message(std::string_view bytes)
    {
        qemu_messages.append(bytes);
        if (qemu_messages.size() > 4096) qemu_messages.erase(0, qemu_messages.size() - 4096);
        if (qemu_log_fd >= 0) (void)!::write(qemu_log_fd, bytes.data(), bytes.size());
    }

    // Keep one read outstanding on a channel; stop at end of file. While
    // output is held, stdout/stderr reads are parked (not re-armed) so a slow
    // reader slows the guest instead of growing our buffers.
    void pump(Fd& fd, OpId& op, std::function<void(std::string_view)> sink, bool holdable = false)
    {
        if (holdable && output_held) {
            parked.push_back([this, &fd, &op, sink] { pump(fd, op, sink, true); });
            return;
        }
        op = loop.read(fd.get(), 64 * 1024, [this, &fd, &op, sink, holdable](int res, std::span<const char> data) {
            op = 0;
            if (res <= 0) return;  // EOF or error: QEMU is going away; exit is seen on the pidfd
            sink(std::string_view(data.data(), data.size()));
            pump(fd, op, sink, holdable);
        });
    }

    void hold_output(bool hold)
    {
        if (hold && draining) return;  // the guest waits for us to take it all
        output_held = hold;
        if (hold) return;
        auto resume = std::move(parked);
        parked.clear();
        for (auto& fn : resume) fn();
    }

    // Synchronously take whatever is still buffered (the process has ended).
    static void drain(Fd& fd, const std::function<void(std::string_view)>& sink)
    {
        if (!fd) return;
        char buf[64 * 1024];
        for (;;) {
            ssize_t n = ::read(fd.get(), buf, sizeof buf);
            if (n <= 0) return;
            sink(std::string_view(buf, static_cast<std::size_t>(n)));
        }
    }

    void on_event(const QmpMessage& m)
    {
        if (m.event == "STOP" && state != VmState::stopping)
            set_state(VmState::paused);
        else if (m.event == "RESUME" && state != VmState::stopping) {
            set_state(ready ? VmState::running : VmState::starting);
            arm_boot_timer();  // a VM created paused boots now, whoever sent the cont
        } else if (m.event == "SHUTDOWN")
            shutdown = m.value;
        else if (m.event == "GUEST_PANICKED")
            panicked = true;
        else if (m.event == "POWERDOWN")
            stop_requested = true;  // pressed by anyone, through any monitor
        if (hooks.event) hooks.event(m);
    }

    void arm_boot_timer()
    {
        if (ready || boot_timer || (exec_deferred && waiting)) return;
        boot_timer = loop.timer(spec.boot_timeout, [this](int) {
            boot_timer = 0;
            if (ready) return;
            boot_timed_out = true;
            signal(SIGKILL);
        });
    }

    void signal(int sig) { ::syscall(SYS_pidfd_send_signal, child.pidfd.get(), sig, nullptr, 0); }

    ExitInfo exit_info(const ExitStatus& st) const
    {
        ExitFacts f;
        f.name = spec.name;
        f.accel = accel;
        f.boot_timeout = spec.boot_timeout;
        f.qemu = st;
        f.reported = reported_status;
        f.boot_timed_out = boot_timed_out;
        f.panicked = panicked;
        f.stdout_gone = stdout_gone;
        f.kill_requested = kill_requested;
        f.stop_requested = stop_requested;
        f.shutdown_seen = shutdown.is_object();
        f.shutdown_by_guest = f.shutdown_seen && shutdown.value("guest", false);
        f.shutdown_reason = f.shutdown_seen ? shutdown.value("reason", "") : "";
        f.qemu_messages = qemu_messages;
        return decide_exit(f);
    }

    void on_exit()
    {
        for (OpId* op : {&out_op, &err_op, &ctl_op, &log_op, &console_op, &boot_timer, &stop_timer, &drain_timer})
            if (*op) loop.cancel(std::exchange(*op, 0));
        stdin_sink.reset();
        ctl_sink.reset();
        drain(ctl, [this](std::string_view b) { on_ctl(b); });
        drain(console, [this](std::string_view b) { on_output(3, b); });
        drain(out, [this](std::string_view b) { on_output(1, b); });
        drain(err, [this](std::string_view b) { on_output(2, b); });
        drain(qemu_stderr, [this](std::string_view b) { on_qemu_message(b); });
        qmp.reset();
        auto st = reap(child);
        ExitInfo info = st ? exit_info(*st) : ExitInfo{ExitReason::crashed, 125, st.error().what()};
        state = VmState::exited;
        if (hooks.state_changed) hooks.state_changed(state);
        if (hooks.exited) hooks.exited(info);
    }
};

Vm::Vm(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Vm::~Vm()
{
    if (!impl_) return;
    Impl& m = *impl_;
    for (OpId op :
         {m.out_op, m.err_op, m.ctl_op, m.log_op, m.console_op, m.exit_op, m.boot_timer, m.stop_timer, m.drain_timer})
        if (op) m.loop.cancel(op);
    m.stdin_sink.reset();
    m.ctl_sink.reset();
    if (m.state != VmState::exited && m.child.pidfd) {
        // A Vm dropped while its QEMU runs: do not leave the process behind.
        m.signal(SIGKILL);
        (void)reap(m.child);
    }
}

Result<std::unique_ptr<Vm>> Vm::launch(Loop& loop, VmSpec spec, const LaunchOptions& options, VmHooks hooks)
{
    auto qemu = find_program(options.qemu);
    if (!qemu) return fail(qemu.error().message + " (install Debian's qemu-system-x86, or point FLEET_QEMU at QEMU)");
    if (auto v = validate(spec); !v) return std::unexpected(v.error());
    auto block = exec_block_now(spec);
    if (!block) return std::unexpected(block.error());
    // Not settled by the caller (accel.hpp): decide here; a guest with an
    // initrd is taken for Linux, another virtio guest for a runtime one.
    if (spec.accel == Accel::automatic || spec.cpu.empty()) {
        AccelContext ctx{*qemu, runtime_of(options), catalog_dirs("")};
        GuestKind kind = !spec.initrd.empty()              ? GuestKind::linux_image
                         : spec.stdio == StdioKind::virtio ? GuestKind::runtime
                                                           : GuestKind::tiny;
        auto accel = resolve_accel(spec.accel, spec, kind, ctx);
        if (!accel) return std::unexpected(accel.error());
        spec.accel = accel->accel;
        spec.cpu = accel->cpu;
    }

    std::string incoming = choose_incoming(spec, options, *qemu, hooks);
    Fd incoming_fd;
    if (!incoming.empty()) {
        incoming_fd = Fd(::open(incoming.c_str(), O_RDONLY | O_CLOEXEC));
        if (!incoming_fd) return fail_errno("cannot open the snapshot " + incoming);
        std::string line = "fleet-vmm: restoring from snapshot " + incoming + "\n";
        if (options.qemu_log_fd >= 0) (void)!::write(options.qemu_log_fd, line.data(), line.size());
    }

    auto impl = std::make_unique<Impl>(loop);
    Impl& m = *impl;
    m.spec = std::move(spec);
    m.hooks = std::move(hooks);
    m.accel = m.spec.accel;
    m.qemu_log_fd = options.qemu_log_fd;
    m.drain_wanted = m.spec.stdio == StdioKind::virtio && m.spec.drain;

    bool virtio = m.spec.stdio == StdioKind::virtio;
    auto qmp = socket_pair(), out = socket_pair(), err = socket_pair(), ctl = socket_pair();
    auto in = virtio ? socket_pair() : Result<Pair>(Pair{}), console = virtio ? socket_pair() : Result<Pair>(Pair{});
    for (auto* p : {&qmp, &out, &err, &ctl, &in, &console})
        if (!*p) return std::unexpected(p->error());
    int logpipe[2];
    if (::pipe2(logpipe, O_CLOEXEC) != 0) return fail_errno("cannot create a pipe");
    Fd log_rd(logpipe[0]), log_wr(logpipe[1]);
    ::fcntl(log_rd.get(), F_SETFL, O_NONBLOCK);

    Wiring w;
    w.qmp = "socket,fd=" + std::to_string(child_qmp);
    w.qmp_public = options.public_qmp_path;
    w.out = "socket,fd=" + std::to_string(child_out);
    w.err = "socket,fd=" + std::to_string(child_err);
    w.ctl = "socket,fd=" + std::to_string(child_ctl);
    if (virtio) {
        w.in = "socket,fd=" + std::to_string(child_in);
        w.console = "socket,fd=" + std::to_string(child_console);
    }
    if (incoming_fd) w.incoming = "fd:" + std::to_string(child_incoming);
    // Under root QEMU runs as its own user and is handed its files (confine.hpp).
    auto run_as = qemu_credentials();
    if (!run_as) return std::unexpected(run_as.error());
    VmSpec argv_spec = m.spec;
    Confinement confined;
    if (*run_as) {
        auto c = confine_files(argv_spec, w, options.public_qmp_path);
        if (!c) return std::unexpected(c.error());
        confined = std::move(*c);
    }
    m.argv = qemu_argv(*qemu, argv_spec, m.accel, w);

    SpawnOptions so;
    so.argv = m.argv;
    so.pass_fds = {{qmp->guest.get(), child_qmp},
                   {out->guest.get(), child_out},
                   {err->guest.get(), child_err},
                   {ctl->guest.get(), child_ctl}};
    if (virtio) {
        so.pass_fds.emplace_back(in->guest.get(), child_in);
        so.pass_fds.emplace_back(console->guest.get(), child_console);
    }
    if (incoming_fd) so.pass_fds.emplace_back(incoming_fd.get(), child_incoming);
    for (std::size_t i = 0; i < m.spec.nets.size(); ++i)
        so.pass_fds.emplace_back(m.spec.nets[i].tap_fd, child_tap_fd_base + static_cast<int>(i));
    so.pass_fds.insert(so.pass_fds.end(), confined.pass_fds.begin(), confined.pass_fds.end());
    so.run_as = *run_as;
    so.stderr_fd = log_wr.get();
    so.stdout_fd = log_wr.get();
    so.parent_death_signal = SIGKILL;  // a VM never outlives the process that owns it
    // Its own session: the terminal's Ctrl-C, Ctrl-Z and hangup go to the
    // process that owns the VM, which tells the program (QEMU would quit).
    so.new_session = true;
    auto child = spawn(so);
    if (!child) return fail(child.error().what());
    m.child = std::move(*child);
    m.out = std::move(out->host);
    m.err = std::move(err->host);
    m.ctl = std::move(ctl->host);
    m.qemu_stderr = std::move(log_rd);
    m.in = std::move(in->host);
    m.console = std::move(console->host);
    // Guest stdin: isa guests read it from COM1, virtio guests from fleet.stdin.
    m.stdin_sink = std::make_unique<Sink>(loop, virtio ? m.in.get() : m.out.get());
    // The exec block goes into the pre-connected ctl socket now: the guest
    // finds it there when it asks, with no round trip.
    m.ctl_sink = std::make_unique<Sink>(loop, m.ctl.get());
    m.exec_deferred = options.defer_exec;
    if (!m.exec_deferred) m.ctl_sink->write(FLEET_EXEC_PREAMBLE + std::move(*block));

    Impl* self = &m;
    m.qmp = std::make_unique<QmpClient>(
        loop, std::move(qmp->host), [self](const QmpMessage& ev) { self->on_event(ev); },
        [](const Error&) { /* the end is seen on the pidfd */ });
    m.pump(
        m.out, m.out_op, [self](std::string_view b) { self->on_output(1, b); }, true);
    m.pump(
        m.err, m.err_op, [self](std::string_view b) { self->on_output(2, b); }, true);
    m.pump(m.ctl, m.ctl_op, [self](std::string_view b) { self->on_ctl(b); });
    m.pump(m.qemu_stderr, m.log_op, [self](std::string_view b) { self->on_qemu_message(b); });
    if (m.console) m.pump(m.console, m.console_op, [self](std::string_view b) { self->on_output(3, b); });
    m.exit_op = loop.poll(m.child.pidfd.get(), POLLIN, [self](int) {
        self->exit_op = 0;
        self->on_exit();
    });
    if (m.spec.start_paused) {
        m.qmp->on_ready([self] {
            if (self->state == VmState::starting) self->set_state(VmState::paused);
        });
    } else {
        m.arm_boot_timer();
    }
    return std::unique_ptr<Vm>(new Vm(std::move(impl)));
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
        m.signal(SIGKILL);
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
    VmSpec with = m.spec;
    with.name = program.name;
    with.args = program.args;
    with.env = program.env;
    with.workdir = program.workdir;
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
    // records it), which must not delay the guest's power-off.
    execute("system_powerdown", json(), [](Result<json>) {});
    m.set_state(VmState::stopping);
    Impl* self = &m;
    m.stop_timer = m.loop.timer(deadline, [self](int) {
        self->stop_timer = 0;
        self->kill_requested = true;
        self->signal(SIGKILL);
    });
}

void Vm::signal_program(int sig)
{
    Impl& m = *impl_;
    if (m.state == VmState::exited || !m.ctl_sink || sig < 1 || sig > FLEET_SIGNAL_MAX) return;
    m.ctl_sink->write(std::string(FLEET_CTL_SIGNAL " ") + std::to_string(sig) + "\n");
}

void Vm::kill()
{
    if (impl_->state == VmState::exited) return;
    if (impl_->boot_timer) impl_->loop.cancel(std::exchange(impl_->boot_timer, 0));
    impl_->kill_requested = true;
    impl_->signal(SIGKILL);
}

}  // namespace fleet::vmm
