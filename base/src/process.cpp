// fleet — process start and inspection (see process.hpp).
#include <fleet/base/process.hpp>

#include "mount_view.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string_view>

namespace fleet {

Result<Fd> open_pidfd(pid_t pid)
{
    int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (fd < 0) return fail_errno("cannot watch process " + std::to_string(pid));
    return Fd(fd);
}

Result<Fd> pin_process(pid_t pid, std::uint64_t start_time)
{
    if (pid <= 0) return fail("no process " + std::to_string(pid));
    auto fd = open_pidfd(pid);
    if (!fd) return fd;
    if (!process_alive(pid, start_time)) return fail("process " + std::to_string(pid) + " is gone", ESRCH);
    return fd;
}

int send_signal(int pidfd, int sig)
{
    return ::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0) == 0 ? 0 : errno;
}

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL  // <linux/pidfd.h>, Linux 6.9
#endif

std::vector<Fd> open_thread_pidfds(pid_t pid, std::size_t max)
{
    std::vector<Fd> fds;
    std::string dir = "/proc/" + std::to_string(pid) + "/task";
    DIR* d = ::opendir(dir.c_str());
    if (!d) return fds;
    while (fds.size() < max) {
        dirent* e = ::readdir(d);
        if (!e) break;
        pid_t tid = 0;
        auto [end, ec] = std::from_chars(e->d_name, e->d_name + std::strlen(e->d_name), tid);
        if (ec != std::errc() || *end != '\0' || tid == pid) continue;
        int fd = static_cast<int>(::syscall(SYS_pidfd_open, tid, PIDFD_THREAD));
        if (fd < 0) {
            if (errno == EINVAL) break;  // no thread pidfds here
            continue;                    // that thread has ended
        }
        fds.emplace_back(fd);
    }
    ::closedir(d);
    return fds;
}

#ifndef SYS_process_mrelease
#define SYS_process_mrelease 448  // the same number on every architecture
#endif

int release_memory(int pidfd)
{
    return ::syscall(SYS_process_mrelease, pidfd, 0) == 0 ? 0 : errno;
}

bool wait_ended(int pidfd, int timeout_ms)
{
    pollfd p{pidfd, POLLIN, 0};
    int r;
    do r = ::poll(&p, 1, timeout_ms);
    while (r < 0 && errno == EINTR);
    return r > 0;
}

int queue_signal(int pidfd, int sig, int value)
{
    siginfo_t info{};
    info.si_signo = sig;
    info.si_code = SI_QUEUE;
    info.si_pid = ::getpid();
    info.si_uid = ::getuid();
    info.si_value.sival_int = value;
    return ::syscall(SYS_pidfd_send_signal, pidfd, sig, &info, 0) == 0 ? 0 : errno;
}

Result<std::string> find_program(const std::string& name)
{
    if (name.find('/') != std::string::npos) {
        if (::access(name.c_str(), X_OK) != 0) return fail_errno("'" + name + "' cannot be executed");
        return name;
    }
    const char* path = std::getenv("PATH");
    std::stringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin");
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
        std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
        if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    return fail("'" + name + "' not found in PATH");
}

namespace {

constexpr std::size_t max_pass_fds = 32;

// Become run_as for good: raw system calls, since glibc's setuid/setgid
// would try to signal the parent's threads from this vfork child; and no
// capability left anywhere (setresuid away from root clears the permitted
// and effective sets, the bounding set must go first while CAP_SETPCAP is
// still held). Only async-signal-safe calls.
bool drop_privileges(const SpawnOptions::Credentials& c)
{
    if (::syscall(SYS_setgroups, c.groups.size(), c.groups.data()) != 0) return false;
    if (::syscall(SYS_setresgid, c.gid, c.gid, c.gid) != 0) return false;
    for (unsigned long cap = 0; cap < 64; ++cap)
        if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) return false;
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) return false;
    if (::syscall(SYS_setresuid, c.uid, c.uid, c.uid) != 0) return false;
    return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0;
}

// The child tells the parent why it could not exec.
[[noreturn]] void child_failed(int err_pipe)
{
    int e = errno;
    (void)!::write(err_pipe, &e, sizeof e);
    ::_exit(127);
}

// In the child, between fork and exec: only async-signal-safe calls.
[[noreturn]] void exec_child(const SpawnOptions& o, MountPlan* view, char* const* argv, char* const* envp, int err_pipe,
                             pid_t parent)
{
    // Undo what the parent set up for itself: blocked signals (a supervisor
    // blocks SIGTERM for its signalfd) and an ignored SIGPIPE survive exec.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    if (o.new_session) ::setsid();
    if (o.parent_death_signal) {
        ::prctl(PR_SET_PDEATHSIG, o.parent_death_signal);
        if (::getppid() != parent) ::_exit(127);  // the parent is already gone
    }
    // The private mount namespace first: its sources are fds that placing
    // the passed fds could close. (A vfork child: it writes only into the
    // plan's own buffers.)
    if (view && !enter_mount_view(*view)) child_failed(err_pipe);
    // Lift every source above the targets first, so that placing one fd
    // never clobbers another's source; dup2 clears close-on-exec.
    constexpr int lift = 200;
    int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    int stdio[3] = {o.stdin_fd, o.stdout_fd, o.stderr_fd};
    int lifted[3 + max_pass_fds];
    std::size_t n = 0;
    for (int s : stdio) lifted[n++] = ::fcntl(s >= 0 ? s : devnull, F_DUPFD_CLOEXEC, lift);
    for (auto [from, to] : o.pass_fds) lifted[n++] = ::fcntl(from, F_DUPFD_CLOEXEC, lift);
    for (std::size_t i = 0; i < n; ++i) {
        int to = i < 3 ? static_cast<int>(i) : o.pass_fds[i - 3].second;
        if (lifted[i] < 0 || ::dup2(lifted[i], to) < 0) child_failed(err_pipe);
    }
    if (o.run_as) {
        if (!drop_privileges(*o.run_as)) child_failed(err_pipe);
        // A change of credentials clears the parent-death signal: again.
        if (o.parent_death_signal) {
            ::prctl(PR_SET_PDEATHSIG, o.parent_death_signal);
            if (::getppid() != parent) ::_exit(127);
        }
    }
    ::execve(argv[0], argv, envp);
    child_failed(err_pipe);
}

}  // namespace

