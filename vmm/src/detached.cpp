// fleet — start_detached (detached.hpp).
#include <fleet/vmm/detached.hpp>

#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <csignal>
#include <vector>

namespace fleet::vmm {

namespace {

constexpr int ready_child_fd = 3;
constexpr int first_tap_fd = 4;

// In the forked child: stdio on /dev/null or the given fds, the ready pipe
// at 3, the taps at 4, 5, ... (renumbered in `taps`), everything else closed.
int place_fds(int ready_write, std::vector<int>& taps, const std::array<int, 3>& stdio)
{
    int devnull = ::open("/dev/null", O_RDWR);
    int lifted[3];
    for (int fd = 0; fd < 3; ++fd) lifted[fd] = ::fcntl(stdio[fd] >= 0 ? stdio[fd] : devnull, F_DUPFD_CLOEXEC, 512);
    for (int fd = 0; fd < 3; ++fd) ::dup2(lifted[fd], fd);  // dup2 clears close-on-exec
    // Copies out of the way first: a tap may sit on a number another needs.
    for (int& t : taps) t = ::fcntl(t, F_DUPFD_CLOEXEC, 512);
    int ready = ::fcntl(ready_write, F_DUPFD_CLOEXEC, 512);
    ::dup3(ready, ready_child_fd, O_CLOEXEC);
    for (std::size_t i = 0; i < taps.size(); ++i) {
        int at = first_tap_fd + static_cast<int>(i);
        ::dup3(taps[i], at, O_CLOEXEC);
        taps[i] = at;
    }
    ::syscall(SYS_close_range, first_tap_fd + taps.size(), ~0u, 0);
    return ready_child_fd;
}

[[noreturn]] void become_detached(const DetachOptions& how, int ready_write, std::vector<int> taps,
                                  const DetachedBody& body)
{
    ::setsid();
    if (how.orphan && ::fork() > 0) ::_exit(0);
    if (how.in_child) how.in_child();
    int ready = place_fds(ready_write, taps, how.stdio);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    ::_exit(body(ready, taps));
}

}  // namespace

Result<Detached> fork_detached(const DetachOptions& how, std::vector<int> taps, const DetachedBody& body)
{
    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) != 0) return fail("cannot create a pipe", errno);
    Fd read_end(pipefd[0]);
    std::fflush(nullptr);
    pid_t pid = ::fork();
    if (pid < 0) {
        int e = errno;
        ::close(pipefd[1]);
        return fail("cannot fork", e);
    }
    if (pid == 0) become_detached(how, pipefd[1], std::move(taps), body);
    ::close(pipefd[1]);
    if (how.orphan) ::waitpid(pid, nullptr, 0);
    return Detached{pid, std::move(read_end)};
}

Result<Detached> start_detached(const Store& store, SupervisorOptions options, const DetachOptions& how)
{
    std::vector<int> taps;
    for (const auto& n : options.spec.nets) taps.push_back(n.tap_fd);
    // The hypervisor channel's guest ends travel like taps, after them.
    const std::size_t nets = options.spec.nets.size();
    taps.insert(taps.end(), options.spec.hypervisor_fds.begin(), options.spec.hypervisor_fds.end());
    return fork_detached(how, std::move(taps), [&](int ready, const std::vector<int>& placed) {
        for (std::size_t i = 0; i < nets; ++i) options.spec.nets[i].tap_fd = placed[i];
        for (std::size_t i = 0; i < options.spec.hypervisor_fds.size(); ++i)
            options.spec.hypervisor_fds[i] = placed[nets + i];
        options.ready_fd = ready;
        return supervise(store, std::move(options));
    });
}

Result<> parse_ready_line(std::string_view line, std::string_view died)
{
    while (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    if (line == "ready") return {};
    if (line.starts_with("error ")) return fail(std::string(line.substr(6)));
    return fail(std::string(died));
}

std::string read_ready_line(const Fd& ready)
{
    std::string line;
    char buf[4096];
    ssize_t n;
    while (line.size() < 64 * 1024 && (n = ::read(ready.get(), buf, sizeof buf)) != 0) {
        if (n < 0) {
            if (errno == EINTR) continue;
            break;
        }
        line.append(buf, static_cast<std::size_t>(n));
    }
    return line;
}

}  // namespace fleet::vmm
