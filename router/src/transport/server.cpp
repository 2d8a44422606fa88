// fleet-router — the listeners and the set of clients (server.hpp): who
// may come in, through which socket, and how many.
#include "connection.hpp"
#include "listeners.hpp"

#include <fleet/base/socket.hpp>
#include <fleet/router/server.hpp>
#include <fleet/wire/tls.hpp>

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace fleet::router {

using transport::is_loopback;

namespace {

enum class Kind { unix_rw, unix_ro, tcp, tls };

const char* via_name(Kind k)
{
    switch (k) {
        case Kind::unix_rw:
            return "libvirt-sock";
        case Kind::unix_ro:
            return "libvirt-sock-ro";
        case Kind::tcp:
            return "tcp";
        case Kind::tls:
            return "tls";
    }
    return "?";
}

std::int64_t now_ms()
{
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

// Administrators get a few connections past max_clients: a flood of
// others' clients never locks root out.
constexpr std::size_t admin_reserve = 16;

}  // namespace

struct Server::Listener {
    Fd fd;
    Kind kind;
    OpId op = 0;
    std::chrono::milliseconds backoff{0};  // while accept fails for want of fds
    std::size_t failures = 0;
};

Server::Server(Loop& loop, LibvirtService& service, ServerOptions options, Log log)
    : loop_(loop), service_(service), o_(std::move(options)), log_(std::move(log))
{
}

Server::~Server()
{
    stop();
}

// ---- Listening ---------------------------------------------------------------------------

Result<> Server::listen_unix_sockets()
{
    if (!o_.socket_path.empty()) {
        // Root and the router's user; with a group, its members too.
        auto fd = transport::listen_unix_socket(o_.socket_path, o_.group ? 0660 : 0600, o_.group);
        if (!fd) return std::unexpected(fd.error());
        log_.info("listening on " + o_.socket_path + " (read-write)");
        listeners_.push_back(std::make_unique<Listener>(Listener{std::move(*fd), Kind::unix_rw}));
    }
    if (!o_.socket_ro_path.empty()) {
        auto fd = transport::listen_unix_socket(o_.socket_ro_path, 0666, std::nullopt);
        if (!fd) return std::unexpected(fd.error());
        log_.info("listening on " + o_.socket_ro_path + " (read-only)");
        listeners_.push_back(std::make_unique<Listener>(Listener{std::move(*fd), Kind::unix_ro}));
    }
    return {};
}

Result<> Server::listen_network()
{
    if (o_.tcp_port >= 0) {
        if (!o_.allow_remote && !is_loopback(o_.tcp_host))
            return fail("listening on " + o_.tcp_host + " reaches beyond this machine: give --allow-remote to mean it");
        auto fd = transport::listen_tcp(o_.tcp_host, o_.tcp_port, tcp_port_bound_);
        if (!fd) return std::unexpected(fd.error());
        log_.info("listening on tcp " + o_.tcp_host + ":" + std::to_string(tcp_port_bound_) +
                  " (read-only: no authentication)");
        listeners_.push_back(std::make_unique<Listener>(Listener{std::move(*fd), Kind::tcp}));
    }
    if (o_.tls_port >= 0) {
        auto creds = wire::TlsCredentials::load(wire::pki_paths(wire::TlsRole::server, o_.pki_dir));
        if (!creds) return fail("TLS: " + creds.error().what());
        tls_creds_ = std::move(*creds);
        auto fd = transport::listen_tcp(o_.tls_host, o_.tls_port, tls_port_bound_);
        if (!fd) return std::unexpected(fd.error());
        log_.info("listening on tls " + o_.tls_host + ":" + std::to_string(tls_port_bound_) +
                  " (x509 client certificates)");
        listeners_.push_back(std::make_unique<Listener>(Listener{std::move(*fd), Kind::tls}));
    }
    return {};
}

Result<> Server::listen()
{
    if (auto u = listen_unix_sockets(); !u) return u;
    if (auto n = listen_network(); !n) return n;
    if (listeners_.empty()) return fail("nothing to listen on (no socket, no TCP and no TLS listener)");
    for (auto& l : listeners_) accept_on(*l);
    sweep_op_ = loop_.timer(std::chrono::seconds(1), [this](int) {
        sweep_op_ = 0;
        sweep();
    });
    return {};
}

// ---- Accepting ------------------------------------------------------------------------------

void Server::accept_on(Listener& l)
{
    l.op = loop_.accept(l.fd.get(), [this, &l](int res) {
        l.op = 0;
        if (stopped_) {
            if (res >= 0) ::close(res);
            return;
        }
        if (res >= 0) {
            if (l.failures > 0)
                log_.info(std::string("accepting on ") + via_name(l.kind) + " again, after " +
                          std::to_string(l.failures) + " failed accepts");
            l.failures = 0;
            l.backoff = std::chrono::milliseconds(0);
            accepted(l, res);
            return accept_on(l);
        }
        if (res != -EMFILE && res != -ENFILE && res != -ENOBUFS && res != -ENOMEM) return accept_on(l);
        // Out of fds (or memory): the connection waits in the backlog.
        // Accepting again at once would fail again at once, at 100% CPU:
        // back off, and say so once until it recovers.
        if (l.failures++ == 0)
            log_.info(std::string("accept on ") + via_name(l.kind) + ": " + std::strerror(-res) +
                      "; retrying with a backoff (logged once until it recovers)");
        l.backoff = std::clamp(l.backoff * 2, std::chrono::milliseconds(50), std::chrono::milliseconds(1000));
        l.op = loop_.timer(l.backoff, [this, &l](int) {
            l.op = 0;
            if (!stopped_) accept_on(l);
        });
    });
}

// Who a new client is, whether its listener lets it in, and how many of its
// kind are in already.
void Server::accepted(Listener& l, int res)
{
    Fd fd(res);
    int one = 1;
    if (l.kind == Kind::tcp || l.kind == Kind::tls) ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    Peer peer;
    peer.via = via_name(l.kind);
    if (l.kind == Kind::unix_rw || l.kind == Kind::unix_ro) {
        auto cred = peer_credentials(fd.get());
        if (!cred) return note("peercred", "refusing a client on " + peer.via + ": " + cred.error().what());
        peer.who = Principal::local(cred->uid);
        bool member = o_.group && ::geteuid() == 0 && cred->in_group(*o_.group);
        if (l.kind == Kind::unix_rw && !peer.who.administrator() && !member)
            return note("unauthorized", "refusing " + peer.who.describe() + " on " + peer.via +
                                            ": only root, the router's user and the fleet group may write");
        peer.read_only = l.kind == Kind::unix_ro;
    } else if (l.kind == Kind::tcp) {
        peer.read_only = true;
    } else {
        peer.tls = true;
    }
    if (!admit(peer)) return;
    serve(std::move(fd), std::move(peer));
}

// Clients are counted per uid, per certificate DN, plain TCP all together,
// and TLS clients still in their handshake all together.
std::string Server::bucket_of(const Peer& peer)
{
    if (peer.tls) return "tls-handshake";
    if (peer.via == "tcp") return "tcp";
    return peer.who.record();
}

bool Server::admit(const Peer& peer)
{
    const ClientLimits& l = o_.limits;
    const Principal& who = peer.who;
    const std::string& via = peer.via;
    const std::string bucket = bucket_of(peer);
    bool admin = who.administrator();
    if (connections_.size() >= l.max_clients + (admin ? admin_reserve : 0)) {
        note("max-clients", "refusing a client on " + via + ": " + std::to_string(connections_.size()) +
                                " clients, the most allowed (max-clients)");
        return false;
    }
    std::size_t limit = bucket == "tls-handshake" ? l.max_anonymous_clients : l.max_clients_per_user;
    auto it = per_bucket_.find(bucket);
    std::size_t have = it == per_bucket_.end() ? 0 : it->second;
    if (!admin && have >= limit) {
        note("per-user", "refusing a client on " + via + ": " + (bucket == "tcp" ? "plain TCP" : who.describe()) +
                             " has " + std::to_string(have) + " connections, the most allowed (" +
                             (bucket == "tls-handshake" ? "max-anonymous-clients" : "max-clients-per-user") + ")");
        return false;
    }
    return true;
}

void Server::serve(Fd fd, Peer peer)
{
    std::string bucket = bucket_of(peer);
    ++per_bucket_[bucket];
    auto c = std::make_shared<Connection>(*this, std::move(fd), std::move(peer), bucket);
    connections_.insert(c);
    c->start();
}

bool Server::authenticated(Connection& c, const Principal& who)
{
    std::string bucket = who.record();
    if (--per_bucket_[c.bucket()] == 0) per_bucket_.erase(c.bucket());
    c.set_bucket(bucket);
    ++per_bucket_[bucket];
    return per_bucket_[bucket] <= o_.limits.max_clients_per_user;
}

void Server::drop(Connection* c)
{
    for (auto it = connections_.begin(); it != connections_.end(); ++it) {
        if (it->get() == c) {
            auto keep = *it;  // destroyed after this turn of the loop
            connections_.erase(it);
            if (auto b = per_bucket_.find(c->bucket()); b != per_bucket_.end() && --b->second == 0)
                per_bucket_.erase(b);
            loop_.defer([keep] {});
            return;
        }
    }
}

void Server::each_connection(const std::function<void(Connection&)>& f) const
{
    for (const auto& c : connections_) f(*c);
}

// ---- The input budget, timeouts, the log ------------------------------------------------------

void Server::account_partial(std::size_t before, std::size_t after)
{
    partial_bytes_ = partial_bytes_ - before + after;
    if (partial_bytes_ > o_.limits.input_budget || parked_.empty()) return;
    for (auto& weak : std::exchange(parked_, {}))
        loop_.defer([weak] {
            if (auto c = weak.lock()) c->resume();
        });
}

void Server::park(const std::shared_ptr<Connection>& c)
{
    parked_.push_back(c);
}

void Server::sweep()
{
    auto now = Connection::Clock::now();
    std::vector<std::shared_ptr<Connection>> all(connections_.begin(), connections_.end());
    for (auto& c : all) c->check_timeouts(now);
    std::erase_if(parked_, [](const auto& w) { return w.expired(); });
    for (auto& [kind, n] : noted_) {
        if (n.suppressed > 0 && now_ms() - n.last_ms >= 60000) {
            log_.info(std::to_string(n.suppressed) + " more like the last '" + kind + "' line in the last minute");
            n.suppressed = 0;
            n.last_ms = now_ms();
        }
    }
    if (!stopped_)
        sweep_op_ = loop_.timer(std::chrono::seconds(1), [this](int) {
            sweep_op_ = 0;
            sweep();
        });
}

void Server::note(const std::string& kind, const std::string& line)
{
    Noted& n = noted_[kind];
    if (n.last_ms != 0 && now_ms() - n.last_ms < 60000) {
        ++n.suppressed;
        return;
    }
    log_.info(line);
    n.last_ms = now_ms();
}

void Server::stop()
{
    if (stopped_) return;
    stopped_ = true;
    if (sweep_op_) loop_.cancel(std::exchange(sweep_op_, 0));
    for (auto& l : listeners_)
        if (l->op) loop_.cancel(std::exchange(l->op, 0));
    bool had_sockets = !listeners_.empty();
    listeners_.clear();
    if (had_sockets) {
        if (!o_.socket_path.empty()) ::unlink(o_.socket_path.c_str());
        if (!o_.socket_ro_path.empty()) ::unlink(o_.socket_ro_path.c_str());
    }
    auto conns = connections_;
    for (auto& c : conns) c->close();
    connections_.clear();
}

}  // namespace fleet::router
