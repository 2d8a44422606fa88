// fleet-router — events and streams: lifecycle event registrations (the
// callback form and the old one), their delivery, and console streams (the
// `events` group of wire/procedures.def).
#include "dispatch.hpp"

#include <fleet/base/socket.hpp>
#include <fleet/router/libvirt.hpp>
#include <fleet/router/server.hpp>

namespace fleet::router::libvirt {

using namespace fleet::wire;

namespace {

// One client, one lifecycle event: once per matching registration.
void send_lifecycle(Connection& c, const Domain& d, EventNumbers n)
{
    const Session& s = c.session();
    if (c.closed() || !s.open) return;
    if (s.caller.kind == Principal::Kind::guest && !(d.owner == s.caller)) return;  // a channel: its children only
    DomainEventLifecycleMsg msg{ref(d), n.event, n.detail};
    for (const auto& [id, reg] : s.callbacks) {
        if (reg.event_id != event_id::lifecycle) continue;
        if (reg.dom && *reg.dom != d.def.uuid) continue;
        c.send(encode_event(RemoteProc::domain_event_callback_lifecycle, DomainEventCallbackLifecycleMsg{id, msg}));
    }
    if (s.old_style.count(event_id::lifecycle)) c.send(encode_event(RemoteProc::domain_event_lifecycle, msg));
}

LibvirtError too_many_callbacks(const Session& s)
{
    return LibvirtError{err::operation_failed,
                        "operation failed: this connection has " + std::to_string(s.max_callbacks) +
                            " event registrations, the most allowed (max-client-callbacks)",
                        errdom::remote};
}

}  // namespace

void connect_domain_event_callback_register_any(const Call& call, const ConnectDomainEventCallbackRegisterAnyArgs& a)
{
    if (a.event_id != event_id::lifecycle)
        return call.fail(LibvirtError{err::no_support, "fleet sends lifecycle events only (event " +
                                                           std::to_string(a.event_id) + " is not supported)"});
    std::optional<Uuid> dom;
    if (a.dom) dom = a.dom->uuid;
    Session& s = call.session();
    if (s.callbacks.size() + s.old_style.size() >= s.max_callbacks) return call.fail(too_many_callbacks(s));
    std::int32_t id = s.next_callback++;
    s.callbacks[id] = Session::Registration{a.event_id, dom};
    call.reply(ConnectDomainEventCallbackRegisterAnyRet{id});
}

void connect_domain_event_callback_deregister_any(const Call& call,
                                                  const ConnectDomainEventCallbackDeregisterAnyArgs& a)
{
    if (!call.session().callbacks.erase(a.callback_id))
        return call.fail(LibvirtError{err::invalid_arg, "no callback with id " + std::to_string(a.callback_id)});
    call.reply(Void{});
}

void connect_domain_event_register_any(const Call& call, const ConnectDomainEventRegisterAnyArgs& a)
{
    if (a.event_id != event_id::lifecycle)
        return call.fail(LibvirtError{err::no_support, "fleet sends lifecycle events only"});
    Session& s = call.session();
    if (!s.old_style.count(a.event_id) && s.callbacks.size() + s.old_style.size() >= s.max_callbacks)
        return call.fail(too_many_callbacks(s));
    s.old_style.insert(a.event_id);
    call.reply(Void{});
}

void connect_domain_event_deregister_any(const Call& call, const ConnectDomainEventDeregisterAnyArgs& a)
{
    call.session().old_style.erase(a.event_id);
    call.reply(Void{});
}

std::optional<LibvirtError> stream_refusal(const Call& call)
{
    Connection& conn = call.connection();
    if (conn.has_stream(call.header().serial))
        return LibvirtError{err::rpc, "a stream with serial " + std::to_string(call.header().serial) + " is open"};
    if (conn.stream_count() >= conn.limits().max_streams)
        return LibvirtError{err::operation_failed,
                            "operation failed: this connection has " + std::to_string(conn.stream_count()) +
                                " streams open, the most allowed (max-client-streams)",
                            errdom::remote};
    return std::nullopt;
}

void domain_open_console(const Call& call, const DomainOpenConsoleArgs& a)
{
    with_domain(call, a.dom, [&](const DomainPtr& d) {
        if (!d->active() || d->starting) return call.fail(not_running());
        if (a.dev_name && !a.dev_name->empty() && *a.dev_name != "serial0" && *a.dev_name != "console0")
            return call.fail(LibvirtError{err::invalid_arg, "cannot find console device '" + *a.dev_name + "'"});
        Connection& conn = call.connection();
        if (auto refusal = stream_refusal(call)) return call.fail(*refusal);
        // Never a blocking connect on the loop: a supervisor that is not
        // accepting (its backlog full) is a busy console, not a stall.
        const std::string& name = d->def.name;
        auto sock = try_connect_unix(call.launcher().console_socket(name), "the console of domain '" + name + "'");
        if (!sock) return call.fail(LibvirtError{err::operation_failed, sock.error().what()});
        call.reply(Void{});
        conn.open_console(call.header(), name, std::move(*sock));
    });
}

FLEET_SERVE_GROUP(events)

}  // namespace fleet::router::libvirt

namespace fleet::router {

void LibvirtService::announce(Server& server, const Domain& d, Lifecycle event)
{
    auto n = libvirt::event_numbers(event);
    server.each_connection([&](Connection& c) { libvirt::send_lifecycle(c, d, n); });
    if (n.event == wire::event::stopped)
        server.each_connection([&](Connection& c) {
            c.domain_ended(d.def.name);
            libvirt::run_ended(c, d);
        });
}

}  // namespace fleet::router
