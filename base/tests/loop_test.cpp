// The io_uring Loop: timers, cancel, defer, read/write/poll/accept.
#include <fleet/test/support.hpp>

#include <fleet/base/fd.hpp>
#include <fleet/base/loop.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>
#include <vector>

using fleet::Fd;
using fleet::Loop;
using fleet::OpId;
using fleet::test::contains;
using namespace std::chrono_literals;

namespace {

std::unique_ptr<Loop> make_loop(unsigned entries = 64)
{
    auto l = Loop::create(entries);
    REQUIRE(l);
    return std::move(*l);
}

struct Pair {
    Fd a, b;
};

Pair socket_pair()
{
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    return {Fd(sv[0]), Fd(sv[1])};
}

// Turn the loop until pred holds, failing the test after `limit` instead of
// hanging.
void run(Loop& loop, const std::function<bool()>& pred, std::chrono::milliseconds limit = 5000ms)
{
    bool expired = false;
    OpId guard = loop.timer(limit, [&](int) { expired = true; });
    auto r = loop.run_until([&] { return pred() || expired; });
    loop.cancel(guard);
    REQUIRE(r);
    REQUIRE_FALSE(expired);
}

const bool sigpipe_ignored = [] {
    ::signal(SIGPIPE, SIG_IGN);  // a write to a closed socket is -EPIPE here
    return true;
}();

}  // namespace

TEST_CASE("loop: run_until with nothing to wait for is an error", "[loop]")
{
    auto loop = make_loop();
    CHECK(loop->pending() == 0);
    auto r = loop->run_until([] { return false; });
    REQUIRE_FALSE(r);
    CHECK(contains(r.error().message, "nothing left to wait for"));
    // done() already true: returns at once, even with nothing pending.
    CHECK(loop->run_until([] { return true; }));

    // Once the last operation completes, the same error.
    bool fired = false;
    loop->timer(1ms, [&](int) { fired = true; });
    auto again = loop->run_until([] { return false; });
    CHECK(fired);
    REQUIRE_FALSE(again);
    CHECK(contains(again.error().message, "nothing left"));
}

TEST_CASE("loop: timers fire in the order they expire", "[loop]")
{
    auto loop = make_loop();
    std::vector<int> order;
    for (int ms : {40, 10, 0, 30, 20}) {
        loop->timer(std::chrono::milliseconds(ms), [&order, ms](int res) {
            CHECK(res == 0);
            order.push_back(ms);
        });
    }
    CHECK(loop->pending() == 5);
    run(*loop, [&] { return order.size() == 5; });
    CHECK(order == std::vector<int>{0, 10, 20, 30, 40});
    CHECK(loop->pending() == 0);
}

TEST_CASE("loop: a timer waits at least its delay", "[loop]")
{
    auto loop = make_loop();
    auto start = std::chrono::steady_clock::now();
    bool fired = false;
    loop->timer(1500ms / 10, [&](int) { fired = true; });
    run(*loop, [&] { return fired; });
    CHECK(std::chrono::steady_clock::now() - start >= 150ms);
}

TEST_CASE("loop: cancel prevents the callback", "[loop]")
{
    auto loop = make_loop();
    bool cancelled_fired = false, other_fired = false;
    OpId t = loop->timer(5ms, [&](int) { cancelled_fired = true; });
    loop->timer(30ms, [&](int) { other_fired = true; });
    CHECK(loop->pending() == 2);
    loop->cancel(t);
    CHECK(loop->pending() == 1);
    loop->cancel(t);       // twice: ignored
    loop->cancel(999999);  // unknown: ignored
    CHECK(loop->pending() == 1);
    run(*loop, [&] { return other_fired; });
    CHECK_FALSE(cancelled_fired);

    SECTION("cancel from another callback in the same batch")
    {
        bool second = false;
        OpId b = 0;
        loop->timer(1ms, [&](int) { loop->cancel(b); });
        b = loop->timer(1ms, [&](int) { second = true; });
        bool later = false;
        loop->timer(40ms, [&](int) { later = true; });
        run(*loop, [&] { return later; });
        CHECK_FALSE(second);
    }
    SECTION("cancel a read that the kernel is waiting on")
    {
        auto p = socket_pair();
        bool read_called = false;
        OpId r = loop->read(p.a.get(), 16, [&](int, std::span<const char>) { read_called = true; });
        bool tick = false;
        loop->timer(5ms, [&](int) { tick = true; });
        run(*loop, [&] { return tick; });  // now the read is in the kernel
        loop->cancel(r);
        bool later = false;
        loop->timer(5ms, [&](int) { later = true; });
        run(*loop, [&] { return later; });  // and the cancel too
        REQUIRE(::write(p.b.get(), "x", 1) == 1);
        later = false;
        loop->timer(20ms, [&](int) { later = true; });
        run(*loop, [&] { return later; });
        CHECK_FALSE(read_called);
        // The byte is still there for the next reader.
        std::string got;
        loop->read(p.a.get(), 16, [&](int res, std::span<const char> d) {
            CHECK(res == 1);
            got.assign(d.data(), d.size());
        });
        run(*loop, [&] { return !got.empty(); });
        CHECK(got == "x");
    }
}

