// fleet — libvirt RPC protocol numbers: programs, message types and
// statuses, size limits and the REMOTE procedure numbers (from procedures.def).
//
// Source of truth: libvirt's src/rpc/virnetprotocol.x,
// src/rpc/virkeepaliveprotocol.x and src/remote/remote_protocol.x
// (see ../shared/libvirt-protocol.md for what each virsh command calls).
#pragma once

#include <cstddef>
#include <cstdint>

namespace fleet::wire {

// ---- Programs (the header's `prog`) --------------------------------------
inline constexpr std::uint32_t remote_program = 0x20008086;
inline constexpr std::uint32_t qemu_program = 0x20008087;
inline constexpr std::uint32_t lxc_program = 0x00068000;
inline constexpr std::uint32_t admin_program = 0x06900690;      // admin socket only
inline constexpr std::uint32_t keepalive_program = 0x6b656570;  // "keep"
inline constexpr std::uint32_t protocol_version = 1;            // every program

// KEEPALIVE procedures: 28-byte MESSAGEs with an empty payload.
enum class KeepaliveProc : std::int32_t { ping = 1, pong = 2 };

// ---- Header enums (virNetMessageType, virNetMessageStatus) ---------------
// Values read from the wire may lie outside the named ones: the types are
// enum classes with a fixed underlying type, so any value is representable
// and the receiver decides what to do with an unknown one.
enum class MessageType : std::uint32_t {
    call = 0,     // client -> server: XXX_args
    reply = 1,    // server -> client: XXX_ret, or remote_error
    message = 2,  // async event: XXX_msg
    stream = 3,   // stream data (raw bytes), end or error
    call_with_fds = 4,
    reply_with_fds = 5,
    stream_hole = 6,
};

enum class Status : std::uint32_t {
    ok = 0,
    error = 1,      // payload is a remote_error
    continue_ = 2,  // stream: more data follows
};

// ---- Sizes and limits ----------------------------------------------------
inline constexpr std::size_t length_word_size = 4;                              // the leading u32 length
inline constexpr std::size_t header_size = 24;                                  // 6 x u32
inline constexpr std::size_t min_packet_size = length_word_size + header_size;  // 28
// Header + payload (libvirt 9.0's VIR_NET_MESSAGE_MAX; older .x files: 16 MiB).
inline constexpr std::size_t max_message_size = 33554432;
inline constexpr std::size_t max_packet_size = length_word_size + max_message_size;
// File descriptors passed with one message (VIR_NET_MESSAGE_NUM_FDS_MAX).
inline constexpr std::uint32_t max_fds = 32;
// Raw data carried by one STREAM packet (VIR_NET_MESSAGE_LEGACY_PAYLOAD_MAX).
inline constexpr std::size_t max_stream_chunk = 262144;

// Limits of remote_protocol.x, as the decoder enforces them.
inline constexpr std::uint32_t remote_string_max = 4194304;  // remote_nonnull_string
inline constexpr std::uint32_t domain_list_max = 16384;      // domain lists, ids, names
inline constexpr std::uint32_t auth_type_list_max = 20;
inline constexpr std::uint32_t security_model_max = 257;   // VIR_SECURITY_MODEL_BUFLEN
inline constexpr std::uint32_t security_doi_max = 257;     // VIR_SECURITY_DOI_BUFLEN
inline constexpr std::uint32_t security_label_max = 4097;  // VIR_SECURITY_LABEL_BUFLEN
inline constexpr std::uint32_t domain_messages_max = 2048;
inline constexpr std::uint32_t network_list_max = 16384;    // REMOTE_NETWORK_LIST_MAX
inline constexpr std::uint32_t node_max_cells = 1024;       // REMOTE_NODE_MAX_CELLS
inline constexpr std::uint32_t node_memory_stats_max = 16;  // REMOTE_NODE_MEMORY_STATS_MAX
inline constexpr std::uint32_t domain_interface_max = 2048;
inline constexpr std::uint32_t domain_ip_addr_max = 2048;
inline constexpr std::size_t uuid_size = 16;        // VIR_UUID_BUFLEN
inline constexpr std::size_t node_model_size = 32;  // node_get_info's char model[32]

// ---- REMOTE procedures fleet knows ---------------------------------------
// One enumerator per row of procedures.def (the one table: procedures.hpp
// adds each one's payload types). Calls not listed there are answered
// "unknown procedure" by the router.
enum class RemoteProc : std::int32_t {
#define FLEET_PROCEDURE(number, id, ...) id = number,
#include <fleet/wire/procedures.def>
};

constexpr std::int32_t to_int(RemoteProc p)
{
    return static_cast<std::int32_t>(p);
}
constexpr std::int32_t to_int(KeepaliveProc p)
{
    return static_cast<std::int32_t>(p);
}

}  // namespace fleet::wire
