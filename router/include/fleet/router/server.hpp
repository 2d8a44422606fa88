// fleet-router — the transport: the listeners and every client connection
// (router/src/transport/: Connection, ConsoleStream, the listeners, who may
// come in), all on one Loop. Packets in, packets out, keepalives, console
// streams and their flow control, TLS, and the bounds on what a client may
// make the router hold; what a call means is the libvirt mapping's
// (libvirt.hpp).
//
// Every listener is authenticated or read-only (docs/SECURITY.md):
//   libvirt-sock     read-write: root, the router's own user and (for a
//                    root router) the fleet group, checked again by
//                    SO_PEERCRED; mode 0660, group fleet
//   libvirt-sock-ro  read-only, for everyone (mode 0666)
//   TCP              read-only, off unless asked for (no authentication)
//   TLS              read-write for x509 client certificates that chain to
//                    the CA (and match the allowed DN list, if any)
#pragma once

#include <fleet/base/error.hpp>
#include <fleet/base/fd.hpp>
#include <fleet/base/loop.hpp>
#include <fleet/router/limits.hpp>
#include <fleet/router/log.hpp>
#include <fleet/router/principal.hpp>

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace fleet::wire {
class TlsCredentials;
}

namespace fleet::router {

class Connection;
class LibvirtService;

struct ServerOptions {
    std::string socket_path;     // read-write unix socket; empty: none
    std::string socket_ro_path;  // read-only unix socket; empty: none
    std::optional<gid_t> group;  // may use the read-write socket (a root router's fleet group)
    std::string tcp_host = "127.0.0.1";
    int tcp_port = -1;  // read-only plain TCP; -1: none; 0: any free port
    std::string tls_host = "0.0.0.0";
    int tls_port = -1;                    // -1: none; 0: any free port
    std::string pki_dir;                  // empty: libvirt's system locations (wire::pki_paths)
    std::vector<std::string> allowed_dn;  // fnmatch patterns; empty: any certificate from the CA
    bool allow_remote = false;            // plain TCP beyond loopback
    ClientLimits limits{};
};

// Who a new connection is, and what its listener allows.
struct Peer {
    Principal who = Principal::anonymous();  // TLS: set once the certificate is checked
    bool read_only = false;
    bool tls = false;
    std::string via;  // "libvirt-sock", "libvirt-sock-ro", "tcp", "tls", "hypervisor": for logs
    // A VM's hypervisor channel (hypervisor.hpp): it cannot reconnect, so
    // it is never closed for being idle.
    bool channel = false;
};

class Server {
public:
    Server(Loop& loop, LibvirtService& service, ServerOptions options, Log log);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Listen on every listener the options name (a TLS listener first loads
    // its certificates: a missing or bad one is the error).
    Result<> listen();
    // Serve a client on an fd already connected (a socketpair in tests).
    void serve(Fd fd, Peer peer);
    [[nodiscard]] int tcp_port() const { return tcp_port_bound_; }  // -1: none
    [[nodiscard]] int tls_port() const { return tls_port_bound_; }  // -1: none
    [[nodiscard]] const ServerOptions& options() const { return o_; }
    // Stop listening (the socket files are removed) and close every client.
    void stop();

    // Each open client, for events.
    void each_connection(const std::function<void(Connection&)>& f) const;
    [[nodiscard]] std::size_t client_count() const { return connections_.size(); }

    // For Connection.
    Loop& loop() { return loop_; }
    const Log& log() const { return log_; }
    LibvirtService& service() { return service_; }
    [[nodiscard]] const ClientLimits& limits() const { return o_.limits; }
    [[nodiscard]] const std::shared_ptr<wire::TlsCredentials>& tls_credentials() const { return tls_creds_; }
    void drop(Connection* c);
    // A TLS client proved who it is: count it as that principal from now on
    // (false: over its limit, and it is to be closed).
    bool authenticated(Connection& c, const Principal& who);
    // Partial packets held by all clients: a client with a large one waits
    // (park) while the total is over the budget.
    void account_partial(std::size_t before, std::size_t after);
    [[nodiscard]] bool input_over_budget() const { return partial_bytes_ > o_.limits.input_budget; }
    void park(const std::shared_ptr<Connection>& c);
    // One line now, then at most one summary a minute for the same kind of
    // event: a flood of refused clients must not flood the log.
    void note(const std::string& kind, const std::string& line);

private:
    struct Listener;
    Result<> listen_unix_sockets();
    Result<> listen_network();
    void accept_on(Listener& l);
    void accepted(Listener& l, int fd);
    static std::string bucket_of(const Peer& peer);
    bool admit(const Peer& peer);
    void sweep();

    Loop& loop_;
    LibvirtService& service_;
    ServerOptions o_;
    Log log_;
    std::shared_ptr<wire::TlsCredentials> tls_creds_;
    std::vector<std::unique_ptr<Listener>> listeners_;
    std::set<std::shared_ptr<Connection>> connections_;
    std::map<std::string, std::size_t> per_bucket_;  // Principal::record() (or "tcp", "tls-handshake") -> clients
    struct Noted {
        std::int64_t last_ms = 0;
        std::size_t suppressed = 0;
    };
    std::map<std::string, Noted> noted_;
    std::size_t partial_bytes_ = 0;
    std::vector<std::weak_ptr<Connection>> parked_;
    OpId sweep_op_ = 0;
    int tcp_port_bound_ = -1;
    int tls_port_bound_ = -1;
    bool stopped_ = false;
};

}  // namespace fleet::router
