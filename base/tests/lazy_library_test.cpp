// A shared library opened on first use: typed calls through FLEET_LAZY, and
// a library or symbol that is not there ends the program with one line
// and status 127, as the dynamic loader does.
#include <fleet/test/support.hpp>

#include <fleet/base/lazy_library.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>

using fleet::LazyLibrary;
using fleet::test::contains;

namespace {

LazyLibrary libc("libc.so.6", "a test");  // on every glibc system
LazyLibrary missing("libfleet-no-such-library.so.0", "a test of what a missing library says");

struct Ended {
    int status;
    std::string err;
};

// Runs f in a child; its exit status and what it wrote on stderr.
template <class F>
Ended in_child(F f)
{
    int p[2];
    REQUIRE(::pipe(p) == 0);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::dup2(p[1], 2);
        f();
        std::_Exit(0);
    }
    ::close(p[1]);
    std::string err;
    char buf[512];
    for (ssize_t n; (n = ::read(p[0], buf, sizeof buf)) > 0;) err.append(buf, static_cast<std::size_t>(n));
    ::close(p[0]);
    int ws = 0;
    REQUIRE(::waitpid(pid, &ws, 0) == pid);
    REQUIRE(WIFEXITED(ws));
    return {WEXITSTATUS(ws), err};
}

}  // namespace

TEST_CASE("lazy library: opened at the first call, typed by the header")
{
    CHECK_FALSE(libc.loaded());
    CHECK(FLEET_LAZY(libc, strlen)("fleet") == 5);
    CHECK(libc.loaded());
    CHECK(FLEET_LAZY(libc, strlen)("") == 0);
}

TEST_CASE("lazy library: a missing library is one line and status 127")
{
    Ended e = in_child([] { (void)missing.symbol("anything"); });
    CHECK(e.status == 127);
    CHECK(contains(e.err, "cannot use libfleet-no-such-library.so.0 (needed for a test of what a missing"));
    CHECK(std::count(e.err.begin(), e.err.end(), '\n') == 1);
    CHECK_FALSE(missing.loaded());
}

TEST_CASE("lazy library: a missing symbol is one line and status 127")
{
    Ended e = in_child([] { (void)libc.symbol("fleet_no_such_function"); });
    CHECK(e.status == 127);
    CHECK(contains(e.err, "cannot use libc.so.6 (needed for a test): "));
    CHECK(contains(e.err, "fleet_no_such_function"));
}
