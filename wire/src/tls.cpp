// fleet — TLS for the libvirt transport, on GnuTLS (tls.hpp).
#include <fleet/wire/tls.hpp>

#include <fleet/base/lazy_library.hpp>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include <fnmatch.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace fleet::wire {

namespace {

// Opened at the first TLS set-up: a client that never speaks TLS (fsh on
// a local router, most runs) does not load it (fleet/base/lazy_library.hpp).
LazyLibrary gnutls_library("libgnutls.so.30", "TLS (qemu+tls://, the router's TLS listener)");
#define GNUTLS_CALL(fn) FLEET_LAZY(gnutls_library, fn)

// What GnuTLS allocated, given back (its gnutls_free is an object).
void gnutls_release(void* p)
{
    (*GNUTLS_CALL(gnutls_free))(p);
}

std::unexpected<Error> tls_fail(const std::string& what, int gnutls_error)
{
    return fail(what + ": " + GNUTLS_CALL(gnutls_strerror)(gnutls_error));
}

Result<> readable(const std::string& path, const char* what)
{
    if (::access(path.c_str(), R_OK) != 0) return fail_errno(std::string("cannot read the ") + what + " " + path);
    return {};
}

gnutls_certificate_credentials_t cred_of(void* p)
{
    return static_cast<gnutls_certificate_credentials_t>(p);
}

}  // namespace

PkiPaths pki_paths(TlsRole role, const std::string& pki_dir)
{
    const char* who = role == TlsRole::server ? "server" : "client";
    if (!pki_dir.empty()) {
        return PkiPaths{pki_dir + "/cacert.pem", pki_dir + "/cacrl.pem", pki_dir + "/" + who + "cert.pem",
                        pki_dir + "/" + who + "key.pem"};
    }
    return PkiPaths{"/etc/pki/CA/cacert.pem", "/etc/pki/CA/cacrl.pem",
                    std::string("/etc/pki/libvirt/") + who + "cert.pem",
                    std::string("/etc/pki/libvirt/private/") + who + "key.pem"};
}

// ---- Credentials -----------------------------------------------------------

TlsCredentials::~TlsCredentials()
{
    if (cred_) GNUTLS_CALL(gnutls_certificate_free_credentials)(cred_of(cred_));
}

Result<std::shared_ptr<TlsCredentials>> TlsCredentials::load(const PkiPaths& paths)
{
    for (auto [path, what] : {std::pair{&paths.ca, "CA certificate"}, std::pair{&paths.cert, "certificate"},
                              std::pair{&paths.key, "private key"}}) {
        if (auto r = readable(*path, what); !r) return std::unexpected(r.error());
    }
    std::shared_ptr<TlsCredentials> c(new TlsCredentials);
    gnutls_certificate_credentials_t cred = nullptr;
    if (int e = GNUTLS_CALL(gnutls_certificate_allocate_credentials)(&cred); e < 0)
        return tls_fail("cannot set up TLS", e);
    c->cred_ = cred;
    int n = GNUTLS_CALL(gnutls_certificate_set_x509_trust_file)(cred, paths.ca.c_str(), GNUTLS_X509_FMT_PEM);
    if (n < 0) return tls_fail("cannot load the CA certificate " + paths.ca, n);
    if (n == 0) return fail("the CA file " + paths.ca + " holds no certificate");
    if (!paths.crl.empty() && ::access(paths.crl.c_str(), F_OK) == 0) {
        if (int e = GNUTLS_CALL(gnutls_certificate_set_x509_crl_file)(cred, paths.crl.c_str(), GNUTLS_X509_FMT_PEM);
            e < 0)
            return tls_fail("cannot load the revocation list " + paths.crl, e);
    }
    int e = GNUTLS_CALL(gnutls_certificate_set_x509_key_file)(cred, paths.cert.c_str(), paths.key.c_str(),
                                                              GNUTLS_X509_FMT_PEM);
    if (e < 0)
        return tls_fail("cannot load the certificate " + paths.cert + " with its key " + paths.key +
                            " (both PEM, and the key must belong to the certificate)",
                        e);
    return c;
}

