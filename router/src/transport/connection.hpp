// fleet-router — one client: bytes in (through TLS for a TLS client),
// packets out of them (keepalives answered here, stream data to its console
// streams, calls to the libvirt mapping), replies and events out through
// one ordered Sink, and its console streams.
//
// What a client can make the router hold is bounded (ClientLimits): calls
// are taken max_requests at a time (libvirtd's max_client_requests) and
// only while the client takes its replies (output_pause); nothing more is
// read meanwhile, so the input held is one read's worth plus one partial
// packet (max_packet, and a share of the input budget). A client whose
// unread output still grows past max_output (events) is dropped. A packet
// or a TLS handshake begun and not finished within partial_timeout, and a
// client silent for idle_timeout with nothing pending, are dropped too.
#pragma once

#include "libvirt/session.hpp"

#include <fleet/base/fd.hpp>
#include <fleet/base/loop.hpp>
#include <fleet/base/sink.hpp>
#include <fleet/router/log.hpp>
#include <fleet/router/server.hpp>
#include <fleet/wire/assembler.hpp>
#include <fleet/wire/packet.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace fleet::wire {
class TlsSession;
}

namespace fleet::router {

class ConsoleStream;

class Connection : public std::enable_shared_from_this<Connection> {
public:
    using Clock = std::chrono::steady_clock;
    // A pending read holds its buffer: 32 idle clients x 256 KiB was 8 MiB.
    static constexpr std::size_t read_chunk = 16 * 1024;
    // A partial packet this small never waits for the input budget: an
    // administrator's calls get through while others hold large ones.
    static constexpr std::size_t small_packet = 64 * 1024;

    Connection(Server& server, Fd fd, Peer peer, std::string bucket);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    void start();
    void close();
    [[nodiscard]] bool closed() const { return closed_; }
    [[nodiscard]] const Peer& peer() const { return peer_; }
    [[nodiscard]] const std::string& bucket() const { return bucket_; }
    void set_bucket(std::string b) { bucket_ = std::move(b); }
    [[nodiscard]] const ClientLimits& limits() const;

    // ---- Out ----
    // The answer to one call (it is no longer outstanding).
    void reply(Result<std::string> packet);
    // The same with fds passed after the packet, one byte each (a
    // REPLY_WITH_FDS); only on a local socket without TLS.
    void reply_with_fds(Result<std::string> packet, std::vector<Fd> fds);
    // A unix socket without TLS: fds can be passed on it.
    [[nodiscard]] bool passes_fds() const;
    // Anything else: an event, stream data, a pong.
    void send(Result<std::string> packet);
    [[nodiscard]] std::size_t queued() const;  // bytes the client has not taken yet
    // fn once everything queued is written (any number of waiters).
    void when_flushed(std::function<void()> fn);

    // The libvirt mapping's state for this client.
    libvirt::Session& session() { return session_; }

    // ---- Console streams (console_stream.hpp) ----
    [[nodiscard]] bool has_stream(std::uint32_t serial) const { return streams_.count(serial) > 0; }
    [[nodiscard]] std::size_t stream_count() const { return streams_.size(); }
    // A stream on the call's serial, joined to a console socket.
    void open_console(const wire::Header& call, std::string domain, Fd sock);
    // A stream on the call's serial, joined to one end of a run's pipe
    // (input: the client's bytes go in; else they come out of it).
    void open_stdio(const wire::Header& call, Fd pipe, bool input);
    // The domain stopped: its streams end.
    void domain_ended(const std::string& domain);
    void end_stream(std::uint32_t serial);
    void end_streams();  // every one, saying nothing (a hypervisor channel's session reset)
    void pump_stream(std::uint32_t serial);

    // Reading from the client pauses while a guest does not take its
    // console input (lossless flow control, as a pipe).
    [[nodiscard]] bool input_held() const { return input_held_; }
    void hold_input() { input_held_ = true; }
    void release_input();
    // Read again (the input budget has room once more).
    void resume() { read_more(); }

    // The server's sweep: drop a client past its partial-packet or idle
    // timeout (true: it was closed).
    bool check_timeouts(Clock::time_point now);

    Loop& loop();
    const Log& log() const;

private:
    void read_more();
    void on_bytes(std::string_view bytes);
    Result<std::string> decrypt(std::string_view bytes);
    Result<> tls_accept();
    void process();
    void on_packet(wire::Packet p);
    void on_stream_packet(const wire::Packet& p);
    void write_out(std::string bytes);
    void after_drain();
    void drop_later(const std::string& why);
    void note_partial(bool packet_ended);

    Server& server_;
    Fd fd_;
    Peer peer_;
    std::string bucket_;
    std::unique_ptr<Sink> out_;
    std::unique_ptr<wire::TlsSession> tls_;
    bool tls_ready_ = false;  // handshake done and certificate accepted
    wire::PacketAssembler in_;
    std::deque<wire::Packet> pending_;  // read, not yet handled
    std::size_t outstanding_ = 0;       // calls handled, not yet answered
    std::size_t partial_ = 0;           // in_.buffered(), as told to the server
    OpId read_op_ = 0;
    bool closed_ = false;
    bool dropping_ = false;
    bool input_held_ = false;
    bool drain_armed_ = false;  // the sink's idle waiter is set
    bool drain_wait_ = false;   // process() waits for the client to take its replies
    std::vector<std::function<void()>> flush_waiters_;
    Clock::time_point last_input_;
    Clock::time_point partial_since_;  // a packet (or the TLS handshake) began
    libvirt::Session session_;
    std::map<std::uint32_t, std::unique_ptr<ConsoleStream>> streams_;
};

}  // namespace fleet::router
