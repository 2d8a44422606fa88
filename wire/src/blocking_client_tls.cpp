// fleet — the blocking router client's TLS (blocking_client.hpp): libvirt's
// qemu+tls:// handshake on the blocking connection. In libfleet-wire, with
// GnuTLS; the rest of the client is in the codec library.
#include <fleet/wire/blocking_client.hpp>
#include <fleet/wire/tls.hpp>

namespace fleet::wire {

namespace {

using Clock = std::chrono::steady_clock;

// A TlsSession as the client's record layer.
class TlsRecords final : public RecordLayer {
public:
    explicit TlsRecords(std::unique_ptr<TlsSession> s) : s_(std::move(s)) {}
    Result<std::string> receive(std::string_view ciphertext) override { return s_->receive(ciphertext); }
    Result<> send(std::string_view plaintext) override { return s_->send(plaintext); }
    std::string take_output() override { return s_->take_output(); }

private:
    std::unique_ptr<TlsSession> s_;
};

}  // namespace

// As libvirt's client does (virNetClientSetTLSSession): the handshake with
// our certificate, the server's certificate checked (CA, dates, host name)
// unless told not to, then one byte from the server, '\1', which says
// it accepted our certificate. Anything after that byte is RPC traffic.
Result<> BlockingClient::start_tls(const std::string& pkipath, const std::string& host, bool verify)
{
    auto creds = TlsCredentials::load(pki_paths(TlsRole::client, pkipath));
    if (!creds) return fail("TLS: " + creds.error().what());
    auto session = TlsSession::create(TlsRole::client, std::move(*creds), verify ? host : std::string());
    if (!session) return fail("TLS: " + session.error().what());
    TlsSession& tls = **session;
    tls_ = std::make_unique<TlsRecords>(std::move(*session));
    if (auto ok = tls.start(); !ok) return fail("TLS: " + ok.error().what());
    if (auto ok = write_all(tls_->take_output()); !ok) return ok;
    auto deadline = Clock::now() + timeout_;
    std::string plain;
    while (!tls.established()) {
        auto got = read_some(deadline);
        if (!got) return fail("TLS handshake: " + got.error().what());
        plain += *got;
    }
    if (verify)
        if (auto ok = tls.verify_peer(); !ok) return fail("TLS: the router's certificate: " + ok.error().what());
    while (plain.empty()) {
        auto got = read_some(deadline);
        if (!got) return fail("TLS: the router did not accept our certificate (" + got.error().what() + ")");
        plain += *got;
    }
    if (plain[0] != tls_accepted_byte) return fail("TLS: the router refused our certificate");
    return queue(std::string_view(plain).substr(1));
}

}  // namespace fleet::wire