Result<Child> spawn(const SpawnOptions& o)
{
    if (o.argv.empty()) return fail("nothing to run");
    if (o.pass_fds.size() > max_pass_fds) return fail("internal: too many fds to pass");
    for (const auto& set : o.env)
        if (set.find('=') == std::string::npos || set.front() == '=')
            return fail("internal: environment entry '" + set + "' is not NAME=VALUE");
    for (auto [from, to] : o.pass_fds)
        if (from < 0 || to < 3 || to >= 200) return fail("internal: passed fds must land on 3..199");
    std::optional<MountPlan> view;
    if (o.mount_view) {
        auto plan = plan_mount_view(*o.mount_view);
        if (!plan) return std::unexpected(plan.error());
        view = std::move(*plan);
    }
    std::vector<char*> argv;
    for (const auto& a : o.argv) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    // The child's environment, built here: the vfork child must not allocate.
    std::vector<std::string_view> set_names;  // "NAME=" of each variable set
    for (const auto& set : o.env) set_names.push_back(std::string_view(set).substr(0, set.find('=') + 1));
    std::vector<char*> envp;
    for (char** e = environ; *e; ++e) {
        std::string_view var(*e);
        if (std::none_of(set_names.begin(), set_names.end(), [&](std::string_view n) { return var.starts_with(n); }))
            envp.push_back(*e);
    }
    for (const auto& set : o.env) envp.push_back(const_cast<char*>(set.c_str()));
    envp.push_back(nullptr);
    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) != 0) return fail_errno("cannot create a pipe");
    Fd rd(pipefd[0]), wr(pipefd[1]);
    pid_t parent = ::getpid();
    // vfork: the child borrows our memory until it execs, so starting QEMU
    // does not copy this process's page tables; exec_child only makes
    // system calls on its own locals.
    pid_t pid = ::vfork();
    if (pid < 0) return fail_errno("cannot fork");
    if (pid == 0) exec_child(o, view ? &*view : nullptr, argv.data(), envp.data(), wr.get(), parent);
    wr.reset();
    int child_errno = 0;
    ssize_t n = ::read(rd.get(), &child_errno, sizeof child_errno);
    Child c;
    c.pid = pid;
    if (n == sizeof child_errno) {
        ::waitpid(pid, nullptr, 0);
        return fail("cannot run '" + o.argv[0] + "'", child_errno);
    }
    auto pfd = open_pidfd(pid);
    if (!pfd) return std::unexpected(pfd.error());
    c.pidfd = std::move(*pfd);
    return c;
}

Result<ExitStatus> reap(const Child& child)
{
    siginfo_t info{};
    if (::waitid(P_PIDFD, static_cast<id_t>(child.pidfd.get()), &info, WEXITED) != 0)
        return fail_errno("cannot collect the exit of process " + std::to_string(child.pid));
    ExitStatus s;
    s.signaled = info.si_code == CLD_KILLED || info.si_code == CLD_DUMPED;
    s.code = info.si_status;
    return s;
}

std::optional<ProcInfo> proc_info(pid_t pid)
{
    if (pid <= 0) return std::nullopt;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return std::nullopt;
    // The command name may hold spaces and parentheses: parse after the last ')'.
    std::size_t close = line.rfind(')');
    if (close == std::string::npos || close + 2 >= line.size()) return std::nullopt;
    std::istringstream rest(line.substr(close + 2));
    ProcInfo info;
    rest >> info.state;
    std::string field;
    for (int i = 4; i <= 21 && rest >> field; ++i) {
    }  // fields 4..21
    rest >> info.start_time;
    std::uint64_t vsize = 0, rss_pages = 0;
    rest >> vsize >> rss_pages;
    info.rss_kib = rss_pages * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE)) / 1024;
    struct stat st {};
    if (::stat(("/proc/" + std::to_string(pid)).c_str(), &st) == 0) info.uid = st.st_uid;
    return info;
}

std::optional<std::uint64_t> proc_pss_kib(pid_t pid)
{
    if (pid <= 0) return std::nullopt;
    std::ifstream rollup("/proc/" + std::to_string(pid) + "/smaps_rollup");
    for (std::string line; std::getline(rollup, line);) {
        if (!line.starts_with("Pss:")) continue;
        std::istringstream in(line.substr(4));
        std::uint64_t kib = 0;
        if (in >> kib) return kib;
        return std::nullopt;
    }
    return std::nullopt;
}

bool process_alive(pid_t pid, std::uint64_t start_time)
{
    auto info = proc_info(pid);
    return info && info->state != 'Z' && info->state != 'X' && info->start_time == start_time;
}

}  // namespace fleet
