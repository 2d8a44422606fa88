// Unix sockets: who is on the other end (SO_PEERCRED, SO_PEERGROUPS), and a
// connect that never blocks when the listener is busy.
#include <fleet/test/support.hpp>

#include <fleet/base/socket.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <vector>

using namespace fleet;
using fleet::test::TempDir;

TEST_CASE("peer_credentials: the kernel's view of the peer", "[socket]")
{
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    Fd a(sv[0]), b(sv[1]);
    auto p = peer_credentials(a.get());
    REQUIRE(p);
    CHECK(p->uid == ::geteuid());
    CHECK(p->gid == ::getegid());
    CHECK(p->pid == ::getpid());
    CHECK(p->in_group(::getegid()));
    std::vector<gid_t> mine(static_cast<std::size_t>(::getgroups(0, nullptr)));
    ::getgroups(static_cast<int>(mine.size()), mine.data());
    for (gid_t g : mine) CHECK(p->in_group(g));
    CHECK_FALSE(p->in_group(static_cast<gid_t>(-2)));
}

TEST_CASE("peer_credentials: not a unix socket is an error", "[socket]")
{
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    Fd r(fds[0]), w(fds[1]);
    CHECK_FALSE(peer_credentials(r.get()));
}

TEST_CASE("try_connect_unix: a full backlog is EAGAIN, never a wait", "[socket]")
{
    TempDir tmp;
    std::string path = tmp / "s.sock";
    auto l = listen_unix(path, 1);
    REQUIRE(l);
    std::vector<Fd> held;
    Result<Fd> c = try_connect_unix(path, "the test socket");
    for (int i = 0; i < 16 && c; ++i) {  // nobody accepts: the backlog fills
        held.push_back(std::move(*c));
        c = try_connect_unix(path, "the test socket");
    }
    REQUIRE_FALSE(c);
    CHECK(c.error().sys_errno == EAGAIN);
    CHECK(c.error().what().find("cannot reach the test socket") == 0);
}

TEST_CASE("try_connect_unix: nobody listening", "[socket]")
{
    TempDir tmp;
    auto c = try_connect_unix(tmp / "none.sock", "nothing");
    REQUIRE_FALSE(c);
    CHECK(c.error().sys_errno == ENOENT);
}
