// fleet shell — the router client's connection and calls (router_client.hpp).
#include <fleet/shell/router_client.hpp>

#include <fleet/base/socket.hpp>
#include <fleet/wire/client.hpp>
#include <fleet/wire/connect_messages.hpp>
#include <fleet/wire/domain_messages.hpp>
#include <fleet/wire/message.hpp>

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace fleet::shell {

namespace {

// poll() for events on fd until the deadline; false on a timeout.
Result<bool> wait_for(int fd, short events, std::chrono::steady_clock::time_point deadline)
{
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        pollfd p{fd, events, 0};
        int n = ::poll(&p, 1, static_cast<int>(left.count()));
        if (n > 0) return true;
        if (n < 0 && errno != EINTR) return fail("poll", errno);
    }
}

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
        auto ready = wait_for(fd.get(), POLLOUT, deadline);
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

RouterClient::~RouterClient()
{
    if (!fd_) return;
    // CONNECT_CLOSE, best effort: the router drops the connection either way.
    auto bytes = wire::encode_call(wire::RemoteProc::connect_close, serial_++, wire::Void{});
    if (bytes) {
        auto sent = send(*bytes);
        (void)sent;
    }
}

Result<std::unique_ptr<RouterClient>> RouterClient::connect(const RouterUri& uri, const std::string& runtime_dir,
                                                            std::chrono::milliseconds timeout)
{
    auto open_at = [&](Fd fd, bool read_only) -> Result<std::unique_ptr<RouterClient>> {
        std::unique_ptr<RouterClient> client(new RouterClient(std::move(fd), timeout));
        if (uri.transport == RouterTransport::tls)
            if (auto ok = client->start_tls(uri); !ok) return std::unexpected(ok.error());
        if (auto ok = client->open(uri, read_only); !ok) return std::unexpected(ok.error());
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

Result<> RouterClient::open(const RouterUri& uri, bool read_only)
{
    auto auth = call<wire::AuthListRet>(wire::RemoteProc::auth_list, wire::Void{});
    if (!auth) return std::unexpected(auth.error());
    bool none = false;
    for (auto t : auth->types) none = none || t == 0;
    if (!none) return fail("the router asks for an authentication fsh does not do (only 'none')");
    wire::ConnectOpenArgs args{uri.open_name(), read_only ? wire::flags::connect_ro : 0u};
    if (auto ok = call<wire::Void>(wire::RemoteProc::connect_open, args); !ok)
        return fail("the router refused the connection: " + ok.error().message);
    read_only_ = read_only;
    return {};
}

Result<> RouterClient::write_all(std::string_view bytes)
{
    std::size_t done = 0;
    while (done < bytes.size()) {
        ssize_t n = ::send(fd_.get(), bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail("lost the router", errno);
        done += static_cast<std::size_t>(n);
    }
    return {};
}

Result<> RouterClient::send(const std::string& bytes)
{
    if (!tls_) return write_all(bytes);
    if (auto ok = tls_->send(bytes); !ok) return std::unexpected(ok.error());
    return write_all(tls_->take_output());
}

Result<std::string> RouterClient::read_some(std::chrono::steady_clock::time_point deadline)
{
    for (;;) {
        auto ready = wait_for(fd_.get(), POLLIN, deadline);
        if (!ready) return std::unexpected(ready.error());
        if (!*ready) return fail("the router did not answer within " + std::to_string(timeout_.count()) + " ms");
        char buf[65536];
        ssize_t n = ::read(fd_.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail("lost the router", errno);
        if (n == 0) return fail("lost the router (it closed the connection)");
        std::string bytes(buf, static_cast<std::size_t>(n));
        if (!tls_) return bytes;
        auto plain = tls_->receive(bytes);
        if (!plain) return std::unexpected(plain.error());
        if (auto out = tls_->take_output(); !out.empty())  // handshake messages, alerts
            if (auto ok = write_all(out); !ok) return std::unexpected(ok.error());
        return plain;
    }
}

// Packets until the one answering `call`; a ping is answered, events and
// anything else are dropped (fsh registers for none).
Result<wire::Packet> RouterClient::receive(const wire::Header& call)
{
    auto deadline = std::chrono::steady_clock::now() + timeout_;
    for (;;) {
        while (!queued_.empty()) {
            wire::Packet p = std::move(queued_.front());
            queued_.pop_front();
            if (wire::answers(call, p.header)) return p;
            if (wire::is_ping(p.header)) {
                if (auto ok = send(wire::encode_pong()); !ok) return std::unexpected(ok.error());
            } else if (keep_unsolicited_) {
                if (unsolicited_.size() >= 4096) return fail("the router sent more than fsh keeps between calls");
                unsolicited_.push_back(std::move(p));
            }
        }
        auto bytes = read_some(deadline);
        if (!bytes) return std::unexpected(bytes.error());
        auto packets = assembler_.feed(*bytes);
        if (!packets) return fail("bad data from the router: " + packets.error().message);
        for (auto& p : *packets) queued_.push_back(std::move(p));
    }
}

Result<std::string> RouterClient::raw_call(std::int32_t proc, const std::string& packet, std::uint32_t serial)
{
    if (auto ok = send(packet); !ok) return std::unexpected(ok.error());
    return raw_reply(proc, serial);
}

Result<std::string> RouterClient::raw_reply(std::int32_t proc, std::uint32_t serial)
{
    wire::Header call{wire::remote_program, wire::protocol_version, proc, wire::MessageType::call, serial,
                      wire::Status::ok};
    auto reply = receive(call);
    if (!reply) return std::unexpected(reply.error());
    return wire::reply_payload(*reply);
}

Result<std::string> RouterClient::seal(const std::string& bytes)
{
    if (!tls_) return bytes;
    if (auto ok = tls_->send(bytes); !ok) return std::unexpected(ok.error());
    return tls_->take_output();
}

Result<std::vector<wire::Packet>> RouterClient::unseal(std::string_view bytes, std::string& reply)
{
    std::string plain(bytes);
    if (tls_) {
        auto p = tls_->receive(std::string(bytes));
        if (!p) return std::unexpected(p.error());
        plain = std::move(*p);
        reply += tls_->take_output();
    }
    auto packets = assembler_.feed(plain);
    if (!packets) return fail("bad data from the router: " + packets.error().message);
    return std::move(*packets);
}

}  // namespace fleet::shell
