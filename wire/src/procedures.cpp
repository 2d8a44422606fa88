// fleet — the run-time procedure table and payload validation
// (procedures.hpp).
#include <fleet/wire/procedures.hpp>

#include <algorithm>
#include <array>
#include <cstdio>

namespace fleet::wire {

namespace {

template <class T>
Result<> check(std::string_view payload)
{
    auto v = decode_payload<T>(payload);
    if (!v) return std::unexpected(v.error());
    return {};
}

template <RemoteProc P>
constexpr ProcedureInfo row(std::string_view name)
{
    using Sig = Procedure<P>;
    return ProcedureInfo{P, name, Sig::kind, &check<typename Sig::Args>, &check<typename Sig::Ret>};
}

using P = RemoteProc;

// clang-format off
constexpr std::array table{
    row<P::connect_open>("CONNECT_OPEN"),
    row<P::connect_close>("CONNECT_CLOSE"),
    row<P::connect_get_type>("CONNECT_GET_TYPE"),
    row<P::connect_get_version>("CONNECT_GET_VERSION"),
    row<P::node_get_info>("NODE_GET_INFO"),
    row<P::connect_get_capabilities>("CONNECT_GET_CAPABILITIES"),
    row<P::domain_create>("DOMAIN_CREATE"),
    row<P::domain_create_xml>("DOMAIN_CREATE_XML"),
    row<P::domain_define_xml>("DOMAIN_DEFINE_XML"),
    row<P::domain_destroy>("DOMAIN_DESTROY"),
    row<P::domain_get_xml_desc>("DOMAIN_GET_XML_DESC"),
    row<P::domain_get_autostart>("DOMAIN_GET_AUTOSTART"),
    row<P::domain_get_info>("DOMAIN_GET_INFO"),
    row<P::domain_get_os_type>("DOMAIN_GET_OS_TYPE"),
    row<P::connect_list_defined_domains>("CONNECT_LIST_DEFINED_DOMAINS"),
    row<P::domain_lookup_by_id>("DOMAIN_LOOKUP_BY_ID"),
    row<P::domain_lookup_by_name>("DOMAIN_LOOKUP_BY_NAME"),
    row<P::domain_lookup_by_uuid>("DOMAIN_LOOKUP_BY_UUID"),
    row<P::connect_num_of_defined_domains>("CONNECT_NUM_OF_DEFINED_DOMAINS"),
    row<P::domain_reboot>("DOMAIN_REBOOT"),
    row<P::domain_resume>("DOMAIN_RESUME"),
    row<P::domain_set_autostart>("DOMAIN_SET_AUTOSTART"),
    row<P::domain_shutdown>("DOMAIN_SHUTDOWN"),
    row<P::domain_suspend>("DOMAIN_SUSPEND"),
    row<P::domain_undefine>("DOMAIN_UNDEFINE"),
    row<P::connect_list_domains>("CONNECT_LIST_DOMAINS"),
    row<P::connect_num_of_domains>("CONNECT_NUM_OF_DOMAINS"),
    row<P::connect_get_hostname>("CONNECT_GET_HOSTNAME"),
    row<P::connect_supports_feature>("CONNECT_SUPPORTS_FEATURE"),
    row<P::auth_list>("AUTH_LIST"),
    row<P::domain_event_lifecycle>("DOMAIN_EVENT_LIFECYCLE"),
    row<P::connect_get_uri>("CONNECT_GET_URI"),
    row<P::domain_get_security_label>("DOMAIN_GET_SECURITY_LABEL"),
    row<P::node_get_security_model>("NODE_GET_SECURITY_MODEL"),
    row<P::domain_is_active>("DOMAIN_IS_ACTIVE"),
    row<P::domain_is_persistent>("DOMAIN_IS_PERSISTENT"),
    row<P::connect_get_lib_version>("CONNECT_GET_LIB_VERSION"),
    row<P::connect_domain_event_register_any>("CONNECT_DOMAIN_EVENT_REGISTER_ANY"),
    row<P::connect_domain_event_deregister_any>("CONNECT_DOMAIN_EVENT_DEREGISTER_ANY"),
    row<P::domain_has_managed_save_image>("DOMAIN_HAS_MANAGED_SAVE_IMAGE"),
    row<P::domain_snapshot_num>("DOMAIN_SNAPSHOT_NUM"),
    row<P::domain_create_with_flags>("DOMAIN_CREATE_WITH_FLAGS"),
    row<P::domain_open_console>("DOMAIN_OPEN_CONSOLE"),
    row<P::domain_get_state>("DOMAIN_GET_STATE"),
    row<P::domain_undefine_flags>("DOMAIN_UNDEFINE_FLAGS"),
    row<P::domain_destroy_flags>("DOMAIN_DESTROY_FLAGS"),
    row<P::domain_shutdown_flags>("DOMAIN_SHUTDOWN_FLAGS"),
    row<P::connect_list_all_domains>("CONNECT_LIST_ALL_DOMAINS"),
    row<P::connect_domain_event_callback_register_any>("CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY"),
    row<P::connect_domain_event_callback_deregister_any>("CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY"),
    row<P::domain_event_callback_lifecycle>("DOMAIN_EVENT_CALLBACK_LIFECYCLE"),
    row<P::domain_define_xml_flags>("DOMAIN_DEFINE_XML_FLAGS"),
    row<P::domain_interface_addresses>("DOMAIN_INTERFACE_ADDRESSES"),
    row<P::connect_register_close_callback>("CONNECT_REGISTER_CLOSE_CALLBACK"),
    row<P::connect_unregister_close_callback>("CONNECT_UNREGISTER_CLOSE_CALLBACK"),
    row<P::connect_event_connection_closed>("CONNECT_EVENT_CONNECTION_CLOSED"),
    row<P::domain_get_messages>("DOMAIN_GET_MESSAGES"),
};
// clang-format on

constexpr bool sorted_and_unique()
{
    for (std::size_t i = 1; i < table.size(); ++i) {
        if (to_int(table[i - 1].proc) >= to_int(table[i].proc)) return false;
    }
    return true;
}
static_assert(sorted_and_unique(), "keep the procedure table in number order, each procedure once");

template <RemoteProc... Ps>
constexpr bool matches(ProcList<Ps...>)
{
    constexpr std::array<RemoteProc, sizeof...(Ps)> listed{Ps...};
    if (listed.size() != table.size()) return false;
    for (std::size_t i = 0; i < listed.size(); ++i) {
        if (listed[i] != table[i].proc) return false;
    }
    return true;
}
static_assert(matches(KnownProcedures{}), "the table must list exactly the procedures of KnownProcedures");

Result<> expect_empty(std::string_view payload, std::string_view what)
{
    if (!payload.empty()) {
        return fail(std::string(what) + " carries " + std::to_string(payload.size()) + " unexpected bytes");
    }
    return {};
}

Result<> validate_keepalive(const Header& h, std::string_view payload)
{
    if (h.proc != to_int(KeepaliveProc::ping) && h.proc != to_int(KeepaliveProc::pong)) {
        return fail("unknown keepalive procedure " + std::to_string(h.proc));
    }
    if (h.type != MessageType::message) return fail("keepalive packet of type " + to_string(h.type));
    return expect_empty(payload, "a keepalive packet");
}

Result<> validate_stream(const ProcedureInfo& p, const Header& h, std::string_view payload)
{
    if (p.kind != ProcKind::stream) return fail(std::string(p.name) + " opens no stream");
    switch (h.status) {
        case Status::continue_:
            return {};  // raw data
        case Status::ok:
            return expect_empty(payload, "a stream's finishing packet");
        case Status::error:
            return check<RemoteError>(payload);
    }
    return fail("stream packet with status " + to_string(h.status));
}

}  // namespace

std::span<const ProcedureInfo> remote_procedures()
{
    return table;
}

const ProcedureInfo* find_procedure(std::int32_t proc)
{
    auto it = std::lower_bound(table.begin(), table.end(), proc,
                               [](const ProcedureInfo& p, std::int32_t n) { return to_int(p.proc) < n; });
    if (it == table.end() || to_int(it->proc) != proc) return nullptr;
    return &*it;
}

std::string procedure_name(std::uint32_t prog, std::int32_t proc)
{
    if (prog == keepalive_program) {
        if (proc == to_int(KeepaliveProc::ping)) return "KEEPALIVE.PING";
        if (proc == to_int(KeepaliveProc::pong)) return "KEEPALIVE.PONG";
        return "KEEPALIVE." + std::to_string(proc);
    }
    if (prog == remote_program) {
        if (const ProcedureInfo* p = find_procedure(proc)) return std::string(p->name);
        return "REMOTE." + std::to_string(proc);
    }
    char hex[16];
    std::snprintf(hex, sizeof hex, "0x%08x", prog);
    return std::string(hex) + "." + std::to_string(proc);
}

Result<> validate_payload(const Header& h, std::string_view payload)
{
    if (h.prog == keepalive_program) return validate_keepalive(h, payload);
    if (h.prog != remote_program) return fail("unknown program " + procedure_name(h.prog, h.proc));
    const ProcedureInfo* p = find_procedure(h.proc);
    if (p == nullptr) return fail("unknown procedure: " + std::to_string(h.proc));
    switch (h.type) {
        case MessageType::call:
            if (p->kind == ProcKind::event) return fail(std::string(p->name) + " is an event, not a call");
            return p->check_args(payload);
        case MessageType::reply:
            if (p->kind == ProcKind::event) return fail(std::string(p->name) + " is an event, not a call");
            if (h.status == Status::ok) return p->check_ret(payload);
            if (h.status == Status::error) return check<RemoteError>(payload);
            return fail("reply with status " + to_string(h.status));
        case MessageType::message:
            if (p->kind != ProcKind::event) return fail(std::string(p->name) + " is not an event");
            return p->check_args(payload);
        case MessageType::stream:
            return validate_stream(*p, h, payload);
        default:
            return fail("message type " + to_string(h.type) + " is not supported");
    }
}

}  // namespace fleet::wire
