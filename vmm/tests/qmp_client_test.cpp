// QmpClient end to end over a socketpair, against a fake QEMU driven by the
// same Loop; and qmp_call against a fake monitor on a unix socket.
#include <fleet/test/support.hpp>

#include <fleet/vmm/qmp.hpp>

#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace fleet::vmm;
using fleet::Error;
using fleet::Fd;
using fleet::Loop;
using fleet::OpId;
using fleet::Result;
using fleet::test::contains;
using namespace std::chrono_literals;

namespace {

const bool sigpipe_ignored = [] {
    ::signal(SIGPIPE, SIG_IGN);
    return true;
}();

const std::string greeting =
    R"({"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": "Debian 1:7.2+dfsg-7+deb12u18+b3"}, "capabilities": ["oob"]}})"
    "\r\n";

void run(Loop& loop, const std::function<bool()>& pred, std::chrono::milliseconds limit = 5000ms)
{
    bool expired = false;
    OpId guard = loop.timer(limit, [&](int) { expired = true; });
    auto r = loop.run_until([&] { return pred() || expired; });
    loop.cancel(guard);
    REQUIRE(r);
    REQUIRE_FALSE(expired);
}

// Turn the loop for a while, for checking that something does NOT happen.
void idle(Loop& loop, std::chrono::milliseconds how_long)
{
    bool done = false;
    loop.timer(how_long, [&](int) { done = true; });
    REQUIRE(loop.run_until([&] { return done; }));
}

// QEMU's side of the monitor: records each command line it gets, and writes
// whatever the test tells it to.
class FakeQemu {
public:
    FakeQemu(Loop& loop, Fd fd) : loop_(loop), fd_(std::move(fd)) { read_more(); }
    ~FakeQemu()
    {
        if (read_op_) loop_.cancel(read_op_);
        for (OpId w : writes_) loop_.cancel(w);
    }
    FakeQemu(const FakeQemu&) = delete;
    FakeQemu& operator=(const FakeQemu&) = delete;

    void send(std::string bytes)
    {
        auto box = std::make_shared<OpId>(0);
        *box = loop_.write(fd_.get(), std::move(bytes), [this, box](int res) {
            if (res < 0) ++write_errors;
            writes_.erase(*box);
        });
        writes_.insert(*box);
    }
    void close()
    {
        if (read_op_) loop_.cancel(read_op_);
        read_op_ = 0;
        fd_.reset();
    }

    std::vector<json> received;
    bool eof = false;
    int write_errors = 0;

private:
    void read_more()
    {
        read_op_ = loop_.read(fd_.get(), 4096, [this](int res, std::span<const char> d) {
            read_op_ = 0;
            if (res <= 0) {
                eof = true;
                return;
            }
            buf_.append(d.data(), d.size());
            for (std::size_t nl; (nl = buf_.find('\n')) != std::string::npos;) {
                received.push_back(json::parse(buf_.substr(0, nl)));
                buf_.erase(0, nl + 1);
            }
            read_more();
        });
    }

    Loop& loop_;
    Fd fd_;
    std::string buf_;
    OpId read_op_ = 0;
    std::set<OpId> writes_;
};

struct Rig {
    std::unique_ptr<Loop> loop;
    std::unique_ptr<FakeQemu> qemu;
    std::unique_ptr<QmpClient> client;
    std::vector<QmpMessage> events;
    std::vector<Error> closes;
    bool ready = false;

    Rig()
    {
        auto l = Loop::create(64);
        REQUIRE(l);
        loop = std::move(*l);
        int sv[2];
        REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
        qemu = std::make_unique<FakeQemu>(*loop, Fd(sv[1]));
        client = std::make_unique<QmpClient>(
            *loop, Fd(sv[0]), [this](const QmpMessage& m) { events.push_back(m); },
            [this](const Error& e) { closes.push_back(e); });
        client->on_ready([this] { ready = true; });
    }
    ~Rig()
    {
        client.reset();  // before the loop it uses
        qemu.reset();
    }

