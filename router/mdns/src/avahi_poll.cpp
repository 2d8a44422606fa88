// fleet — AvahiPoll on fleet::Loop (see avahi_poll.hpp).
#include "avahi_poll.hpp"

#include <poll.h>
#include <sys/time.h>

#include <chrono>
#include <cstdint>
#include <memory>

// avahi declares these two types and leaves their definition to each main
// loop adapter (as its simple-watch.c and glib-watch.c do).
struct AvahiWatch {
    fleet::Loop* loop;
    int fd;
    AvahiWatchEvent events;     // what avahi wants
    AvahiWatchEvent revents{};  // what happened, while the callback runs
    AvahiWatchCallback callback;
    void* userdata;
    fleet::OpId op = 0;  // the poll in flight, 0 if none
    bool in_callback = false;
    bool dead = false;  // freed; memory released on a later turn
};

struct AvahiTimeout {
    fleet::Loop* loop;
    AvahiTimeoutCallback callback;
    void* userdata;
    fleet::OpId op = 0;       // the timer in flight, 0 if none (or deferred)
    std::uint64_t armed = 0;  // which arming may fire; 0 = disabled
    std::uint64_t armings = 0;
    bool dead = false;
};

namespace fleet::router {

namespace {

fleet::Loop& loop_of(const AvahiPoll* api)
{
    return *static_cast<fleet::Loop*>(api->userdata);
}

unsigned to_poll(AvahiWatchEvent e)
{
    unsigned p = 0;
    if ((e & AVAHI_WATCH_IN) != 0) p |= POLLIN;
    if ((e & AVAHI_WATCH_OUT) != 0) p |= POLLOUT;
    if ((e & AVAHI_WATCH_ERR) != 0) p |= POLLERR;
    if ((e & AVAHI_WATCH_HUP) != 0) p |= POLLHUP;
    return p;
}

AvahiWatchEvent from_poll(int revents)
{
    int e = 0;
    if ((revents & POLLIN) != 0) e |= AVAHI_WATCH_IN;
    if ((revents & POLLOUT) != 0) e |= AVAHI_WATCH_OUT;
    if ((revents & POLLERR) != 0) e |= AVAHI_WATCH_ERR;
    if ((revents & POLLHUP) != 0) e |= AVAHI_WATCH_HUP;
    return static_cast<AvahiWatchEvent>(e);
}

// Release an object avahi has freed once the current callbacks are over.
// The lambda owns it, so it is released even if the loop is destroyed
// before that turn comes.
template <class T>
void release_later(fleet::Loop& loop, T* object)
{
    loop.defer([owned = std::shared_ptr<T>(object)] {});
}

// --- watches ---------------------------------------------------------------

void watch_fire(AvahiWatch* w, int res);

void watch_arm(AvahiWatch* w)
{
    if (w->events == 0) return;
    w->op = w->loop->poll(w->fd, to_poll(w->events), [w](int res) { watch_fire(w, res); });
}

void watch_disarm(AvahiWatch* w)
{
    if (w->op != 0) w->loop->cancel(w->op);
    w->op = 0;
}

void watch_fire(AvahiWatch* w, int res)
{
    w->op = 0;
    // A failed poll (the fd closed under us: -EBADF) is reported as an
    // error once and not armed again, or it would fail forever.
    w->revents = res < 0 ? AVAHI_WATCH_ERR : from_poll(res);
    w->in_callback = true;
    w->callback(w, w->fd, w->revents, w->userdata);
    w->in_callback = false;
    w->revents = {};
    if (!w->dead && w->op == 0 && res >= 0) watch_arm(w);
}

AvahiWatch* watch_new(const AvahiPoll* api, int fd, AvahiWatchEvent events, AvahiWatchCallback callback, void* userdata)
{
    auto* w = new AvahiWatch{&loop_of(api), fd, events, {}, callback, userdata};
    watch_arm(w);
    return w;
}

void watch_update(AvahiWatch* w, AvahiWatchEvent events)
{
    if (events == w->events && (w->op != 0 || w->in_callback)) return;
    w->events = events;
    if (w->in_callback) return;  // armed with the new events when the callback returns
    watch_disarm(w);
    watch_arm(w);
}

AvahiWatchEvent watch_get_events(AvahiWatch* w)
{
    return w->revents;
}

void watch_free(AvahiWatch* w)
{
    watch_disarm(w);
    w->dead = true;
    release_later(*w->loop, w);
}

// --- timeouts --------------------------------------------------------------

void timeout_fire(AvahiTimeout* t, std::uint64_t arming)
{
    if (t->dead || t->armed != arming) return;  // freed, disabled or moved since
    t->op = 0;
    t->armed = 0;
    t->callback(t, t->userdata);
}

void timeout_arm(AvahiTimeout* t, const struct timeval* tv)
{
    if (t->op != 0) t->loop->cancel(t->op);
    t->op = 0;
    t->armed = 0;
    if (tv == nullptr) return;

    struct timeval now {};
    ::gettimeofday(&now, nullptr);
    long long us = (static_cast<long long>(tv->tv_sec) - now.tv_sec) * 1000000LL + (tv->tv_usec - now.tv_usec);
    std::uint64_t arming = t->armed = ++t->armings;
    if (us <= 0) {
        // Due already (libdbus asks for "dispatch now" this way): the next
        // turn. The timeout outlives this: its memory is released by a
        // later deferred call than this one.
        t->loop->defer([t, arming] { timeout_fire(t, arming); });
        return;
    }
    auto delay = std::chrono::milliseconds((us + 999) / 1000);
    t->op = t->loop->timer(delay, [t, arming](int) { timeout_fire(t, arming); });
}

AvahiTimeout* timeout_new(const AvahiPoll* api, const struct timeval* tv, AvahiTimeoutCallback callback, void* userdata)
{
    auto* t = new AvahiTimeout{&loop_of(api), callback, userdata};
    timeout_arm(t, tv);
    return t;
}

void timeout_update(AvahiTimeout* t, const struct timeval* tv)
{
    timeout_arm(t, tv);
}

void timeout_free(AvahiTimeout* t)
{
    timeout_arm(t, nullptr);
    t->dead = true;
    release_later(*t->loop, t);
}

}  // namespace

LoopPoll::LoopPoll(fleet::Loop& loop)
{
    api_.userdata = &loop;
    api_.watch_new = watch_new;
    api_.watch_update = watch_update;
    api_.watch_get_events = watch_get_events;
    api_.watch_free = watch_free;
    api_.timeout_new = timeout_new;
    api_.timeout_update = timeout_update;
    api_.timeout_free = timeout_free;
}

}  // namespace fleet::router
