// fleet — saving a snapshot: one boot to "waiting", then QEMU's migration
// into a file (see snapshot.hpp).
//
// QEMU 7.2 has no `file:` migration URI (8.2) nor mapped-ram (9.0), and
// its sandbox (spawn=deny) forbids `exec:`; a path of ours is out of reach
// of a confined QEMU (confine.hpp). So QEMU gets the write end of a pipe
// over the monitor (getfd, SCM_RIGHTS) and migrates to `fd:snapshot`; we
// copy the read end to the file, after the RAM's place: the stream is whole
// when QEMU says "completed" and the pipe has ended. The guest's RAM is a
// memfd of ours, left out of the stream (x-ignore-shared); QEMU stops the
// guest when the migration completes, and once QEMU is gone the RAM's pages
// go to the start of the file. The guest keeps running while the stream
// is sent (it only waits on ctl), so a restore starts running by itself
// once it has read the stream (a source paused first would leave every
// restore paused).
#include <fleet/vmm/snapshot.hpp>

#include <fleet/base/file.hpp>
#include <fleet/base/loop.hpp>
#include <fleet/base/socket.hpp>
#include <fleet/vmm/vm.hpp>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>

namespace fleet::vmm {

namespace {

using namespace std::chrono_literals;

struct SaveRun {
    Loop& loop;
    Vm* vm = nullptr;
    Fd conn, sender, file;  // the pipe's read end, its write end for QEMU; the file
    std::optional<std::string> failure;
    bool done = false, completed = false, stream_ended = false;
    OpId poll_timer = 0, read_op = 0;
    int busy_tries = 0;

    explicit SaveRun(Loop& l) : loop(l) {}
    SaveRun(const SaveRun&) = delete;
    SaveRun& operator=(const SaveRun&) = delete;
    ~SaveRun()
    {
        for (OpId op : {poll_timer, read_op})
            if (op) loop.cancel(op);
    }

    void receive()
    {
        read_op = loop.read(conn.get(), 1 << 20, [this](int res, std::span<const char> data) {
            read_op = 0;
            if (res < 0) return finish("cannot read QEMU's stream");
            if (res == 0) {
                stream_ended = true;
                if (completed) finish(std::nullopt);
                return;
            }
            for (std::size_t at = 0; at < data.size();) {
                ssize_t n = ::write(file.get(), data.data() + at, data.size() - at);
                if (n < 0 && errno == EINTR) continue;
                if (n < 0) return finish("cannot write the snapshot: " + std::string(std::strerror(errno)));
                at += static_cast<std::size_t>(n);
            }
            receive();
        });
    }

    void finish(std::optional<std::string> why)
    {
        if (done) return;
        done = true;
        failure = std::move(why);
        for (OpId* op : {&poll_timer, &read_op})
            if (*op) loop.cancel(std::exchange(*op, 0));
        vm->kill();
    }

    // Hand QEMU the pipe (retried while the monitor is busy), then migrate.
    void migrate()
    {
        vm->execute_with_fd("getfd", {{"fdname", "snapshot"}}, sender.get(), [this](Result<json> r) {
            if (done) return;
            if (!r && r.error().sys_errno == EAGAIN && ++busy_tries < 200) {
                poll_timer = loop.timer(5ms, [this](int) {
                    poll_timer = 0;
                    migrate();
                });
                return;
            }
            if (!r) return finish("QEMU did not take the snapshot pipe: " + r.error().what());
            sender.reset();  // QEMU has its own copy: the pipe ends when QEMU closes it
            start_migration();
        });
    }

    void start_migration()
    {
        vm->execute("migrate-set-capabilities", ram_out_of_stream(), [this](Result<json> r) {
            if (done) return;
            if (!r) return finish("QEMU cannot leave the RAM out of the stream: " + r.error().what());
        });
        vm->execute("migrate", {{"uri", "fd:snapshot"}}, [this](Result<json> r) {
            if (done) return;
            if (!r) return finish("QEMU refused the migration: " + r.error().what());
            poll();
        });
    }

    void poll()
    {
        vm->execute("query-migrate", json::object(), [this](Result<json> r) {
            if (done) return;
            std::string status = r ? r->value("status", "") : "";
            if (status == "completed") {
                completed = true;
                if (stream_ended) finish(std::nullopt);
                return;  // the rest of the stream is on its way
            }
            if (!r || status == "failed" || status == "cancelled")
                return finish("the migration failed" + (r ? ": " + r->value("error-desc", status) : ""));
            poll_timer = loop.timer(5ms, [this](int) {
                poll_timer = 0;
                poll();
            });
        });
    }
};

}  // namespace

Result<> save_snapshot(const VmSpec& spec, const SnapshotContext& ctx, const std::string& path)
{
    auto loop = Loop::create(32);
    if (!loop) return std::unexpected(loop.error());
    // Shares: the same devices on an empty folder, never mounted (the guest
    // mounts them once its exec block names where). Readable by all: a
    // confined QEMU opens it by its /proc/self/fd link (confine.cpp), as
    // its own user.
    std::string empty = ctx.runtime_dir + "/snapshots/empty";
    if (!spec.shares.empty()) {
        if (auto r = ensure_private_dir(empty, 0555); !r) return r;
        if (::chmod(empty.c_str(), 0555) != 0) return fail_errno("cannot make " + empty + " readable");
    }
    VmSpec s = saved_spec(spec, empty);
    LaunchOptions lo;
    lo.qemu = ctx.qemu;
    lo.runtime_dir = ctx.runtime_dir;
    lo.defer_exec = true;
    const std::uint64_t ram_bytes = snapshot_ram_bytes(spec);
    auto ram = new_ram(ram_bytes);
    if (!ram) return std::unexpected(ram.error());
    lo.ram_fd = ram->get();
    SaveRun run(**loop);
    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) != 0) return fail_errno("cannot create a pipe");
    run.conn = Fd(pipefd[0]);
    run.sender = Fd(pipefd[1]);
    run.file = Fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!run.file) return fail_errno("cannot create " + path);
    if (::lseek(run.file.get(), static_cast<off_t>(ram_bytes), SEEK_SET) < 0) return fail_errno("cannot write " + path);
    run.receive();
    std::optional<ExitInfo> end;
    VmHooks hooks;
    hooks.waiting = [&run] { run.migrate(); };
    hooks.exited = [&](const ExitInfo& e) {
        end = e;
        if (!run.done) run.finish("the guest ended before it waited for its program: " + e.message);
    };
    auto vm = Vm::launch(**loop, std::move(s), lo, std::move(hooks));
    if (!vm) return std::unexpected(vm.error());
    run.vm = vm->get();
    OpId deadline = (*loop)->timer(spec.boot_timeout, [&](int) {
        deadline = 0;
        run.finish("not saved within the boot timeout");
    });
    auto ran = (*loop)->run_until([&] { return end.has_value(); });
    if (deadline) (*loop)->cancel(deadline);
    vm->reset();  // kills and reaps QEMU if the loop failed
    if (!ran) return std::unexpected(ran.error());
    if (run.failure) return fail(*run.failure);
    return write_ram(ram->get(), run.file.get(), ram_bytes);
}

}  // namespace fleet::vmm
