// LoopPoll: avahi's watches and timeouts on a real fleet::Loop, including
// the cases avahi and libdbus rely on: freeing and updating from inside a
// callback, timeouts already due, disabling and moving a timeout.
#include "avahi_poll.hpp"

#include <avahi-common/timeval.h>
#include <catch2/catch.hpp>

#include <fleet/base/fd.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <functional>

using fleet::router::LoopPoll;

namespace {

struct Fixture {
    std::unique_ptr<fleet::Loop> loop = std::move(fleet::Loop::create().value());
    LoopPoll poll{*loop};
    const AvahiPoll* api = poll.api();
    fleet::Fd rd, wr;

    Fixture()
    {
        int p[2];
        REQUIRE(::pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0);
        rd.reset(p[0]);
        wr.reset(p[1]);
    }

    void put(const char* s) const { REQUIRE(::write(wr.get(), s, 1) == 1); }

    void take() const
    {
        char c;
        REQUIRE(::read(rd.get(), &c, 1) == 1);
    }

    // Turn the loop for a while (callbacks run as they come).
    void run_for(int ms) const
    {
        bool done = false;
        loop->timer(std::chrono::milliseconds(ms), [&done](int) { done = true; });
        REQUIRE(loop->run_until([&done] { return done; }));
    }

    void run_until(const std::function<bool()>& done) const
    {
        bool late = false;
        auto id = loop->timer(std::chrono::seconds(5), [&late](int) { late = true; });
        REQUIRE(loop->run_until([&] { return done() || late; }));
        REQUIRE_FALSE(late);
        loop->cancel(id);
    }
};

// A callback whose behaviour each test sets.
struct Probe {
    int calls = 0;
    AvahiWatchEvent last{};
    AvahiWatchEvent got_events{};
    std::function<void(AvahiWatch*)> on_watch;
    std::function<void(AvahiTimeout*)> on_timeout;
};

void watch_cb(AvahiWatch* w, int, AvahiWatchEvent events, void* userdata)
{
    auto* p = static_cast<Probe*>(userdata);
    ++p->calls;
    p->last = events;
    if (p->on_watch) p->on_watch(w);
}

void timeout_cb(AvahiTimeout* t, void* userdata)
{
    auto* p = static_cast<Probe*>(userdata);
    ++p->calls;
    if (p->on_timeout) p->on_timeout(t);
}

timeval in_ms(unsigned ms)
{
    timeval tv{};
    avahi_elapse_time(&tv, ms, 0);
    return tv;
}

}  // namespace

TEST_CASE("a watch reports again after each callback, until it is freed inside one", "[avahi_poll]")
{
    Fixture f;
    Probe p;
    const AvahiPoll* api = f.api;
    p.on_watch = [&](AvahiWatch* w) {
        p.got_events = api->watch_get_events(w);
        f.take();
        if (p.calls == 1) f.put("y");
        if (p.calls == 2) api->watch_free(w);  // released later, not under the caller's feet
    };
    f.put("x");
    api->watch_new(api, f.rd.get(), AVAHI_WATCH_IN, watch_cb, &p);
    f.run_until([&] { return p.calls == 2; });
    CHECK(p.last == AVAHI_WATCH_IN);
    CHECK(p.got_events == AVAHI_WATCH_IN);
    f.put("z");
    f.run_for(50);
    CHECK(p.calls == 2);
}

TEST_CASE("watch_get_events is empty outside the callback", "[avahi_poll]")
{
    Fixture f;
    Probe p;
    AvahiWatch* w = f.api->watch_new(f.api, f.rd.get(), AVAHI_WATCH_IN, watch_cb, &p);
    CHECK(f.api->watch_get_events(w) == 0);
    f.api->watch_free(w);
}

TEST_CASE("a watch freed outside its callback never reports", "[avahi_poll]")
{
    Fixture f;
    Probe p;
    f.put("x");
    AvahiWatch* w = f.api->watch_new(f.api, f.rd.get(), AVAHI_WATCH_IN, watch_cb, &p);
    f.api->watch_free(w);
    f.run_for(30);
    CHECK(p.calls == 0);
}

TEST_CASE("watch_update to no events pauses a watch, and back resumes it", "[avahi_poll]")
{
    Fixture f;
    Probe p;
    const AvahiPoll* api = f.api;
    p.on_watch = [&](AvahiWatch* w) { api->watch_update(w, AvahiWatchEvent{}); };  // data left unread
    f.put("x");
    AvahiWatch* w = api->watch_new(api, f.rd.get(), AVAHI_WATCH_IN, watch_cb, &p);
    f.run_until([&] { return p.calls == 1; });
    f.run_for(30);
    CHECK(p.calls == 1);

    p.on_watch = nullptr;
    api->watch_update(w, AVAHI_WATCH_IN);
    f.run_until([&] { return p.calls >= 2; });
    api->watch_free(w);
}

