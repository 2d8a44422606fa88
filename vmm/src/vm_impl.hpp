// fleet — a Vm's inside (vm.hpp): the state vm.cpp (the Vm's methods) and
// vm_launch.cpp (QEMU's channels, argv and process) share. Private.
#pragma once

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

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>

namespace fleet::vmm::vm_detail {

// Child fd numbers for the channels (cmdline "socket,fd=N").
inline constexpr int child_qmp = 3, child_out = 4, child_err = 5, child_ctl = 6, child_in = 7, child_console = 8,
                     child_incoming = 9, child_ram = 28, child_exec_block = 29,
                     child_hypervisor = 30;  // 30, 31, ...: the channel's ports

struct Pair {
    Fd host, guest;
};

// What a restore starts from (snapshot.hpp): the snapshot file, its offset
// at QEMU's stream, and the guest's RAM: the file itself, mapped privately
// (ram_private), or a copy of its RAM being made (fill). All empty: boot.
struct Incoming {
    Fd stream, ram;
    bool ram_private = false;
    std::unique_ptr<RamFill> fill;
};

// Every channel between the launcher and QEMU: socket pairs (the guest end
// is QEMU's) and the pipe QEMU's own messages come through.
struct Channels {
    Pair qmp, out, err, ctl, in, console;  // in, console: virtio guests only
    Fd log_rd, log_wr;
    Fd exec_block;  // the exec block as fw_cfg's file (VmSpec::exec_fw_cfg); empty: it goes on ctl
    Incoming restore;
};

Result<Pair> socket_pair();
std::string runtime_of(const LaunchOptions& options);
// The saved boot a spec restores from ("": boot it). A snapshot that cannot
// be used is a note, never an error: the guest boots cold.
std::string choose_incoming(const VmSpec& spec, const LaunchOptions& options, const std::string& qemu,
                            const VmHooks& hooks);
// The exec block as the launcher sends it: with the host trailer (a fresh
// seed and the clock), which a restored guest needs.
Result<std::string> exec_block_now(const VmSpec& spec);

}  // namespace fleet::vmm::vm_detail

namespace fleet::vmm {

using vm_detail::Channels;

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
    std::string ctl_held;            // lines for an isa guest not yet ready (send_line)
    bool stdin_closing = false;
    bool output_held = false;
    std::vector<std::function<void()>> parked;
    int qemu_log_fd = -1;
    std::size_t qemu_log_max = 0, qemu_logged = 0;  // LaunchOptions::qemu_log_max, and what went
    bool restoring = false;                         // from a snapshot: watch() hands QEMU the stream
    std::unique_ptr<RamFill> ram_fill;              // ... once this copy of its RAM is made
    OpId ram_fill_op = 0;
    std::unique_ptr<QmpClient> qmp;
    VmState state = VmState::starting;
    bool ready = false;
    OpId out_op = 0, err_op = 0, ctl_op = 0, log_op = 0, console_op = 0, exit_op = 0, boot_timer = 0, stop_timer = 0;
    bool exiting = false;  // QEMU has ended: the reads in flight finish, then on_exit's drain (finish_exit)
    OpId exit_guard = 0;

    // What we learn on the way to the end.
    std::string ctl_line;
    std::optional<int> reported_status;
    std::string qemu_messages;  // tail of QEMU's own stderr
    json shutdown;              // data of the SHUTDOWN event, if any
    bool panicked = false, stop_requested = false, kill_requested = false, boot_timed_out = false;
    bool stdout_gone = false;
    // QEMU's end, sooner. A process's memory is torn down by its last thread
    // to end, before its pidfd or parent hears of the end: ~3 ms of a VM's
    // end here, most of it. QEMU's other threads end as soon as it dies, each
    // seen through a pidfd of its own from ready on (base
    // open_thread_pidfds); the first end tears the memory down from here too,
    // alongside QEMU's own thread (base release_memory). A thread that ends
    // while QEMU lives (a pool worker) finds it not dying, and changes nothing.
    struct ThreadWatch {
        Fd fd;
        OpId op = 0;
    };
    // Two would do (one thread is the last); a few more in case a pool
    // worker ends first. QEMU decides how many threads it has.
    static constexpr std::size_t max_watched_threads = 4;
    std::vector<ThreadWatch> thread_watch;
    OpId watch_timer = 0;
    bool memory_released = false;
    bool exec_deferred = false;  // launched without its exec block (a warm pool)
    bool waiting = false;        // ... and the guest waits for it: booted, no deadline
    bool rehearse = false;       // ... after a rehearsal (LaunchOptions::rehearse), not yet sent
    std::optional<std::chrono::steady_clock::time_point> rehearsal_sent;
    // Drain (virtio guests whose command line has fleet.drain=1): after the
    // guest's "exit N", make sure QEMU has handed over everything the guest
    // queued on stdout/stderr, then say so on ctl; only then does it end.
    // off | wanted --exit N--> draining --queues empty (or unknowable)--> done.
    enum class Drain { off, wanted, draining, done };
    Drain drain_state = Drain::off;
    bool drain_query_out = false;  // a queue-status query is in flight
    std::string serial_path;       // QOM path of the virtio-serial device
    OpId drain_timer = 0;