    // Greeting and capabilities, answered.
    void negotiate()
    {
        qemu->send(greeting);
        run(*loop, [&] { return !qemu->received.empty(); });  // with any command asked before the greeting
        REQUIRE(qemu->received[0] == json{{"execute", "qmp_capabilities"}, {"id", 0}});
        qemu->send(R"({"return": {}, "id": 0})"
                   "\r\n");
        run(*loop, [&] { return ready; });
        REQUIRE(client->negotiated());
    }
};

// A reply slot: set once.
struct Slot {
    std::optional<Result<json>> value;
    int calls = 0;
    QmpClient::Reply callback()
    {
        return [this](Result<json> r) {
            ++calls;
            value = std::move(r);
        };
    }
    [[nodiscard]] bool done() const { return value.has_value(); }
};

}  // namespace

TEST_CASE("qmp client: negotiation, out-of-order replies, events, close", "[qmp][client]")
{
    Rig rig;
    Loop& loop = *rig.loop;
    std::vector<std::string> log;

    // A command asked before the greeting goes with the negotiation, in the
    // same write: QEMU reads it while it builds the machine.
    Slot status;
    rig.client->execute("query-status", json(), status.callback());
    idle(loop, 20ms);
    CHECK(rig.qemu->received.empty());  // nothing before the greeting
    CHECK_FALSE(rig.client->negotiated());

    rig.qemu->send(greeting);
    run(loop, [&] { return rig.qemu->received.size() == 2; });
    CHECK(rig.qemu->received[0] == json{{"execute", "qmp_capabilities"}, {"id", 0}});
    CHECK(rig.qemu->received[1] == json{{"execute", "query-status"}, {"id", 1}});
    CHECK_FALSE(rig.client->negotiated());
    CHECK_FALSE(rig.ready);

    // One asked after the greeting waits for the negotiation's answer.
    Slot held;
    rig.client->execute("query-name", json(), held.callback());
    idle(loop, 20ms);
    CHECK(rig.qemu->received.size() == 2);
    rig.qemu->send(R"({"return": {}, "id": 0})"
                   "\r\n");
    run(loop, [&] { return rig.ready && rig.qemu->received.size() == 3; });
    CHECK(rig.client->negotiated());
    CHECK(rig.qemu->received[2] == json{{"execute", "query-name"}, {"id", 2}});
    rig.qemu->send(R"({"return": {}, "id": 2})"
                   "\r\n");
    run(loop, [&] { return held.done(); });

    // A second command in flight, with arguments.
    Slot hmp;
    rig.client->execute("human-monitor-command", json{{"command-line", "info status"}}, hmp.callback());
    run(loop, [&] { return rig.qemu->received.size() == 4; });
    CHECK(rig.qemu->received[3] ==
          json{{"execute", "human-monitor-command"}, {"id", 3}, {"arguments", {{"command-line", "info status"}}}});

    // Answer out of order, an event in between, the last reply split in two
    // writes.
    std::string reply1 = R"({"return": {"status": "running", "singlestep": false, "running": true}, "id": 1})"
                         "\r\n";
    rig.qemu->send(R"({"return": "VM status: running\r\n", "id": 3})"
                   "\r\n"
                   R"({"timestamp": {"seconds": 1795708095, "microseconds": 308765}, "event": "STOP"})"
                   "\r\n" +
                   reply1.substr(0, 20));
    run(loop, [&] { return hmp.done() && !rig.events.empty(); });
    CHECK_FALSE(status.done());
    rig.qemu->send(reply1.substr(20));
    run(loop, [&] { return status.done(); });

    REQUIRE(hmp.value->has_value());
    CHECK(**hmp.value == "VM status: running\r\n");
    REQUIRE(status.value->has_value());
    CHECK((**status.value)["status"] == "running");
    REQUIRE(rig.events.size() == 1);
    CHECK(rig.events[0].event == "STOP");

    // Replies nobody waits for are ignored: unknown id, no id, string id.
    rig.qemu->send(
        "{\"return\": {}, \"id\": 99}\n{\"return\": {}}\n{\"return\": {}, \"id\": \"x\"}\n"
        "{\"event\": \"RESUME\"}\n");
    run(loop, [&] { return rig.events.size() == 2; });
    CHECK(rig.closes.empty());

    // An error reply.
    Slot foo;
    rig.client->execute("foo", json(), foo.callback());
    run(loop, [&] { return rig.qemu->received.size() == 5; });
    CHECK(rig.qemu->received[4] == json{{"execute", "foo"}, {"id", 4}});
    rig.qemu->send(R"({"id": 4, "error": {"class": "CommandNotFound", "desc": "The command foo has not been found"}})"
                   "\r\n");
    run(loop, [&] { return foo.done(); });
    REQUIRE_FALSE(*foo.value);
    CHECK(foo.value->error().message == "CommandNotFound: The command foo has not been found");
    CHECK(rig.closes.empty());

    // Two commands in flight when QEMU goes away: both fail, on_close once.
    Slot a, b;
    rig.client->execute("query-status", json(), a.callback());
    rig.client->execute("query-name", json(), b.callback());
    run(loop, [&] { return rig.qemu->received.size() == 7; });
    CHECK(rig.qemu->write_errors == 0);
    rig.qemu->close();
    run(loop, [&] { return a.done() && b.done(); });
    REQUIRE_FALSE(*a.value);
    REQUIRE_FALSE(*b.value);
    CHECK(contains(a.value->error().message, "closed the monitor"));
    REQUIRE(rig.closes.size() == 1);
    CHECK(rig.closes[0].message == a.value->error().message);
    CHECK(rig.client->closed());

    // After the close: commands fail at once, and nothing is called twice.
    Slot late;
    rig.client->execute("query-status", json(), late.callback());
    REQUIRE(late.done());
    CHECK(contains(late.value->error().message, "closed"));
    idle(loop, 10ms);
    CHECK(rig.closes.size() == 1);
    for (const Slot* s : {&status, &held, &hmp, &foo, &a, &b, &late}) CHECK(s->calls == 1);
}

