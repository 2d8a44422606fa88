// fleet — libvirt RPC protocol numbers: programs, message types and
// statuses, size limits and the REMOTE procedures fleet serves.
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
inline constexpr std::uint32_t domain_interface_max = 2048;
inline constexpr std::uint32_t domain_ip_addr_max = 2048;
inline constexpr std::size_t uuid_size = 16;        // VIR_UUID_BUFLEN
inline constexpr std::size_t node_model_size = 32;  // node_get_info's char model[32]

// ---- REMOTE procedures fleet knows ---------------------------------------
// Every procedure the digest names; procedures.hpp maps each to its payload
// types. Calls not listed here are answered "unknown procedure" by the router.
enum class RemoteProc : std::int32_t {
    connect_open = 1,
    connect_close = 2,
    connect_get_type = 3,
    connect_get_version = 4,
    node_get_info = 6,
    connect_get_capabilities = 7,
    domain_create = 9,
    domain_create_xml = 10,
    domain_define_xml = 11,
    domain_destroy = 12,
    domain_get_xml_desc = 14,
    domain_get_autostart = 15,
    domain_get_info = 16,
    domain_get_os_type = 19,
    connect_list_defined_domains = 21,
    domain_lookup_by_id = 22,
    domain_lookup_by_name = 23,
    domain_lookup_by_uuid = 24,
    connect_num_of_defined_domains = 25,
    domain_reboot = 27,
    domain_resume = 28,
    domain_set_autostart = 29,
    domain_shutdown = 33,
    domain_suspend = 34,
    domain_undefine = 35,
    connect_list_domains = 37,
    connect_num_of_domains = 51,
    connect_get_hostname = 59,
    connect_supports_feature = 60,
    auth_list = 66,
    domain_event_lifecycle = 107,  // MESSAGE, old-style events
    connect_get_uri = 110,
    domain_get_security_label = 121,
    node_get_security_model = 122,
    domain_is_active = 150,
    domain_is_persistent = 151,
    connect_get_lib_version = 157,
    connect_domain_event_register_any = 167,
    connect_domain_event_deregister_any = 168,
    domain_has_managed_save_image = 183,
    domain_snapshot_num = 187,
    domain_create_with_flags = 196,
    domain_open_console = 201,  // then a STREAM
    domain_get_state = 212,
    domain_undefine_flags = 231,
    domain_destroy_flags = 234,
    domain_shutdown_flags = 258,
    connect_list_all_domains = 273,
    connect_domain_event_callback_register_any = 316,
    connect_domain_event_callback_deregister_any = 317,
    domain_event_callback_lifecycle = 318,  // MESSAGE
    domain_define_xml_flags = 350,
    domain_interface_addresses = 353,
    connect_register_close_callback = 360,
    connect_unregister_close_callback = 361,
    connect_event_connection_closed = 362,  // MESSAGE
    domain_get_messages = 426,
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