    explicit Impl(Loop& l) : loop(l) {}

    Result<> spawn_qemu(const std::string& qemu, Channels& c, const std::optional<SpawnOptions::Credentials>& run_as,
                        const LaunchOptions& options);
    void watch(Fd qmp_host);

    void set_state(VmState s)
    {
        if (state == s || state == VmState::exited) return;
        state = s;
        if (hooks.state_changed) hooks.state_changed(s);
    }

    // A line for the guest on ctl (signal, power, winsize). An isa guest
    // turns its ctl UART's FIFO on before it says ready, which drops a byte
    // the UART holds, so its lines wait until then (images/README.md): at
    // most ctl_held_max bytes of them; more are left out (a flood of the
    // same few requests before the program even runs).
    static constexpr std::size_t ctl_held_max = 1024;
    void send_line(std::string line)
    {
        if (!ctl_sink) return;
        if (spec.stdio == StdioKind::isa && !ready) {
            if (ctl_held.size() + line.size() <= ctl_held_max) ctl_held += line;
            return;
        }
        ctl_sink->write(std::move(line));
    }

    void mark_ready()
    {
        if (ready) return;
        ready = true;
        if (!ctl_held.empty()) send_line(std::exchange(ctl_held, {}));
        if (boot_timer) loop.cancel(std::exchange(boot_timer, 0));
        if (state == VmState::starting) set_state(VmState::running);
        if (hooks.ready) hooks.ready();
        arm_watch();
    }

    // The thread watch (below) once QEMU's threads are all there: at ready,
    // or for a pooled VM when it waits for its program, off a claim's path.
    // It costs ~70 us: on a turn of the loop of its own, after the output
    // that made the guest ready has gone on to its reader.
    void arm_watch()
    {
        if (watch_timer || !thread_watch.empty() || memory_released) return;
        watch_timer = loop.timer(std::chrono::milliseconds(0), [this](int) {
            watch_timer = 0;
            watch_threads();
        });
    }

    void on_output(int stream, std::string_view bytes)
    {
        if (stream != 3) mark_ready();
        if (hooks.output) hooks.output(stream, bytes);
        if (drain_state == Drain::draining && stream != 3) query_drain();  // data still flowing: ask again
    }

    // Guest -> host queues of fleet.stdout and fleet.stderr (the ABI's port numbers).
    static constexpr int stdout_txq = FLEET_VSERIAL_TXQ(FLEET_PORT_NR_STDOUT);
    static constexpr int stderr_txq = FLEET_VSERIAL_TXQ(FLEET_PORT_NR_STDERR);

