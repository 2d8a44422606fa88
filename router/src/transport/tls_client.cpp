// fleet-router — a TLS client's record layer (connection.hpp): the
// handshake on the loop, libvirt's certificate check and its '\1'
// (wire/tls.hpp), then plaintext like any other client. Until the
// certificate is accepted the client is anonymous (max_anonymous_clients)
// and nothing it sends reaches the libvirt mapping.
#include "connection.hpp"

#include <fleet/wire/tls.hpp>

namespace fleet::router {

using namespace fleet::wire;

Result<std::string> Connection::decrypt(std::string_view bytes)
{
    if (!tls_) return std::string(bytes);
    auto plain = tls_->receive(bytes);
    if (tls_->output_size() > 0) out_->write(tls_->take_output());  // handshake records, alerts
    if (!plain) return plain;
    if (tls_ready_) return plain;
    if (!tls_->established()) return std::string{};
    if (auto a = tls_accept(); !a) return std::unexpected(a.error());
    return plain;
}

Result<> Connection::tls_accept()
{
    if (auto v = tls_->verify_peer(server_.options().allowed_dn); !v) return v;
    Principal who = Principal::remote(tls_->peer_dn());
    if (!server_.authenticated(*this, who))
        return fail(who.describe() + " has " + std::to_string(limits().max_clients_per_user) +
                    " connections, the most allowed (max-clients-per-user)");
    tls_ready_ = true;
    peer_.who = who;
    session_.caller = who;
    partial_since_ = Clock::now();
    if (auto s = tls_->send(std::string(1, tls_accepted_byte)); !s) return s;
    out_->write(tls_->take_output());
    log().debug("TLS client " + who.describe() + " accepted");
    return {};
}

}  // namespace fleet::router
