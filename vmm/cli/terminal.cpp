// fleet-vmm console — the terminal attached to a VM's console socket.
#include "cli.hpp"

#include <fleet/base/fd.hpp>
#include <fleet/base/socket.hpp>
#include <fleet/base/terminal.hpp>

#include <fleet/vmm/supervisor.hpp>

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

namespace fleet::cli {

namespace {

constexpr char detach_key = 0x1d;  // Ctrl-], as virsh console

bool write_all(int fd, const char* p, std::size_t n)
{
    while (n > 0) {
        ssize_t w = ::write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        p += w;
        n -= static_cast<std::size_t>(w);
    }
    return true;
}

// Our terminal's size to the program's (a VM started with -t), through
// the supervisor's pidfd: never to a process that reused its pid.
void tell_size(const Fd& supervisor)
{
    auto size = terminal_size(0);
    if (!supervisor || !size) return;
    (void)vmm::request_terminal_size(supervisor.get(), -1, size->rows, size->cols);
}

}  // namespace

Result<> attach_console(const std::string& socket_path, const std::string& name, Fd resize)
{
    auto connected = connect_unix(socket_path, "the console of VM '" + name + "'");
    if (!connected) return std::unexpected(connected.error());
    Fd sock = std::move(*connected);
    bool tty = ::isatty(0);
    if (tty) std::fprintf(stderr, "Connected to %s (Ctrl-] to detach)\r\n", name.c_str());
    RawTerminal raw(0);
    // SIGWINCH through a signalfd, blocked until we return.
    sigset_t winch, old;
    sigemptyset(&winch);
    sigaddset(&winch, SIGWINCH);
    ::sigprocmask(SIG_BLOCK, &winch, &old);
    struct Unblock {
        sigset_t old;
        ~Unblock() { ::sigprocmask(SIG_SETMASK, &old, nullptr); }
    } unblock{old};
    Fd winch_fd(resize ? ::signalfd(-1, &winch, SFD_CLOEXEC | SFD_NONBLOCK) : -1);
    tell_size(resize);
    bool stdin_open = true;
    char buf[65536];
    for (;;) {
        pollfd fds[3] = {{sock.get(), POLLIN, 0}, {stdin_open ? 0 : -1, POLLIN, 0}, {winch_fd.get(), POLLIN, 0}};
        if (::poll(fds, 3, -1) < 0) {
            if (errno == EINTR) continue;
            return fail_errno("poll failed");
        }
        if (fds[2].revents) {
            signalfd_siginfo si;
            while (::read(winch_fd.get(), &si, sizeof si) == sizeof si) {
            }
            tell_size(resize);
        }
        if (fds[0].revents) {
            ssize_t n = ::read(sock.get(), buf, sizeof buf);
            if (n <= 0) break;  // the VM ended
            if (!write_all(1, buf, static_cast<std::size_t>(n))) break;
        }
        if (fds[1].revents) {
            ssize_t n = ::read(0, buf, sizeof buf);
            if (n <= 0) {
                stdin_open = false;  // keep showing output until the VM ends
                continue;
            }
            if (raw.active()) {
                if (auto* k = static_cast<char*>(std::memchr(buf, detach_key, static_cast<std::size_t>(n)))) {
                    write_all(sock.get(), buf, static_cast<std::size_t>(k - buf));
                    break;
                }
            }
            if (!write_all(sock.get(), buf, static_cast<std::size_t>(n))) break;
        }
    }
    if (tty) std::fprintf(stderr, "\r\nDisconnected from %s\r\n", name.c_str());
    return {};
}

}  // namespace fleet::cli
