// fleet-router — one client: its packets in (keepalives answered here,
// stream data to its console streams, calls to the libvirt mapping),
// replies and events out through one ordered Sink, and its console streams.
#pragma once

#include "libvirt/session.hpp"

#include <fleet/base/fd.hpp>
#include <fleet/base/loop.hpp>
#include <fleet/base/sink.hpp>
#include <fleet/router/log.hpp>
#include <fleet/wire/assembler.hpp>
#include <fleet/wire/packet.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace fleet::router {

class Server;
class ConsoleStream;

class Connection : public std::enable_shared_from_this<Connection> {
public:
    // A client that does not read its replies: stop reading its calls (and
    // its consoles' output) until it has taken them.
    static constexpr std::size_t max_queued_out = 8u << 20;
    // A pending read holds its buffer: 32 idle clients x 256 KiB was 8 MiB.
    static constexpr std::size_t read_chunk = 16 * 1024;

    Connection(Server& server, Fd fd);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    void start();
    void close();
    [[nodiscard]] bool closed() const { return closed_; }

    // ---- Out ----
    void send(Result<std::string> packet);
    [[nodiscard]] std::size_t queued() const;  // bytes the client has not taken yet
    // fn once everything queued is written (one waiter at a time).
    void when_flushed(std::function<void()> fn);

    // The libvirt mapping's state for this client.
    libvirt::Session& session() { return session_; }

    // ---- Console streams (console_stream.hpp) ----
    [[nodiscard]] bool has_stream(std::uint32_t serial) const { return streams_.count(serial) > 0; }
    // A stream on the call's serial, joined to a console socket.
    void open_console(const wire::Header& call, std::string domain, Fd sock);
    // The domain stopped: its streams end.
    void domain_ended(const std::string& domain);
    void end_stream(std::uint32_t serial);
    void pump_stream(std::uint32_t serial);

    // Reading from the client pauses while a guest does not take its
    // console input (lossless flow control, as a pipe).
    [[nodiscard]] bool input_held() const { return input_held_; }
    void hold_input() { input_held_ = true; }
    void release_input();

    Loop& loop();
    const Log& log() const;

private:
    void read_more();
    void on_packet(wire::Packet p);
    void on_stream_packet(const wire::Packet& p);

    Server& server_;
    Fd fd_;
    std::unique_ptr<Sink> out_;
    wire::PacketAssembler in_;
    OpId read_op_ = 0;
    bool closed_ = false;
    bool input_held_ = false;
    libvirt::Session session_;
    std::map<std::uint32_t, std::unique_ptr<ConsoleStream>> streams_;
};

}  // namespace fleet::router