// ---- Session ---------------------------------------------------------------

TlsSession::~TlsSession()
{
    if (session_) GNUTLS_CALL(gnutls_deinit)(static_cast<gnutls_session_t>(session_));
}

Result<std::unique_ptr<TlsSession>> TlsSession::create(TlsRole role, std::shared_ptr<TlsCredentials> creds,
                                                       std::string peer_name)
{
    std::unique_ptr<TlsSession> s(new TlsSession);
    s->role_ = role;
    s->creds_ = std::move(creds);
    s->peer_name_ = std::move(peer_name);
    gnutls_session_t session = nullptr;
    unsigned flags = (role == TlsRole::server ? GNUTLS_SERVER : GNUTLS_CLIENT) | GNUTLS_NONBLOCK;
    if (int e = GNUTLS_CALL(gnutls_init)(&session, flags); e < 0) return tls_fail("cannot start a TLS session", e);
    s->session_ = session;
    if (int e = GNUTLS_CALL(gnutls_set_default_priority)(session); e < 0)
        return tls_fail("cannot set TLS priorities", e);
    if (int e = GNUTLS_CALL(gnutls_credentials_set)(session, GNUTLS_CRD_CERTIFICATE, s->creds_->cred_); e < 0)
        return tls_fail("cannot use the TLS credentials", e);
    if (role == TlsRole::server) GNUTLS_CALL(gnutls_certificate_server_set_request)(session, GNUTLS_CERT_REQUIRE);
    if (role == TlsRole::client && !s->peer_name_.empty())
        GNUTLS_CALL(gnutls_server_name_set)(session, GNUTLS_NAME_DNS, s->peer_name_.data(), s->peer_name_.size());
    GNUTLS_CALL(gnutls_transport_set_ptr)(session, s.get());
    GNUTLS_CALL(gnutls_transport_set_push_function)(session, &TlsSession::push);
    GNUTLS_CALL(gnutls_transport_set_pull_function)(session, &TlsSession::pull);
    return s;
}

ssize_t TlsSession::push(void* self, const void* data, std::size_t size)
{
    auto* s = static_cast<TlsSession*>(self);
    s->out_.append(static_cast<const char*>(data), size);
    return static_cast<ssize_t>(size);
}

ssize_t TlsSession::pull(void* self, void* data, std::size_t size)
{
    auto* s = static_cast<TlsSession*>(self);
    std::size_t left = s->in_.size() - s->in_pos_;
    if (left == 0) {
        GNUTLS_CALL(gnutls_transport_set_errno)(static_cast<gnutls_session_t>(s->session_), EAGAIN);
        return -1;
    }
    std::size_t n = std::min(left, size);
    std::memcpy(data, s->in_.data() + s->in_pos_, n);
    s->in_pos_ += n;
    return static_cast<ssize_t>(n);
}

Result<> TlsSession::handshake()
{
    int e = GNUTLS_CALL(gnutls_handshake)(static_cast<gnutls_session_t>(session_));
    if (e == GNUTLS_E_SUCCESS) {
        established_ = true;
        return {};
    }
    if (e == GNUTLS_E_AGAIN || e == GNUTLS_E_INTERRUPTED) return {};
    if (!GNUTLS_CALL(gnutls_error_is_fatal)(e)) return {};  // a warning alert: carry on
    return tls_fail("TLS handshake failed", e);
}

Result<> TlsSession::start()
{
    return handshake();
}

