// fleet — starting a VM (vm.hpp): the accelerator settled, a snapshot
// chosen, the channels made, QEMU spawned (confined under root) and watched.
#include "vm_impl.hpp"

#include <climits>
#include <cstdlib>

namespace fleet::vmm {

namespace vm_detail {

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
    if (!options.incoming.empty() || !spec.snapshot) return options.incoming;
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

}  // namespace vm_detail

using namespace vm_detail;

namespace {

// Not settled by the caller (accel.hpp): decide here; a guest with an
// initrd is taken for Linux, another virtio guest for a runtime one.
Result<> settle_accel(VmSpec& spec, const LaunchOptions& options, const std::string& qemu)
{
    if (spec.accel != Accel::automatic && !spec.cpu.empty()) return {};
    AccelContext ctx{qemu, runtime_of(options), catalog_dirs("")};
    GuestKind kind = !spec.initrd.empty()              ? GuestKind::linux_image
                     : spec.stdio == StdioKind::virtio ? GuestKind::runtime
                                                       : GuestKind::tiny;
    auto accel = resolve_accel(spec.accel, spec, kind, ctx);
    if (!accel) return std::unexpected(accel.error());
    spec.accel = accel->accel;
    spec.cpu = accel->cpu;
    return {};
}

// The saved boot to restore from, opened, its RAM mapped or being copied;
// empty to boot. `run_as`: QEMU's user (qemu_credentials).
Result<Incoming> open_incoming(const VmSpec& spec, const LaunchOptions& options, const std::string& qemu,
                               const std::optional<SpawnOptions::Credentials>& run_as, VmHooks& hooks)
{
    std::string incoming = choose_incoming(spec, options, qemu, hooks);
    if (incoming.empty()) return Incoming{};
    Fd fd(::open(incoming.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd && errno == ENOENT && options.incoming.empty()) {
        // Picked, then removed by a newer build's drop_superseded: boot.
        if (hooks.note) hooks.note("snapshot " + incoming + " is gone; booting cold");
        return Incoming{};
    }
    if (!fd) return fail_errno("cannot open the snapshot " + incoming);
    // A QEMU of the launcher's own user maps the file's RAM itself,
    // privately: nothing is copied, and the pages the guest does not write
    // stay one copy in the page cache for every restore. QEMU 7.2 opens a
    // memory backend's file read-write, so a QEMU under another user
    // (fleet-qemu, confine.hpp) gets a copy of its own instead, made while
    // QEMU starts: it must never be able to write a snapshot other VMs
    // restore from.
    std::uint64_t ram_bytes = snapshot_ram_bytes(spec);
    Incoming in;
    in.ram_private = !run_as;
    if (in.ram_private) {
        in.ram = Fd(::fcntl(fd.get(), F_DUPFD_CLOEXEC, 0));
        if (!in.ram) return fail_errno("cannot restore from " + incoming);
    } else {
        auto fill = RamFill::start(fd.get(), ram_bytes);
        if (!fill) return fail("cannot restore from " + incoming + ": " + fill.error().what());
        in.fill = std::move(*fill);
    }
    if (::lseek(fd.get(), static_cast<off_t>(ram_bytes), SEEK_SET) < 0)
        return fail_errno("cannot read the snapshot " + incoming);
    std::string line = "fleet-vmm: restoring from snapshot " + incoming +
                       (in.ram_private ? " (RAM mapped from the file)\n" : " (RAM copied for a confined QEMU)\n");
    if (options.qemu_log_fd >= 0) (void)!::write(options.qemu_log_fd, line.data(), line.size());
    in.stream = std::move(fd);
    return in;
}

Result<Channels> make_channels(bool virtio)
{
    Channels c;
    for (auto* p : {&c.qmp, &c.out, &c.err, &c.ctl}) {
        auto made = socket_pair();
        if (!made) return std::unexpected(made.error());
        *p = std::move(*made);
    }
    for (auto* p : {&c.in, &c.console}) {
        if (!virtio) break;
        auto made = socket_pair();
        if (!made) return std::unexpected(made.error());
        *p = std::move(*made);
    }
    int logpipe[2];
    if (::pipe2(logpipe, O_CLOEXEC) != 0) return fail_errno("cannot create a pipe");
    c.log_rd = Fd(logpipe[0]);
    c.log_wr = Fd(logpipe[1]);
    ::fcntl(c.log_rd.get(), F_SETFL, O_NONBLOCK);
    return c;
}

// The chardevs QEMU finds its channels on (fds as numbered in its process).
Wiring wiring_for(bool virtio, bool incoming, std::size_t hypervisor_ports, const LaunchOptions& options)
{
    auto fd = [](int n) { return "socket,fd=" + std::to_string(n); };
    Wiring w;
    w.qmp = fd(child_qmp);
    w.qmp_public = options.public_qmp_path;
    w.out = fd(child_out);
    w.err = fd(child_err);
    w.ctl = fd(child_ctl);
    if (virtio) {
        w.in = fd(child_in);
        w.console = fd(child_console);
    }
    if (incoming) w.incoming = "defer";  // the stream after x-ignore-shared (watch)
    if (virtio)
        for (std::size_t i = 0; i < hypervisor_ports; ++i)
            w.hypervisor.push_back(fd(child_hypervisor + static_cast<int>(i)));
    return w;
}

}  // namespace

// QEMU's argv and process: its channels placed by number, confined under
// root (confine.hpp), in a session of its own, dying with its owner.
Result<> Vm::Impl::spawn_qemu(const std::string& qemu, Channels& c,
                              const std::optional<SpawnOptions::Credentials>& run_as, const LaunchOptions& options)
{
    bool virtio = spec.stdio == StdioKind::virtio;
    const Incoming& restore = c.restore;
    Wiring w = wiring_for(virtio, static_cast<bool>(restore.stream), spec.hypervisor_fds.size(), options);
    if (c.exec_block) w.exec_fw_cfg_fd = child_exec_block;
    int ram = restore.ram ? restore.ram.get() : restore.fill ? restore.fill->ram() : options.ram_fd;
    if (ram >= 0) w.ram_fd = child_ram;
    w.ram_private = restore.ram_private;
    VmSpec argv_spec = spec;
    Confinement confined;
    if (run_as || options.client_files) {
        auto cf = confine_files(argv_spec, w, options.public_qmp_path, options.client_files);
        if (!cf) return std::unexpected(cf.error());
        confined = std::move(*cf);
    }
    // In its own mount namespace QEMU starts in "/": its program by an
    // absolute path, whose folder the namespace shows.
    std::string program = qemu;
    char real[PATH_MAX];
    if (run_as && ::realpath(qemu.c_str(), real)) program = real;
    argv = qemu_argv(program, argv_spec, accel, w);

    SpawnOptions so;
    so.argv = argv;
    so.pass_fds = {{c.qmp.guest.get(), child_qmp},
                   {c.out.guest.get(), child_out},
                   {c.err.guest.get(), child_err},
                   {c.ctl.guest.get(), child_ctl}};
    if (virtio) {
        so.pass_fds.emplace_back(c.in.guest.get(), child_in);
        so.pass_fds.emplace_back(c.console.guest.get(), child_console);
    }
    if (restore.stream) so.pass_fds.emplace_back(restore.stream.get(), child_incoming);
    if (ram >= 0) so.pass_fds.emplace_back(ram, child_ram);
    if (c.exec_block) so.pass_fds.emplace_back(c.exec_block.get(), child_exec_block);
    for (std::size_t i = 0; i < spec.hypervisor_fds.size(); ++i)
        so.pass_fds.emplace_back(spec.hypervisor_fds[i], child_hypervisor + static_cast<int>(i));
    for (std::size_t i = 0; i < spec.nets.size(); ++i)
        if (spec.nets[i].tap_fd >= 0)  // none in a snapshot's boot (net.hpp)
            so.pass_fds.emplace_back(spec.nets[i].tap_fd, child_tap_fd_base + static_cast<int>(i));
    so.pass_fds.insert(so.pass_fds.end(), confined.pass_fds.begin(), confined.pass_fds.end());
    so.run_as = run_as;
    if (run_as) so.mount_view = qemu_mount_view(program);
    so.stderr_fd = c.log_wr.get();
    so.stdout_fd = c.log_wr.get();
    so.parent_death_signal = SIGKILL;  // a VM never outlives the process that owns it
    so.env = qemu_environment();
    // Its own session: the terminal's Ctrl-C, Ctrl-Z and hangup go to the
    // process that owns the VM, which tells the program (QEMU would quit).
    so.new_session = true;
    auto spawned = spawn(so);
    if (!spawned) return fail(spawned.error().what());
    child = std::move(*spawned);
    out = std::move(c.out.host);
    err = std::move(c.err.host);
    ctl = std::move(c.ctl.host);
    qemu_stderr = std::move(c.log_rd);
    in = std::move(c.in.host);
    console = std::move(c.console.host);
    return {};
}

// Read every channel, talk to the monitor, wait for the end and the boot.
void Vm::Impl::watch(Fd qmp_host)
{
    Impl* self = this;
    qmp = std::make_unique<QmpClient>(
        loop, std::move(qmp_host), [self](const QmpMessage& ev) { self->on_event(ev); },
        [](const Error&) { /* the end is seen on the pidfd */ });
    pump(
        out, out_op, [self](std::string_view b) { self->on_output(1, b); }, true);
    pump(
        err, err_op, [self](std::string_view b) { self->on_output(2, b); }, true);
    pump(ctl, ctl_op, [self](std::string_view b) { self->on_ctl(b); });
    pump(qemu_stderr, log_op, [self](std::string_view b) { self->on_qemu_message(b); });
    if (console) pump(console, console_op, [self](std::string_view b) { self->on_output(3, b); });
    exit_op = loop.poll(child.pidfd.get(), POLLIN, [self](int) {
        self->exit_op = 0;
        self->on_exit();
    });
    if (restoring) {
        // The stream has no RAM (snapshot.hpp): QEMU must know before it reads.
        auto failed = [self](Result<json> r) {
            if (r || self->state == VmState::exited) return;
            self->on_qemu_message("fleet-vmm: the restore failed: " + r.error().what() + "\n");
            self->kill();
        };
        qmp->execute("migrate-set-capabilities", ram_out_of_stream(), failed);
        auto incoming = [self, failed] {
            self->qmp->execute("migrate-incoming", {{"uri", "fd:" + std::to_string(child_incoming)}}, failed);
        };
        if (!ram_fill) {
            incoming();
        } else {  // the stream once QEMU's RAM holds the snapshot's
            ram_fill_op = loop.poll(ram_fill->done_fd(), POLLIN, [self, failed, incoming](int) {
                self->ram_fill_op = 0;
                auto copied = self->ram_fill->result();
                if (!copied) return failed(std::unexpected(copied.error()));
                incoming();
            });
        }
    }
    if (spec.start_paused) {
        qmp->on_ready([self] {
            if (self->state == VmState::starting) self->set_state(VmState::paused);
        });
    } else {
        arm_boot_timer();
    }
}

Result<std::unique_ptr<Vm>> Vm::launch(Loop& loop, VmSpec spec, const LaunchOptions& options, VmHooks hooks)
{
    auto qemu = find_program(options.qemu);
    if (!qemu) return fail(qemu.error().message + " (install Debian's qemu-system-x86, or point FLEET_QEMU at QEMU)");
    if (auto v = validate(spec); !v) return std::unexpected(v.error());
    auto block = exec_block_now(spec);
    if (!block) return std::unexpected(block.error());
    if (auto a = settle_accel(spec, options, *qemu); !a) return std::unexpected(a.error());
    auto run_as = qemu_credentials();
    if (!run_as) return std::unexpected(run_as.error());
    if (*run_as && hooks.note)
        for (const auto& dir : shares_unwritable_by(spec, **run_as))
            hooks.note("QEMU runs as " + qemu_user_name() + ", which cannot write " + dir +
                       " (shared read-write): the guest's writes there will fail; allow them with setfacl -m u:" +
                       qemu_user_name() + ":rwx " + dir + " (Debian's acl package)");
    auto incoming = open_incoming(spec, options, *qemu, *run_as, hooks);
    if (!incoming) return std::unexpected(incoming.error());

    auto impl = std::make_unique<Impl>(loop);
    Impl& m = *impl;
    m.spec = std::move(spec);
    m.hooks = std::move(hooks);
    m.accel = m.spec.accel;
    m.qemu_log_fd = options.qemu_log_fd;
    m.qemu_log_max = options.qemu_log_max;
    if (m.spec.stdio == StdioKind::virtio && m.spec.drain) m.drain_state = Impl::Drain::wanted;
    auto channels = make_channels(m.spec.stdio == StdioKind::virtio);
    if (!channels) return std::unexpected(channels.error());
    m.restoring = static_cast<bool>(incoming->stream);
    channels->restore = std::move(*incoming);
    // An image that reads its block from fw_cfg gets it there at a cold
    // start: a few port accesses, where ctl's UART hands it over a FIFO at
    // a time (each a turn of QEMU's main loop).
    if (m.spec.exec_fw_cfg && !options.defer_exec && !m.restoring) {
        auto file = sealed_bytes(*block, "the exec block");
        if (!file) return std::unexpected(file.error());
        channels->exec_block = std::move(*file);
    }
    if (auto s = m.spawn_qemu(*qemu, *channels, *run_as, options); !s) return std::unexpected(s.error());
    m.ram_fill = std::move(channels->restore.fill);

    // Guest stdin: isa guests read it from COM1, virtio guests from fleet.stdin.
    m.stdin_sink = std::make_unique<Sink>(loop, m.in ? m.in.get() : m.out.get());
    // The exec block goes into the pre-connected ctl socket now: the guest
    // finds it there when it asks, with no round trip.
    m.ctl_sink = std::make_unique<Sink>(loop, m.ctl.get());
    m.exec_deferred = options.defer_exec;
    // TCG's translation cache is what a rehearsal fills; under KVM there is
    // none. Linux init is the guest that knows rehearsals (guest.h).
    m.rehearse = options.defer_exec && options.rehearse && m.accel == Accel::tcg && is_linux_guest(m.spec);
    if (!m.exec_deferred && !channels->exec_block) m.ctl_sink->write(FLEET_EXEC_PREAMBLE + std::move(*block));
    m.watch(std::move(channels->qmp.host));
    return std::unique_ptr<Vm>(new Vm(std::move(impl)));
}

}  // namespace fleet::vmm
