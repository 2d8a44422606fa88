// Sink: ordered, non-blocking writes on the loop.
#include <fleet/test/support.hpp>

#include <fleet/base/fd.hpp>
#include <fleet/base/sink.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string>

using fleet::Fd;
using fleet::Loop;
using fleet::OpId;
using fleet::Sink;
using namespace std::chrono_literals;

namespace {

const bool sigpipe_ignored = [] {
    ::signal(SIGPIPE, SIG_IGN);
    return true;
}();

void run(Loop& loop, const std::function<bool()>& pred)
{
    bool expired = false;
    OpId guard = loop.timer(5000ms, [&](int) { expired = true; });
    auto r = loop.run_until([&] { return pred() || expired; });
    loop.cancel(guard);
    REQUIRE(r);
    REQUIRE_FALSE(expired);
}

struct Setup {
    std::unique_ptr<Loop> loop;
    Fd a, b;
    Setup()
    {
        auto l = Loop::create(64);
        REQUIRE(l);
        loop = std::move(*l);
        int sv[2];
        REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
        a = Fd(sv[0]);
        b = Fd(sv[1]);
    }
    // Read from b until `n` bytes came.
    std::string drain(std::size_t n)
    {
        std::string got;
        std::function<void()> more = [&] {
            loop->read(b.get(), 1 << 20, [&](int res, std::span<const char> d) {
                REQUIRE(res > 0);
                got.append(d.data(), d.size());
                if (got.size() < n) more();
            });
        };
        more();
        run(*loop, [&] { return got.size() >= n; });
        return got;
    }
};

}  // namespace

TEST_CASE("sink: writes arrive whole and in order", "[sink]")
{
    Setup s;
    Sink sink(*s.loop, s.a.get());
    CHECK(sink.idle());
    CHECK(sink.fd() == s.a.get());
    std::string expected;
    for (int i = 0; i < 50; ++i) {
        std::string chunk = std::to_string(i) + ":" + std::string(static_cast<std::size_t>(i) * 10000, 'a' + i % 26);
        expected += chunk;
        sink.write(chunk);
    }
    sink.write("");  // ignored
    CHECK(sink.queued() == expected.size());
    CHECK_FALSE(sink.idle());
    bool flushed = false;
    sink.when_idle([&] { flushed = true; });
    CHECK(s.drain(expected.size()) == expected);
    run(*s.loop, [&] { return flushed; });
    CHECK(sink.queued() == 0);
    CHECK(sink.idle());
    // Idle already: at once.
    bool now = false;
    sink.when_idle([&] { now = true; });
    CHECK(now);
}

TEST_CASE("sink: a failed write is reported once, later writes dropped", "[sink]")
{
    Setup s;
    int errors = 0, last = 0;
    Sink sink(*s.loop, s.a.get(), [&](int err) {
        ++errors;
        last = err;
    });
    s.b.reset();
    sink.write("one");
    sink.write("two");
    run(*s.loop, [&] { return errors > 0; });
    CHECK(last == EPIPE);
    CHECK(sink.queued() == 0);
    sink.write("three");
    CHECK(sink.idle());
    bool tick = false;
    s.loop->timer(10ms, [&](int) { tick = true; });
    run(*s.loop, [&] { return tick; });
    CHECK(errors == 1);
}

TEST_CASE("sink: destroyed with a write in flight", "[sink]")
{
    Setup s;
    {
        Sink sink(*s.loop, s.a.get(), [](int) { FAIL("no callback after destruction"); });
        sink.write(std::string(8 << 20, 'x'));  // more than the socket holds
        bool tick = false;
        s.loop->timer(5ms, [&](int) { tick = true; });
        run(*s.loop, [&] { return tick; });
        CHECK_FALSE(sink.idle());
    }
    s.b.reset();  // the write would now fail, but nobody is told
    bool tick = false;
    s.loop->timer(10ms, [&](int) { tick = true; });
    run(*s.loop, [&] { return tick; });
}

TEST_CASE("sink: a when_idle waiter is released when a write fails", "[sink]")
{
    // The supervisor holds the guest's output while a sink is over its
    // limit and resumes it from when_idle; a reader that goes away must not
    // leave the output held (and the guest blocked) for ever.
    Setup s;
    int errors = 0;
    Sink sink(*s.loop, s.a.get(), [&](int) { ++errors; });
    sink.write(std::string(8 << 20, 'x'));  // more than the socket holds: stays in flight
    bool released = false;
    sink.when_idle([&] { released = true; });
    bool tick = false;
    s.loop->timer(5ms, [&](int) { tick = true; });
    run(*s.loop, [&] { return tick; });
    CHECK_FALSE(released);
    s.b.reset();  // the reader goes away
    run(*s.loop, [&] { return errors > 0; });
    tick = false;
    s.loop->timer(10ms, [&](int) { tick = true; });
    run(*s.loop, [&] { return tick; });
    CHECK(released);
}

TEST_CASE("sink: an fd follows the bytes before it, on a byte of its own", "[sink]")
{
    Setup s;
    Sink sink(*s.loop, s.a.get());
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    Fd rd(p[0]), wr(p[1]);
    sink.write("head");
    sink.write_fd(std::move(wr));
    sink.write("tail");
    CHECK(sink.queued() == 9);
    bool flushed = false;
    sink.when_idle([&] { flushed = true; });
    run(*s.loop, [&] { return flushed; });
    // The receiver: "head", then the one byte with the fd, then "tail".
    char buf[16] = {};
    REQUIRE(::recv(s.b.get(), buf, 4, MSG_WAITALL) == 4);
    CHECK(std::string(buf, 4) == "head");
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    char one = 'x';
    iovec iov{&one, 1};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    REQUIRE(::recvmsg(s.b.get(), &msg, MSG_CMSG_CLOEXEC) == 1);
    CHECK(one == '\0');
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    REQUIRE(c != nullptr);
    REQUIRE(c->cmsg_type == SCM_RIGHTS);
    int got = -1;
    std::memcpy(&got, CMSG_DATA(c), sizeof got);
    Fd passed(got);
    REQUIRE(::recv(s.b.get(), buf, 4, MSG_WAITALL) == 4);
    CHECK(std::string(buf, 4) == "tail");
    // It is the pipe's write end: the sink's copy is closed, so the pipe
    // ends when the passed one does.
    REQUIRE(::write(passed.get(), "z", 1) == 1);
    passed.reset();
    char z = 0;
    CHECK(::read(rd.get(), &z, 1) == 1);
    CHECK(z == 'z');
    CHECK(::read(rd.get(), &z, 1) == 0);
}
