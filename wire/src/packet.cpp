// fleet — packet header and framing (packet.hpp).
#include <fleet/wire/packet.hpp>

namespace fleet::wire {

void encode_header(XdrWriter& w, const Header& h)
{
    w.put_u32(h.prog);
    w.put_u32(h.vers);
    w.put_i32(h.proc);
    w.put_u32(static_cast<std::uint32_t>(h.type));
    w.put_u32(h.serial);
    w.put_u32(static_cast<std::uint32_t>(h.status));
}

Result<Header> decode_header(XdrReader& r)
{
    if (r.remaining() < header_size) return r.error("a packet header needs 24 bytes");
    Header h;
    h.prog = *r.u32();
    h.vers = *r.u32();
    h.proc = *r.i32();
    h.type = static_cast<MessageType>(*r.u32());
    h.serial = *r.u32();
    h.status = static_cast<Status>(*r.u32());
    return h;
}

Result<std::uint32_t> check_length(std::uint32_t length)
{
    if (length < min_packet_size) {
        return fail("packet length " + std::to_string(length) + " is smaller than a header (" +
                    std::to_string(min_packet_size) + ")");
    }
    if (length > max_packet_size) {
        return fail("packet length " + std::to_string(length) + " exceeds the limit of " +
                    std::to_string(max_packet_size));
    }
    return length;
}

Result<Packet> decode_packet(std::string_view bytes)
{
    XdrReader r(bytes);
    auto length = r.u32();
    if (!length) return std::unexpected(length.error());
    if (auto ok = check_length(*length); !ok) return std::unexpected(ok.error());
    if (*length != bytes.size()) {
        return fail("packet length word says " + std::to_string(*length) + " bytes, the packet has " +
                    std::to_string(bytes.size()));
    }
    auto header = decode_header(r);
    if (!header) return std::unexpected(header.error());
    return Packet{*header, std::string(bytes.substr(min_packet_size))};
}

Result<std::string> encode_packet(const Header& h, std::string_view payload)
{
    const std::size_t total = min_packet_size + payload.size();
    if (total > max_packet_size) {
        return fail("a " + std::to_string(total) + "-byte packet exceeds the limit of " +
                    std::to_string(max_packet_size));
    }
    XdrWriter w;
    w.put_u32(static_cast<std::uint32_t>(total));
    encode_header(w, h);
    std::string out = w.take();
    out.append(payload);
    return out;
}

std::string to_string(MessageType t)
{
    switch (t) {
        case MessageType::call:
            return "CALL";
        case MessageType::reply:
            return "REPLY";
        case MessageType::message:
            return "MESSAGE";
        case MessageType::stream:
            return "STREAM";
        case MessageType::call_with_fds:
            return "CALL_WITH_FDS";
        case MessageType::reply_with_fds:
            return "REPLY_WITH_FDS";
        case MessageType::stream_hole:
            return "STREAM_HOLE";
    }
    return std::to_string(static_cast<std::uint32_t>(t));
}

std::string to_string(Status s)
{
    switch (s) {
        case Status::ok:
            return "OK";
        case Status::error:
            return "ERROR";
        case Status::continue_:
            return "CONTINUE";
    }
    return std::to_string(static_cast<std::uint32_t>(s));
}

}  // namespace fleet::wire
