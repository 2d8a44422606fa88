// fleet — the client's side of a call (client.hpp).
#include <fleet/wire/client.hpp>

namespace fleet::wire {

bool answers(const Header& call, const Header& p)
{
    return (p.type == MessageType::reply || p.type == MessageType::reply_with_fds) && p.prog == call.prog &&
           p.vers == call.vers && p.proc == call.proc && p.serial == call.serial;
}

std::string error_text(const RemoteError& e)
{
    if (e.message && !e.message->empty()) return *e.message;
    return "error " + std::to_string(e.code) + " (no message)";
}

Result<std::string> reply_payload(const Packet& reply)
{
    if (reply.header.status == Status::ok) return reply.payload;
    if (reply.header.status != Status::error)
        return fail("a reply with status " + to_string(reply.header.status) + " from the server");
    auto e = decode_payload<RemoteError>(reply.payload);
    if (!e) return fail("a malformed error reply from the server: " + e.error().message);
    return fail(error_text(*e));
}

}  // namespace fleet::wire
