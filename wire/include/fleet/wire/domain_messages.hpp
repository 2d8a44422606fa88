// fleet — payloads of the per-domain REMOTE procedures (remote_domain_*):
// lookups, create/define, lifecycle actions, info and state, XML, autostart,
// the undefine checks, security label, messages, console and addresses.
//
// Many procedures share a shape; they share the struct too (the procedure
// table in procedures.cpp says which procedure uses which).
#pragma once

#include <fleet/wire/codec.hpp>
#include <fleet/wire/types.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>

namespace fleet::wire {

// {dom}: DOMAIN_CREATE 9, DESTROY 12, GET_AUTOSTART 15, GET_INFO 16,
// GET_OS_TYPE 19, RESUME 28, SHUTDOWN 33, SUSPEND 34, UNDEFINE 35,
// GET_SECURITY_LABEL 121, IS_ACTIVE 150, IS_PERSISTENT 151.
struct DomainArgs {
    NonnullDomain dom;
    static constexpr auto xdr = std::tuple{&DomainArgs::dom};
    bool operator==(const DomainArgs&) const = default;
};

// {dom, flags}: GET_XML_DESC 14, REBOOT 27, HAS_MANAGED_SAVE_IMAGE 183,
// SNAPSHOT_NUM 187, CREATE_WITH_FLAGS 196, GET_STATE 212, UNDEFINE_FLAGS 231,
// DESTROY_FLAGS 234, SHUTDOWN_FLAGS 258, GET_MESSAGES 426.
struct DomainFlagsArgs {
    NonnullDomain dom;
    std::uint32_t flags = 0;
    static constexpr auto xdr = std::tuple{&DomainFlagsArgs::dom, &DomainFlagsArgs::flags};
    bool operator==(const DomainFlagsArgs&) const = default;
};

// {dom} returned: LOOKUP_BY_ID/NAME/UUID 22-24, CREATE_XML 10, DEFINE_XML 11,
// CREATE_WITH_FLAGS 196, DEFINE_XML_FLAGS 350.
struct DomainRet {
    NonnullDomain dom;
    static constexpr auto xdr = std::tuple{&DomainRet::dom};
    bool operator==(const DomainRet&) const = default;
};

// A single int returned: GET_AUTOSTART 15 (autostart), IS_ACTIVE 150
// (active), IS_PERSISTENT 151 (persistent), HAS_MANAGED_SAVE_IMAGE 183
// (result), SNAPSHOT_NUM 187 (num).
struct IntRet {
    std::int32_t value = 0;
    static constexpr auto xdr = std::tuple{&IntRet::value};
    bool operator==(const IntRet&) const = default;
};

// A single string returned: GET_XML_DESC 14 (xml), GET_OS_TYPE 19 (type).
struct StringRet {
    std::string value;
    static constexpr auto xdr = std::tuple{&StringRet::value};
    bool operator==(const StringRet&) const = default;
};

struct DomainLookupByIdArgs {
    std::int32_t id = 0;
    static constexpr auto xdr = std::tuple{&DomainLookupByIdArgs::id};
    bool operator==(const DomainLookupByIdArgs&) const = default;
};

struct DomainLookupByNameArgs {
    std::string name;
    static constexpr auto xdr = std::tuple{&DomainLookupByNameArgs::name};
    bool operator==(const DomainLookupByNameArgs&) const = default;
};

struct DomainLookupByUuidArgs {
    Uuid uuid{};
    static constexpr auto xdr = std::tuple{&DomainLookupByUuidArgs::uuid};
    bool operator==(const DomainLookupByUuidArgs&) const = default;
};

// DOMAIN_CREATE_XML (10).
struct DomainCreateXmlArgs {
    std::string xml_desc;
    std::uint32_t flags = 0;  // flags::create_paused
    static constexpr auto xdr = std::tuple{&DomainCreateXmlArgs::xml_desc, &DomainCreateXmlArgs::flags};
    bool operator==(const DomainCreateXmlArgs&) const = default;
};

// DOMAIN_DEFINE_XML (11).
struct DomainDefineXmlArgs {
    std::string xml;
    static constexpr auto xdr = std::tuple{&DomainDefineXmlArgs::xml};
    bool operator==(const DomainDefineXmlArgs&) const = default;
};

// DOMAIN_DEFINE_XML_FLAGS (350, virsh define --validate).
struct DomainDefineXmlFlagsArgs {
    std::string xml;
    std::uint32_t flags = 0;
    static constexpr auto xdr = std::tuple{&DomainDefineXmlFlagsArgs::xml, &DomainDefineXmlFlagsArgs::flags};
    bool operator==(const DomainDefineXmlFlagsArgs&) const = default;
};

// DOMAIN_SET_AUTOSTART (29).
struct DomainSetAutostartArgs {
    NonnullDomain dom;
    std::int32_t autostart = 0;
    static constexpr auto xdr = std::tuple{&DomainSetAutostartArgs::dom, &DomainSetAutostartArgs::autostart};
    bool operator==(const DomainSetAutostartArgs&) const = default;
};

// DOMAIN_GET_INFO (16): 32 bytes; state is an unsigned char and nr_virt_cpu
// an unsigned short, each sent as 4 bytes.
struct DomainGetInfoRet {
    std::uint8_t state = 0;     // state::*
    std::uint64_t max_mem = 0;  // KiB
    std::uint64_t memory = 0;   // KiB
    std::uint16_t nr_virt_cpu = 0;
    std::uint64_t cpu_time = 0;  // ns
    static constexpr auto xdr =
        std::tuple{&DomainGetInfoRet::state, &DomainGetInfoRet::max_mem, &DomainGetInfoRet::memory,
                   &DomainGetInfoRet::nr_virt_cpu, &DomainGetInfoRet::cpu_time};
    bool operator==(const DomainGetInfoRet&) const = default;
};

// DOMAIN_GET_STATE (212).
struct DomainGetStateRet {
    std::int32_t state = 0;   // state::*
    std::int32_t reason = 0;  // reason::*
    static constexpr auto xdr = std::tuple{&DomainGetStateRet::state, &DomainGetStateRet::reason};
    bool operator==(const DomainGetStateRet&) const = default;
};

// DOMAIN_GET_SECURITY_LABEL (121).
struct DomainGetSecurityLabelRet {
    Chars<security_label_max> label;  // counts the trailing NUL
    std::int32_t enforcing = 0;
    static constexpr auto xdr = std::tuple{&DomainGetSecurityLabelRet::label, &DomainGetSecurityLabelRet::enforcing};
    bool operator==(const DomainGetSecurityLabelRet&) const = default;
};

// DOMAIN_GET_MESSAGES (426).
struct DomainGetMessagesRet {
    List<std::string, domain_messages_max> msgs;
    static constexpr auto xdr = std::tuple{&DomainGetMessagesRet::msgs};
    bool operator==(const DomainGetMessagesRet&) const = default;
};

// DOMAIN_OPEN_CONSOLE (201): void reply, then a STREAM on the call's serial.
struct DomainOpenConsoleArgs {
    NonnullDomain dom;
    std::optional<std::string> dev_name;
    std::uint32_t flags = 0;  // flags::console_force | console_safe
    static constexpr auto xdr =
        std::tuple{&DomainOpenConsoleArgs::dom, &DomainOpenConsoleArgs::dev_name, &DomainOpenConsoleArgs::flags};
    bool operator==(const DomainOpenConsoleArgs&) const = default;
};

// DOMAIN_INTERFACE_ADDRESSES (353).
struct DomainInterfaceAddressesArgs {
    NonnullDomain dom;
    std::uint32_t source = 0;  // flags::ifaddr_source_*
    std::uint32_t flags = 0;
    static constexpr auto xdr = std::tuple{&DomainInterfaceAddressesArgs::dom, &DomainInterfaceAddressesArgs::source,
                                           &DomainInterfaceAddressesArgs::flags};
    bool operator==(const DomainInterfaceAddressesArgs&) const = default;
};

struct DomainIpAddr {
    std::int32_t type = 0;  // flags::ip_addr_ipv4 / ipv6
    std::string addr;
    std::uint32_t prefix = 0;
    static constexpr auto xdr = std::tuple{&DomainIpAddr::type, &DomainIpAddr::addr, &DomainIpAddr::prefix};
    bool operator==(const DomainIpAddr&) const = default;
};

struct DomainInterface {
    std::string name;
    std::optional<std::string> hwaddr;
    List<DomainIpAddr, domain_ip_addr_max> addrs;
    static constexpr auto xdr = std::tuple{&DomainInterface::name, &DomainInterface::hwaddr, &DomainInterface::addrs};
    bool operator==(const DomainInterface&) const = default;
};

struct DomainInterfaceAddressesRet {
    List<DomainInterface, domain_interface_max> ifaces;
    static constexpr auto xdr = std::tuple{&DomainInterfaceAddressesRet::ifaces};
    bool operator==(const DomainInterfaceAddressesRet&) const = default;
};

// ---- fleet's extension: runs (docs/fleet-protocol.md) ----------------------
// Procedures numbered from 1000 in the REMOTE program: libvirt's own are
// below 500. A libvirt client never sends them; fsh does.

// Stages of one run (a pipeline): at most this many.
inline constexpr std::uint32_t run_stages_max = 16;

// FLEET_DOMAIN_RUN (1000): start one transient domain per XML at once,
// stage i's stdout joined to stage i+1's stdin by the router. The first
// stage's stdin and the last stage's stdout, and every stage's stderr,
// are the caller's, through FLEET_DOMAIN_OPEN_STDIO streams.
struct FleetDomainRunArgs {
    List<std::string, run_stages_max> xml;
    std::uint32_t flags = 0;  // none yet: must be 0
    static constexpr auto xdr = std::tuple{&FleetDomainRunArgs::xml, &FleetDomainRunArgs::flags};
    bool operator==(const FleetDomainRunArgs&) const = default;
};

struct FleetDomainRunRet {
    List<NonnullDomain, run_stages_max> doms;  // in stage order
    static constexpr auto xdr = std::tuple{&FleetDomainRunRet::doms};
    bool operator==(const FleetDomainRunRet&) const = default;
};

// FLEET_DOMAIN_OPEN_STDIO (1001): a stream on the call's serial joined to
// one of a run's stdio ends: fd 0 (the client sends, an empty packet or
// FINISH is end-of-file), 1 or 2 (the router sends, an empty packet at
// end-of-file).
struct FleetDomainOpenStdioArgs {
    NonnullDomain dom;
    std::int32_t fd = 0;
    std::uint32_t flags = 0;  // none yet: must be 0
    static constexpr auto xdr =
        std::tuple{&FleetDomainOpenStdioArgs::dom, &FleetDomainOpenStdioArgs::fd, &FleetDomainOpenStdioArgs::flags};
    bool operator==(const FleetDomainOpenStdioArgs&) const = default;
};

// FLEET_DOMAIN_EVENT_EXITED (1002): a stage of the connection's own run
// ended; status as a shell sees it (0-255, 128+N for signal N).
struct FleetDomainEventExitedMsg {
    NonnullDomain dom;
    std::int32_t status = 0;
    static constexpr auto xdr = std::tuple{&FleetDomainEventExitedMsg::dom, &FleetDomainEventExitedMsg::status};
    bool operator==(const FleetDomainEventExitedMsg&) const = default;
};

// FLEET_DOMAIN_RESIZE_TERMINAL (1004): the client's terminal is now rows x
// cols; a stage of its own run with a fleet:terminal gets that size (its
// program SIGWINCH).
struct FleetDomainResizeTerminalArgs {
    NonnullDomain dom;
    std::uint32_t rows = 0, cols = 0;  // 1..4096
    std::uint32_t flags = 0;           // none yet: must be 0
    static constexpr auto xdr = std::tuple{&FleetDomainResizeTerminalArgs::dom, &FleetDomainResizeTerminalArgs::rows,
                                           &FleetDomainResizeTerminalArgs::cols, &FleetDomainResizeTerminalArgs::flags};
    bool operator==(const FleetDomainResizeTerminalArgs&) const = default;
};

// FLEET_NET_ATTACH (1003): a tap on the router's bridge for a VM the
// caller runs itself (fleet-vmm --net): a REPLY_WITH_FDS carrying the tap
// fd; the VM joins the firewall under `name` until the tap goes (when the
// last copy of the fd closes). Only over the local read-write socket.
inline constexpr std::uint32_t net_attach_outbound = 1;  // flags: outbound access (masquerade)

struct FleetNetAttachArgs {
    std::string name;         // a VM name (vmm/spec.hpp); no domain may hold it
    std::uint32_t flags = 0;  // net_attach_outbound
    static constexpr auto xdr = std::tuple{&FleetNetAttachArgs::name, &FleetNetAttachArgs::flags};
    bool operator==(const FleetNetAttachArgs&) const = default;
};

struct FleetNetAttachRet {
    std::string tap;      // the tap's name (the fd is the reply's one fd)
    std::string mac;      // 0e:..: the guest's MAC
    std::string ipv4;     // A.B.C.D/PREFIX: its leased address
    std::string gateway;  // the bridge's address
    static constexpr auto xdr = std::tuple{&FleetNetAttachRet::tap, &FleetNetAttachRet::mac, &FleetNetAttachRet::ipv4,
                                           &FleetNetAttachRet::gateway};
    bool operator==(const FleetNetAttachRet&) const = default;
};

}  // namespace fleet::wire
