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
//
// The same class serves a run's stdio (FLEET_DOMAIN_OPEN_STDIO,
// docs/fleet-protocol.md) on a pipe instead of a console socket: `out`
// sends what the pipe gives (stdout, stderr) and ends at its end of file;
// `in` writes the client's bytes into the pipe (stdin), never drops any
// (a pipe is lossless: the connection waits, as a writer to a full pipe
// does), and at the client's finish closes the pipe once it has taken
// everything, then acknowledges.
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

    enum class Kind { console, in, out };

    ConsoleStream(Connection& conn, wire::Header call, std::string domain, Fd sock, Kind kind = Kind::console);
    ~ConsoleStream();  // cancels everything in flight
    ConsoleStream(const ConsoleStream&) = delete;
    ConsoleStream& operator=(const ConsoleStream&) = delete;

    // Guest output -> the client, until the console ends.
    void pump();
    // Client -> guest (a STREAM CONTINUE packet's bytes).
    void input(std::string_view bytes);
    // The domain stopped: say so, if the output reader has not.
    void domain_ended();
    // The client finished (STREAM OK). false: end the stream now; true
    // (stdin): it ends, acknowledged, once the pipe has taken everything.
    bool finish();

    [[nodiscard]] const wire::Header& call() const { return call_; }
    [[nodiscard]] const std::string& domain() const { return domain_; }

private:
    void hold();
    void on_idle();
    void watch_stall(std::size_t queued_before);

    Connection& conn_;
    wire::Header call_;
    std::string domain_;
    Fd sock_;
    Kind kind_;
    bool finishing_ = false;
    OpId read_op_ = 0;
    OpId stall_timer_ = 0;
    std::unique_ptr<Sink> to_guest_;
    bool eof_sent_ = false;
    bool discarding_ = false;  // the guest took nothing for stall_limit: input is dropped
    std::uint64_t dropped_ = 0;
};

}  // namespace fleet::router
