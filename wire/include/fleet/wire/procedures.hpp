// fleet — the REMOTE procedure table: for each procedure fleet knows, its
// name and payload types, at compile time (Procedure<P>::Args / ::Ret, for
// typed dispatch) and at run time (find_procedure, validate_payload, for
// logs, the fuzzer and the router's first check of a packet).
#pragma once

#include <fleet/wire/connect_messages.hpp>
#include <fleet/wire/domain_messages.hpp>
#include <fleet/wire/event_messages.hpp>
#include <fleet/wire/packet.hpp>
#include <fleet/wire/protocol.hpp>
#include <fleet/wire/types.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

namespace fleet::wire {

enum class ProcKind {
    call,    // CALL -> REPLY
    stream,  // CALL -> REPLY, then STREAM packets on the call's serial
    event,   // MESSAGE from the server; Args is the message
};

template <class A, class R, ProcKind K = ProcKind::call>
struct Sig {
    using Args = A;
    using Ret = R;
    static constexpr ProcKind kind = K;
};

template <class M>
using EventSig = Sig<M, Void, ProcKind::event>;

template <RemoteProc P>
struct Procedure;

// clang-format off
template <> struct Procedure<RemoteProc::connect_open> : Sig<ConnectOpenArgs, Void> {};
template <> struct Procedure<RemoteProc::connect_close> : Sig<Void, Void> {};
template <> struct Procedure<RemoteProc::connect_get_type> : Sig<Void, ConnectGetTypeRet> {};
template <> struct Procedure<RemoteProc::connect_get_version> : Sig<Void, ConnectGetVersionRet> {};
template <> struct Procedure<RemoteProc::node_get_info> : Sig<Void, NodeGetInfoRet> {};
template <> struct Procedure<RemoteProc::connect_get_capabilities> : Sig<Void, ConnectGetCapabilitiesRet> {};
template <> struct Procedure<RemoteProc::domain_create> : Sig<DomainArgs, Void> {};
template <> struct Procedure<RemoteProc::domain_create_xml> : Sig<DomainCreateXmlArgs, DomainRet> {};
template <> struct Procedure<RemoteProc::domain_define_xml> : Sig<DomainDefineXmlArgs, DomainRet> {};
template <> struct Procedure<RemoteProc::domain_destroy> : Sig<DomainArgs, Void> {};
template <> struct Procedure<RemoteProc::domain_get_xml_desc> : Sig<DomainFlagsArgs, StringRet> {};
template <> struct Procedure<RemoteProc::domain_get_autostart> : Sig<DomainArgs, IntRet> {};
template <> struct Procedure<RemoteProc::domain_get_info> : Sig<DomainArgs, DomainGetInfoRet> {};
template <> struct Procedure<RemoteProc::domain_get_os_type> : Sig<DomainArgs, StringRet> {};
template <> struct Procedure<RemoteProc::connect_list_defined_domains> : Sig<ConnectListDefinedDomainsArgs, ConnectListDefinedDomainsRet> {};
template <> struct Procedure<RemoteProc::domain_lookup_by_id> : Sig<DomainLookupByIdArgs, DomainRet> {};
template <> struct Procedure<RemoteProc::domain_lookup_by_name> : Sig<DomainLookupByNameArgs, DomainRet> {};
template <> struct Procedure<RemoteProc::domain_lookup_by_uuid> : Sig<DomainLookupByUuidArgs, DomainRet> {};
template <> struct Procedure<RemoteProc::connect_num_of_defined_domains> : Sig<Void, ConnectNumOfDefinedDomainsRet> {};
template <> struct Procedure<RemoteProc::domain_reboot> : Sig<DomainFlagsArgs, Void> {};
template <> struct Procedure<RemoteProc::domain_resume> : Sig<DomainArgs, Void> {};
template <> struct Procedure<RemoteProc::domain_set_autostart> : Sig<DomainSetAutostartArgs, Void> {};
template <> struct Procedure<RemoteProc::domain_shutdown> : Sig<DomainArgs, Void> {};
template <> struct Procedure<RemoteProc::domain_suspend> : Sig<DomainArgs, Void> {};
template <> struct Procedure<RemoteProc::domain_undefine> : Sig<DomainArgs, Void> {};
template <> struct Procedure<RemoteProc::connect_list_domains> : Sig<ConnectListDomainsArgs, ConnectListDomainsRet> {};
template <> struct Procedure<RemoteProc::connect_num_of_domains> : Sig<Void, ConnectNumOfDomainsRet> {};
template <> struct Procedure<RemoteProc::connect_get_hostname> : Sig<Void, ConnectGetHostnameRet> {};
template <> struct Procedure<RemoteProc::connect_supports_feature> : Sig<ConnectSupportsFeatureArgs, ConnectSupportsFeatureRet> {};
template <> struct Procedure<RemoteProc::auth_list> : Sig<Void, AuthListRet> {};
template <> struct Procedure<RemoteProc::domain_event_lifecycle> : EventSig<DomainEventLifecycleMsg> {};
template <> struct Procedure<RemoteProc::connect_get_uri> : Sig<Void, ConnectGetUriRet> {};
template <> struct Procedure<RemoteProc::domain_get_security_label> : Sig<DomainArgs, DomainGetSecurityLabelRet> {};
template <> struct Procedure<RemoteProc::node_get_security_model> : Sig<Void, NodeGetSecurityModelRet> {};
template <> struct Procedure<RemoteProc::domain_is_active> : Sig<DomainArgs, IntRet> {};
template <> struct Procedure<RemoteProc::domain_is_persistent> : Sig<DomainArgs, IntRet> {};
template <> struct Procedure<RemoteProc::connect_get_lib_version> : Sig<Void, ConnectGetLibVersionRet> {};
template <> struct Procedure<RemoteProc::connect_domain_event_register_any> : Sig<ConnectDomainEventRegisterAnyArgs, Void> {};
template <> struct Procedure<RemoteProc::connect_domain_event_deregister_any> : Sig<ConnectDomainEventDeregisterAnyArgs, Void> {};
template <> struct Procedure<RemoteProc::domain_has_managed_save_image> : Sig<DomainFlagsArgs, IntRet> {};
template <> struct Procedure<RemoteProc::domain_snapshot_num> : Sig<DomainFlagsArgs, IntRet> {};
template <> struct Procedure<RemoteProc::domain_create_with_flags> : Sig<DomainFlagsArgs, DomainRet> {};
template <> struct Procedure<RemoteProc::domain_open_console> : Sig<DomainOpenConsoleArgs, Void, ProcKind::stream> {};
template <> struct Procedure<RemoteProc::domain_get_state> : Sig<DomainFlagsArgs, DomainGetStateRet> {};
template <> struct Procedure<RemoteProc::domain_undefine_flags> : Sig<DomainFlagsArgs, Void> {};
template <> struct Procedure<RemoteProc::domain_destroy_flags> : Sig<DomainFlagsArgs, Void> {};
template <> struct Procedure<RemoteProc::domain_shutdown_flags> : Sig<DomainFlagsArgs, Void> {};
template <> struct Procedure<RemoteProc::connect_list_all_domains> : Sig<ConnectListAllDomainsArgs, ConnectListAllDomainsRet> {};
template <> struct Procedure<RemoteProc::connect_domain_event_callback_register_any> : Sig<ConnectDomainEventCallbackRegisterAnyArgs, ConnectDomainEventCallbackRegisterAnyRet> {};
template <> struct Procedure<RemoteProc::connect_domain_event_callback_deregister_any> : Sig<ConnectDomainEventCallbackDeregisterAnyArgs, Void> {};
template <> struct Procedure<RemoteProc::domain_event_callback_lifecycle> : EventSig<DomainEventCallbackLifecycleMsg> {};
template <> struct Procedure<RemoteProc::domain_define_xml_flags> : Sig<DomainDefineXmlFlagsArgs, DomainRet> {};
template <> struct Procedure<RemoteProc::domain_interface_addresses> : Sig<DomainInterfaceAddressesArgs, DomainInterfaceAddressesRet> {};
template <> struct Procedure<RemoteProc::connect_register_close_callback> : Sig<Void, Void> {};
template <> struct Procedure<RemoteProc::connect_unregister_close_callback> : Sig<Void, Void> {};
template <> struct Procedure<RemoteProc::connect_event_connection_closed> : EventSig<ConnectEventConnectionClosedMsg> {};
template <> struct Procedure<RemoteProc::domain_get_messages> : Sig<DomainFlagsArgs, DomainGetMessagesRet> {};
// clang-format on

// Every procedure above, in number order, for compile-time iteration (the
// run-time table in procedures.cpp is checked against it).
template <RemoteProc... Ps>
struct ProcList {
    static constexpr std::size_t size = sizeof...(Ps);
    // f(std::integral_constant<RemoteProc, P>{}) for each P, in order.
    template <class F>
    static void for_each(F&& f)
    {
        (f(std::integral_constant<RemoteProc, Ps>{}), ...);
    }
};

// clang-format off
using KnownProcedures = ProcList<
    RemoteProc::connect_open,
    RemoteProc::connect_close,
    RemoteProc::connect_get_type,
    RemoteProc::connect_get_version,
    RemoteProc::node_get_info,
    RemoteProc::connect_get_capabilities,
    RemoteProc::domain_create,
    RemoteProc::domain_create_xml,
    RemoteProc::domain_define_xml,
    RemoteProc::domain_destroy,
    RemoteProc::domain_get_xml_desc,
    RemoteProc::domain_get_autostart,
    RemoteProc::domain_get_info,
    RemoteProc::domain_get_os_type,
    RemoteProc::connect_list_defined_domains,
    RemoteProc::domain_lookup_by_id,
    RemoteProc::domain_lookup_by_name,
    RemoteProc::domain_lookup_by_uuid,
    RemoteProc::connect_num_of_defined_domains,
    RemoteProc::domain_reboot,
    RemoteProc::domain_resume,
    RemoteProc::domain_set_autostart,
    RemoteProc::domain_shutdown,
    RemoteProc::domain_suspend,
    RemoteProc::domain_undefine,
    RemoteProc::connect_list_domains,
    RemoteProc::connect_num_of_domains,
    RemoteProc::connect_get_hostname,
    RemoteProc::connect_supports_feature,
    RemoteProc::auth_list,
    RemoteProc::domain_event_lifecycle,
    RemoteProc::connect_get_uri,
    RemoteProc::domain_get_security_label,
    RemoteProc::node_get_security_model,
    RemoteProc::domain_is_active,
    RemoteProc::domain_is_persistent,
    RemoteProc::connect_get_lib_version,
    RemoteProc::connect_domain_event_register_any,
    RemoteProc::connect_domain_event_deregister_any,
    RemoteProc::domain_has_managed_save_image,
    RemoteProc::domain_snapshot_num,
    RemoteProc::domain_create_with_flags,
    RemoteProc::domain_open_console,
    RemoteProc::domain_get_state,
    RemoteProc::domain_undefine_flags,
    RemoteProc::domain_destroy_flags,
    RemoteProc::domain_shutdown_flags,
    RemoteProc::connect_list_all_domains,
    RemoteProc::connect_domain_event_callback_register_any,
    RemoteProc::connect_domain_event_callback_deregister_any,
    RemoteProc::domain_event_callback_lifecycle,
    RemoteProc::domain_define_xml_flags,
    RemoteProc::domain_interface_addresses,
    RemoteProc::connect_register_close_callback,
    RemoteProc::connect_unregister_close_callback,
    RemoteProc::connect_event_connection_closed,
    RemoteProc::domain_get_messages>;
// clang-format on

// The run-time view of one procedure.
struct ProcedureInfo {
    RemoteProc proc;
    std::string_view name;  // libvirt's, without REMOTE_PROC_: "CONNECT_OPEN"
    ProcKind kind;
    // Decode a payload as Args (a call's arguments or an event's message) or
    // as Ret, requiring every byte to be used.
    Result<> (*check_args)(std::string_view payload);
    Result<> (*check_ret)(std::string_view payload);
};

// Every procedure above, in number order.
std::span<const ProcedureInfo> remote_procedures();
// nullptr for a procedure fleet does not know.
const ProcedureInfo* find_procedure(std::int32_t proc);
// "CONNECT_OPEN", "KEEPALIVE.PING", or "REMOTE.999" / "0x12345678.3".
std::string procedure_name(std::uint32_t prog, std::int32_t proc);

// Is this payload what the header says it should be? Decodes it with the
// typed decoder for (prog, proc, type, status): a call's args, a reply's ret
// or remote_error, an event's message; STREAM data is raw and is not looked
// into. An unknown program or procedure is an error too.
Result<> validate_payload(const Header& h, std::string_view payload);

}  // namespace fleet::wire
