// fleet — avahi's main-loop interface (AvahiPoll) on fleet::Loop.
//
// Watches are one-shot Loop::poll operations, armed again after each
// callback (unless the callback freed or disarmed the watch); timeouts are
// Loop::timer operations, or Loop::defer when already due. Freeing cancels
// the pending operation, so its callback never runs; the memory itself is
// released on a later turn of the loop (Loop::defer), because avahi and
// libdbus free watches and timeouts from inside their own callbacks.
//
// AvahiPoll's rules, as avahi-common/watch.h states them: a watch reports
// until it is freed; a timeout fires once at an absolute gettimeofday()
// time, then stays disabled until timeout_update; a NULL time disables it.
#pragma once

#include <fleet/base/loop.hpp>

#include <avahi-common/watch.h>

namespace fleet::router {

class LoopPoll {
public:
    explicit LoopPoll(fleet::Loop& loop);
    // Every watch and timeout made through api() must have been freed
    // (avahi_client_free frees the client's).
    ~LoopPoll() = default;
    LoopPoll(const LoopPoll&) = delete;
    LoopPoll& operator=(const LoopPoll&) = delete;

    [[nodiscard]] const AvahiPoll* api() const { return &api_; }

private:
    AvahiPoll api_{};
};

}  // namespace fleet::router
