// fleet — a blocking client of fleet-router's libvirt RPC, one caller at a
// time: fsh (shell/router_client.hpp) and fleet-vmm's --net (vmm/cli/net.cpp)
// both speak to the router through it.
//
// It owns a connected socket (unix or TCP; the caller connects), runs
// libvirt's qemu+tls:// handshake if asked (wire/tls.hpp: the client
// certificate from a pkipath or libvirt's system paths, the server's
// certificate checked against the CA and a host name unless none is given,
// then the server's one-byte go-ahead), opens the connection (AUTH_LIST,
// auth none only; CONNECT_OPEN), and makes calls. Every wait is bounded by
// the timeout. Keepalive PINGs from the server are answered; other packets
// that come while a call waits are dropped, or kept for a caller that does
// its own I/O afterwards (keep_unsolicited: at most 4096, then the
// connection is called broken).
//
// A reply that carries fds (REPLY_WITH_FDS, the router's tap for --net)
// comes on a unix socket without TLS only: call_with_fds reads that reply
// packet by packet, never past its end, and take_fds then reads the one
// byte each fd rides on (base/socket.hpp, recv_with_fds). Any fd that comes
// with other bytes is closed and the connection called broken.
#pragma once

#include <fleet/base/error.hpp>
#include <fleet/base/fd.hpp>
#include <fleet/wire/assembler.hpp>
#include <fleet/wire/client.hpp>
#include <fleet/wire/codec.hpp>
#include <fleet/wire/message.hpp>
#include <fleet/wire/protocol.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fleet::wire {

// What TLS does to a connection's bytes. start_tls puts one in place
// (blocking_client_tls.cpp, in libfleet-wire with GnuTLS); without it the
// client stands on the codec alone, as fleet-vmm links it.
class RecordLayer {
public:
    virtual ~RecordLayer() = default;
    // Ciphertext in -> the plaintext that became readable.
    virtual Result<std::string> receive(std::string_view ciphertext) = 0;
    // Plaintext to seal; the ciphertext is then in take_output().
    virtual Result<> send(std::string_view plaintext) = 0;
    virtual std::string take_output() = 0;
};

class BlockingClient {
public:
    BlockingClient(Fd fd, std::chrono::milliseconds timeout) : fd_(std::move(fd)), timeout_(timeout) {}
    // CONNECT_CLOSE, best effort, without waiting for its answer: the
    // router drops the connection either way.
    virtual ~BlockingClient();
    BlockingClient(const BlockingClient&) = delete;
    BlockingClient& operator=(const BlockingClient&) = delete;

    // libvirt's TLS handshake. With `verify`, the server's certificate must
    // chain to the CA and carry `host`; without, it is not checked (a
    // URI's no_verify=1). Defined in libfleet-wire (wire_dep), not in the
    // codec alone.
    Result<> start_tls(const std::string& pkipath, const std::string& host, bool verify);
    // AUTH_LIST (auth none only; `self` names this program in the error)
    // and CONNECT_OPEN of `name`.
    Result<> open(const std::string& name, bool read_only, std::string_view self);
    [[nodiscard]] bool read_only() const { return read_only_; }

    // One call: Ret from the reply, or the server's error.
    template <class Ret, class Args>
    Result<Ret> call(RemoteProc proc, const Args& args);
    // One call whose reply carries fds (REPLY_WITH_FDS): Ret and how many
    // fds follow; take_fds(n) then collects them.
    template <class Ret, class Args>
    Result<WithFds<Ret>> call_with_fds(RemoteProc proc, const Args& args);
    // The n fds that follow a REPLY_WITH_FDS (n <= max_fds, as checked there).
    Result<std::vector<Fd>> take_fds(std::uint32_t n);

    // Calls sent before their answers are awaited (each costs no round
    // trip of its own): send_call gives the serial, reply waits for that
    // call's answer. Answers come in the order the calls went.
    template <class Args>
    Result<std::uint32_t> send_call(RemoteProc proc, const Args& args);
    template <class Ret>
    Result<Ret> reply(RemoteProc proc, std::uint32_t serial);

