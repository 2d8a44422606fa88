// Unix sockets: who is on the other end (SO_PEERCRED, SO_PEERGROUPS), and a
// connect that never blocks when the listener is busy.
#include <fleet/test/support.hpp>

#include <fleet/base/socket.hpp>

#include <fcntl.h>
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

TEST_CASE("recv_with_fds: exact bytes, the fds that ride on them, bounded", "[socket]")
{
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    Fd a(sv[0]), b(sv[1]);
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    Fd rd(p[0]), wr(p[1]);
    REQUIRE(send_with_fds(a.get(), "hello", {wr.get()}));
    std::vector<Fd> fds;
    auto head = recv_with_fds(b.get(), 2, fds, 1, std::chrono::milliseconds(1000));
    REQUIRE(head);
    CHECK(*head == "he");
    REQUIRE(fds.size() == 1);
    auto rest = recv_with_fds(b.get(), 3, fds, 1, std::chrono::milliseconds(1000));
    REQUIRE(rest);
    CHECK(*rest == "llo");
    REQUIRE(::write(fds[0].get(), "x", 1) == 1);  // a working copy of the pipe's write end
    char c = 0;
    REQUIRE(::read(rd.get(), &c, 1) == 1);
    CHECK(c == 'x');

    // Nothing more: a timeout, told apart by its errno.
    auto none = recv_with_fds(b.get(), 1, fds, 1, std::chrono::milliseconds(20));
    REQUIRE_FALSE(none);
    CHECK(none.error().sys_errno == ETIMEDOUT);

    // An fd where none may come: refused, and not left open here.
    REQUIRE(send_with_fds(a.get(), "y", {wr.get()}));
    std::vector<Fd> refused;
    CHECK_FALSE(recv_with_fds(b.get(), 1, refused, 0, std::chrono::milliseconds(1000)));
    wr.reset();
    fds.clear();
    refused.clear();
    char buf[1];
    CHECK(::read(rd.get(), buf, 1) == 0);  // every write end is closed: end of file

    // The other end gone.
    a.reset();
    CHECK_FALSE(recv_with_fds(b.get(), 1, fds, 0, std::chrono::milliseconds(1000)));
}