TEST_CASE("watch_update from outside moves a watch to other events", "[avahi_poll]")
{
    Fixture f;
    Probe p;
    const AvahiPoll* api = f.api;
    p.on_watch = [&](AvahiWatch* w) { api->watch_free(w); };
    // The write end of an empty pipe is writable at once, but a watch
    // for no events reports nothing until it is told to watch for output.
    AvahiWatch* w = api->watch_new(api, f.wr.get(), AvahiWatchEvent{}, watch_cb, &p);
    f.run_for(20);
    CHECK(p.calls == 0);
    api->watch_update(w, AVAHI_WATCH_OUT);
    f.run_until([&] { return p.calls == 1; });
    CHECK(p.last == AVAHI_WATCH_OUT);
}

TEST_CASE("a watch reports hang-up when the other end closes", "[avahi_poll]")
{
    Fixture f;
    Probe p;
    const AvahiPoll* api = f.api;
    p.on_watch = [&](AvahiWatch* w) { api->watch_free(w); };
    api->watch_new(api, f.rd.get(), AVAHI_WATCH_IN, watch_cb, &p);
    f.wr.reset();
    f.run_until([&] { return p.calls == 1; });
    CHECK((p.last & AVAHI_WATCH_HUP) != 0);
}

TEST_CASE("a timeout fires once, at its time", "[avahi_poll]")
{
    Fixture f;
    Probe p;
    auto start = std::chrono::steady_clock::now();
    timeval tv = in_ms(40);
    AvahiTimeout* t = f.api->timeout_new(f.api, &tv, timeout_cb, &p);
    f.run_until([&] { return p.calls == 1; });
    CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(35));
    f.run_for(60);
    CHECK(p.calls == 1);
    f.api->timeout_free(t);
}

TEST_CASE("a timeout with no time is disabled until updated", "[avahi_poll]")
{
    Fixture f;
    Probe p;
    AvahiTimeout* t = f.api->timeout_new(f.api, nullptr, timeout_cb, &p);
    f.run_for(30);
    CHECK(p.calls == 0);
    timeval tv = in_ms(10);
    f.api->timeout_update(t, &tv);
    f.run_until([&] { return p.calls == 1; });
    f.api->timeout_update(t, &tv);  // already due: the next turn
    f.run_until([&] { return p.calls == 2; });
    f.api->timeout_update(t, nullptr);
    f.api->timeout_free(t);
}

TEST_CASE("a due timeout freed or disabled before its turn never fires", "[avahi_poll]")
{
    Fixture f;
    Probe p;
    timeval now = in_ms(0);
    AvahiTimeout* a = f.api->timeout_new(f.api, &now, timeout_cb, &p);
    AvahiTimeout* b = f.api->timeout_new(f.api, &now, timeout_cb, &p);
    f.api->timeout_free(a);
    f.api->timeout_update(b, nullptr);
    f.run_for(30);
    CHECK(p.calls == 0);
    f.api->timeout_free(b);
}

TEST_CASE("timeout_update moves a pending timeout", "[avahi_poll]")
{
    Fixture f;
    Probe p;
    auto start = std::chrono::steady_clock::now();
    timeval soon = in_ms(10);
    AvahiTimeout* t = f.api->timeout_new(f.api, &soon, timeout_cb, &p);
    timeval later = in_ms(80);
    f.api->timeout_update(t, &later);
    f.run_until([&] { return p.calls == 1; });
    CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(75));
    f.run_for(30);
    CHECK(p.calls == 1);
    f.api->timeout_free(t);
}

TEST_CASE("a timeout re-armed, then freed, from inside its own callback", "[avahi_poll]")
{
    Fixture f;
    Probe p;
    const AvahiPoll* api = f.api;
    p.on_timeout = [&](AvahiTimeout* t) {
        if (p.calls < 3) {
            timeval tv = in_ms(5);
            api->timeout_update(t, &tv);
        } else {
            api->timeout_free(t);
        }
    };
    timeval tv = in_ms(5);
    api->timeout_new(api, &tv, timeout_cb, &p);
    f.run_until([&] { return p.calls == 3; });
    f.run_for(30);
    CHECK(p.calls == 3);
}

TEST_CASE("nothing is left in the loop once everything is freed", "[avahi_poll]")
{
    Fixture f;
    Probe p;
    timeval tv = in_ms(1000);
    AvahiTimeout* t = f.api->timeout_new(f.api, &tv, timeout_cb, &p);
    AvahiWatch* w = f.api->watch_new(f.api, f.rd.get(), AVAHI_WATCH_IN, watch_cb, &p);
    f.api->timeout_free(t);
    f.api->watch_free(w);
    REQUIRE(f.loop->run_until([&] { return f.loop->pending() == 0; }));
    CHECK(p.calls == 0);
}
