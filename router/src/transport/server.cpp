// fleet-router — the listeners and the set of clients (server.hpp).
#include "connection.hpp"

#include <fleet/base/socket.hpp>
#include <fleet/router/server.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace fleet::router {

namespace {

bool is_loopback(const std::string& host)
{
    in_addr a4{};
    if (::inet_pton(AF_INET, host.c_str(), &a4) == 1) return (ntohl(a4.s_addr) >> 24) == 127;
    return host == "::1" || host == "localhost";
}

Result<Fd> listen_tcp(const std::string& host, int port, int& bound)
{
    bool v6 = host.find(':') != std::string::npos;
    Fd fd(::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd) return fail_errno("cannot create a socket");
    int one = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_storage ss{};
    socklen_t len = 0;
    std::string h = host == "localhost" ? "127.0.0.1" : host;
    if (v6) {
        auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(static_cast<std::uint16_t>(port));
        if (::inet_pton(AF_INET6, h.c_str(), &a->sin6_addr) != 1) return fail("not an IP address: " + host);
        len = sizeof *a;
    } else {
        auto* a = reinterpret_cast<sockaddr_in*>(&ss);
        a->sin_family = AF_INET;
        a->sin_port = htons(static_cast<std::uint16_t>(port));
        if (::inet_pton(AF_INET, h.c_str(), &a->sin_addr) != 1) return fail("not an IP address: " + host);
        len = sizeof *a;
    }
    std::string where = host + ":" + std::to_string(port);
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) return fail_errno("cannot listen on " + where);
    if (::listen(fd.get(), 128) != 0) return fail_errno("cannot listen on " + where);
    sockaddr_storage got{};
    socklen_t glen = sizeof got;
    ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&got), &glen);
    bound =
        ntohs(v6 ? reinterpret_cast<sockaddr_in6*>(&got)->sin6_port : reinterpret_cast<sockaddr_in*>(&got)->sin_port);
    return fd;
}

}  // namespace

Server::Server(Loop& loop, LibvirtService& service, ServerOptions options, Log log)
    : loop_(loop), service_(service), o_(std::move(options)), log_(std::move(log))
{
}

Server::~Server()
{
    stop();
}

Result<> Server::listen()
{
    if (!o_.socket_path.empty()) {
        // Owner and group may connect; nobody else (the socket is never world-writable).
        auto fd = listen_unix(o_.socket_path, 128, 0117);
        if (!fd) return std::unexpected(fd.error());
        log_.info("listening on " + o_.socket_path);
        listeners_.push_back(std::move(*fd));
    }
    if (o_.tcp_port >= 0) {
        if (!o_.allow_remote && !is_loopback(o_.tcp_host))
            return fail("listening on " + o_.tcp_host + " reaches beyond this machine: give --allow-remote to mean it");
        auto fd = listen_tcp(o_.tcp_host, o_.tcp_port, tcp_port_bound_);
        if (!fd) return std::unexpected(fd.error());
        log_.info("listening on tcp " + o_.tcp_host + ":" + std::to_string(tcp_port_bound_));
        listeners_.push_back(std::move(*fd));
    }
    if (listeners_.empty()) return fail("nothing to listen on (no --socket and no TCP listener)");
    for (auto& l : listeners_) accept_on(l.get());
    return {};
}

void Server::accept_on(int fd)
{
    accept_ops_.push_back(loop_.accept(fd, [this, fd](int res) {
        if (stopped_) {
            if (res >= 0) ::close(res);
            return;
        }
        if (res >= 0) {
            int one = 1;
            ::setsockopt(res, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // fails harmlessly on unix sockets
            int flags = ::fcntl(res, F_GETFD);
            ::fcntl(res, F_SETFD, flags | FD_CLOEXEC);
            serve(Fd(res));
        } else if (res != -EAGAIN && res != -EINTR && res != -ECONNABORTED) {
            log_.info(std::string("accept: ") + std::strerror(-res));
        }
        accept_on(fd);
    }));
}

void Server::serve(Fd fd)
{
    auto c = std::make_shared<Connection>(*this, std::move(fd));
    connections_.insert(c);
    c->start();
}

void Server::drop(Connection* c)
{
    for (auto it = connections_.begin(); it != connections_.end(); ++it) {
        if (it->get() == c) {
            auto keep = *it;  // destroyed after this turn of the loop
            connections_.erase(it);
            loop_.defer([keep] {});
            return;
        }
    }
}

void Server::each_connection(const std::function<void(Connection&)>& f) const
{
    for (const auto& c : connections_) f(*c);
}

void Server::stop()
{
    if (stopped_) return;
    stopped_ = true;
    for (OpId op : accept_ops_) loop_.cancel(op);
    accept_ops_.clear();
    bool had_socket = !o_.socket_path.empty() && !listeners_.empty();
    listeners_.clear();
    if (had_socket) ::unlink(o_.socket_path.c_str());
    auto conns = connections_;
    for (auto& c : conns) c->close();
    connections_.clear();
}

}  // namespace fleet::router
