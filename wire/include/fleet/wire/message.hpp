// fleet — whole messages, ready to write to a socket: calls (the client,
// fsh), replies, error replies, events, stream packets and keepalives (the
// server). Each returns the complete packet, length word included, or the
// error that kept it from being built (a field over its limit, a packet
// over max_packet_size).
//
// The rules of virnetprotocol.x: a reply echoes the call's program,
// version, procedure and serial; an error is a REPLY with status ERROR and
// a remote_error payload; events are MESSAGEs with serial 0; stream data is
// raw bytes, not XDR.
#pragma once

#include <fleet/wire/codec.hpp>
#include <fleet/wire/packet.hpp>
#include <fleet/wire/types.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace fleet::wire {

// The packet for h with T's encoding as payload.
template <class T>
Result<std::string> encode_message(const Header& h, const T& payload)
{
    XdrWriter w;
    w.put_u32(0);  // the length, patched below
    encode_header(w, h);
    encode(w, payload);
    if (auto ok = w.status(); !ok) return std::unexpected(ok.error());
    if (w.size() > max_packet_size) {
        return fail("a " + std::to_string(w.size()) + "-byte packet exceeds the limit of " +
                    std::to_string(max_packet_size));
    }
    w.patch_u32(0, static_cast<std::uint32_t>(w.size()));
    return w.take();
}

// A CALL of procedure proc.
template <class T>
Result<std::string> encode_call(std::int32_t proc, std::uint32_t serial, const T& args,
                                std::uint32_t prog = remote_program)
{
    return encode_message(Header{prog, protocol_version, proc, MessageType::call, serial, Status::ok}, args);
}

template <class T>
Result<std::string> encode_call(RemoteProc proc, std::uint32_t serial, const T& args)
{
    return encode_call(to_int(proc), serial, args);
}

// The header of the answer to `call`: same prog, vers, proc and serial.
Header reply_header(const Header& call, Status status);

// A successful REPLY to `call`.
template <class T>
Result<std::string> encode_reply(const Header& call, const T& ret)
{
    return encode_message(reply_header(call, Status::ok), ret);
}

// A payload preceded by the count of fds that follow its packet
// (libvirt's CALL_WITH_FDS and REPLY_WITH_FDS: virnetmessage.c).
template <class T>
struct WithFds {
    std::uint32_t nfds = 0;
    T body{};
    static constexpr auto xdr = std::tuple{&WithFds::nfds, &WithFds::body};
    bool operator==(const WithFds&) const = default;
};

// A REPLY_WITH_FDS to `call`: nfds, then ret. The sender passes the fds
// after the packet, one byte each (SCM_RIGHTS), as libvirt does.
template <class T>
Result<std::string> encode_reply_with_fds(const Header& call, const T& ret, std::uint32_t nfds)
{
    if (nfds > max_fds) return fail("at most " + std::to_string(max_fds) + " fds in a message");
    Header h = reply_header(call, Status::ok);
    h.type = MessageType::reply_with_fds;
    return encode_message(h, WithFds<T>{nfds, ret});
}

// A REPLY with status ERROR.
Result<std::string> encode_error_reply(const Header& call, const RemoteError& error);

// An event: MESSAGE, serial 0, status OK.
template <class T>
Result<std::string> encode_event(std::int32_t proc, const T& msg, std::uint32_t prog = remote_program)
{
    return encode_message(Header{prog, protocol_version, proc, MessageType::message, 0, Status::ok}, msg);
}

template <class T>
Result<std::string> encode_event(RemoteProc proc, const T& msg)
{
    return encode_event(to_int(proc), msg);
}

// A STREAM packet for the stream opened by `call` (same prog, proc and
// serial): CONTINUE with raw data (at most max_stream_chunk bytes; empty =
// end of data), or OK with no data (finish). For ERROR use
// encode_stream_error.
Result<std::string> encode_stream(const Header& call, Status status, std::string_view data);
Result<std::string> encode_stream_error(const Header& call, const RemoteError& error);

// KEEPALIVE PING and PONG: 28-byte MESSAGEs, serial 0, empty payload.
std::string encode_ping();
std::string encode_pong();
bool is_ping(const Header& h);
bool is_pong(const Header& h);

}  // namespace fleet::wire
