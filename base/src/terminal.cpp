// fleet — a terminal put in raw mode for a while (terminal.hpp).
#include <fleet/base/terminal.hpp>

#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>

namespace fleet {

RawTerminal::RawTerminal(int fd, bool keep_suspend) : fd_(fd), keep_suspend_(keep_suspend)
{
    saved_ok_ = ::isatty(fd_) && ::tcgetattr(fd_, &saved_) == 0;
    apply();
}

bool RawTerminal::apply()
{
    // Only while our group has the terminal: a background group that blocks
    // SIGTTOU would change it under the shell that has it.
    if (!saved_ok_ || ::tcgetpgrp(fd_) != ::getpgrp()) return false;
    termios raw = saved_;
    ::cfmakeraw(&raw);
    if (keep_suspend_) {
        raw.c_lflag |= ISIG;  // only the suspend key: the others are disabled
        raw.c_cc[VINTR] = _POSIX_VDISABLE;
        raw.c_cc[VQUIT] = _POSIX_VDISABLE;
        raw.c_cc[VSUSP] = saved_.c_cc[VSUSP];
    }
    int r;
    while ((r = ::tcsetattr(fd_, TCSADRAIN, &raw)) != 0 && errno == EINTR) {
    }
    active_ = r == 0;
    return active_;
}

void RawTerminal::restore()
{
    if (!active_) return;
    while (::tcsetattr(fd_, TCSADRAIN, &saved_) != 0 && errno == EINTR) {
    }
    active_ = false;
}

std::optional<TerminalSize> terminal_size(int fd)
{
    winsize ws{};
    if (::ioctl(fd, TIOCGWINSZ, &ws) != 0 || ws.ws_row == 0 || ws.ws_col == 0) return std::nullopt;
    return TerminalSize{ws.ws_row, ws.ws_col};
}

}  // namespace fleet
