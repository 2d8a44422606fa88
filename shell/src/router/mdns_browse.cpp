// fleet shell — fleet routers announced over mDNS (router_session.hpp):
// avahi-client on a simple poll of its own, for at most the timeout.
//
// The browser reports every `_libvirt._tcp` instance it knows, then
// ALL_FOR_NOW; each is resolved (address, port, TXT) and kept if its TXT
// says impl=fleet. The browse ends when ALL_FOR_NOW has come and every
// resolver has answered, or at the deadline.
#include <fleet/shell/router_session.hpp>

#include <algorithm>

#if FLEET_HAVE_AVAHI
#include <avahi-client/client.h>
#include <avahi-client/lookup.h>
#include <avahi-common/error.h>
#include <avahi-common/simple-watch.h>
#include <avahi-common/strlst.h>

#include <fleet/base/lazy_library.hpp>
#endif

namespace fleet::shell {

#if FLEET_HAVE_AVAHI

namespace {

// Opened at the first browse (`routers`, a router found by name): other
// runs do not load it nor D-Bus below it (fleet/base/lazy_library.hpp).
// avahi-common's calls are found through it too: it depends on that.
LazyLibrary avahi_library("libavahi-client.so.3", "finding routers over mDNS");
#define AVAHI_CALL(fn) FLEET_LAZY(avahi_library, fn)

struct Browse {
    AvahiSimplePoll* poll = nullptr;
    AvahiClient* client = nullptr;
    int resolving = 0;
    bool all_for_now = false;
    bool failed = false;
    std::string failure;
    std::vector<RouterEntry> found;

    void settle()
    {
        if (all_for_now && resolving == 0) AVAHI_CALL(avahi_simple_poll_quit)(poll);
    }
};

std::vector<std::string> txt_strings(AvahiStringList* txt)
{
    std::vector<std::string> out;
    for (AvahiStringList* s = txt; s != nullptr; s = AVAHI_CALL(avahi_string_list_get_next)(s)) {
        out.emplace_back(reinterpret_cast<const char*>(AVAHI_CALL(avahi_string_list_get_text)(s)),
                         AVAHI_CALL(avahi_string_list_get_size)(s));
    }
    return out;
}

void on_resolved(AvahiServiceResolver* r, AvahiIfIndex, AvahiProtocol, AvahiResolverEvent event, const char* name,
                 const char*, const char*, const char*, const AvahiAddress* address, uint16_t port,
                 AvahiStringList* txt, AvahiLookupResultFlags, void* userdata)
{
    auto* b = static_cast<Browse*>(userdata);
    if (event == AVAHI_RESOLVER_FOUND && address != nullptr) {
        char text[AVAHI_ADDRESS_STR_MAX] = {};
        AVAHI_CALL(avahi_address_snprint)(text, sizeof text, address);
        auto entry = entry_from_announcement(name, text, port, txt_strings(txt));
        bool seen = entry && std::find(b->found.begin(), b->found.end(), *entry) != b->found.end();
        if (entry && !seen) b->found.push_back(std::move(*entry));
    }
    AVAHI_CALL(avahi_service_resolver_free)(r);
    --b->resolving;
    b->settle();
}

void on_browse(AvahiServiceBrowser*, AvahiIfIndex interface, AvahiProtocol protocol, AvahiBrowserEvent event,
               const char* name, const char* type, const char* domain, AvahiLookupResultFlags, void* userdata)
{
    auto* b = static_cast<Browse*>(userdata);
    switch (event) {
        case AVAHI_BROWSER_NEW:
            if (AVAHI_CALL(avahi_service_resolver_new)(b->client, interface, protocol, name, type, domain,
                                                       AVAHI_PROTO_UNSPEC, AvahiLookupFlags{}, on_resolved,
                                                       b) != nullptr)
                ++b->resolving;
            break;
        case AVAHI_BROWSER_ALL_FOR_NOW:
            b->all_for_now = true;
            b->settle();
            break;
        case AVAHI_BROWSER_FAILURE:
            b->failed = true;
            b->failure = AVAHI_CALL(avahi_strerror)(AVAHI_CALL(avahi_client_errno)(b->client));
            AVAHI_CALL(avahi_simple_poll_quit)(b->poll);
            break;
        case AVAHI_BROWSER_REMOVE:
        case AVAHI_BROWSER_CACHE_EXHAUSTED:
            break;
    }
}

}  // namespace

Result<std::vector<RouterEntry>> browse_fleet_routers(std::chrono::milliseconds timeout)
{
    Browse b;
    b.poll = AVAHI_CALL(avahi_simple_poll_new)();
    if (b.poll == nullptr) return fail("mDNS: cannot make avahi's poll");
    int error = 0;
    b.client = AVAHI_CALL(avahi_client_new)(AVAHI_CALL(avahi_simple_poll_get)(b.poll), AvahiClientFlags{}, nullptr,
                                            nullptr, &error);
    if (b.client == nullptr) {
        AVAHI_CALL(avahi_simple_poll_free)(b.poll);
        return fail(std::string("mDNS: no avahi-daemon (") + AVAHI_CALL(avahi_strerror)(error) + ")");
    }
    AvahiServiceBrowser* browser = AVAHI_CALL(avahi_service_browser_new)(
        b.client, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC, "_libvirt._tcp", nullptr, AvahiLookupFlags{}, on_browse, &b);
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (browser != nullptr) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) break;
        // One wait of at most `left` (avahi's own timeouts may wake it earlier).
        if (AVAHI_CALL(avahi_simple_poll_prepare)(b.poll, static_cast<int>(left.count())) != 0) break;
        if (AVAHI_CALL(avahi_simple_poll_run)(b.poll) != 0 || AVAHI_CALL(avahi_simple_poll_dispatch)(b.poll) != 0)
            break;
    }
    if (browser == nullptr) b.failure = AVAHI_CALL(avahi_strerror)(AVAHI_CALL(avahi_client_errno)(b.client));
    AVAHI_CALL(avahi_client_free)(b.client);  // frees the browser and any resolver still out
    AVAHI_CALL(avahi_simple_poll_free)(b.poll);
    if (browser == nullptr || b.failed) return fail("mDNS: cannot browse: " + b.failure);
    return b.found;
}

#else

Result<std::vector<RouterEntry>> browse_fleet_routers(std::chrono::milliseconds)
{
    return fail("mDNS: fsh was built without avahi-client");
}

#endif

}  // namespace fleet::shell