TEST_CASE("qmp client: ids increase across queued and direct commands", "[qmp][client]")
{
    Rig rig;
    Slot s1, s2, s3;
    rig.client->execute("a", json(), s1.callback());
    rig.client->execute("b", json::object(), s2.callback());  // {} is sent, null is not
    rig.negotiate();
    rig.client->execute("c", json(), s3.callback());
    run(*rig.loop, [&] { return rig.qemu->received.size() == 4; });
    CHECK(rig.qemu->received[1] == json{{"execute", "a"}, {"id", 1}});
    CHECK(rig.qemu->received[2] == json{{"execute", "b"}, {"id", 2}, {"arguments", json::object()}});
    CHECK(rig.qemu->received[3] == json{{"execute", "c"}, {"id", 3}});
    rig.qemu->send("{\"return\": 3, \"id\": 3}\n{\"return\": 1, \"id\": 1}\n{\"return\": 2, \"id\": 2}\n");
    run(*rig.loop, [&] { return s1.done() && s2.done() && s3.done(); });
    CHECK(**s1.value == 1);
    CHECK(**s2.value == 2);
    CHECK(**s3.value == 3);
}

TEST_CASE("qmp client: events before and during the negotiation are delivered", "[qmp][client]")
{
    Rig rig;
    rig.qemu->send("{\"event\": \"EARLY\"}\r\n" + greeting + "{\"event\": \"BETWEEN\"}\r\n");
    run(*rig.loop, [&] { return rig.events.size() == 2 && rig.qemu->received.size() == 1; });
    CHECK(rig.events[0].event == "EARLY");
    CHECK(rig.events[1].event == "BETWEEN");
}

