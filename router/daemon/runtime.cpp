// fleet-router — folders, the lock, signals, router.json (runtime.hpp).
#include "runtime.hpp"

#include <fleet/base/file.hpp>

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <vector>

namespace fleet::router {

Result<> prepare_dirs(const std::string& runtime_dir, const std::string& state_dir)
{
    for (const auto& dir : {runtime_dir, state_dir})
        if (auto r = ensure_private_dir(dir, 0700); !r) return fail("unsafe folder: " + r.error().what());
    // A system router's sockets are for others too: the read-only one for
    // everyone, the read-write one for the fleet group. Only root writes here.
    if (::geteuid() == 0 && ::chmod(runtime_dir.c_str(), 0755) != 0)
        return fail_errno("cannot make " + runtime_dir + " reachable (mode 0755)");
    return {};
}

void raise_fd_limit(std::size_t wanted, const Log& log)
{
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < wanted)
        log.info("only " + std::to_string(rl.rlim_cur) + " file descriptors (RLIMIT_NOFILE) for up to " +
                 std::to_string(wanted) + " clients: accepts will back off when they run out");
}

std::optional<gid_t> fleet_group(const std::string& name, const Log& log)
{
    if (::geteuid() != 0 || name.empty()) return std::nullopt;  // a user's router serves that user only
    group gr{}, *found = nullptr;
    std::vector<char> buf(16384);
    if (::getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &found) != 0 || !found) {
        log.info("no group '" + name + "': the read-write socket is root's only (tools/setup creates the group)");
        return std::nullopt;
    }
    return gr.gr_gid;
}

Result<Fd> lock_runtime_dir(const std::string& runtime_dir)
{
    std::string lock = runtime_dir + "/router.lock";
    // Never through a symbolic link, and only a file of our own: the
    // truncate below must not reach anyone else's file.
    Fd fd(::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600));
    if (!fd) return fail_errno("cannot open " + lock);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != ::geteuid() || st.st_nlink != 1)
        return fail(lock + " is not a plain file of the router's own user; remove it");
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
        std::string owner;
        char buf[32] = {};
        if (::pread(fd.get(), buf, sizeof buf - 1, 0) > 0) owner = " (pid " + std::string(buf) + ")";
        while (!owner.empty() && (owner.back() == '\n')) owner.pop_back();
        return fail("another fleet-router" + owner + " serves " + runtime_dir);
    }
    std::string pid = std::to_string(::getpid());
    if (::ftruncate(fd.get(), 0) == 0) (void)::pwrite(fd.get(), pid.data(), pid.size(), 0);
    for (const char* sub : {"/router", "/router/live"})
        if (auto r = ensure_private_dir(runtime_dir + sub, 0700); !r) return fail("unsafe folder: " + r.error().what());
    return fd;
}

Result<Signals> Signals::take()
{
    // Supervisors of VMs started here are our children; orphans below us
    // come to us too, and are reaped at once.
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    sigset_t set;
    sigemptyset(&set);
    for (int s : {SIGTERM, SIGINT, SIGHUP, SIGCHLD}) sigaddset(&set, s);
    if (::sigprocmask(SIG_BLOCK, &set, nullptr) != 0) return fail_errno("cannot block signals");
    Signals s;
    s.fd_ = Fd(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!s.fd_) return fail_errno("cannot create a signalfd");
    ::signal(SIGPIPE, SIG_IGN);
    return s;
}

void Signals::watch(Loop& loop, std::function<void()> on_stop, std::function<void()> on_hangup)
{
    loop_ = &loop;
    on_stop_ = std::move(on_stop);
    on_hangup_ = std::move(on_hangup);
    arm();
}

void Signals::arm()
{
    loop_->read(fd_.get(), sizeof(signalfd_siginfo), [this](int res, std::span<const char> d) {
        if (res == sizeof(signalfd_siginfo)) {
            signalfd_siginfo si;
            std::memcpy(&si, d.data(), sizeof si);
            if (si.ssi_signo == SIGCHLD) {
                // Every child that has ended, ours or an orphan handed to us.
                while (::waitpid(-1, nullptr, WNOHANG) > 0) {
                }
            } else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
                return on_stop_();  // and no more watching
            } else if (si.ssi_signo == SIGHUP && on_hangup_) {
                on_hangup_();
            }
        }
        arm();
    });
}

Result<> write_router_info(const std::string& runtime_dir, const ServerOptions& o, int tcp_port, int tls_port,
                           const std::string& bridge)
{
    nlohmann::json j;
    j["pid"] = ::getpid();
    j["version"] = FLEET_VERSION;
    if (!o.socket_path.empty()) j["socket"] = o.socket_path;
    if (!o.socket_ro_path.empty()) j["socket_ro"] = o.socket_ro_path;
    if (tcp_port > 0) {
        j["tcp_host"] = o.tcp_host;
        j["tcp_port"] = tcp_port;
        j["tcp_uri"] = "qemu+tcp://" + o.tcp_host + ":" + std::to_string(tcp_port) + "/system";  // read-only
    }
    if (tls_port > 0) {
        j["tls_host"] = o.tls_host;
        j["tls_port"] = tls_port;
    }
    if (!bridge.empty()) j["bridge"] = bridge;
    return replace_file(runtime_dir, "router.json", j.dump(2) + "\n", Sync::no);
}

void remove_router_info(const std::string& runtime_dir)
{
    ::unlink((runtime_dir + "/router.json").c_str());
}

}  // namespace fleet::router
