// fleet — the client's side of a call (fsh): which packets answer a call,
// and a reply's payload or the error the server sent instead.
//
// virnetclientprogram.c's rules: a reply is a REPLY of the call's program,
// version, procedure and serial with status OK (the procedure's return
// payload) or ERROR (a remote_error, whose message the client shows).
// Anything else on the connection meanwhile is an event (MESSAGE), a
// keepalive or stream data, and is not the answer.
#pragma once

#include <fleet/base/error.hpp>
#include <fleet/wire/codec.hpp>
#include <fleet/wire/message.hpp>
#include <fleet/wire/packet.hpp>
#include <fleet/wire/types.hpp>

#include <string>

namespace fleet::wire {

// p is the answer to the call with header `call`.
bool answers(const Header& call, const Header& p);

// The text a client shows for a server's error: its message, else its code.
std::string error_text(const RemoteError& e);

// The payload of an OK reply; for an ERROR reply, an Error carrying the
// server's message; a reply with another status, or a payload that does
// not decode as Ret, is an error too. `reply` must answer the call.
Result<std::string> reply_payload(const Packet& reply);

template <class Ret>
Result<Ret> decode_reply(const Packet& reply)
{
    auto payload = reply_payload(reply);
    if (!payload) return std::unexpected(payload.error());
    auto ret = decode_payload<Ret>(*payload);
    if (!ret) return fail("a malformed reply from the server: " + ret.error().message);
    return ret;
}

// A REPLY_WITH_FDS: how many fds follow its packet, and the return
// payload. An ERROR reply (a plain REPLY) is the server's error; an OK
// REPLY without fds is an error too.
template <class Ret>
Result<WithFds<Ret>> decode_reply_with_fds(const Packet& reply)
{
    if (reply.header.type != MessageType::reply_with_fds) {
        auto payload = reply_payload(reply);
        if (!payload) return std::unexpected(payload.error());
        return fail("the server's reply carries no fds");
    }
    auto ret = decode_payload<WithFds<Ret>>(reply.payload);
    if (!ret) return fail("a malformed reply from the server: " + ret.error().message);
    if (ret->nfds > max_fds) return fail("a reply with " + std::to_string(ret->nfds) + " fds");
    return ret;
}

}  // namespace fleet::wire