TEST_CASE("qmp client: a broken peer closes the client once", "[qmp][client]")
{
    Rig rig;
    Slot pending;
    std::string expect;

    SECTION("garbage after the negotiation")
    {
        rig.negotiate();
        rig.client->execute("query-status", json(), pending.callback());
        rig.qemu->send("this is not json\r\n");
        expect = "malformed JSON";
    }
    SECTION("a JSON array")
    {
        rig.negotiate();
        rig.client->execute("query-status", json(), pending.callback());
        rig.qemu->send("[1, 2]\n");
        expect = "not a JSON object";
    }
    SECTION("a reply before the greeting")
    {
        rig.client->execute("query-status", json(), pending.callback());
        rig.qemu->send("{\"return\": {}, \"id\": 0}\n");
        expect = "expected the greeting first";
    }
    SECTION("a second greeting")
    {
        rig.negotiate();
        rig.client->execute("query-status", json(), pending.callback());
        rig.qemu->send(greeting);
        expect = "second greeting";
    }
    SECTION("capabilities refused")
    {
        rig.client->execute("query-status", json(), pending.callback());
        rig.qemu->send(greeting);
        run(*rig.loop, [&] { return rig.qemu->received.size() == 2; });  // it went with the negotiation
        rig.qemu->send(R"({"id": 0, "error": {"class": "GenericError", "desc": "nope"}})"
                       "\n");
        expect = "capabilities negotiation failed: GenericError: nope";
    }
    SECTION("closed in the middle of a message")
    {
        rig.negotiate();
        rig.client->execute("query-status", json(), pending.callback());
        rig.qemu->send("{\"return\": {}, \"id\"");
        idle(*rig.loop, 10ms);
        rig.qemu->close();
        expect = "closed mid-message";
    }
    SECTION("closed before the greeting")
    {
        rig.client->execute("query-status", json(), pending.callback());
        rig.qemu->close();
        expect = "closed the monitor";
    }
    SECTION("a message over 8 MiB")
    {
        rig.negotiate();
        rig.client->execute("query-status", json(), pending.callback());
        rig.qemu->send("{\"return\": \"" + std::string(QmpReader::max_message + 100, 'a'));
        expect = "larger than 8 MiB";
    }

    run(*rig.loop, [&] { return pending.done(); });
    REQUIRE_FALSE(*pending.value);
    CHECK(contains(pending.value->error().message, expect));
    REQUIRE(rig.closes.size() == 1);
    CHECK(contains(rig.closes[0].message, expect));
    CHECK(rig.client->closed());
    // The peer may keep talking; the client does not read any more.
    idle(*rig.loop, 10ms);
    CHECK(rig.closes.size() == 1);
    CHECK(pending.calls == 1);
}

TEST_CASE("qmp client: destroyed with commands in flight", "[qmp][client]")
{
    Rig rig;
    rig.negotiate();
    Slot never;
    rig.client->execute("query-status", json(), never.callback());
    run(*rig.loop, [&] { return rig.qemu->received.size() == 2; });
    rig.client.reset();
    rig.qemu->send("{\"return\": {}, \"id\": 1}\n");
    idle(*rig.loop, 20ms);
    CHECK_FALSE(never.done());
    CHECK(rig.closes.empty());
    CHECK(rig.qemu->eof);  // its socket was closed with it
}