    // ---- For a caller that then does its own I/O (fsh's run relay) ----
    // Packets that came while a call waited for its reply (events, stream
    // data), kept once keep_unsolicited is on; take_unsolicited hands them
    // over, with any read past the last reply.
    void keep_unsolicited() { keep_unsolicited_ = true; }
    std::deque<Packet> take_unsolicited()
    {
        for (auto& p : queued_) unsolicited_.push_back(std::move(p));
        queued_.clear();
        return std::exchange(unsolicited_, {});
    }
    void set_timeout(std::chrono::milliseconds t) { timeout_ = t; }
    [[nodiscard]] int fd() const { return fd_.get(); }
    std::uint32_t next_serial() { return serial_++; }
    // Plaintext packets -> the bytes to write (sealed for TLS).
    Result<std::string> seal(const std::string& bytes);
    // Bytes read from the socket -> whole packets; `reply` gets anything
    // TLS must write back.
    Result<std::vector<Packet>> unseal(std::string_view bytes, std::string& reply);

private:
    Result<> write_all(std::string_view bytes);
    Result<> send(const std::string& bytes);
    // Bytes from the server (plaintext), waiting until the deadline; empty
    // when TLS consumed a record that held none.
    Result<std::string> read_some(std::chrono::steady_clock::time_point deadline);
    // One whole packet, read to its end and no further (no TLS).
    Result<Packet> read_packet(std::chrono::steady_clock::time_point deadline);
    // The answer to `call` among the packets read so far, if there: pings
    // are answered, the rest dropped or kept.
    Result<std::optional<Packet>> take_answer(const Header& call);
    // The reply to `call`, answering pings meanwhile; `exact`: read packet
    // by packet (for a reply with fds after it).
    Result<Packet> receive(const Header& call, bool exact = false);
    Result<std::string> payload_of(std::int32_t proc, std::uint32_t serial);
    // Plaintext bytes -> the packets they complete (the assembler's error
    // in the router's words); queue() keeps them for take_answer.
    Result<std::vector<Packet>> assemble(std::string_view plain);
    Result<> queue(std::string_view plain);
    // No answer within the timeout; a recv_with_fds failure, in the
    // router's words.
    Error not_answered() const;
    Error lost(const Error& e) const;

    Fd fd_;
    std::chrono::milliseconds timeout_;
    std::unique_ptr<RecordLayer> tls_;
    PacketAssembler assembler_;
    std::deque<Packet> queued_;
    std::deque<Packet> unsolicited_;
    bool keep_unsolicited_ = false;
    std::uint32_t serial_ = 0;
    bool read_only_ = false;
};

template <class Ret, class Args>
Result<Ret> BlockingClient::call(RemoteProc proc, const Args& args)
{
    auto serial = send_call(proc, args);
    if (!serial) return std::unexpected(serial.error());
    return reply<Ret>(proc, *serial);
}

template <class Ret, class Args>
Result<WithFds<Ret>> BlockingClient::call_with_fds(RemoteProc proc, const Args& args)
{
    auto serial = send_call(proc, args);
    if (!serial) return std::unexpected(serial.error());
    const Header sent{remote_program, protocol_version, to_int(proc), MessageType::call, *serial, Status::ok};
    auto packet = receive(sent, true);
    if (!packet) return std::unexpected(packet.error());
    return decode_reply_with_fds<Ret>(*packet);
}

template <class Args>
Result<std::uint32_t> BlockingClient::send_call(RemoteProc proc, const Args& args)
{
    std::uint32_t serial = serial_++;
    auto packet = encode_call(proc, serial, args);
    if (!packet) return std::unexpected(packet.error());
    if (auto ok = send(*packet); !ok) return std::unexpected(ok.error());
    return serial;
}

template <class Ret>
Result<Ret> BlockingClient::reply(RemoteProc proc, std::uint32_t serial)
{
    auto payload = payload_of(to_int(proc), serial);
    if (!payload) return std::unexpected(payload.error());
    auto ret = decode_payload<Ret>(*payload);
    if (!ret) return fail("a malformed reply from the router: " + ret.error().message);
    return ret;
}

}  // namespace fleet::wire
