// fleet-router — one client connection (connection.hpp).
#include "connection.hpp"

#include "console_stream.hpp"

#include <fleet/router/libvirt.hpp>
#include <fleet/router/server.hpp>
#include <fleet/wire/message.hpp>
#include <fleet/wire/tls.hpp>

#include <sys/socket.h>

namespace fleet::router {

using namespace fleet::wire;

Connection::Connection(Server& server, Fd fd, Peer peer, std::string bucket)
    : server_(server),
      fd_(std::move(fd)),
      peer_(std::move(peer)),
      bucket_(std::move(bucket)),
      in_(server.limits().max_packet),
      last_input_(Clock::now()),
      partial_since_(Clock::now())
{
    session_.caller = peer_.who;
    session_.read_only_listener = peer_.read_only;
    session_.max_callbacks = server.limits().max_callbacks;
}

Connection::~Connection()
{
    close();
}

Loop& Connection::loop()
{
    return server_.loop();
}

const Log& Connection::log() const
{
    return server_.log();
}

const ClientLimits& Connection::limits() const
{
    return server_.limits();
}

void Connection::start()
{
    std::weak_ptr<Connection> weak = weak_from_this();
    out_ = std::make_unique<Sink>(loop(), fd_.get(), [weak](int) {
        if (auto c = weak.lock()) c->drop_later("");
    });
    if (peer_.tls) {
        auto s = TlsSession::create(TlsRole::server, server_.tls_credentials());
        if (!s) {
            log().info("cannot start TLS for a client: " + s.error().what());
            return close();
        }
        tls_ = std::move(*s);
    }
    read_more();
}

void Connection::close()
{
    if (closed_) return;
    closed_ = true;
    if (read_op_) loop().cancel(std::exchange(read_op_, 0));
    streams_.clear();
    server_.service().closed(*this);
    session_.callbacks.clear();
    pending_.clear();
    server_.account_partial(std::exchange(partial_, 0), 0);
    out_.reset();
    fd_.reset();
    server_.drop(this);
}

// Closing from inside a send (an event to every client, a write error)
// would change the set of clients while it is walked: close on the next
// turn, and take nothing more meanwhile.
void Connection::drop_later(const std::string& why)
{
    if (dropping_ || closed_) return;
    dropping_ = true;
    if (!why.empty())
        server_.note("drop", "dropping a client (" + peer_.who.describe() + " on " + peer_.via + "): " + why);
    loop().defer([weak = weak_from_this()] {
        if (auto c = weak.lock()) c->close();
    });
}

// ---- Out ----------------------------------------------------------------------------

void Connection::write_out(std::string bytes)
{
    if (!tls_) return out_->write(std::move(bytes));
    if (auto s = tls_->send(bytes); !s) return drop_later(s.error().what());
    out_->write(tls_->take_output());
}

void Connection::send(Result<std::string> packet)
{
    if (closed_ || dropping_) return;
    if (!packet) {
        log().info("cannot encode a reply: " + packet.error().what());
        return;
    }
    write_out(std::move(*packet));
    if (out_->queued() > limits().max_output)
        drop_later("it has not read " + std::to_string(out_->queued()) + " bytes of replies and events");
}

void Connection::reply(Result<std::string> packet)
{
    reply_with_fds(std::move(packet), {});
}

bool Connection::passes_fds() const
{
    int domain = 0;
    socklen_t len = sizeof domain;
    return !tls_ && fd_ && ::getsockopt(fd_.get(), SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 && domain == AF_UNIX;
}

void Connection::reply_with_fds(Result<std::string> packet, std::vector<Fd> fds)
{
    if (outstanding_ > 0) --outstanding_;
    if (fds.empty()) {
        send(std::move(packet));
    } else if (packet && !passes_fds()) {
        log().info("a reply with fds on a connection that cannot pass them: dropped");
    } else if (!closed_ && !dropping_ && packet) {
        send(std::move(packet));
        for (auto& fd : fds) out_->write_fd(std::move(fd));
    }
    if (!pending_.empty())
        loop().defer([weak = weak_from_this()] {
            if (auto c = weak.lock()) c->process();
        });
}

std::size_t Connection::queued() const
{
    return out_ ? out_->queued() : 0;
}

void Connection::when_flushed(std::function<void()> fn)
{
    if (closed_) return;
    flush_waiters_.push_back(std::move(fn));
    if (drain_armed_) return;
    drain_armed_ = true;
    out_->when_idle([weak = weak_from_this()] {
        auto c = weak.lock();
        if (!c) return;
        c->drain_armed_ = false;
        for (auto& f : std::exchange(c->flush_waiters_, {})) f();
    });
}

// The client took its replies: handle what waits, then read more.
void Connection::after_drain()
{
    if (drain_wait_) return;
    drain_wait_ = true;
    when_flushed([weak = weak_from_this()] {
        auto c = weak.lock();
        if (!c) return;
        c->drain_wait_ = false;
        c->process();
    });
}

// ---- In -------------------------------------------------------------------------------

void Connection::read_more()
{
    if (closed_ || dropping_ || input_held_ || read_op_ || !pending_.empty()) return;
    if (out_->queued() > limits().output_pause) return after_drain();  // the client does not read: wait until it has
    if (partial_ > small_packet && server_.input_over_budget()) return server_.park(shared_from_this());
    std::weak_ptr<Connection> weak = weak_from_this();
    read_op_ = loop().read(fd_.get(), read_chunk, [weak](int res, std::span<const char> data) {
        auto c = weak.lock();
        if (!c) return;
        c->read_op_ = 0;
        if (res <= 0) return c->close();
        c->last_input_ = Clock::now();
        c->on_bytes(std::string_view(data.data(), data.size()));
    });
}

void Connection::on_bytes(std::string_view bytes)
{
    auto plain = decrypt(bytes);
    if (!plain) {
        server_.note("tls", "refusing a TLS client: " + plain.error().what());
        return close();
    }
    auto packets = in_.feed(*plain);
    if (!packets) {
        log().debug("dropping a client: " + packets.error().what());
        return close();
    }
    note_partial(!packets->empty());
    for (auto& p : *packets) pending_.push_back(std::move(p));
    process();
}

// Keep the server's count of partial bytes, and when this packet began: the
// bytes left after a whole packet are a new one (a client streaming calls
// whose reads all end mid-packet is not one slow packet).
void Connection::note_partial(bool packet_ended)
{
    std::size_t now = in_.buffered();
    if (now > 0 && (partial_ == 0 || packet_ended)) partial_since_ = Clock::now();
    server_.account_partial(partial_, now);
    partial_ = now;
}

// Handle what was read, in order; a call only while fewer than
// max_requests are unanswered and the client takes its replies.
void Connection::process()
{
    while (!pending_.empty() && !closed_ && !dropping_) {
        const Header& h = pending_.front().header;
        bool call = h.prog != keepalive_program && h.type == MessageType::call;
        if (call && outstanding_ >= limits().max_requests) return;  // reply() comes back here
        if (out_->queued() > limits().output_pause) return after_drain();
        Packet p = std::move(pending_.front());
        pending_.pop_front();
        if (call) ++outstanding_;
        on_packet(std::move(p));
    }
    read_more();
}

void Connection::release_input()
{
    input_held_ = false;
    read_more();
}

void Connection::on_packet(Packet p)
{
    const Header& h = p.header;
    if (h.prog == keepalive_program) {
        if (is_ping(h)) send(encode_pong());
        return;
    }
    if (h.type == MessageType::stream) return on_stream_packet(p);
    if (h.type != MessageType::call) return;  // replies and events are not ours to get
    server_.service().call(*this, p);
}

// ---- Timeouts ---------------------------------------------------------------------------

bool Connection::check_timeouts(Clock::time_point now)
{
    if (closed_) return false;
    const ClientLimits& l = limits();
    bool handshaking = tls_ && !tls_ready_;
    // While the router itself does not read (the client's replies are not
    // taken, the input budget is spent) the rest of a packet cannot come:
    // its clock starts again when reading does.
    if (partial_ > 0 && !handshaking && !read_op_) partial_since_ = now;
    if ((partial_ > 0 || handshaking) && now - partial_since_ > l.partial_timeout) {
        server_.note("partial", "dropping a client (" + peer_.who.describe() + " on " + peer_.via +
                                    "): " + (handshaking ? "its TLS handshake" : "a packet") +
                                    " was begun and not finished within " + std::to_string(l.partial_timeout.count()) +
                                    " s");
        close();
        return true;
    }
    bool busy = outstanding_ > 0 || !pending_.empty() || !streams_.empty() || !session_.callbacks.empty() ||
                !session_.old_style.empty() || queued() > 0;
    if (l.idle_timeout.count() > 0 && !busy && !peer_.channel && now - last_input_ > l.idle_timeout) {
        server_.note("idle", "closing a client (" + peer_.who.describe() + " on " + peer_.via + ") idle for " +
                                 std::to_string(l.idle_timeout.count()) + " s");
        close();
        return true;
    }
    return false;
}

// ---- Console streams ---------------------------------------------------------------

void Connection::open_console(const Header& call, std::string domain, Fd sock)
{
    auto s = std::make_unique<ConsoleStream>(*this, call, std::move(domain), std::move(sock));
    ConsoleStream& stream = *s;
    streams_[call.serial] = std::move(s);
    stream.pump();
}

void Connection::open_stdio(const Header& call, Fd pipe, bool input)
{
    using Kind = ConsoleStream::Kind;
    // No domain: a run's stdio ends with its pipe, not with a stage.
    auto s = std::make_unique<ConsoleStream>(*this, call, std::string(), std::move(pipe), input ? Kind::in : Kind::out);
    ConsoleStream& stream = *s;
    streams_[call.serial] = std::move(s);
    if (!input) stream.pump();
}

void Connection::pump_stream(std::uint32_t serial)
{
    if (auto it = streams_.find(serial); it != streams_.end()) it->second->pump();
}

void Connection::on_stream_packet(const Packet& p)
{
    auto it = streams_.find(p.header.serial);
    if (it == streams_.end()) return;  // a stream already finished: late data is dropped
    if (p.header.status == Status::continue_) return it->second->input(p.payload);
    // A run's stdin finishes once its pipe has taken what was sent.
    if (p.header.status == Status::ok && it->second->finish()) return;
    // OK: the client finished; ERROR: it aborted. Either way, acknowledge and close.
    send(encode_stream(it->second->call(), Status::ok, {}));
    end_stream(p.header.serial);
}

void Connection::end_stream(std::uint32_t serial)
{
    auto it = streams_.find(serial);
    if (it == streams_.end()) return;
    streams_.erase(it);
    if (input_held_) release_input();  // held for this stream's guest, which is gone
}

void Connection::end_streams()
{
    streams_.clear();
    if (input_held_) release_input();
}

void Connection::domain_ended(const std::string& domain)
{
    for (auto& [serial, s] : streams_)
        if (s->domain() == domain) s->domain_ended();
}

}  // namespace fleet::router