namespace {

// A one-connection monitor on a unix socket, in its own thread, with
// blocking I/O. `answer` decides what to write for each command line.
class FakeMonitor {
public:
    FakeMonitor(const std::string& path, std::function<std::string(const json&)> answer)
    {
        fd_ = Fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        REQUIRE(fd_);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        REQUIRE(path.size() < sizeof addr.sun_path);
        std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
        REQUIRE(::bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        REQUIRE(::listen(fd_.get(), 1) == 0);
        thread_ = std::thread([this, answer = std::move(answer)] {
            Fd conn(::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
            if (!conn) return;
            write_all(conn.get(), greeting);
            std::string buf;
            char chunk[4096];
            for (;;) {
                ssize_t n = ::read(conn.get(), chunk, sizeof chunk);
                if (n <= 0) return;
                buf.append(chunk, static_cast<std::size_t>(n));
                for (std::size_t nl; (nl = buf.find('\n')) != std::string::npos;) {
                    json cmd = json::parse(buf.substr(0, nl));
                    buf.erase(0, nl + 1);
                    ++commands;
                    std::string out = answer(cmd);
                    if (out == "hang") {
                        // Wait for the client to give up and close.
                        while (::read(conn.get(), chunk, sizeof chunk) > 0) {
                        }
                        return;
                    }
                    write_all(conn.get(), out);
                }
            }
        });
    }
    ~FakeMonitor() { thread_.join(); }
    FakeMonitor(const FakeMonitor&) = delete;
    FakeMonitor& operator=(const FakeMonitor&) = delete;

    std::atomic<int> commands{0};

private:
    static void write_all(int fd, const std::string& s)
    {
        std::size_t done = 0;
        while (done < s.size()) {
            ssize_t n = ::write(fd, s.data() + done, s.size() - done);
            if (n <= 0) return;
            done += static_cast<std::size_t>(n);
        }
    }

    Fd fd_;
    std::thread thread_;
};

std::string reply_to(const json& cmd, const std::string& body)
{
    return "{\"return\": " + body + ", \"id\": " + cmd["id"].dump() + "}\r\n";
}

}  // namespace

TEST_CASE("qmp_call: one command through a monitor socket", "[qmp][client]")
{
    fleet::test::TempDir tmp;
    std::string path = tmp / "qmp.sock";

    SECTION("answered")
    {
        json seen;
        {
            FakeMonitor mon(path, [&](const json& cmd) {
                if (cmd["execute"] == "qmp_capabilities") return reply_to(cmd, "{}");
                seen = cmd;
                return std::string(R"({"timestamp": {"seconds": 1, "microseconds": 2}, "event": "STOP"})"
                                   "\r\n") +
                       reply_to(cmd, R"({"status": "paused", "singlestep": false, "running": false})");
            });
            auto r = qmp_call(path, "query-status", json(), 2000ms);
            REQUIRE(r);
            CHECK((*r)["status"] == "paused");
        }
        CHECK(seen == json{{"execute", "query-status"}, {"id", 1}});
    }
    SECTION("an error reply")
    {
        FakeMonitor mon(path, [&](const json& cmd) {
            if (cmd["execute"] == "qmp_capabilities") return reply_to(cmd, "{}");
            return "{\"id\": " + cmd["id"].dump() +
                   R"(, "error": {"class": "CommandNotFound", "desc": "The command foo has not been found"}})"
                   "\r\n";
        });
        auto r = qmp_call(path, "foo", json(), 2000ms);
        REQUIRE_FALSE(r);
        CHECK(r.error().message == "CommandNotFound: The command foo has not been found");
    }
    SECTION("no answer in time")
    {
        FakeMonitor mon(path, [&](const json& cmd) {
            if (cmd["execute"] == "qmp_capabilities") return reply_to(cmd, "{}");
            return std::string("hang");
        });
        auto start = std::chrono::steady_clock::now();
        auto r = qmp_call(path, "query-status", json(), 200ms);
        REQUIRE_FALSE(r);
        CHECK(contains(r.error().message, "did not answer 'query-status' in time"));
        CHECK(std::chrono::steady_clock::now() - start >= 200ms);
    }
    SECTION("nobody listening")
    {
        auto r = qmp_call(path, "query-status", json(), 200ms);
        REQUIRE_FALSE(r);
        CHECK(contains(r.error().message, "cannot reach"));
        CHECK(r.error().sys_errno == ENOENT);
    }
    SECTION("a path too long for a unix socket")
    {
        auto r = qmp_call(std::string(200, 'x'), "query-status", json(), 200ms);
        REQUIRE_FALSE(r);
        CHECK(contains(r.error().message, "too long"));
    }
}
