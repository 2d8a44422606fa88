// fleet — the message-level encoders (message.hpp).
#include <fleet/wire/message.hpp>

namespace fleet::wire {

namespace {

std::string keepalive(KeepaliveProc proc)
{
    // An empty payload can never exceed a limit.
    return *encode_message(
        Header{keepalive_program, protocol_version, to_int(proc), MessageType::message, 0, Status::ok}, Void{});
}

bool is_keepalive(const Header& h, KeepaliveProc proc)
{
    return h.prog == keepalive_program && h.proc == to_int(proc) && h.type == MessageType::message;
}

Header stream_header(const Header& call, Status status)
{
    return Header{call.prog, call.vers, call.proc, MessageType::stream, call.serial, status};
}

}  // namespace

Header reply_header(const Header& call, Status status)
{
    return Header{call.prog, call.vers, call.proc, MessageType::reply, call.serial, status};
}

Result<std::string> encode_error_reply(const Header& call, const RemoteError& error)
{
    return encode_message(reply_header(call, Status::error), error);
}

Result<std::string> encode_stream(const Header& call, Status status, std::string_view data)
{
    if (status == Status::error) return fail("a stream error carries a remote_error: use encode_stream_error");
    if (status == Status::ok && !data.empty()) return fail("a stream's finishing packet carries no data");
    if (data.size() > max_stream_chunk) {
        return fail("stream chunk of " + std::to_string(data.size()) + " bytes exceeds the limit of " +
                    std::to_string(max_stream_chunk));
    }
    return encode_packet(stream_header(call, status), data);
}

Result<std::string> encode_stream_error(const Header& call, const RemoteError& error)
{
    return encode_message(stream_header(call, Status::error), error);
}

std::string encode_ping()
{
    return keepalive(KeepaliveProc::ping);
}
std::string encode_pong()
{
    return keepalive(KeepaliveProc::pong);
}
bool is_ping(const Header& h)
{
    return is_keepalive(h, KeepaliveProc::ping);
}
bool is_pong(const Header& h)
{
    return is_keepalive(h, KeepaliveProc::pong);
}

}  // namespace fleet::wire