    void start_drain()
    {
        drain_state = Drain::draining;
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
        if (drain_state != Drain::draining || drain_query_out || serial_path.empty()) return;
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
        if (drain_state == Drain::done) return;
        drain_state = Drain::done;
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
                on_waiting();
            } else if (line.starts_with(exit_word)) {
                int v = -1;
                auto num = line.substr(exit_word.size());
                auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), v);
                if (ec == std::errc() && p == num.data() + num.size() && v >= 0 && v <= FLEET_EXIT_STATUS_MAX)
                    reported_status = v;
                if (drain_state == Drain::wanted) start_drain();
            }
            ctl_line.clear();
        }
    }

    // Booted (or restored) to the point where it waits for its program.
    void on_waiting()
    {
        if (waiting) return;
        if (std::exchange(rehearse, false)) {
            // The guest says "waiting" again once it is over; the boot
            // deadline runs on until then. A block that cannot be made
            // (no random bytes) costs only the rehearsal.
            auto block = rehearsal_block();
            if (block && ctl_sink) {
                rehearsal_sent = std::chrono::steady_clock::now();
                return ctl_sink->write(FLEET_EXEC_PREAMBLE + std::move(*block));
            }
        }
        if (rehearsal_sent && qemu_log_fd >= 0) {
            std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - *rehearsal_sent;
            char line[128];
            int n = std::snprintf(line, sizeof line,
                                  "fleet-vmm: rehearsed a start in %.1f ms (TCG: translated before a claim)\n",
                                  took.count());
            (void)!::write(qemu_log_fd, line, static_cast<std::size_t>(n));
        }
        waiting = true;
        if (boot_timer) loop.cancel(std::exchange(boot_timer, 0));  // booted: it waits for its program
        if (hooks.waiting) hooks.waiting();
        arm_watch();
    }

    void on_qemu_message(std::string_view bytes)
    {
        qemu_messages.append(bytes);
        if (qemu_messages.size() > 4096) qemu_messages.erase(0, qemu_messages.size() - 4096);
        log_qemu(bytes);
    }

    // QEMU's messages to qemu_log_fd up to qemu_log_max bytes, then one line
    // that says the rest is left out (the end's reason still comes from
    // qemu_messages' tail).
    void log_qemu(std::string_view bytes)
    {
        if (qemu_log_fd < 0 || qemu_logged >= qemu_log_max) return;
        std::size_t n = std::min(bytes.size(), qemu_log_max - qemu_logged);
        (void)!::write(qemu_log_fd, bytes.data(), n);
        qemu_logged += n;
        if (qemu_logged < qemu_log_max) return;
        std::string note = "\nfleet-vmm: QEMU's further messages are left out of this log (" +
                           std::to_string(qemu_log_max) + " bytes of them are above)\n";
        (void)!::write(qemu_log_fd, note.data(), note.size());
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
            if (res > 0) sink(std::string_view(data.data(), data.size()));
            if (exiting) return finish_exit();  // this read was in flight when QEMU ended: its bytes count
            if (res <= 0) return;               // EOF or error: QEMU is going away; exit is seen on the pidfd
            pump(fd, op, sink, holdable);
        });
    }

    void hold_output(bool hold)
    {
        if (hold && (drain_state == Drain::draining || drain_state == Drain::done))
            return;  // the guest waits for all of it
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
            // A restored guest runs again where its save stopped it: waiting.
            if (restoring && exec_deferred) on_waiting();
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
            kill();
        });
    }

    void signal(int sig) { ::syscall(SYS_pidfd_send_signal, child.pidfd.get(), sig, nullptr, 0); }

    // SIGKILL. Where no thread is watched (the watch not yet armed), QEMU's memory is
    // released on the loop's next turn (after the caller's own clean-up),
    // through a pidfd of its own (the Vm may be gone by then). Released at
    // once, before that clean-up, it was slower (docs/cold-path.md).
    void kill()
    {
        signal(SIGKILL);
        if (memory_released || std::ranges::any_of(thread_watch, [](const ThreadWatch& t) { return t.op != 0; }))
            return;
        memory_released = true;
        auto pidfd = std::make_shared<Fd>(::fcntl(child.pidfd.get(), F_DUPFD_CLOEXEC, 3));
        if (*pidfd) loop.defer([pidfd] { (void)release_memory(pidfd->get()); });
    }

    void watch_threads()
    {
        if (!thread_watch.empty() || memory_released || exiting) return;
        for (Fd& fd : open_thread_pidfds(child.pid, max_watched_threads)) thread_watch.push_back({std::move(fd)});
        for (std::size_t i = 0; i < thread_watch.size(); ++i)
            thread_watch[i].op = loop.poll(thread_watch[i].fd.get(), POLLIN, [this, i](int) {
                thread_watch[i].op = 0;
                if (memory_released || release_memory(child.pidfd.get()) == EINVAL) return;
                memory_released = true;
                unwatch_threads();
            });
    }

    void unwatch_threads()
    {
        for (auto& t : thread_watch)
            if (t.op) loop.cancel(std::exchange(t.op, 0));
    }

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

    // QEMU has ended. A read of a channel may be in flight, and may already
    // hold bytes the kernel took off the socket: cancelling it would lose
    // them (a pipeline's middle stage lost up to 64 KiB so). So the reads in
    // flight finish first (QEMU is gone: each ends with its bytes or end of
    // file at once; exit_guard bounds the wait), then the rest is drained.
    void on_exit()
    {
        exiting = true;
        for (OpId* op : {&boot_timer, &stop_timer, &drain_timer, &ram_fill_op, &watch_timer})
            if (*op) loop.cancel(std::exchange(*op, 0));
        unwatch_threads();
        exit_guard = loop.timer(std::chrono::milliseconds(1000), [this](int) {
            exit_guard = 0;
            for (OpId* op : {&out_op, &err_op, &ctl_op, &log_op, &console_op})
                if (*op) loop.cancel(std::exchange(*op, 0));
            finish_exit();
        });
        finish_exit();
    }

    void finish_exit()
    {
        if (!exiting || state == VmState::exited) return;
        for (OpId op : {out_op, err_op, ctl_op, log_op, console_op})
            if (op) return;  // not yet: its completion calls again
        if (exit_guard) loop.cancel(std::exchange(exit_guard, 0));
        stdin_sink.reset();
        ctl_sink.reset();
        drain(ctl, [this](std::string_view b) { on_ctl(b); });
        drain(console, [this](std::string_view b) { on_output(3, b); });
        drain(out, [this](std::string_view b) { on_output(1, b); });
        drain(err, [this](std::string_view b) { on_output(2, b); });
        drain(qemu_stderr, [this](std::string_view b) { on_qemu_message(b); });
        qmp.reset();
        // A confined QEMU's RAM copy (RamFill): its last reference is ours,
        // and closing it frees the guest's pages, ~11 ms for a Linux guest
        // under TCG. QEMU is gone, so they go on the loop's next turn, after
        // hooks.exited has told the VM's owner how it ended.
        if (ram_fill) loop.defer([fill = std::shared_ptr<RamFill>(std::move(ram_fill))] {});
        auto st = reap(child);
        ExitInfo info = st ? exit_info(*st) : ExitInfo{ExitReason::crashed, 125, st.error().what()};
        state = VmState::exited;
        if (hooks.state_changed) hooks.state_changed(state);
        if (hooks.exited) hooks.exited(info);
    }
};

}  // namespace fleet::vmm
