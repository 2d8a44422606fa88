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
    Call(Connection& conn, const wire::Header& header, const Services& services, bool writes)
        : conn_(conn.weak_from_this()),
          header_(header),
          services_(&services),
          caller_(conn.session().caller),
          writes_(writes)
    {
    }

    [[nodiscard]] const wire::Header& header() const { return header_; }
    // Who asks (the connection's peer), and whether the procedure writes.
    [[nodiscard]] const Principal& caller() const { return caller_; }
    [[nodiscard]] bool writes() const { return writes_; }
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
        if (auto c = live()) c->reply(wire::encode_reply(header_, ret));
    }
    // A REPLY_WITH_FDS: ret, and the fds after it (the caller checked
    // that the connection passes fds).
    template <class T>
    void reply_with_fds(const T& ret, std::vector<Fd> fds) const
    {
        const auto n = static_cast<std::uint32_t>(fds.size());
        if (auto c = live()) c->reply_with_fds(wire::encode_reply_with_fds(header_, ret, n), std::move(fds));
    }
    void fail(const LibvirtError& e) const
    {
        if (auto c = live()) c->reply(wire::encode_error_reply(header_, to_remote_error(e)));
    }
    // An administrator gets the detail of an error about a file it named.
    void fail(const DomainError& e) const { fail(to_libvirt(e, caller_.administrator())); }
    // Void, or the error.
    void answer(const DomainResult<>& r) const
    {
        if (!r) return fail(r.error());
        reply(wire::Void{});
    }

    // The client, if it is still there.
    [[nodiscard]] std::shared_ptr<Connection> live() const
    {
        auto c = conn_.lock();
        return c && !c->closed() ? c : nullptr;
    }

private:
    std::weak_ptr<Connection> conn_;
    wire::Header header_;
    const Services* services_;
    Principal caller_;
    bool writes_;
};

// f(domain) for the domain a client names, or its "not found" answer; a
// procedure that writes also needs the caller to be the domain's owner or
// an administrator.
template <class F>
void with_domain(const Call& call, const wire::NonnullDomain& dom, F&& f)
{
    auto d = call.registry().lookup(dom.uuid, dom.name);
    if (!d) return call.fail(d.error());
    if (call.writes())
        if (auto ok = call.registry().may_change(**d, call.caller()); !ok) return call.fail(ok.error());
    f(*d);
}

}  // namespace fleet::router::libvirt
