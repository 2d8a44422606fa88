// fleet — saving a snapshot: one boot to "waiting", then QEMU's migration
// into a file (see snapshot.hpp).
//
// QEMU 7.2 has no `file:` migration URI (8.2) nor mapped-ram (9.0); `fd:`
// needs an fd passed over the monitor, and `exec:cat > FILE` may have its
// cat killed when QEMU closes the channel. So QEMU sends the stream to a
// unix socket of ours (`unix:PATH`) and we write it to the file: the
// stream is whole when QEMU says "completed" and the socket has ended. The
// guest keeps running while it is sent (it only waits on ctl), so a restore
// starts running by itself once it has read the stream (a source paused
// first would leave every restore paused).
#include <fleet/vmm/snapshot.hpp>

#include <fleet/base/loop.hpp>
#include <fleet/base/socket.hpp>
#include <fleet/vmm/vm.hpp>

#include <fcntl.h>
#include <sys/socket.h>
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
    std::string socket_path;
    Fd listener, conn, file;
    std::optional<std::string> failure;
    bool done = false, completed = false, stream_ended = false;
    OpId poll_timer = 0, accept_op = 0, read_op = 0;

    explicit SaveRun(Loop& l) : loop(l) {}
    SaveRun(const SaveRun&) = delete;
    SaveRun& operator=(const SaveRun&) = delete;
    ~SaveRun()
    {
        for (OpId op : {poll_timer, accept_op, read_op})
            if (op) loop.cancel(op);
    }

    void accept()
    {
        accept_op = loop.accept(listener.get(), [this](int res) {
            accept_op = 0;
            if (res < 0) return finish("cannot accept QEMU's stream");
            conn = Fd(res);
            receive();
        });
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
        for (OpId* op : {&poll_timer, &accept_op, &read_op})
            if (*op) loop.cancel(std::exchange(*op, 0));
        vm->kill();
    }

    void migrate()
    {
        json args = {{"uri", "unix:" + socket_path}};
        vm->execute("migrate", args, [this](Result<json> r) {
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

Result<> save_snapshot(const VmSpec& spec, const SnapshotContext& ctx, const std::string& stream_path)
{
    auto loop = Loop::create(32);
    if (!loop) return std::unexpected(loop.error());
    VmSpec s = spec;
    s.snapshot = false;
    s.name = "snapshot";
    s.args.clear();
    s.env.clear();
    s.workdir.clear();
    LaunchOptions lo;
    lo.qemu = ctx.qemu;
    lo.runtime_dir = ctx.runtime_dir;
    lo.hold_exec = true;
    SaveRun run(**loop);
    run.socket_path = stream_path + ".sock";
    ::unlink(run.socket_path.c_str());
    auto listener = listen_unix(run.socket_path, 1);
    if (!listener) return std::unexpected(listener.error());
    run.listener = std::move(*listener);
    run.file = Fd(::open(stream_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!run.file) return fail_errno("cannot create " + stream_path);
    run.accept();
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
    ::unlink(run.socket_path.c_str());
    if (!ran) return std::unexpected(ran.error());
    if (run.failure) return fail(*run.failure);
    return {};
}

}  // namespace fleet::vmm
