// fleet-router — a console stream (virsh console): a libvirt stream on the
// DOMAIN_OPEN_CONSOLE call's serial, joined to the supervisor's
// console.sock. The guest's output goes out as STREAM CONTINUE packets, its
// end as an empty one; the client's bytes go into the guest's stdin.
//
// Input is flow-controlled: past max_console_input bytes the guest has not
// taken, the stream holds its connection's reading until the guest catches
// up. A guest that takes nothing for stall_limit would also hold up every
// other call on the connection (the client's own abort or destroy among
// them): then this stream's input is dropped, like a serial line nobody
// reads, until the guest takes what is queued.
#pragma once

#include <fleet/base/fd.hpp>
#include <fleet/base/loop.hpp>
#include <fleet/base/sink.hpp>
#include <fleet/wire/packet.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace fleet::router {

class Connection;

class ConsoleStream {
public:
    static constexpr std::size_t chunk = 64 * 1024;                // guest output per packet
    static constexpr std::size_t max_console_input = 1u << 20;     // queued for a guest before its client waits
    static constexpr std::chrono::milliseconds stall_limit{5000};  // a guest taking nothing this long: drop its input

    ConsoleStream(Connection& conn, wire::Header call, std::string domain, Fd sock);
    ~ConsoleStream();  // cancels everything in flight
    ConsoleStream(const ConsoleStream&) = delete;
    ConsoleStream& operator=(const ConsoleStream&) = delete;

    // Guest output -> the client, until the console ends.
    void pump();
    // Client -> guest (a STREAM CONTINUE packet's bytes).
    void input(std::string_view bytes);
    // The domain stopped: say so, if the output reader has not.
    void domain_ended();

    [[nodiscard]] const wire::Header& call() const { return call_; }
    [[nodiscard]] const std::string& domain() const { return domain_; }

private:
    void hold();
    void watch_stall(std::size_t queued_before);

    Connection& conn_;
    wire::Header call_;
    std::string domain_;
    Fd sock_;
    OpId read_op_ = 0;
    OpId stall_timer_ = 0;
    std::unique_ptr<Sink> to_guest_;
    bool eof_sent_ = false;
    bool discarding_ = false;  // the guest took nothing for stall_limit: input is dropped
    std::uint64_t dropped_ = 0;
};

}  // namespace fleet::router
