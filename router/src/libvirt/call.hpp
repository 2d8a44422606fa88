// fleet-router — one call being answered: what every procedure handler
// gets. It names the client (weakly: an answer that comes after the client
// has gone is dropped), the call's header, and the parts a handler may use.
#pragma once

#include "mapping.hpp"
#include "session.hpp"
#include "transport/connection.hpp"

#include <fleet/router/launcher.hpp>
#include <fleet/router/registry.hpp>
#include <fleet/wire/message.hpp>

#include <memory>

namespace fleet::router::libvirt {

class Host;

// What handlers may use besides the client.
struct Services {
    DomainRegistry& registry;
    Launcher& launcher;
    Host& host;
};

class Call {
public:
    Call(Connection& conn, const wire::Header& header, const Services& services)
        : conn_(conn.weak_from_this()), header_(header), services_(&services)
    {
    }

    [[nodiscard]] const wire::Header& header() const { return header_; }
    [[nodiscard]] DomainRegistry& registry() const { return services_->registry; }
    [[nodiscard]] Launcher& launcher() const { return services_->launcher; }
    [[nodiscard]] Host& host() const { return services_->host; }
    // The client and its session: only while the handler runs, not from a
    // later callback (use reply/fail there).
    [[nodiscard]] Connection& connection() const { return *conn_.lock(); }
    [[nodiscard]] Session& session() const { return connection().session(); }

    // Answers, dropped if the client has gone.
    template <class T>
    void reply(const T& ret) const
    {
        if (auto c = live()) c->send(wire::encode_reply(header_, ret));
    }
    void fail(const LibvirtError& e) const
    {
        if (auto c = live()) c->send(wire::encode_error_reply(header_, to_remote_error(e)));
    }
    void fail(const DomainError& e) const { fail(to_libvirt(e)); }
    // Void, or the error.
    void answer(const DomainResult<>& r) const
    {
        if (!r) return fail(r.error());
        reply(wire::Void{});
    }

private:
    [[nodiscard]] std::shared_ptr<Connection> live() const
    {
        auto c = conn_.lock();
        return c && !c->closed() ? c : nullptr;
    }

    std::weak_ptr<Connection> conn_;
    wire::Header header_;
    const Services* services_;
};

// f(domain) for the domain a client names, or its "not found" answer.
template <class F>
void with_domain(const Call& call, const wire::NonnullDomain& dom, F&& f)
{
    auto d = call.registry().lookup(dom.uuid, dom.name);
    if (!d) return call.fail(d.error());
    f(*d);
}

}  // namespace fleet::router::libvirt
