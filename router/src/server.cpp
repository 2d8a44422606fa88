// fleet-router — listeners, client connections, console streams, signals.
#include "router.hpp"

#include "mdns_glue.hpp"

#include <fleet/base/file.hpp>
#include <fleet/base/process.hpp>
#include <fleet/base/socket.hpp>
#include <fleet/wire/procedures.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

namespace fleet::router {

using namespace fleet::wire;

namespace {

constexpr std::size_t max_queued_out = 8u << 20;  // stop reading a client that does not read its replies
// A pending read holds its buffer: 32 idle clients x 256 KiB was 8 MiB.
constexpr std::size_t read_chunk = 16 * 1024;
constexpr std::size_t console_chunk = 64 * 1024;
constexpr std::size_t max_console_input = 1u << 20;  // bytes queued for a guest before its client waits
constexpr std::chrono::milliseconds stall_limit{5000};  // a guest taking nothing this long: drop its input

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
    bound = ntohs(v6 ? reinterpret_cast<sockaddr_in6*>(&got)->sin6_port : reinterpret_cast<sockaddr_in*>(&got)->sin_port);
    return fd;
}

}  // namespace

// ---- The router --------------------------------------------------------------------

Router::Router(Loop& loop, Options options, vmm::Store store, DefinitionStore defs)
    : loop_(loop), o_(std::move(options)), store_(std::move(store)), defs_(std::move(defs))
{
    catalog_ = vmm::catalog_dirs(o_.images);
}

Router::~Router() = default;

void Router::log(const std::string& line) const { std::fprintf(stderr, "fleet-router: %s\n", line.c_str()); }

void Router::debug(const std::string& line) const
{
    if (o_.verbose) log(line);
}

Result<> Router::start()
{
    // One router per runtime folder.
    std::string lock = o_.runtime_dir + "/router.lock";
    lock_fd_ = Fd(::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!lock_fd_) return fail_errno("cannot open " + lock);
    if (::flock(lock_fd_.get(), LOCK_EX | LOCK_NB) != 0) {
        std::string owner;
        char buf[32] = {};
        if (::pread(lock_fd_.get(), buf, sizeof buf - 1, 0) > 0) owner = " (pid " + std::string(buf) + ")";
        while (!owner.empty() && (owner.back() == '\n')) owner.pop_back();
        return fail("another fleet-router" + owner + " serves " + o_.runtime_dir);
    }
    std::string pid = std::to_string(::getpid());
    if (::ftruncate(lock_fd_.get(), 0) == 0) (void)::pwrite(lock_fd_.get(), pid.data(), pid.size(), 0);
    ::mkdir((o_.runtime_dir + "/router").c_str(), 0700);
    ::mkdir((o_.runtime_dir + "/router/live").c_str(), 0700);

    // Supervisors of VMs started here are our children; orphans below us
    // come to us too, and are reaped at once (DESIGN.md: pid 1 reaps late).
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    sigset_t set;
    sigemptyset(&set);
    for (int s : {SIGTERM, SIGINT, SIGHUP, SIGCHLD}) sigaddset(&set, s);
    if (::sigprocmask(SIG_BLOCK, &set, nullptr) != 0) return fail_errno("cannot block signals");
    signal_fd_ = Fd(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!signal_fd_) return fail_errno("cannot create a signalfd");
    ::signal(SIGPIPE, SIG_IGN);
    watch_signals();

    load_definitions();
    adopt();
    if (auto l = listen(); !l) return l;
    if (auto w = write_info(); !w) log(w.error().what());
    if (o_.mdns && tcp_port_bound_ > 0) {
        mdns_ = MdnsGlue::start(*this, tcp_port_bound_);
    }
    if (o_.autostart) boot_manifest();
    return {};
}

Result<> Router::listen()
{
    if (!o_.socket_path.empty()) {
        // Owner and group may connect; nobody else (the socket is never world-writable).
        auto fd = listen_unix(o_.socket_path, 128, 0117);
        if (!fd) return std::unexpected(fd.error());
        log("listening on " + o_.socket_path);
        listeners_.push_back(std::move(*fd));
    }
    if (o_.tcp_port >= 0) {
        if (!o_.allow_remote && !is_loopback(o_.tcp_host))
            return fail("listening on " + o_.tcp_host + " reaches beyond this machine: give --allow-remote to mean it");
        auto fd = listen_tcp(o_.tcp_host, o_.tcp_port, tcp_port_bound_);
        if (!fd) return std::unexpected(fd.error());
        log("listening on tcp " + o_.tcp_host + ":" + std::to_string(tcp_port_bound_));
        listeners_.push_back(std::move(*fd));
    }
    if (listeners_.empty()) return fail("nothing to listen on (no --socket and no TCP listener)");
    for (auto& l : listeners_) accept_on(l.get());
    return {};
}

