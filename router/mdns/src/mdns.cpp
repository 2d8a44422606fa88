// fleet — MdnsPublisher: one service through avahi-client (see mdns.hpp).
//
// The client is made with AVAHI_CLIENT_NO_FAIL, so with a D-Bus system bus
// but no avahi-daemon it waits (CONNECTING) and avahi-client itself notices
// the daemon appearing. Two cases it leaves to us:
//  - no system bus at all: avahi_client_new fails; we try again on a timer
//    (1 s, doubling to 16 s), quietly after the first warning;
//  - the daemon (or the bus) goes away: the client enters FAILURE and is
//    dead for good; we free it and make a new one, which waits as above.
// Both are done from a Loop timer, never inside avahi's own callback, since
// freeing the client there would pull the D-Bus connection from under the
// dispatch that is calling us.
#include <fleet/router/mdns.hpp>

#include "avahi_poll.hpp"

#include <avahi-client/client.h>
#include <avahi-client/publish.h>
#include <avahi-common/alternative.h>
#include <avahi-common/domain.h>
#include <avahi-common/error.h>
#include <avahi-common/malloc.h>
#include <avahi-common/strlst.h>

#include <algorithm>
#include <chrono>
#include <utility>

namespace fleet::router {

namespace {

constexpr std::chrono::milliseconds first_retry{1000};
constexpr std::chrono::milliseconds last_retry{16000};

// A service name is one DNS label: at most 63 bytes. Longer names ("fleet
// on " + a long host name) are cut at a UTF-8 character boundary (avahi
// itself shortens further when a collision suffix needs room).
std::string fit_label(const std::string& name)
{
    std::size_t n = AVAHI_LABEL_MAX - 1;
    if (name.size() <= n) return name;
    while (n > 0 && (static_cast<unsigned char>(name[n]) & 0xC0) == 0x80) --n;  // not inside a character
    return name.substr(0, n);
}

}  // namespace

struct MdnsPublisher::Impl {
    fleet::Loop& loop;
    MdnsService service;
    Log log;
    LoopPoll poll;
    AvahiClient* client = nullptr;
    AvahiEntryGroup* group = nullptr;  // the client's; freed with it
    std::string name;                  // service.name, or its alternative after collisions
    bool established = false;
    bool running_once = false;  // the current client has reached S_RUNNING
    bool warned = false;        // the one "no avahi-daemon" warning is out
    fleet::OpId reconnect = 0;  // timer for the next connect(), 0 if none
    std::chrono::milliseconds backoff = first_retry;

    Impl(fleet::Loop& l, MdnsService s, Log lg)
        : loop(l), service(std::move(s)), log(std::move(lg)), poll(l), name(service.name)
    {
    }

    ~Impl()
    {
        if (reconnect != 0) loop.cancel(reconnect);
        drop_client();
    }

    void say(const std::string& line) const
    {
        if (log) log(line);
    }

    std::string quoted_name() const
    {
        return "'" + name + "' " + service.type + " port " + std::to_string(service.port);
    }

    // --- the client ------------------------------------------------------

    void connect()
    {
        reconnect = 0;
        running_once = false;
        int error = 0;
        // The state callback runs inside this call already (S_RUNNING when
        // the daemon is there: the service is added before it returns).
        AvahiClient* c = avahi_client_new(poll.api(), AVAHI_CLIENT_NO_FAIL, on_client_state, this, &error);
        if (c == nullptr) {
            warn_once(error == AVAHI_ERR_NO_DAEMON ? std::string("no D-Bus system bus")
                                                   : std::string("D-Bus system bus: ") + avahi_strerror(error));
            retry_later(backoff);
            backoff = std::min(backoff * 2, last_retry);
            return;
        }
        client = c;
    }

    void drop_client()
    {
        // avahi_entry_group_free asks the daemon to withdraw (a blocking
        // call: the records are withdrawn when it returns).
        // avahi_client_free alone only disconnects; the daemon would then
        // drop the vanished client's records by itself, a little later.
        if (group != nullptr) avahi_entry_group_free(group);
        group = nullptr;
        established = false;
        if (client != nullptr) avahi_client_free(client);
        client = nullptr;
    }

    void retry_later(std::chrono::milliseconds delay)
    {
        reconnect = loop.timer(delay, [this](int) {
            reconnect = 0;
            drop_client();
            connect();
        });
    }

    void warn_once(const std::string& why)
    {
        if (warned) return;
        warned = true;
        say("mdns: no avahi-daemon (" + why + "); serving without mDNS");
    }

    static void on_client_state(AvahiClient* c, AvahiClientState state, void* userdata)
    {
        auto* self = static_cast<Impl*>(userdata);
        self->client = c;  // also while avahi_client_new has not returned yet
        self->client_state(state);
    }