TEST_CASE("loop: defer runs on the next turn, in order, before waiting", "[loop]")
{
    auto loop = make_loop();
    std::vector<std::string> log;
    loop->defer([&] { log.push_back("a"); });
    loop->defer([&] {
        log.push_back("b");
        loop->defer([&] { log.push_back("d"); });
    });
    loop->defer([&] { log.push_back("c"); });
    CHECK(loop->pending() == 3);
    CHECK(log.empty());  // nothing runs until the loop turns
    loop->timer(20ms, [&](int) { log.push_back("timer"); });
    run(*loop, [&] { return log.size() == 5; });
    CHECK(log == std::vector<std::string>{"a", "b", "c", "d", "timer"});

    // Deferred work alone keeps run_until going.
    bool ran = false;
    loop->defer([&] { ran = true; });
    CHECK(loop->run_until([&] { return ran; }));
}

TEST_CASE("loop: read and write on a socketpair", "[loop]")
{
    auto loop = make_loop();
    auto p = socket_pair();
    int wres = 1;
    loop->write(p.b.get(), "hello", [&](int res) { wres = res; });
    std::string got;
    int rres = -1;
    loop->read(p.a.get(), 100, [&](int res, std::span<const char> d) {
        rres = res;
        got.assign(d.data(), d.size());
    });
    run(*loop, [&] { return rres >= 0 && wres != 1; });
    CHECK(wres == 5);
    CHECK(rres == 5);
    CHECK(got == "hello");

    SECTION("a read returns at most max bytes")
    {
        REQUIRE(::write(p.b.get(), "abcdef", 6) == 6);
        std::string part;
        loop->read(p.a.get(), 4, [&](int res, std::span<const char> d) {
            CHECK(res == 4);
            part.assign(d.data(), d.size());
        });
        run(*loop, [&] { return !part.empty(); });
        CHECK(part == "abcd");
    }
    SECTION("end of file is a read of 0")
    {
        p.b.reset();
        int res = -1;
        std::size_t size = 99;
        loop->read(p.a.get(), 100, [&](int r, std::span<const char> d) {
            res = r;
            size = d.size();
        });
        run(*loop, [&] { return res >= 0; });
        CHECK(res == 0);
        CHECK(size == 0);
    }
    SECTION("errors come back as -errno")
    {
        int bad = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        ::close(bad);  // a closed descriptor
        int r = 1, w = 1;
        loop->read(bad, 10, [&](int res, std::span<const char> d) {
            r = res;
            CHECK(d.empty());
        });
        loop->write(bad, "x", [&](int res) { w = res; });
        run(*loop, [&] { return r != 1 && w != 1; });
        CHECK(r == -EBADF);
        CHECK(w == -EBADF);
    }
    SECTION("a write to a closed peer is -EPIPE")
    {
        p.a.reset();
        int w = 1;
        loop->write(p.b.get(), "x", [&](int res) { w = res; });
        run(*loop, [&] { return w != 1; });
        CHECK(w == -EPIPE);
    }
}