// <runtime>/router.json: how to reach this router (clients, tests).
Result<> Router::write_info() const
{
    nlohmann::json j;
    j["pid"] = ::getpid();
    j["version"] = FLEET_VERSION;
    if (!o_.socket_path.empty()) j["socket"] = o_.socket_path;
    if (tcp_port_bound_ > 0) {
        j["tcp_host"] = o_.tcp_host;
        j["tcp_port"] = tcp_port_bound_;
        j["uri"] = "qemu+tcp://" + o_.tcp_host + ":" + std::to_string(tcp_port_bound_) + "/system";
    }
    return replace_file(o_.runtime_dir, "router.json", j.dump(2) + "\n", Sync::no);
}

void Router::accept_on(int fd)
{
    accept_ops_.push_back(loop_.accept(fd, [this, fd](int res) {
        if (done_) {
            if (res >= 0) ::close(res);
            return;
        }
        if (res >= 0) {
            int one = 1;
            ::setsockopt(res, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // fails harmlessly on unix sockets
            int flags = ::fcntl(res, F_GETFD);
            ::fcntl(res, F_SETFD, flags | FD_CLOEXEC);
            add_connection(std::make_shared<Connection>(*this, Fd(res), "client"));
        } else if (res != -EAGAIN && res != -EINTR && res != -ECONNABORTED) {
            log(std::string("accept: ") + std::strerror(-res));
        }
        accept_on(fd);
    }));
}

void Router::add_connection(std::shared_ptr<Connection> c)
{
    connections_.insert(c);
    c->start();
}

void Router::drop_connection(Connection* c)
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

void Router::watch_signals()
{
    signal_op_ = loop_.read(signal_fd_.get(), sizeof(signalfd_siginfo), [this](int res, std::span<const char> d) {
        signal_op_ = 0;
        if (res == sizeof(signalfd_siginfo)) {
            signalfd_siginfo si;
            std::memcpy(&si, d.data(), sizeof si);
            if (si.ssi_signo == SIGCHLD) reap_children();
            else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
                log("stopping (VMs keep running; the next router adopts them)");
                shutdown();
                return;
            }
        }
        watch_signals();
    });
}

// Every child that has ended, ours or an orphan handed to us as subreaper.
// A domain's pidfd still reports its end; its ending is in the launcher's record.
void Router::reap_children()
{
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
}

void Router::shutdown()
{
    if (done_) return;
    done_ = true;
    for (OpId op : accept_ops_) loop_.cancel(op);
    accept_ops_.clear();
    listeners_.clear();
    if (!o_.socket_path.empty()) ::unlink(o_.socket_path.c_str());
    ::unlink((o_.runtime_dir + "/router.json").c_str());
    mdns_.reset();  // withdraws the announcement
    auto conns = connections_;
    for (auto& c : conns) c->close();
    connections_.clear();
    if (signal_op_) loop_.cancel(std::exchange(signal_op_, 0));
    for (auto& [name, d] : domains_) {
        if (d->pidfd_op) loop_.cancel(std::exchange(d->pidfd_op, 0));
        if (d->ready_op) loop_.cancel(std::exchange(d->ready_op, 0));
    }
}

void Router::emit(const Domain& d, std::int32_t ev, std::int32_t det)
{
    debug("event: domain '" + d.def.name + "' " + std::to_string(ev) + "/" + std::to_string(det));
    for (auto& c : connections_) c->lifecycle_event(d, ev, det);
}

// ---- One client --------------------------------------------------------------------------

struct Connection::Stream {
    Header call;
    std::string domain;
    Fd sock;
    OpId read_op = 0;
    std::unique_ptr<Sink> to_guest;
    bool eof_sent = false;
    bool discarding = false;  // the guest took nothing for stall_limit: input is dropped
    std::uint64_t dropped = 0;
};

