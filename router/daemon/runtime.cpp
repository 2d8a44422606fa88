// fleet-router — folders, the lock, signals, router.json (runtime.hpp).
#include "runtime.hpp"

#include <fleet/base/file.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

namespace fleet::router {

Result<> make_dirs(const std::string& path)
{
    for (std::size_t i = 1; i <= path.size(); ++i) {
        if (i != path.size() && path[i] != '/') continue;
        std::string p = path.substr(0, i);
        if (::mkdir(p.c_str(), 0700) != 0 && errno != EEXIST) return fail_errno("cannot create " + p);
    }
    return {};
}

Result<Fd> lock_runtime_dir(const std::string& runtime_dir)
{
    std::string lock = runtime_dir + "/router.lock";
    Fd fd(::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!fd) return fail_errno("cannot open " + lock);
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
        std::string owner;
        char buf[32] = {};
        if (::pread(fd.get(), buf, sizeof buf - 1, 0) > 0) owner = " (pid " + std::string(buf) + ")";
        while (!owner.empty() && (owner.back() == '\n')) owner.pop_back();
        return fail("another fleet-router" + owner + " serves " + runtime_dir);
    }
    std::string pid = std::to_string(::getpid());
    if (::ftruncate(fd.get(), 0) == 0) (void)::pwrite(fd.get(), pid.data(), pid.size(), 0);
    ::mkdir((runtime_dir + "/router").c_str(), 0700);
    ::mkdir((runtime_dir + "/router/live").c_str(), 0700);
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

Result<> write_router_info(const std::string& runtime_dir, const std::string& socket_path, const std::string& tcp_host,
                           int tcp_port)
{
    nlohmann::json j;
    j["pid"] = ::getpid();
    j["version"] = FLEET_VERSION;
    if (!socket_path.empty()) j["socket"] = socket_path;
    if (tcp_port > 0) {
        j["tcp_host"] = tcp_host;
        j["tcp_port"] = tcp_port;
        j["uri"] = "qemu+tcp://" + tcp_host + ":" + std::to_string(tcp_port) + "/system";
    }
    return replace_file(runtime_dir, "router.json", j.dump(2) + "\n", Sync::no);
}

void remove_router_info(const std::string& runtime_dir)
{
    ::unlink((runtime_dir + "/router.json").c_str());
}

}  // namespace fleet::router
