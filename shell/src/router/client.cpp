// fleet shell — connecting the router client by URI (router_client.hpp).
#include <fleet/shell/router_client.hpp>

#include <fleet/base/socket.hpp>

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

namespace fleet::shell {

namespace {

// A TCP connection to host:port within the timeout (every address tried).
Result<Fd> connect_tcp(const std::string& host, std::uint16_t port, std::chrono::milliseconds timeout)
{
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* list = nullptr;
    std::string service = std::to_string(port);
    if (int r = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &list); r != 0)
        return fail("cannot resolve '" + host + "': " + ::gai_strerror(r));
    auto deadline = std::chrono::steady_clock::now() + timeout;
    Error last{"no address for '" + host + "'"};
    for (addrinfo* a = list; a != nullptr; a = a->ai_next) {
        Fd fd(::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol));
        if (!fd) continue;
        if (::connect(fd.get(), a->ai_addr, a->ai_addrlen) != 0 && errno != EINPROGRESS) {
            last = Error{"cannot reach " + host + ":" + service, errno};
            continue;
        }
        auto ready = wait_fd(fd.get(), POLLOUT, deadline);
        int err = 0;
        socklen_t len = sizeof err;
        if (ready && *ready && ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0) {
            ::freeaddrinfo(list);
            return fd;
        }
        last = Error{"cannot reach " + host + ":" + service, ready && *ready ? err : ETIMEDOUT};
    }
    ::freeaddrinfo(list);
    return std::unexpected(last);
}

// The socket of a unix URI: socket=, else the local router's read-write one.
std::string socket_of(const RouterUri& uri, const std::string& runtime_dir)
{
    return uri.socket.empty() ? runtime_dir + "/libvirt-sock" : uri.socket;
}

}  // namespace

Result<std::unique_ptr<RouterClient>> RouterClient::connect(const RouterUri& uri, const std::string& runtime_dir,
                                                            std::chrono::milliseconds timeout)
{
    auto open_at = [&](Fd fd, bool read_only) -> Result<std::unique_ptr<RouterClient>> {
        std::unique_ptr<RouterClient> client(new RouterClient(std::move(fd), timeout));
        if (uri.transport == RouterTransport::tls)
            if (auto ok = client->start_tls(uri.pkipath, uri.host, !uri.no_verify); !ok)
                return std::unexpected(ok.error());
        if (auto ok = client->open(uri.open_name(), read_only, "fsh"); !ok) return std::unexpected(ok.error());
        return client;
    };
    if (uri.transport != RouterTransport::unix_socket) {
        auto fd = connect_tcp(uri.host, uri.effective_port(), timeout);
        if (!fd) return std::unexpected(fd.error());
        if (int flags = ::fcntl(fd->get(), F_GETFL); flags >= 0) ::fcntl(fd->get(), F_SETFL, flags & ~O_NONBLOCK);
        // The router serves plain TCP read-only; TLS as the certificate allows.
        return open_at(std::move(*fd), uri.transport == RouterTransport::tcp);
    }
    std::string path = socket_of(uri, runtime_dir);
    auto fd = connect_unix(path, "fleet-router at " + path);
    bool ro = path.ends_with("-ro");
    if (fd) {
        auto client = open_at(std::move(*fd), ro);
        // The local router lets only root, its user and the fleet group
        // write: anyone else reads through its read-only socket.
        if (client || !uri.socket.empty() || ro) return client;
    }
    std::string ro_path = path + "-ro";
    auto ro_fd = connect_unix(ro_path, "fleet-router at " + ro_path);
    if (!ro_fd) return std::unexpected(fd ? ro_fd.error() : fd.error());
    return open_at(std::move(*ro_fd), true);
}

}  // namespace fleet::shell