Connection::Connection(Router& router, Fd fd, std::string peer)
    : router_(router), fd_(std::move(fd)), peer_(std::move(peer))
{
}

Connection::~Connection() { close(); }

void Connection::start()
{
    std::weak_ptr<Connection> weak = weak_from_this();
    out_ = std::make_unique<Sink>(router_.loop(), fd_.get(), [weak](int) {
        if (auto c = weak.lock()) c->close();
    });
    read_more();
}

void Connection::close()
{
    if (closed_) return;
    closed_ = true;
    auto& loop = router_.loop();
    if (read_op_) loop.cancel(std::exchange(read_op_, 0));
    if (stall_timer_) loop.cancel(std::exchange(stall_timer_, 0));
    for (auto& [serial, s] : streams_)
        if (s->read_op) loop.cancel(s->read_op);
    streams_.clear();
    callbacks_.clear();
    out_.reset();
    fd_.reset();
    router_.drop_connection(this);
}

void Connection::send(Result<std::string> packet)
{
    if (closed_) return;
    if (!packet) {
        router_.log("cannot encode a reply: " + packet.error().what());
        return;
    }
    out_->write(std::move(*packet));
}

void Connection::reply_error(const Header& call, const RpcError& e)
{
    send(encode_error_reply(call, make_error(e.code, e.domain, e.message)));
}

void Connection::read_more()
{
    if (closed_ || input_held_ || read_op_) return;
    if (out_->queued() > max_queued_out) {  // the client does not read: wait until it has
        std::weak_ptr<Connection> weak = weak_from_this();
        out_->when_idle([weak] {
            if (auto c = weak.lock()) c->read_more();
        });
        return;
    }
    std::weak_ptr<Connection> weak = weak_from_this();
    read_op_ = router_.loop().read(fd_.get(), read_chunk, [weak](int res, std::span<const char> data) {
        auto c = weak.lock();
        if (!c) return;
        c->read_op_ = 0;
        if (res <= 0) return c->close();
        auto packets = c->in_.feed(std::string_view(data.data(), data.size()));
        if (!packets) {
            c->router_.debug("dropping a client: " + packets.error().what());
            return c->close();
        }
        for (auto& p : *packets) {
            if (c->closed_) return;
            c->on_packet(std::move(p));
        }
        c->read_more();
    });
}

void Connection::lifecycle_event(const Domain& d, std::int32_t event, std::int32_t detail)
{
    if (closed_ || !open_) return;
    DomainEventLifecycleMsg msg{d.ref(), event, detail};
    for (const auto& [id, reg] : callbacks_) {
        if (reg.event_id != event_id::lifecycle) continue;
        if (reg.dom && *reg.dom != d.def.uuid) continue;
        send(encode_event(RemoteProc::domain_event_callback_lifecycle, DomainEventCallbackLifecycleMsg{id, msg}));
    }
    if (old_style_.count(event_id::lifecycle)) send(encode_event(RemoteProc::domain_event_lifecycle, msg));
}

// ---- Console streams --------------------------------------------------------------------

void Connection::open_console(const Header& call, const std::shared_ptr<Domain>& d)
{
    auto connected = connect_unix(router_.console_socket(*d), "the console of domain '" + d->def.name + "'");
    if (!connected) return reply_error(call, RpcError{err::operation_failed, connected.error().what()});
    Fd sock = std::move(*connected);
    if (streams_.count(call.serial))
        return reply_error(call, RpcError{err::rpc, "a stream with serial " + std::to_string(call.serial) + " is open"});
    reply(call, Void{});
    auto s = std::make_unique<Stream>();
    s->call = call;
    s->domain = d->def.name;
    s->sock = std::move(sock);
    std::uint32_t serial = call.serial;
    s->to_guest = std::make_unique<Sink>(router_.loop(), s->sock.get(), [](int) {});
    streams_[serial] = std::move(s);

    pump_console(serial);
}