TEST_CASE("loop: a write to a closed socket never raises SIGPIPE", "[loop]")
{
    // In a child whose SIGPIPE is the default (the test binary ignores it).
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::signal(SIGPIPE, SIG_DFL);
        auto loop = Loop::create();
        int sv[2];
        if (!loop || ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) ::_exit(2);
        ::close(sv[0]);
        int w = 1;
        (*loop)->write(sv[1], "x", [&](int res) { w = res; });
        (void)(*loop)->run_until([&] { return w != 1; });
        ::_exit(w == -EPIPE ? 0 : 3);
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK_FALSE(WIFSIGNALED(status));
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("loop: an 8 MiB write is continued after short writes", "[loop]")
{
    auto loop = make_loop();
    auto p = socket_pair();
    constexpr std::size_t size = 8u << 20;
    std::string data(size, '\0');
    for (std::size_t i = 0; i < size; ++i) data[i] = static_cast<char>((i * 2654435761u) >> 13);
    int wres = 1;
    loop->write(p.a.get(), data, [&](int res) { wres = res; });

    std::string got;
    int reads = 0;
    std::function<void()> read_more = [&] {
        loop->read(p.b.get(), 256 * 1024, [&](int res, std::span<const char> d) {
            REQUIRE(res > 0);
            ++reads;
            got.append(d.data(), d.size());
            if (got.size() < size) read_more();
        });
    };
    read_more();
    run(
        *loop, [&] { return wres != 1 && got.size() == size; }, 10000ms);
    CHECK(wres == static_cast<int>(size));
    CHECK(reads > 1);
    CHECK(got == data);
}

TEST_CASE("loop: poll reports readiness", "[loop]")
{
    auto loop = make_loop();
    auto p = socket_pair();
    int revents = -1;
    loop->poll(p.a.get(), POLLIN, [&](int res) { revents = res; });
    bool tick = false;
    loop->timer(10ms, [&](int) {
        tick = true;
        CHECK(revents == -1);  // nothing to read yet
        REQUIRE(::write(p.b.get(), "z", 1) == 1);
    });
    run(*loop, [&] { return revents != -1; });
    CHECK(tick);
    CHECK((revents & POLLIN) != 0);
}

TEST_CASE("loop: accept a connection on a unix socket", "[loop]")
{
    fleet::test::TempDir tmp;
    auto loop = make_loop();
    std::string path = tmp / "listen.sock";
    Fd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    REQUIRE(listener);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    REQUIRE(path.size() < sizeof addr.sun_path);
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    REQUIRE(::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(listener.get(), 4) == 0);

    int accepted = -100;
    loop->accept(listener.get(), [&](int res) { accepted = res; });
    Fd client(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    REQUIRE(::connect(client.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    run(*loop, [&] { return accepted != -100; });
    REQUIRE(accepted >= 0);
    Fd conn(accepted);
    CHECK((::fcntl(conn.get(), F_GETFD) & FD_CLOEXEC) != 0);
    CHECK((::fcntl(conn.get(), F_GETFL) & O_NONBLOCK) != 0);

    // A non-blocking socket from accept still reads through the loop: the
    // read waits for data instead of failing with EAGAIN.
    std::string got;
    int rres = 1;
    loop->read(conn.get(), 64, [&](int res, std::span<const char> d) {
        rres = res;
        got.assign(d.data(), d.size());
    });
    loop->timer(20ms, [&](int) { REQUIRE(::write(client.get(), "ping", 4) == 4); });
    run(*loop, [&] { return !got.empty() || rres <= 0; });
    CHECK(rres == 4);
    CHECK(got == "ping");
}

TEST_CASE("loop: more operations than ring entries", "[loop]")
{
    auto loop = make_loop(4);
    int fired = 0;
    for (int i = 0; i < 100; ++i) loop->timer(std::chrono::milliseconds(i % 5), [&](int) { ++fired; });
    run(*loop, [&] { return fired == 100; });
    CHECK(loop->pending() == 0);
}

TEST_CASE("loop: destroying the loop with operations in flight", "[loop]")
{
    auto p = socket_pair();
    auto q = socket_pair();
    bool called = false;
    {
        auto loop = make_loop();
        loop->read(p.a.get(), 64, [&](int, std::span<const char>) { called = true; });
        loop->timer(10s, [&](int) { called = true; });
        // More than the socket buffer holds, and nobody reads q.b.
        loop->write(q.a.get(), std::string(8 << 20, 'w'), [&](int) { called = true; });
        // Turn it once, so that the kernel holds all three.
        bool tick = false;
        loop->timer(5ms, [&](int) { tick = true; });
        REQUIRE(loop->run_until([&] { return tick; }));
    }
    CHECK_FALSE(called);
}

// A write queued but not yet submitted, cancelled, and its fd closed: a new
// fd that reuses the number must not receive the old bytes (a client's
// replies once reached another client this way).
TEST_CASE("loop: a cancelled write never reaches a reused fd number", "[loop][fd]")
{
    auto loop = make_loop();
    for (int round = 0; round < 50; ++round) {
        auto old_pair = socket_pair();
        int number = old_pair.a.get();
        OpId w = loop->write(number, "meant for the old peer", [](int) { FAIL("a cancelled write called back"); });
        loop->cancel(w);
        old_pair.a.reset();  // the fd number is free again

        auto fresh = socket_pair();
        Fd reused = std::move(fresh.a);
        if (reused.get() != number) {
            REQUIRE(::dup2(reused.get(), number) == number);
            reused = Fd(number);
        }
        bool ticked = false;
        loop->timer(1ms, [&](int) { ticked = true; });
        run(*loop, [&] { return ticked; });
        char buf[64];
        ssize_t n = ::recv(fresh.b.get(), buf, sizeof buf, MSG_DONTWAIT);
        INFO("round " << round);
        REQUIRE(n < 0);
        REQUIRE(errno == EAGAIN);
    }
}

// The same for a read: bytes sent to the new fd are not eaten by the old,
// cancelled read.
TEST_CASE("loop: a cancelled read never consumes a reused fd's bytes", "[loop][fd]")
{
    auto loop = make_loop();
    auto old_pair = socket_pair();
    int number = old_pair.a.get();
    OpId r = loop->read(number, 64, [](int, std::span<const char>) { FAIL("a cancelled read called back"); });
    loop->cancel(r);
    old_pair.a.reset();
    auto fresh = socket_pair();
    Fd reused = std::move(fresh.a);
    if (reused.get() != number) {
        REQUIRE(::dup2(reused.get(), number) == number);
        reused = Fd(number);
    }
    REQUIRE(::write(fresh.b.get(), "x", 1) == 1);
    bool ticked = false;
    loop->timer(1ms, [&](int) { ticked = true; });
    run(*loop, [&] { return ticked; });
    char c = 0;
    REQUIRE(::recv(reused.get(), &c, 1, MSG_DONTWAIT) == 1);
    REQUIRE(c == 'x');
}

// Under load: many connections, each with writes queued (some submitted,
// some still in the ring), cancelled and closed at once; new connections
// take the same fd numbers at once. Every byte a new connection receives
// is its own: nothing meant for an old connection leaks into it.
TEST_CASE("loop: closing busy connections never leaks bytes into reused fds", "[loop][fd]")
{
    auto loop = make_loop(32);  // fewer entries than writes: some wait in the ring
    constexpr int conns = 24, writes = 4;
    for (int round = 0; round < 40; ++round) {
        std::vector<Pair> old(conns);
        std::vector<OpId> ops;
        for (int i = 0; i < conns; ++i) {
            old[i] = socket_pair();
            for (int w = 0; w < writes; ++w) ops.push_back(loop->write(old[i].a.get(), "old|", [](int) {}));
        }
        bool ticked = false;
        loop->timer(0ms, [&](int) { ticked = true; });
        run(*loop, [&] { return ticked; });  // some writes done, some in flight
        std::vector<int> numbers;
        for (auto& p : old) numbers.push_back(p.a.get());
        for (OpId op : ops) loop->cancel(op);
        for (auto& p : old) p.a.reset();

        // The kernel hands out the lowest free numbers: the old ones, to
        // either end of the new pairs.
        std::vector<Pair> fresh(conns);
        int done = 0, reused = 0;
        for (int i = 0; i < conns; ++i) {
            fresh[i] = socket_pair();
            for (int fd : {fresh[i].a.get(), fresh[i].b.get()})
                reused += std::count(numbers.begin(), numbers.end(), fd) > 0;
            loop->write(fresh[i].a.get(), "new|", [&](int res) {
                CHECK(res == 4);
                ++done;
            });
        }
        REQUIRE(reused == conns);
        run(*loop, [&] { return done == conns; });
        for (auto& p : fresh) {
            char buf[256];
            ssize_t n = ::recv(p.b.get(), buf, sizeof buf, MSG_DONTWAIT);
            INFO("round " << round);
            REQUIRE(std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0) == "new|");
            CHECK(::recv(p.a.get(), buf, sizeof buf, MSG_DONTWAIT) < 0);  // nothing came back the other way
        }
    }
}