Result<std::string> TlsSession::receive(std::string_view ciphertext)
{
    in_.append(ciphertext);
    auto session = static_cast<gnutls_session_t>(session_);
    std::string plain;
    if (!established_) {
        if (auto r = handshake(); !r) return std::unexpected(r.error());
    }
    while (established_) {
        char buf[16384];
        ssize_t n = GNUTLS_CALL(gnutls_record_recv)(session, buf, sizeof buf);
        if (n > 0) {
            plain.append(buf, static_cast<std::size_t>(n));
            continue;
        }
        if (n == 0) break;  // the peer said goodbye: end of stream
        if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) break;
        if (n == GNUTLS_E_REHANDSHAKE) return fail("the TLS peer asked for a renegotiation, which is refused");
        if (!GNUTLS_CALL(gnutls_error_is_fatal)(static_cast<int>(n))) continue;
        return tls_fail("TLS record error", static_cast<int>(n));
    }
    // Drop what GnuTLS has consumed, so the buffer does not grow.
    in_.erase(0, in_pos_);
    in_pos_ = 0;
    return plain;
}

Result<> TlsSession::send(std::string_view plaintext)
{
    if (!established_) return fail("TLS: sending before the handshake is complete");
    auto session = static_cast<gnutls_session_t>(session_);
    while (!plaintext.empty()) {
        ssize_t n = GNUTLS_CALL(gnutls_record_send)(session, plaintext.data(), plaintext.size());
        // push() never blocks, so GNUTLS_E_AGAIN cannot come back here: any
        // negative answer is a failure (and never a busy loop).
        if (n < 0) return tls_fail("TLS send failed", static_cast<int>(n));
        plaintext.remove_prefix(static_cast<std::size_t>(n));
    }
    return {};
}

std::string TlsSession::take_output()
{
    return std::exchange(out_, {});
}

Result<> TlsSession::verify_peer(const std::vector<std::string>& allowed_dn)
{
    if (!established_) return fail("TLS: no peer certificate before the handshake is complete");
    auto session = static_cast<gnutls_session_t>(session_);
    unsigned status = 0;
    const char* host = role_ == TlsRole::client && !peer_name_.empty() ? peer_name_.c_str() : nullptr;
    if (int e = GNUTLS_CALL(gnutls_certificate_verify_peers3)(session, host, &status); e < 0)
        return tls_fail("cannot verify the peer's certificate", e);
    if (status != 0) {
        gnutls_datum_t text{};
        std::string why = "certificate rejected";
        if (GNUTLS_CALL(gnutls_certificate_verification_status_print)(status, GNUTLS_CRT_X509, &text, 0) == 0) {
            why = reinterpret_cast<const char*>(text.data);
            gnutls_release(text.data);
        }
        return fail("the peer's certificate is not trusted: " + why);
    }
    if (allowed_dn.empty()) return {};
    std::string dn = peer_dn();
    for (const auto& pattern : allowed_dn)
        if (::fnmatch(pattern.c_str(), dn.c_str(), 0) == 0) return {};
    return fail("the peer's certificate name '" + dn + "' is not in the allowed list");
}

std::string TlsSession::peer_dn() const
{
    auto session = static_cast<gnutls_session_t>(session_);
    unsigned count = 0;
    const gnutls_datum_t* certs = GNUTLS_CALL(gnutls_certificate_get_peers)(session, &count);
    if (certs == nullptr || count == 0) return {};
    gnutls_x509_crt_t crt = nullptr;
    if (GNUTLS_CALL(gnutls_x509_crt_init)(&crt) < 0) return {};
    std::string dn;
    gnutls_datum_t text{};
    if (GNUTLS_CALL(gnutls_x509_crt_import)(crt, &certs[0], GNUTLS_X509_FMT_DER) == 0 &&
        GNUTLS_CALL(gnutls_x509_crt_get_dn3)(crt, &text, 0) == 0) {
        dn.assign(reinterpret_cast<const char*>(text.data), text.size);
        gnutls_release(text.data);
    }
    GNUTLS_CALL(gnutls_x509_crt_deinit)(crt);
    return dn;
}

void TlsSession::close()
{
    if (established_) GNUTLS_CALL(gnutls_bye)(static_cast<gnutls_session_t>(session_), GNUTLS_SHUT_WR);
}

}  // namespace fleet::wire
