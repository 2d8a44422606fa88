// fleet — the values of libvirt's public enums that travel in payloads:
// error codes, domains and levels (virterror.h), domain states and their
// reasons, lifecycle events and details, event ids (libvirt-domain.h),
// driver features (libvirt_internal.h) and the flags fleet looks at.
//
// Plain integer constants in named namespaces: on the wire they are XDR
// ints, and a peer may send values this list does not name.
#pragma once

#include <cstdint>

namespace fleet::wire {

// virErrorNumber (the subset fleet sends or meets).
namespace err {
inline constexpr std::int32_t ok = 0;
inline constexpr std::int32_t internal_error = 1;
inline constexpr std::int32_t no_support = 3;  // drives virsh's fallbacks
inline constexpr std::int32_t invalid_arg = 8;
inline constexpr std::int32_t operation_failed = 9;
inline constexpr std::int32_t xml_error = 27;
inline constexpr std::int32_t dom_exist = 28;
inline constexpr std::int32_t operation_denied = 29;  // a write on a read-only connection
inline constexpr std::int32_t rpc = 39;               // "unknown procedure: N"
inline constexpr std::int32_t no_domain = 42;
inline constexpr std::int32_t no_network = 43;
inline constexpr std::int32_t no_storage_pool = 49;
inline constexpr std::int32_t no_storage_vol = 50;
inline constexpr std::int32_t operation_invalid = 55;
inline constexpr std::int32_t config_unsupported = 67;  // "unsupported configuration: ..."
inline constexpr std::int32_t no_domain_metadata = 80;
inline constexpr std::int32_t operation_unsupported = 84;
}  // namespace err

// virErrorDomain.
namespace errdom {
inline constexpr std::int32_t none = 0;
inline constexpr std::int32_t dom = 6;
inline constexpr std::int32_t rpc = 7;
inline constexpr std::int32_t qemu = 10;
inline constexpr std::int32_t test = 12;
inline constexpr std::int32_t storage = 18;
inline constexpr std::int32_t remote = 13;
inline constexpr std::int32_t network = 19;
inline constexpr std::int32_t domain = 20;
inline constexpr std::int32_t nwfilter = 33;
inline constexpr std::int32_t streams = 38;
}  // namespace errdom

// virErrorLevel.
namespace errlevel {
inline constexpr std::int32_t none = 0;
inline constexpr std::int32_t warning = 1;
inline constexpr std::int32_t error = 2;
}  // namespace errlevel

// virDomainState.
namespace state {
inline constexpr std::int32_t nostate = 0;
inline constexpr std::int32_t running = 1;
inline constexpr std::int32_t blocked = 2;  // idle
inline constexpr std::int32_t paused = 3;
inline constexpr std::int32_t shutdown = 4;  // being shut down
inline constexpr std::int32_t shutoff = 5;
inline constexpr std::int32_t crashed = 6;
inline constexpr std::int32_t pmsuspended = 7;
}  // namespace state

// Reasons, per state (virDomainRunningReason, ...). 0 is "unknown" for all.
namespace reason {
inline constexpr std::int32_t unknown = 0;
inline constexpr std::int32_t running_booted = 1;
inline constexpr std::int32_t running_unpaused = 5;
inline constexpr std::int32_t paused_user = 1;
inline constexpr std::int32_t shutdown_user = 1;
inline constexpr std::int32_t shutoff_shutdown = 1;
inline constexpr std::int32_t shutoff_destroyed = 2;
inline constexpr std::int32_t shutoff_crashed = 3;
inline constexpr std::int32_t shutoff_failed = 6;
inline constexpr std::int32_t crashed_panicked = 1;
}  // namespace reason

// virDomainEventType and the details of each.
namespace event {
inline constexpr std::int32_t defined = 0;
inline constexpr std::int32_t undefined = 1;
inline constexpr std::int32_t started = 2;
inline constexpr std::int32_t suspended = 3;
inline constexpr std::int32_t resumed = 4;
inline constexpr std::int32_t stopped = 5;
inline constexpr std::int32_t shutdown = 6;
inline constexpr std::int32_t pmsuspended = 7;
inline constexpr std::int32_t crashed = 8;
}  // namespace event

namespace detail {
inline constexpr std::int32_t defined_added = 0;
inline constexpr std::int32_t defined_updated = 1;
inline constexpr std::int32_t defined_renamed = 2;
inline constexpr std::int32_t undefined_removed = 0;
inline constexpr std::int32_t started_booted = 0;
inline constexpr std::int32_t started_migrated = 1;
inline constexpr std::int32_t started_restored = 2;
inline constexpr std::int32_t started_from_snapshot = 3;
inline constexpr std::int32_t started_wakeup = 4;
inline constexpr std::int32_t suspended_paused = 0;
inline constexpr std::int32_t resumed_unpaused = 0;
inline constexpr std::int32_t stopped_shutdown = 0;
inline constexpr std::int32_t stopped_destroyed = 1;
inline constexpr std::int32_t stopped_crashed = 2;
inline constexpr std::int32_t stopped_migrated = 3;
inline constexpr std::int32_t stopped_saved = 4;
inline constexpr std::int32_t stopped_failed = 5;
inline constexpr std::int32_t shutdown_finished = 0;
inline constexpr std::int32_t shutdown_guest = 1;
inline constexpr std::int32_t shutdown_host = 2;
}  // namespace detail

// virDomainEventID: virsh registers 0..26; only LIFECYCLE must succeed.
namespace event_id {
inline constexpr std::int32_t lifecycle = 0;
inline constexpr std::int32_t count_in_virsh_9 = 27;
}  // namespace event_id

// virDrvFeature, asked with CONNECT_SUPPORTS_FEATURE.
namespace feature {
inline constexpr std::int32_t fd_passing = 8;
inline constexpr std::int32_t typed_param_string = 9;
inline constexpr std::int32_t program_keepalive = 10;
inline constexpr std::int32_t remote_event_callback = 14;
inline constexpr std::int32_t remote_close_callback = 15;
}  // namespace feature

// remote_auth_type.
namespace auth {
inline constexpr std::int32_t none = 0;
inline constexpr std::int32_t sasl = 1;
inline constexpr std::int32_t polkit = 2;
}  // namespace auth

// virConnectCloseReason (CONNECT_EVENT_CONNECTION_CLOSED).
namespace close_reason {
inline constexpr std::int32_t error = 0;
inline constexpr std::int32_t eof = 1;
inline constexpr std::int32_t keepalive = 2;
inline constexpr std::int32_t client = 3;
}  // namespace close_reason

// Flags fleet interprets.
namespace flags {
inline constexpr std::uint32_t connect_ro = 1;           // CONNECT_OPEN
inline constexpr std::uint32_t list_domains_active = 1;  // LIST_ALL_DOMAINS
inline constexpr std::uint32_t list_domains_inactive = 2;
inline constexpr std::uint32_t create_paused = 1;  // CREATE_XML, CREATE_WITH_FLAGS
inline constexpr std::uint32_t xml_security = 1;   // GET_XML_DESC
inline constexpr std::uint32_t xml_inactive = 2;
inline constexpr std::uint32_t xml_migratable = 8;
inline constexpr std::uint32_t console_force = 1;  // OPEN_CONSOLE
inline constexpr std::uint32_t console_safe = 2;
inline constexpr std::uint32_t ifaddr_source_lease = 0;  // INTERFACE_ADDRESSES source
inline constexpr std::uint32_t ifaddr_source_agent = 1;
inline constexpr std::uint32_t ifaddr_source_arp = 2;
inline constexpr std::int32_t ip_addr_ipv4 = 0;  // remote_domain_ip_addr.type
inline constexpr std::int32_t ip_addr_ipv6 = 1;
}  // namespace flags

}  // namespace fleet::wire
