// fleet shell — a small libvirt client of fleet-router over the wire
// library: connect (unix socket or TCP), AUTH_LIST (auth none), open,
// list the domains with their state and image, look one up.
//
// Blocking, one call at a time, every wait bounded (the timeout given to
// connect): fsh asks between commands, never while a pipeline runs.
// Keepalive PINGs from the server are answered; events are skipped.
// qemu+tls:// runs libvirt's TLS handshake (wire/tls.hpp: the client
// certificate from ?pkipath= or libvirt's system paths, the server's
// certificate checked against the CA and the host name unless
// ?no_verify=1, then the server's one-byte go-ahead).
#pragma once

#include <fleet/base/error.hpp>
#include <fleet/base/fd.hpp>
#include <fleet/shell/router_uri.hpp>
#include <fleet/wire/assembler.hpp>
#include <fleet/wire/codec.hpp>
#include <fleet/wire/message.hpp>
#include <fleet/wire/protocol.hpp>
#include <fleet/wire/tls.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace fleet::shell {

struct RouterDomain {
    std::string name;
    int id = -1;        // -1: not running
    std::string state;  // libvirt's word: running, paused, shutoff, ...
    std::string image;  // its fleet:image, else its kernel, else "-"
    bool operator==(const RouterDomain&) const = default;
};

class RouterClient {
public:
    // Connects and opens the connection. `runtime_dir` finds the local
    // router's socket for a unix URI without socket=.
    static Result<std::unique_ptr<RouterClient>> connect(const RouterUri& uri, const std::string& runtime_dir,
                                                         std::chrono::milliseconds timeout);
    ~RouterClient();
    RouterClient(const RouterClient&) = delete;
    RouterClient& operator=(const RouterClient&) = delete;

    Result<std::string> hostname();
    // Every domain (running first, then by name).
    Result<std::vector<RouterDomain>> domains();
    [[nodiscard]] bool read_only() const { return read_only_; }

    // One call: Ret from the reply, or the server's error.
    template <class Ret, class Args>
    Result<Ret> call(wire::RemoteProc proc, const Args& args);

    // Calls sent before their answers are awaited (each costs no round
    // trip of its own): send_call gives the serial, reply waits for that
    // call's answer. Answers come in the order the calls went.
    template <class Args>
    Result<std::uint32_t> send_call(wire::RemoteProc proc, const Args& args);
    template <class Ret>
    Result<Ret> reply(wire::RemoteProc proc, std::uint32_t serial);

    // ---- For a run's relay (router_run.hpp), which does its own I/O ----
    // Packets that came while a call waited for its reply (events, stream
    // data), kept once keep_unsolicited is on (at most 4096, then the
    // connection is called broken); take_unsolicited hands them over.
    void keep_unsolicited() { keep_unsolicited_ = true; }
    std::deque<wire::Packet> take_unsolicited()
    {
        for (auto& p : queued_) unsolicited_.push_back(std::move(p));  // read past the last reply
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
    Result<std::vector<wire::Packet>> unseal(std::string_view bytes, std::string& reply);

private:
    RouterClient(Fd fd, std::chrono::milliseconds timeout) : fd_(std::move(fd)), timeout_(timeout) {}
    Result<> open(const RouterUri& uri, bool read_only);
    Result<> start_tls(const RouterUri& uri);  // tls.cpp
    Result<> write_all(std::string_view bytes);
    // Bytes from the server (plaintext), waiting until the deadline; empty
    // when TLS consumed a record that held none.
    Result<std::string> read_some(std::chrono::steady_clock::time_point deadline);
    Result<> send(const std::string& bytes);
    Result<wire::Packet> receive(const wire::Header& call);  // the reply, answering pings meanwhile
    Result<std::string> raw_call(std::int32_t proc, const std::string& packet, std::uint32_t serial);
    Result<std::string> raw_reply(std::int32_t proc, std::uint32_t serial);

    Fd fd_;
    std::chrono::milliseconds timeout_;
    std::unique_ptr<wire::TlsSession> tls_;
    wire::PacketAssembler assembler_;
    std::deque<wire::Packet> queued_;
    std::deque<wire::Packet> unsolicited_;
    bool keep_unsolicited_ = false;
    std::uint32_t serial_ = 0;
    bool read_only_ = false;
};

template <class Ret, class Args>
Result<Ret> RouterClient::call(wire::RemoteProc proc, const Args& args)
{
    std::uint32_t serial = serial_++;
    auto packet = wire::encode_call(proc, serial, args);
    if (!packet) return std::unexpected(packet.error());
    auto payload = raw_call(wire::to_int(proc), *packet, serial);
    if (!payload) return std::unexpected(payload.error());
    auto ret = wire::decode_payload<Ret>(*payload);
    if (!ret) return fail("a malformed reply from the router: " + ret.error().message);
    return ret;
}

template <class Args>
Result<std::uint32_t> RouterClient::send_call(wire::RemoteProc proc, const Args& args)
{
    std::uint32_t serial = serial_++;
    auto packet = wire::encode_call(proc, serial, args);
    if (!packet) return std::unexpected(packet.error());
    if (auto ok = send(*packet); !ok) return std::unexpected(ok.error());
    return serial;
}

template <class Ret>
Result<Ret> RouterClient::reply(wire::RemoteProc proc, std::uint32_t serial)
{
    auto payload = raw_reply(wire::to_int(proc), serial);
    if (!payload) return std::unexpected(payload.error());
    auto ret = wire::decode_payload<Ret>(*payload);
    if (!ret) return fail("a malformed reply from the router: " + ret.error().message);
    return ret;
}

}  // namespace fleet::shell
