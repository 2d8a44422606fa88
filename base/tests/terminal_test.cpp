// RawTerminal and terminal_size on a real pseudo-terminal.
#include <fleet/test/support.hpp>

#include <fleet/base/fd.hpp>
#include <fleet/base/terminal.hpp>

#include <fcntl.h>
#include <pty.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

using fleet::Fd;
using fleet::RawTerminal;

namespace {

struct Pty {
    Fd master, slave;
    Pty()
    {
        int m = -1, s = -1;
        REQUIRE(::openpty(&m, &s, nullptr, nullptr, nullptr) == 0);
        master = Fd(m);
        slave = Fd(s);
    }
};

termios modes(int fd)
{
    termios t{};
    REQUIRE(::tcgetattr(fd, &t) == 0);
    return t;
}

// In a child that has the pty as its controlling terminal, in front: the
// checks' bits as its exit status (0: all held).
int in_front(int slave, int (*checks)(int))
{
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::setsid();
        if (::ioctl(slave, TIOCSCTTY, 0) != 0) ::_exit(100);
        ::_exit(checks(slave));
    }
    int st = 0;
    REQUIRE(::waitpid(pid, &st, 0) == pid);
    REQUIRE(WIFEXITED(st));
    return WEXITSTATUS(st);
}

}  // namespace

TEST_CASE("raw mode keeps the suspend key only, and restore puts every mode back")
{
    Pty p;
    termios before = modes(p.slave.get());
    int bits = in_front(p.slave.get(), [](int fd) {
        termios cooked{};
        ::tcgetattr(fd, &cooked);
        int bad = 0;
        {
            RawTerminal raw(fd, true);
            termios t{};
            ::tcgetattr(fd, &t);
            if (!raw.active()) bad |= 1;
            if (t.c_lflag & (ICANON | ECHO)) bad |= 2;
            if (!(t.c_lflag & ISIG) || t.c_cc[VSUSP] != cooked.c_cc[VSUSP]) bad |= 4;
            if (t.c_cc[VINTR] != _POSIX_VDISABLE || t.c_cc[VQUIT] != _POSIX_VDISABLE) bad |= 8;
            raw.restore();
            ::tcgetattr(fd, &t);
            if (raw.active() || !(t.c_lflag & ICANON)) bad |= 16;
            if (!raw.apply()) bad |= 32;  // again, after a stop
        }
        termios t{};
        ::tcgetattr(fd, &t);
        if (t.c_lflag != cooked.c_lflag || t.c_cc[VINTR] != cooked.c_cc[VINTR]) bad |= 64;  // the destructor's restore
        return bad;
    });
    CHECK(bits == 0);
    CHECK(modes(p.slave.get()).c_lflag == before.c_lflag);
}

TEST_CASE("raw mode is never taken from behind: not our terminal, or not in front")
{
    Pty p;
    // This process's group is not the pty's foreground group (it has none).
    RawTerminal raw(p.slave.get(), true);
    CHECK_FALSE(raw.active());
    CHECK(modes(p.slave.get()).c_lflag & ICANON);
    Fd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
    RawTerminal not_one(null.get());
    CHECK_FALSE(not_one.active());
}

TEST_CASE("terminal_size reads the window size; none for 0x0 or a non-terminal")
{
    Pty p;
    CHECK_FALSE(fleet::terminal_size(p.slave.get()));  // a new pty is 0x0
    winsize ws{};
    ws.ws_row = 33;
    ws.ws_col = 91;
    REQUIRE(::ioctl(p.master.get(), TIOCSWINSZ, &ws) == 0);
    auto size = fleet::terminal_size(p.slave.get());
    REQUIRE(size);
    CHECK(size->rows == 33);
    CHECK(size->cols == 91);
    Fd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
    CHECK_FALSE(fleet::terminal_size(null.get()));
}
