// fleet-router — one client connection (connection.hpp).
#include "connection.hpp"

#include "console_stream.hpp"

#include <fleet/router/libvirt.hpp>
#include <fleet/router/server.hpp>
#include <fleet/wire/message.hpp>

namespace fleet::router {

using namespace fleet::wire;

Connection::Connection(Server& server, Fd fd) : server_(server), fd_(std::move(fd)) {}

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

void Connection::start()
{
    std::weak_ptr<Connection> weak = weak_from_this();
    out_ = std::make_unique<Sink>(loop(), fd_.get(), [weak](int) {
        if (auto c = weak.lock()) c->close();
    });
    read_more();
}

void Connection::close()
{
    if (closed_) return;
    closed_ = true;
    if (read_op_) loop().cancel(std::exchange(read_op_, 0));
    streams_.clear();
    session_.callbacks.clear();
    out_.reset();
    fd_.reset();
    server_.drop(this);
}

void Connection::send(Result<std::string> packet)
{
    if (closed_) return;
    if (!packet) {
        log().info("cannot encode a reply: " + packet.error().what());
        return;
    }
    out_->write(std::move(*packet));
}

std::size_t Connection::queued() const
{
    return out_ ? out_->queued() : 0;
}

void Connection::when_flushed(std::function<void()> fn)
{
    if (closed_) return;
    out_->when_idle(std::move(fn));
}

void Connection::read_more()
{
    if (closed_ || input_held_ || read_op_) return;
    std::weak_ptr<Connection> weak = weak_from_this();
    if (out_->queued() > max_queued_out) {  // the client does not read: wait until it has
        out_->when_idle([weak] {
            if (auto c = weak.lock()) c->read_more();
        });
        return;
    }
    read_op_ = loop().read(fd_.get(), read_chunk, [weak](int res, std::span<const char> data) {
        auto c = weak.lock();
        if (!c) return;
        c->read_op_ = 0;
        if (res <= 0) return c->close();
        auto packets = c->in_.feed(std::string_view(data.data(), data.size()));
        if (!packets) {
            c->log().debug("dropping a client: " + packets.error().what());
            return c->close();
        }
        for (auto& p : *packets) {
            if (c->closed_) return;
            c->on_packet(std::move(p));
        }
        c->read_more();
    });
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

// ---- Console streams ---------------------------------------------------------------

void Connection::open_console(const Header& call, std::string domain, Fd sock)
{
    auto s = std::make_unique<ConsoleStream>(*this, call, std::move(domain), std::move(sock));
    ConsoleStream& stream = *s;
    streams_[call.serial] = std::move(s);
    stream.pump();
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

void Connection::domain_ended(const std::string& domain)
{
    for (auto& [serial, s] : streams_)
        if (s->domain() == domain) s->domain_ended();
}

}  // namespace fleet::router
