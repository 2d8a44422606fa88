// fleet — one RPC packet: `[u32 length][header: 6 x u32][payload]`, where
// length counts the whole packet, itself included (virnetprotocol.x).
#pragma once

#include <fleet/wire/protocol.hpp>
#include <fleet/wire/xdr.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace fleet::wire {

// virNetMessageHeader. Decoding takes any values: whether a program,
// version, type or status is acceptable is the receiver's call (it needs
// the serial to answer even a bad call).
struct Header {
    std::uint32_t prog = remote_program;
    std::uint32_t vers = protocol_version;
    std::int32_t proc = 0;
    MessageType type = MessageType::call;
    std::uint32_t serial = 0;
    Status status = Status::ok;
    bool operator==(const Header&) const = default;
};

struct Packet {
    Header header;
    std::string payload;  // XDR, or raw bytes for STREAM data
    bool operator==(const Packet&) const = default;
};

void encode_header(XdrWriter& w, const Header& h);
Result<Header> decode_header(XdrReader& r);

// A packet's declared length, from its first 4 bytes: an error if it is
// smaller than a header-bearing packet (28) or larger than max_packet_size.
Result<std::uint32_t> check_length(std::uint32_t length);

// A whole packet (length word included) into header and payload: the length
// word must match bytes.size().
Result<Packet> decode_packet(std::string_view bytes);

// Header + payload as one packet, length word first; an error if the whole
// would exceed max_packet_size.
Result<std::string> encode_packet(const Header& h, std::string_view payload);

// Names for logs: "CALL", "REPLY", ...; "OK", "ERROR", "CONTINUE"; a value
// without a name prints as its number.
std::string to_string(MessageType t);
std::string to_string(Status s);

}  // namespace fleet::wire
