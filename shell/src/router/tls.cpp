// fleet shell — the router client over TLS (router_client.hpp): libvirt's
// qemu+tls:// handshake on the blocking connection.
//
// As libvirt's client does (virNetClientSetTLSSession): the TLS handshake
// with our certificate, then the server's certificate checked (CA, dates,
// host name) unless the URI says no_verify=1, then one byte from the
// server, '\1', which says it accepted our certificate. Anything after
// that byte is already RPC traffic.
#include <fleet/shell/router_client.hpp>

namespace fleet::shell {

Result<> RouterClient::start_tls(const RouterUri& uri)
{
    auto creds = wire::TlsCredentials::load(wire::pki_paths(wire::TlsRole::client, uri.pkipath));
    if (!creds) return fail("TLS: " + creds.error().what());
    auto session = wire::TlsSession::create(wire::TlsRole::client, std::move(*creds), uri.no_verify ? "" : uri.host);
    if (!session) return fail("TLS: " + session.error().what());
    tls_ = std::move(*session);
    if (auto ok = tls_->start(); !ok) return fail("TLS: " + ok.error().what());
    if (auto ok = write_all(tls_->take_output()); !ok) return ok;
    auto deadline = std::chrono::steady_clock::now() + timeout_;
    std::string plain;
    while (!tls_->established()) {
        auto got = read_some(deadline);
        if (!got) return fail("TLS handshake: " + got.error().what());
        plain += *got;
    }
    if (!uri.no_verify)
        if (auto ok = tls_->verify_peer(); !ok) return fail("TLS: the router's certificate: " + ok.error().what());
    while (plain.empty()) {
        auto got = read_some(deadline);
        if (!got) return fail("TLS: the router did not accept our certificate (" + got.error().what() + ")");
        plain += *got;
    }
    if (plain[0] != wire::tls_accepted_byte) return fail("TLS: the router refused our certificate");
    if (plain.size() > 1) {
        auto packets = assembler_.feed(std::string_view(plain).substr(1));
        if (!packets) return fail("bad data from the router: " + packets.error().message);
        for (auto& p : *packets) queued_.push_back(std::move(p));
    }
    return {};
}

}  // namespace fleet::shell
