// fleet-router — a console stream (console_stream.hpp).
#include "console_stream.hpp"

#include "connection.hpp"

#include <fleet/wire/message.hpp>

namespace fleet::router {

using wire::Status;

ConsoleStream::ConsoleStream(Connection& conn, wire::Header call, std::string domain, Fd sock, Kind kind)
    : conn_(conn), call_(call), domain_(std::move(domain)), sock_(std::move(sock)), kind_(kind)
{
    // A pipe whose reader is gone (the stage ended) drops what is left, as
    // a shell pipe does; when_idle still fires (on_idle).
    to_guest_ = std::make_unique<Sink>(conn_.loop(), sock_.get(), [](int) {});
}

ConsoleStream::~ConsoleStream()
{
    if (read_op_) conn_.loop().cancel(read_op_);
    if (stall_timer_) conn_.loop().cancel(stall_timer_);
}

// Guest output -> STREAM CONTINUE packets; its end -> an empty CONTINUE.
void ConsoleStream::pump()
{
    if (conn_.closed()) return;
    if (conn_.queued() > conn_.limits().output_pause) {  // the client is slow: wait for it
        conn_.when_flushed([weak = conn_.weak_from_this(), serial = call_.serial] {
            if (auto c = weak.lock()) c->pump_stream(serial);
        });
        return;
    }
    read_op_ = conn_.loop().read(sock_.get(), chunk, [this](int res, std::span<const char> data) {
        read_op_ = 0;
        if (res <= 0) {
            eof_sent_ = true;
            conn_.send(wire::encode_stream(call_, Status::continue_, {}));
            return;
        }
        conn_.send(wire::encode_stream(call_, Status::continue_, std::string_view(data.data(), data.size())));
        pump();
    });
}

void ConsoleStream::input(std::string_view bytes)
{
    if (kind_ == Kind::out || finishing_) return;  // nothing to write into
    if (discarding_) {
        if (to_guest_->queued() > 0) {  // still not taken: this input is lost
            dropped_ += bytes.size();
            return;
        }
        conn_.log().info("console of domain '" + domain_ + "': the guest reads again; " + std::to_string(dropped_) +
                         " bytes of input were dropped");
        discarding_ = false;
        dropped_ = 0;
    }
    if (!bytes.empty()) to_guest_->write(std::string(bytes));
    if (to_guest_->queued() > max_console_input && !conn_.input_held()) hold();
}

// The guest reads slower than the client sends: stop reading this client
// until the guest has caught up, or has stalled (watch_stall).
void ConsoleStream::hold()
{
    conn_.hold_input();
    to_guest_->when_idle([this] { on_idle(); });
    if (kind_ == Kind::console) watch_stall(to_guest_->queued());
}

// Everything queued is taken (or dropped: the reader is gone).
void ConsoleStream::on_idle()
{
    if (conn_.input_held()) {
        if (stall_timer_) conn_.loop().cancel(std::exchange(stall_timer_, 0));
        conn_.release_input();
    }
    if (!finishing_) return;
    // The end of stdin: the stage reads end-of-file once the pipe closes,
    // which is now (the sink is idle and takes nothing more).
    sock_.reset();
    // Ended on the next turn: this runs inside the sink's own callback.
    conn_.send(wire::encode_stream(call_, Status::ok, {}));
    conn_.loop().defer([weak = conn_.weak_from_this(), serial = call_.serial] {
        if (auto c = weak.lock()) c->end_stream(serial);
    });
}

bool ConsoleStream::finish()
{
    if (kind_ != Kind::in) return false;
    if (finishing_) return true;
    finishing_ = true;
    to_guest_->when_idle([this] { on_idle(); });
    return true;
}

void ConsoleStream::watch_stall(std::size_t queued_before)
{
    stall_timer_ = conn_.loop().timer(stall_limit, [this, queued_before](int) {
        stall_timer_ = 0;
        if (!conn_.input_held()) return;
        std::size_t now = to_guest_->queued();
        if (now < queued_before) return watch_stall(now);  // slow, but taking it
        conn_.log().info("console of domain '" + domain_ + "': the guest has taken no input for " +
                         std::to_string(stall_limit.count() / 1000) + " s; dropping input until it does");
        discarding_ = true;
        conn_.release_input();
    });
}

void ConsoleStream::domain_ended()
{
    // The console socket reports the end by itself; this covers a stream
    // whose read was not armed (a slow client).
    if (eof_sent_ || read_op_) return;
    eof_sent_ = true;
    conn_.send(wire::encode_stream(call_, Status::continue_, {}));
}

}  // namespace fleet::router
