// fleet — TLS for the libvirt transport (libvirt's qemu+tls://, port 16514).
//
// A TlsSession is the record layer of one connection with no I/O of its
// own: ciphertext read from the socket goes in through receive(), the
// plaintext it yields comes back; plaintext to send goes in through send(),
// and take_output() hands over the ciphertext to write. So it runs on the
// io_uring Loop like any other connection, and tests drive two sessions
// against each other in memory.
//
// libvirt's handshake, which virsh and python-libvirt expect (libvirt
// src/rpc/virnetclient.c, virNetClientSetTLSSession): after the TLS
// handshake the client checks the server's certificate and host name, then
// waits for the server to check the client's certificate (x509, required)
// and send one byte, '\1'. Only then does RPC traffic start. A server that
// refuses the client closes the connection instead.
//
// Certificates are x509 in PEM, in libvirt's places (pki_paths below).
#pragma once

#include <fleet/base/error.hpp>

#include <sys/types.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace fleet::wire {

enum class TlsRole { server, client };

struct PkiPaths {
    std::string ca;    // the CA certificate(s) the peer's certificate must chain to
    std::string crl;   // optional: revoked certificates (empty, or a file that may be missing)
    std::string cert;  // our own certificate
    std::string key;   // its private key
};

// libvirt's certificate locations. With `pki_dir` empty: the system ones
// (/etc/pki/CA/cacert.pem, /etc/pki/CA/cacrl.pem,
// /etc/pki/libvirt/{server,client}cert.pem,
// /etc/pki/libvirt/private/{server,client}key.pem). With a folder (the
// router's --pki-dir, the client URI's ?pkipath=): the flat layout libvirt
// uses there — DIR/cacert.pem, DIR/cacrl.pem, DIR/servercert.pem,
// DIR/serverkey.pem, DIR/clientcert.pem, DIR/clientkey.pem.
PkiPaths pki_paths(TlsRole role, const std::string& pki_dir);

// Loaded certificates and key, shared by every session of a listener.
class TlsCredentials {
public:
    // An error names the file that is missing, unreadable or not a
    // certificate/key, and says that the key must match the certificate.
    static Result<std::shared_ptr<TlsCredentials>> load(const PkiPaths& paths);
    ~TlsCredentials();
    TlsCredentials(const TlsCredentials&) = delete;
    TlsCredentials& operator=(const TlsCredentials&) = delete;

private:
    friend class TlsSession;
    TlsCredentials() = default;
    void* cred_ = nullptr;  // gnutls_certificate_credentials_t
};

class TlsSession {
public:
    // `peer_name` (client only): the host name the server's certificate
    // must be valid for.
    static Result<std::unique_ptr<TlsSession>> create(TlsRole role, std::shared_ptr<TlsCredentials> creds,
                                                      std::string peer_name = {});
    ~TlsSession();
    TlsSession(const TlsSession&) = delete;
    TlsSession& operator=(const TlsSession&) = delete;

    // Client: begin the handshake (the ClientHello is then in take_output()).
    Result<> start();
    // Ciphertext from the peer: drives the handshake, and returns the
    // plaintext that became readable (empty while handshaking). An error
    // (a failed handshake, a bad record, an alert) ends the session.
    Result<std::string> receive(std::string_view ciphertext);
    // Encrypt plaintext for the peer (only once established()).
    Result<> send(std::string_view plaintext);
    // Ciphertext to write to the socket, in order; empties the buffer.
    std::string take_output();
    [[nodiscard]] std::size_t output_size() const { return out_.size(); }

    // The handshake is complete.
    [[nodiscard]] bool established() const { return established_; }
    // Check the peer's certificate: it chains to our CA, is in its validity
    // period and not revoked; a client also checks the server's host name.
    // With `allowed_dn` non-empty, the peer's distinguished name must match
    // one of the patterns (fnmatch(3), as libvirtd's tls_allowed_dn_list).
    Result<> verify_peer(const std::vector<std::string>& allowed_dn = {});
    // The peer certificate's distinguished name ("CN=...,O=..."), once established.
    [[nodiscard]] std::string peer_dn() const;
    // Say goodbye (a close_notify alert goes to take_output()).
    void close();

private:
    TlsSession() = default;
    Result<> handshake();
    static ssize_t push(void* self, const void* data, std::size_t size);
    static ssize_t pull(void* self, void* data, std::size_t size);

    void* session_ = nullptr;  // gnutls_session_t
    std::shared_ptr<TlsCredentials> creds_;
    TlsRole role_ = TlsRole::server;
    std::string peer_name_;
    std::string in_;  // ciphertext received, not yet consumed by GnuTLS
    std::size_t in_pos_ = 0;
    std::string out_;  // ciphertext produced, not yet taken
    bool established_ = false;
};

// The byte a libvirt server sends, encrypted, once it accepted the client's
// certificate.
inline constexpr char tls_accepted_byte = '\1';

}  // namespace fleet::wire
