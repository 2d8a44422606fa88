// fleet — the per-VM supervisor (see supervisor.hpp).
#include <fleet/vmm/supervisor.hpp>

#include "supervisor_impl.hpp"

#include <fleet/base/process.hpp>
#include <fleet/base/rotating_log.hpp>
#include <fleet/base/sink.hpp>
#include <fleet/base/socket.hpp>

#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstring>
#include <list>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace fleet::vmm {

namespace detail {

std::int64_t now_ms()
{
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

void write_all(int fd, std::string_view bytes)
{
    while (!bytes.empty()) {
        ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
}

Result<> Supervisor::setup_signals()
{
    sigset_t set;
    sigemptyset(&set);
    for (int s : {SIGTERM, SIGINT, SIGHUP, SIGUSR1, program_signal_request, SIGWINCH, terminal_size_request()})
        sigaddset(&set, s);
    if (!o_.detached)  // foreground and pooled (the claimant's Ctrl-Z comes as a line)
        for (int s : {SIGTSTP, SIGCONT}) sigaddset(&set, s);
    if (::sigprocmask(SIG_BLOCK, &set, nullptr) != 0) return fail_errno("cannot block signals");
    signal_fd_ = Fd(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!signal_fd_) return fail_errno("cannot create a signalfd");
    ::signal(SIGPIPE, SIG_IGN);  // a closed stdout or console is an EPIPE, not a death
    watch_signals();
    return {};
}

void Supervisor::watch_signals()
{
    signal_op_ = loop_->read(signal_fd_.get(), sizeof(signalfd_siginfo), [this](int res, std::span<const char> d) {
        signal_op_ = 0;
        if (res == sizeof(signalfd_siginfo)) {
            signalfd_siginfo si;
            std::memcpy(&si, d.data(), sizeof si);
            on_signal(si);
        }
        if (!ended_) watch_signals();
    });
}

// Our own end, once the VM's, is quick for whoever waits on it (the shell,
// the router): an heir tears down this process's memory after (base
// spawn_exit_heir). Made once the guest is ready, when nothing waits on
// us; not at a stop or kill, where the clone would slow QEMU's own end
// (docs/cold-path.md), so a VM ended before it was ready has none.
void Supervisor::hasten_own_end()
{
    if (heir_asked_) return;
    heir_asked_ = true;
    (void)spawn_exit_heir("fleet-vmm-heir");  // without one, only slower
}

void Supervisor::on_signal(const signalfd_siginfo& si)
{
    if (!vm_) return;
    // Not requests to end: the terminal's size, from stdin or as told.
    if (si.ssi_signo == SIGWINCH) return send_terminal_size(false);
    if (static_cast<int>(si.ssi_signo) == terminal_size_request()) return resize_terminal(si.ssi_int);
    if (pooled() && !claimed_) {  // no program yet: any request to end ends it now
        if (si.ssi_signo != SIGTSTP && si.ssi_signo != SIGCONT) vm_->kill();
        return;
    }
    if (si.ssi_signo == SIGUSR1) return kill_now();
    if (si.ssi_signo == program_signal_request)
        return deliver(si.ssi_int & 127, std::chrono::milliseconds(si.ssi_int >> 7));
    if (si.ssi_signo == SIGTSTP) {
        if (vm_->state() != VmState::running) return suspend_self();
        suspending_ = true;
        vm_->pause();  // stops this process once the guest is paused
        return;
    }
    if (si.ssi_signo == SIGCONT) return resume_self();
    if (si.ssi_signo == SIGINT) {
        interrupted_ = true;
        // Ctrl-C: the program gets SIGINT first, like a process in a shell.
        if (!sigint_delivered_) {
            sigint_delivered_ = true;
            return vm_->signal_program(SIGINT);
        }
    }
    if (vm_->state() == VmState::stopping) return kill_now();  // asked twice: do not wait any longer
    auto deadline = o_.stop_deadline;
    if (si.ssi_code == SI_QUEUE && si.ssi_int > 0) deadline = std::chrono::milliseconds(si.ssi_int);
    vm_->stop(deadline);
}

// SIGKILL to QEMU, and what its end would clean up done while it dies
// (tearing down its memory takes milliseconds, on another CPU): the sockets
// go, and a --rm VM's record and logs, but not its folder, which keeps the
// name taken until QEMU is gone (serve).
void Supervisor::kill_now()
{
    vm_->kill();
    unlink_sockets();
    if (!o_.auto_remove) return;
    (void)store_.clear(o_.spec.name);
    // The logs' last close now too (a file system's release of the inode:
    // ~0.15 ms on ext4). The VM relays QEMU's messages to vmm_log_'s fd
    // number (LaunchOptions::qemu_log_fd): it stays open, on /dev/null.
    kernel_log_.reset();
    console_log_.reset();
    if (Fd null{::open("/dev/null", O_WRONLY | O_CLOEXEC)}; null && vmm_log_)
        ::dup3(null.get(), vmm_log_.get(), O_CLOEXEC);
}

// The public monitor's and the console's sockets: nobody can connect to
// an ended VM.
void Supervisor::unlink_sockets() const
{
    ::unlink((dir_ + "/qmp.sock").c_str());
    ::unlink((dir_ + "/console.sock").c_str());
}

void Supervisor::suspend_self()
{
    suspending_ = false;
    if (!claimed_) {
        if (raw_) raw_->restore();  // the shell gets its terminal back as it left it
        ::raise(SIGSTOP);           // the stop the default SIGTSTP action would have been
        return;
    }
    // The claimant stands in for the VM: it stops itself. Meanwhile the
    // terminal belongs to its shell, so take no more of its input.
    if (stdin_op_) loop_->cancel(std::exchange(stdin_op_, 0));
    tell_claimant({ClaimEvent::stopped, 0, false, {}});
}

void Supervisor::resume_self()
{
    if (std::exchange(paused_for_tstp_, false)) vm_->resume();
    // The size again, changed or not: the guest's terminal signals the
    // program either way, so a full-screen one redraws after fg.
    if (raw_ && !raw_->active() && raw_->apply()) send_terminal_size(true);
    if (claimed_ && o_.spec.tty) send_terminal_size(true);
    if (claimed_ && o_.forward_stdin && !stdin_op_ && stdin_waiting_.empty()) read_stdin();
}

// The terminal's size to the program's (SIGWINCH): read from the guest's
// stdin, ours or the claimant's; unless `again`, only a size the program
// has not been told (each winsize line signals it: images/README.md).
void Supervisor::send_terminal_size(bool again)
{
    if (auto size = terminal_size(stdio_fd(0))) tell_terminal_size({size->rows, size->cols}, again);
}

// A size told with terminal_size_request (the router's client's terminal,
// a console's): always sent on, as its sender asks for a redraw too.
void Supervisor::resize_terminal(int value)
{
    tell_terminal_size({static_cast<std::uint16_t>(value >> 16), static_cast<std::uint16_t>(value & 0xffff)}, true);
}

// The one way a size reaches the guest: unless `again`, only one the
// program has not been told yet (the start's is the exec block's).
void Supervisor::tell_terminal_size(std::pair<std::uint16_t, std::uint16_t> size, bool again)
{
    if (!vm_ || !o_.spec.tty || (pooled() && !claimed_)) return;
    if (!told_) told_ = std::pair{o_.spec.tty->rows, o_.spec.tty->cols};
    if (!again && *told_ == size) return;
    told_ = size;
    vm_->resize_terminal(size.first, size.second);
}

void Supervisor::deliver(int sig, std::chrono::milliseconds stop_after)
{
    vm_->signal_program(sig);
    if (stop_after.count() <= 0 || stop_timer_) return;
    stop_timer_ = loop_->timer(stop_after, [this](int) {
        stop_timer_ = 0;
        if (vm_ && vm_->state() != VmState::stopping) vm_->stop(o_.stop_deadline);
    });
}

Result<> Supervisor::setup_detached()
{
    const std::string& dir = dir_;
    auto log = RotatingLog::open(dir + "/console.log", o_.log_max_size, o_.log_backups);
    if (!log) return std::unexpected(log.error());
    console_log_ = std::move(*log);
    auto listener = listen_unix(dir + "/console.sock");
    if (!listener) return std::unexpected(listener.error());
    console_listen_ = std::move(*listener);
    accept_console();
    return {};
}

void Supervisor::accept_console()
{
    accept_op_ = loop_->accept(console_listen_.get(), [this](int res) {
        accept_op_ = 0;
        if (ended_) {
            if (res >= 0) ::close(res);
            return;
        }
        if (res >= 0) {
            auto& c = clients_.emplace_back();
            c.fd = Fd(res);
            ConsoleClient* cp = &c;
            c.sink = std::make_unique<Sink>(*loop_, res, [cp](int) { cp->dead = true; });
            read_console(c);
        } else if (res == -EMFILE || res == -ENFILE || res == -ENOBUFS || res == -ENOMEM) {
            // Out of fds: accepting again at once fails again at once (100%
            // CPU). Back off; the client waits in the backlog.
            accept_backoff_ =
                std::clamp(accept_backoff_ * 2, std::chrono::milliseconds(50), std::chrono::milliseconds(1000));
            accept_op_ = loop_->timer(accept_backoff_, [this](int) { accept_console(); });
            return;
        }
        accept_backoff_ = std::chrono::milliseconds(0);
        accept_console();
    });
}

void Supervisor::read_console(ConsoleClient& c)
{
    c.read_op = loop_->read(c.fd.get(), 4096, [this, &c](int res, std::span<const char> d) {
        c.read_op = 0;
        if (res <= 0 || !vm_) {
            c.dead = true;
            clients_.remove_if([](const ConsoleClient& x) { return x.dead && x.sink->idle(); });
            return;
        }
        vm_->write_stdin(std::string(d.data(), d.size()));
        after_stdin_taken([this, &c] { read_console(c); });
    });
}

void Supervisor::read_stdin()
{
    stdin_op_ = loop_->read(in_fd_, 64 * 1024, [this](int res, std::span<const char> d) {
        stdin_op_ = 0;
        if (!vm_) return;
        if (res <= 0) return vm_->close_stdin();  // isa guests cannot be told
        vm_->write_stdin(std::string(d.data(), d.size()));
        after_stdin_taken([this] { read_stdin(); });
    });
}

// Read more input only once the guest has taken most of what it was given:
// a guest that reads slowly (or never) must not make us buffer a whole pipe.
void Supervisor::after_stdin_taken(std::function<void()> resume)
{
    if (!vm_ || vm_->stdin_queued() <= max_queued) return resume();
    stdin_waiting_.push_back(std::move(resume));
    if (stdin_wait_armed_) return;
    stdin_wait_armed_ = true;
    vm_->when_stdin_taken([this] {
        stdin_wait_armed_ = false;
        for (auto& f : std::exchange(stdin_waiting_, {})) f();
    });
}

void Supervisor::on_output(int stream, std::string_view bytes)
{
    if (stream == 3) {  // the console: kernel messages, kept beside the VM
        if (kernel_log_) kernel_log_->write(bytes);
        return;
    }
    if (out_) {  // the foreground's stdio, a claimant's or a run's
        Sink& sink = *(stream == 1 ? out_ : err_);
        sink.write(std::string(bytes));
        if (sink.queued() > max_queued && vm_) {  // the terminal or pipe is slower than the guest
            vm_->hold_output(true);
            sink.when_idle([this] {
                if (vm_) vm_->hold_output(false);
            });
        }
        return;
    }
    if (console_log_) console_log_->write(bytes);
    for (auto& c : clients_) {
        if (c.dead) continue;
        if (c.sink->queued() > (4u << 20)) {  // a console that does not read is dropped
            c.dead = true;
            ::shutdown(c.fd.get(), SHUT_RDWR);
            continue;
        }
        c.sink->write(std::string(bytes));
    }
}

void Supervisor::tell_starter(const std::string& line)
{
    if (o_.ready_fd < 0) return;
    write_all(o_.ready_fd, line + "\n");
    ::close(o_.ready_fd);
    o_.ready_fd = -1;
}

void Supervisor::save()
{
    if (auto w = store_.write(rec_); !w && vmm_log_) write_all(vmm_log_.get(), "fleet-vmm: " + w.error().what() + "\n");
}

void Supervisor::on_exit(const ExitInfo& info)
{
    raw_.reset();  // the shell's terminal as it was, before any message of ours
    ended_ = info;
    rec_.state = VmState::exited;
    rec_.exit_reason = info.reason;
    rec_.exit_status = info.status;
    rec_.exit_message = info.message;
    rec_.ended_at_ms = now_ms();
    if (vmm_log_) write_all(vmm_log_.get(), "fleet-vmm: " + info.message + "\n");
    tell_starter("error " + info.message);  // only if it never became ready
    if (pooled() && !claimed_) tell_pool("error " + info.message);
}

int Supervisor::fail_start(const Error& e)
{
    raw_.reset();
    std::string msg = e.what();
    if (pooled() && !claimed_) {  // no claimant yet, nor a folder in the store
        tell_pool("error " + msg);
        return 125;
    }
    if (claimed_)
        tell_claimant({ClaimEvent::exit, 125, true, msg});
    else if (o_.detached)
        tell_starter("error " + msg);
    else
        std::fprintf(stderr, "fleet-vmm: %s\n", msg.c_str());
    rec_.name = o_.spec.name;
    rec_.state = VmState::exited;
    rec_.exit_reason = ExitReason::launch_failed;
    rec_.exit_status = 125;
    rec_.exit_message = msg;
    rec_.ended_at_ms = now_ms();
    if (o_.auto_remove)
        (void)store_.remove(o_.spec.name);
    else
        save();
    return 125;
}

// The loop, signals, the logs and the VM's stdio, before QEMU starts.
Result<> Supervisor::prepare()
{
    auto loop = Loop::create();
    if (!loop) return std::unexpected(loop.error());
    loop_ = std::move(*loop);
    if (auto s = setup_signals(); !s) return s;
    dir_ = pooled() ? o_.pool.dir + "/slots/" + o_.pool.slot : store_.dir(o_.spec.name);
    if (pooled())
        if (auto p = setup_pool(); !p) return p;
    vmm_log_ = Fd(::open((dir_ + "/vmm.log").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
    if (o_.spec.stdio == StdioKind::virtio)
        if (auto k = RotatingLog::open(dir_ + "/kernel.log", o_.log_max_size, o_.log_backups))
            kernel_log_ = std::move(*k);
    if (o_.detached && !o_.stdio_fds) return setup_detached();
    if (!pooled()) setup_foreground_io();
    return {};
}

void Supervisor::end_stdio()
{
    out_.reset();
    err_.reset();
    if (stdin_op_) loop_->cancel(std::exchange(stdin_op_, 0));
    int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0) return;
    for (int n : {1, 2, 0}) {
        int fd = stdio_fd(n);
        ::dup3(devnull, fd, fd > 2 ? O_CLOEXEC : 0);
    }
    ::close(devnull);
}

void Supervisor::setup_foreground_io()
{
    int out = stdio_fd(1), err = stdio_fd(2);
    out_ = std::make_unique<Sink>(*loop_, out, [this](int) {
        if (vm_) vm_->close_stdout();  // nobody reads our stdout any more
    });
    err_ = std::make_unique<Sink>(*loop_, err);
}

Result<> Supervisor::launch()
{
    VmHooks hooks;
    hooks.output = [this](int stream, std::string_view b) { on_output(stream, b); };
    hooks.ready = [this] {
        // Keys go to the guest's terminal as typed, once its program runs
        // (our own messages before it keep their line ends); Ctrl-Z still
        // stops this run (the VM pauses), as it stops any job.
        if (o_.spec.tty && !claimed_ && !o_.detached) {
            raw_.emplace(0, true);
            send_terminal_size(false);  // resized while it booted?
        }
        tell_starter("ready");
        if (claimed_) tell_claimant({ClaimEvent::ready, 0, false, {}});
        hasten_own_end();
    };
    hooks.state_changed = [this](VmState s) {
        if (s == VmState::exited) return;  // on_exit writes the full ending
        rec_.state = s;
        if (!pooled() || claimed_) save();
        if (s == VmState::paused) tell_starter("ready");  // created --paused: as ready as it gets
        if (s == VmState::paused && suspending_) {
            paused_for_tstp_ = true;
            suspend_self();
        }
    };
    hooks.exited = [this](const ExitInfo& info) { on_exit(info); };
    if (pooled()) hooks.waiting = [this] { publish_idle(); };
    hooks.note = [this](const std::string& note) {
        if (!o_.detached) std::fprintf(stderr, "fleet-vmm: %s\n", note.c_str());
        if (vmm_log_) write_all(vmm_log_.get(), "fleet-vmm: " + note + "\n");
    };
    if (o_.launch.runtime_dir.empty()) o_.launch.runtime_dir = store_.runtime_dir();
    o_.launch.public_qmp_path = dir_ + "/qmp.sock";
    o_.launch.qemu_log_fd = vmm_log_.get();
    o_.launch.qemu_log_max = o_.log_max_size;  // as much of QEMU's as console.log keeps of the console
    o_.launch.defer_exec = pooled();
    auto vm = Vm::launch(*loop_, o_.spec, o_.launch, std::move(hooks));
    if (!vm) return std::unexpected(vm.error());
    vm_ = std::move(*vm);
    return {};
}

void Supervisor::fill_record()
{
    rec_.name = o_.spec.name;
    rec_.state = vm_->state();
    rec_.image = o_.image;
    rec_.kernel = o_.spec.kernel;
    rec_.accel = vm_->accel();
    rec_.cpu = vm_->spec().cpu;
    rec_.memory_mib = o_.spec.memory_mib;
    rec_.vcpus = o_.spec.vcpus;
    for (const auto& n : vm_->spec().nets)
        rec_.networks.push_back(n.tap_name + " " + n.mac + (n.ipv4.empty() ? "" : " " + n.ipv4));
    rec_.pid = vm_->pid();
    rec_.pid_start = proc_info(vm_->pid()).value_or(ProcInfo{}).start_time;
    rec_.supervisor_pid = ::getpid();
    rec_.supervisor_start = proc_info(::getpid()).value_or(ProcInfo{}).start_time;
    rec_.started_at_ms = now_ms();
    rec_.auto_remove = o_.auto_remove;
    rec_.detached = o_.detached;
    rec_.tty = o_.spec.tty.has_value();
}

// Until the VM ends: then its output flushed, its record final, the status.
int Supervisor::serve()
{
    auto ran = loop_->run_until([this] { return ended_.has_value(); });
    // Let what the guest printed reach the terminal or the console clients.
    if (ran && out_) ran = loop_->run_until([this] { return out_->idle() && err_->idle(); });
    // A router's run: the next stage sees end of file now, not once this
    // process has torn down the VM and written its record (each stage of a
    // pipeline would otherwise wait for every earlier one's teardown).
    if (o_.stdio_fds && out_) end_stdio();
    for (OpId op : {signal_op_, accept_op_, stdin_op_, stop_timer_, claim_op_, claimant_op_})
        if (op) loop_->cancel(op);
    clients_.clear();
    vm_.reset();
    if (!ran && !ended_) return fail_start(ran.error());
    if (pooled() && !claimed_) return 125;  // ended while it waited: nothing to record

    unlink_sockets();
    if (o_.auto_remove)
        (void)store_.remove(o_.spec.name);
    else
        save();
    const ExitInfo& info = *ended_;
    if (o_.detached) return info.status;
    auto fg = foreground_exit(info, interrupted_);
    if (claimed_) {
        tell_claimant({ClaimEvent::exit, fg.status, fg.report, info.message});
        return fg.status;
    }
    if (fg.report) std::fprintf(stderr, "fleet-vmm: %s\n", info.message.c_str());
    return fg.status;
}

int Supervisor::run()
{
    // The heap is never handed back piecemeal: it is small (every buffer a
    // guest or client can grow is bounded), our exit leaves it to the heir,
    // and the VM's buffers freed as it ends made malloc shrink it then, on
    // the path of the end: 70-130 us (docs/cold-path.md, Teardown).
    ::mallopt(M_TRIM_THRESHOLD, 64 << 20);
    if (auto p = prepare(); !p) return fail_start(p.error());
    if (auto l = launch(); !l) return fail_start(l.error());
    fill_record();
    if (pooled()) return serve();  // the claim starts its stdio (pooled.cpp)
    save();
    if ((!o_.detached || o_.stdio_fds) && o_.forward_stdin) read_stdin();
    if (!o_.forward_stdin) vm_->close_stdin();
    return serve();
}

}  // namespace detail

int terminal_size_request()
{
    return SIGRTMIN + 1;
}

int terminal_size_value(std::uint16_t rows, std::uint16_t cols)
{
    return static_cast<int>((std::min<unsigned>(rows, 0x7fff) << 16) | cols);
}

int request_terminal_size(int pidfd, pid_t pid, std::uint16_t rows, std::uint16_t cols)
{
    const int value = terminal_size_value(rows, cols);
    if (pidfd >= 0) return queue_signal(pidfd, terminal_size_request(), value);
    sigval v{};
    v.sival_int = value;
    return ::sigqueue(pid, terminal_size_request(), v) == 0 ? 0 : errno;
}

int program_signal_value(int sig, std::chrono::milliseconds stop_after)
{
    long long ms = std::clamp<long long>(stop_after.count(), 0, (0x7fffffffLL >> 7));
    return static_cast<int>((ms << 7) | (sig & 127));
}

std::optional<int> parse_signal(std::string_view text)
{
    int n = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec == std::errc() && p == text.data() + text.size()) {
        if (n >= 1 && n <= 64) return n;
        return std::nullopt;
    }
    std::string upper;
    for (char c : text) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (upper.starts_with("SIG")) upper.erase(0, 3);
    for (int s = 1; s < 32; ++s) {
        const char* abbrev = ::sigabbrev_np(s);
        if (abbrev && upper == abbrev) return s;
    }
    return std::nullopt;
}

int supervise(const Store& store, SupervisorOptions options)
{
    detail::Supervisor s(store, std::move(options));
    return s.run();
}

}  // namespace fleet::vmm
