// fleet shell — fsh's client of fleet-router: wire's blocking client
// (wire/blocking_client.hpp: calls, keepalive, TLS) connected by a router
// URI (unix socket, its read-only twin, TCP or TLS), and the domains as
// `ps -a` lists them.
//
// Blocking, one call at a time, every wait bounded (the timeout given to
// connect): fsh asks between commands, never while a pipeline runs.
// qemu+tls:// takes the client certificate from ?pkipath= or libvirt's
// system paths and checks the server's against the host name unless
// ?no_verify=1.
#pragma once

#include <fleet/base/error.hpp>
#include <fleet/base/fd.hpp>
#include <fleet/shell/router_uri.hpp>
#include <fleet/wire/blocking_client.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace fleet::shell {

struct RouterDomain {
    std::string name;
    int id = -1;        // -1: not running
    std::string state;  // libvirt's word: running, paused, shutoff, ...
    std::string image;  // its fleet:image, else its kernel, else "-"
    bool operator==(const RouterDomain&) const = default;
};

// fsh's client of a router: wire::BlockingClient (calls, pings, TLS, the
// packets a run's relay takes over) connected by a RouterUri, with what
// `ps -a` and `routers` ask.
class RouterClient : public wire::BlockingClient {
public:
    // Connects and opens the connection. `runtime_dir` finds the local
    // router's socket for a unix URI without socket=.
    static Result<std::unique_ptr<RouterClient>> connect(const RouterUri& uri, const std::string& runtime_dir,
                                                         std::chrono::milliseconds timeout);

    Result<std::string> hostname();
    // Every domain (running first, then by name).
    Result<std::vector<RouterDomain>> domains();

private:
    RouterClient(Fd fd, std::chrono::milliseconds timeout) : wire::BlockingClient(std::move(fd), timeout) {}
};

}  // namespace fleet::shell