// Guest output -> STREAM CONTINUE packets; its end -> an empty CONTINUE.
void Connection::pump_console(std::uint32_t serial)
{
    auto it = streams_.find(serial);
    if (closed_ || it == streams_.end()) return;
    Stream& s = *it->second;
    std::weak_ptr<Connection> weak = weak_from_this();
    if (out_->queued() > max_queued_out) {  // the client is slow: wait for it
        out_->when_idle([weak, serial] {
            if (auto c = weak.lock()) c->pump_console(serial);
        });
        return;
    }
    s.read_op = router_.loop().read(s.sock.get(), console_chunk, [weak, serial](int res, std::span<const char> data) {
        auto c = weak.lock();
        if (!c) return;
        auto it = c->streams_.find(serial);
        if (it == c->streams_.end()) return;
        Stream& s = *it->second;
        s.read_op = 0;
        if (res <= 0) {
            s.eof_sent = true;
            c->send(encode_stream(s.call, Status::continue_, {}));
            return;
        }
        c->send(encode_stream(s.call, Status::continue_, std::string_view(data.data(), data.size())));
        c->pump_console(serial);
    });
}

void Connection::on_stream_packet(const Packet& p)
{
    auto it = streams_.find(p.header.serial);
    if (it == streams_.end()) return;  // a stream already finished: late data is dropped
    Stream& s = *it->second;
    if (p.header.status == Status::continue_) {
        if (s.discarding) {
            if (s.to_guest->queued() > 0) {  // still not taken: this input is lost
                s.dropped += p.payload.size();
                return;
            }
            router_.log("console of domain '" + s.domain + "': the guest reads again; " +
                        std::to_string(s.dropped) + " bytes of input were dropped");
            s.discarding = false;
            s.dropped = 0;
        }
        if (!p.payload.empty()) s.to_guest->write(p.payload);
        if (s.to_guest->queued() > max_console_input && !input_held_) hold_input(p.header.serial);
        return;
    }
    // OK: the client finished; ERROR: it aborted. Either way, acknowledge and close.
    send(encode_stream(s.call, Status::ok, {}));
    end_stream(p.header.serial);
}

// The guest reads slower than the client sends: stop reading this client
// until the guest has caught up — lossless, as a pipe. But a guest that
// takes nothing at all for stall_limit would also hold up every call on this
// connection (the client's own abort or destroy among them): then this
// stream's input is dropped, like a serial line nobody reads, until the
// guest takes what is queued.
void Connection::hold_input(std::uint32_t serial)
{
    input_held_ = true;
    std::weak_ptr<Connection> weak = weak_from_this();
    auto it = streams_.find(serial);
    it->second->to_guest->when_idle([weak] {
        auto c = weak.lock();
        if (!c || !c->input_held_) return;
        if (c->stall_timer_) c->router_.loop().cancel(std::exchange(c->stall_timer_, 0));
        c->input_held_ = false;
        c->read_more();
    });
    watch_stall(serial, it->second->to_guest->queued());
}

void Connection::watch_stall(std::uint32_t serial, std::size_t queued_before)
{
    std::weak_ptr<Connection> weak = weak_from_this();
    stall_timer_ = router_.loop().timer(stall_limit, [weak, serial, queued_before](int) {
        auto c = weak.lock();
        if (!c) return;
        c->stall_timer_ = 0;
        auto it = c->streams_.find(serial);
        if (!c->input_held_ || it == c->streams_.end()) return;
        Stream& s = *it->second;
        std::size_t now = s.to_guest->queued();
        if (now < queued_before) return c->watch_stall(serial, now);  // slow, but taking it
        c->router_.log("console of domain '" + s.domain + "': the guest has taken no input for " +
                       std::to_string(stall_limit.count() / 1000) + " s; dropping input until it does");
        s.discarding = true;
        c->input_held_ = false;
        c->read_more();
    });
}

void Connection::end_stream(std::uint32_t serial)
{
    auto it = streams_.find(serial);
    if (it == streams_.end()) return;
    if (it->second->read_op) router_.loop().cancel(it->second->read_op);
    streams_.erase(it);
    if (input_held_) {  // held for this stream's guest, which is gone
        if (stall_timer_) router_.loop().cancel(std::exchange(stall_timer_, 0));
        input_held_ = false;
        read_more();
    }
}

void Connection::domain_ended(const std::string& name)
{
    // The console socket reports the end by itself; this covers a stream
    // whose read was not armed (a slow client).
    for (auto& [serial, s] : streams_) {
        if (s->domain != name || s->eof_sent) continue;
        if (s->read_op) continue;
        s->eof_sent = true;
        send(encode_stream(s->call, Status::continue_, {}));
    }
}

}  // namespace fleet::router
