// fleet shell — host programs: fork, place in the job's process group, exec.
#include <fleet/shell/runner.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

namespace fleet::shell {

void prepare_child(pid_t process_group, bool default_signals, bool ignore_interrupt, int terminal_fd)
{
    if (process_group >= 0) ::setpgid(0, process_group);
    // Before SIGTTOU is back to its default, which would stop us here.
    if (process_group == 0 && terminal_fd >= 0) ::tcsetpgrp(terminal_fd, ::getpid());
    for (int sig : {SIGINT, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU}) {
        if (default_signals) ::signal(sig, SIG_DFL);
    }
    if (ignore_interrupt) {
        ::signal(SIGINT, SIG_IGN);
        ::signal(SIGQUIT, SIG_IGN);
    }
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

Result<pid_t> HostRunner::start(const CommandSpec& spec)
{
    // The child reports a failed exec through a close-on-exec pipe.
    int report[2];
    if (::pipe2(report, O_CLOEXEC) != 0) return fail_errno("pipe");
    std::vector<char*> argv, envp;
    for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (const auto& e : spec.env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    const pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) {
        int e = errno;
        ::close(report[0]);
        ::close(report[1]);
        return fail("fork", e);
    }
    if (pid == 0) {
        ::close(report[0]);
        prepare_child(spec.process_group, spec.default_signals, spec.ignore_interrupt, spec.terminal_fd);
        if (spec.parent_death_signal > 0) {
            ::prctl(PR_SET_PDEATHSIG, spec.parent_death_signal);
            if (::getppid() != parent) ::_exit(128 + spec.parent_death_signal);  // it died before the prctl
        }
        ::execve(spec.program.c_str(), argv.data(), envp.data());
        int e = errno;
        ssize_t n = ::write(report[1], &e, sizeof e);
        (void)n;
        ::_exit(127);
    }
    if (spec.process_group >= 0) ::setpgid(pid, spec.process_group == 0 ? pid : spec.process_group);
    ::close(report[1]);
    int e = 0;
    ssize_t n;
    do {
        n = ::read(report[0], &e, sizeof e);
    } while (n < 0 && errno == EINTR);
    ::close(report[0]);
    if (n == sizeof e) {
        int status;
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        return std::unexpected(Error{spec.argv.empty() ? spec.program : spec.argv[0], e});
    }
    return pid;
}

std::optional<std::string> HostResolver::resolve(const std::string& name, const std::string& path)
{
    if (name.empty()) return std::nullopt;
    if (name.find('/') != std::string::npos) return name;
    std::size_t start = 0;
    for (;;) {
        std::size_t end = path.find(':', start);
        std::string dir = path.substr(start, end == std::string::npos ? std::string::npos : end - start);
        std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
        struct stat st {};
        if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(candidate.c_str(), X_OK) == 0) {
            return candidate;
        }
        if (end == std::string::npos) return std::nullopt;
        start = end + 1;
    }
}

}  // namespace fleet::shell
