// fleet-router — the transport: the unix and TCP listeners and every client
// connection (router/src/transport/: Connection, ConsoleStream), all on one
// Loop. Packets in, packets out, keepalives, console streams and their flow
// control; what a call means is the libvirt mapping's (libvirt.hpp).
#pragma once

#include <fleet/base/error.hpp>
#include <fleet/base/fd.hpp>
#include <fleet/base/loop.hpp>
#include <fleet/router/log.hpp>

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace fleet::router {

class Connection;
class LibvirtService;

struct ServerOptions {
    std::string socket_path;  // empty: no unix socket
    std::string tcp_host = "127.0.0.1";
    int tcp_port = 16509;  // -1: no TCP listener; 0: any free port
    bool allow_remote = false;
};

class Server {
public:
    Server(Loop& loop, LibvirtService& service, ServerOptions options, Log log);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Listen on the unix socket (mode 0660) and the TCP address.
    Result<> listen();
    // Serve a client on an fd already connected (a socketpair in tests).
    void serve(Fd fd);
    [[nodiscard]] int tcp_port() const { return tcp_port_bound_; }  // -1: none
    // Stop listening (the socket file is removed) and close every client.
    void stop();

    // Each open client, for events.
    void each_connection(const std::function<void(Connection&)>& f) const;

    // For Connection.
    Loop& loop() { return loop_; }
    const Log& log() const { return log_; }
    LibvirtService& service() { return service_; }
    void drop(Connection* c);

private:
    void accept_on(int fd);

    Loop& loop_;
    LibvirtService& service_;
    ServerOptions o_;
    Log log_;
    std::vector<Fd> listeners_;
    std::vector<OpId> accept_ops_;
    std::set<std::shared_ptr<Connection>> connections_;
    int tcp_port_bound_ = -1;
    bool stopped_ = false;
};

}  // namespace fleet::router