    void client_state(AvahiClientState state)
    {
        switch (state) {
            case AVAHI_CLIENT_S_RUNNING:
                running_once = true;
                backoff = first_retry;
                publish();
                break;
            case AVAHI_CLIENT_S_COLLISION:
            case AVAHI_CLIENT_S_REGISTERING:
                // The daemon is (re)choosing its host name; its records are
                // withdrawn meanwhile. Publish again at S_RUNNING.
                established = false;
                if (group != nullptr) avahi_entry_group_reset(group);
                break;
            case AVAHI_CLIENT_CONNECTING:
                warn_once(avahi_strerror(AVAHI_ERR_NO_DAEMON));
                break;
            case AVAHI_CLIENT_FAILURE:
                lost(avahi_client_errno(client));
                break;
        }
    }

    // The client is dead (daemon or bus gone); a new one waits for the
    // daemon to return. Right away after a working connection, else with
    // the back-off (a client that fails at once must not spin).
    void lost(int error)
    {
        if (established || running_once)
            say(std::string("mdns: lost avahi-daemon (") + avahi_strerror(error) +
                "); will publish again when it returns");
        established = false;
        group = nullptr;  // dead with its client; avahi_client_free frees it
        if (reconnect != 0) return;
        if (running_once) {
            retry_later(std::chrono::milliseconds(0));
        } else {
            retry_later(backoff);
            backoff = std::min(backoff * 2, last_retry);
        }
    }

    // --- the entry group -------------------------------------------------

    void publish()
    {
        if (group == nullptr) group = avahi_entry_group_new(client, on_group_state, this);
        if (group == nullptr) {
            say(std::string("mdns: cannot publish: ") + avahi_strerror(avahi_client_errno(client)));
            return;
        }
        avahi_entry_group_reset(group);
        established = false;
        // Strings added in order reach the wire in order, as with
        // avahi-publish (avahi-browse prints them backwards);
        // tests/integration/mdns_test.py checks the packet.
        AvahiStringList* txt = nullptr;
        for (const auto& s : service.txt) txt = avahi_string_list_add(txt, s.c_str());
        int r = AVAHI_ERR_COLLISION;
        // A local collision (another client of this daemon has the name)
        // is reported here at once; a remote one later, as a group state.
        for (int tries = 0; r == AVAHI_ERR_COLLISION && tries < 100; ++tries) {
            r = avahi_entry_group_add_service_strlst(group, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC, AvahiPublishFlags{},
                                                     name.c_str(), service.type.c_str(), nullptr, nullptr, service.port,
                                                     txt);
            if (r == AVAHI_ERR_COLLISION) rename();
        }
        avahi_string_list_free(txt);
        if (r >= 0) r = avahi_entry_group_commit(group);
        if (r < 0) say("mdns: cannot publish " + quoted_name() + ": " + avahi_strerror(r));
    }

    void rename()
    {
        char* alt = avahi_alternative_service_name(name.c_str());
        std::string next = alt != nullptr ? alt : name + " #2";
        avahi_free(alt);
        say("mdns: name '" + name + "' is taken; publishing as '" + next + "'");
        name = std::move(next);
    }

    static void on_group_state(AvahiEntryGroup* g, AvahiEntryGroupState state, void* userdata)
    {
        auto* self = static_cast<Impl*>(userdata);
        if (self->group == nullptr) self->group = g;  // while avahi_entry_group_new runs
        self->group_state(state);
    }

    void group_state(AvahiEntryGroupState state)
    {
        switch (state) {
            case AVAHI_ENTRY_GROUP_ESTABLISHED:
                established = true;
                say("mdns: published " + quoted_name());
                break;
            case AVAHI_ENTRY_GROUP_COLLISION:
                established = false;
                rename();
                publish();
                break;
            case AVAHI_ENTRY_GROUP_FAILURE:
                established = false;
                say("mdns: cannot publish " + quoted_name() + ": " + avahi_strerror(avahi_client_errno(client)));
                break;
            case AVAHI_ENTRY_GROUP_UNCOMMITED:
            case AVAHI_ENTRY_GROUP_REGISTERING:
                break;
        }
    }
};

MdnsPublisher::MdnsPublisher(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

MdnsPublisher::~MdnsPublisher() = default;

std::unique_ptr<MdnsPublisher> MdnsPublisher::start(fleet::Loop& loop, MdnsService service, Log log)
{
    std::string fitted = fit_label(service.name);
    if (fitted != service.name && log)
        log("mdns: name '" + service.name + "' is longer than a DNS label; publishing as '" + fitted + "'");
    service.name = fitted;
    auto impl = std::make_unique<Impl>(loop, std::move(service), std::move(log));
    impl->connect();
    return std::unique_ptr<MdnsPublisher>(new MdnsPublisher(std::move(impl)));
}

std::string MdnsPublisher::published_name() const
{
    return impl_->name;
}

bool MdnsPublisher::established() const
{
    return impl_->established;
}

}  // namespace fleet::router
