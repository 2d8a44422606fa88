// fleet-router — the registry's words in libvirt's (mapping.hpp).
#include "mapping.hpp"

#include <fleet/wire/message.hpp>

namespace fleet::router::libvirt {

namespace err = wire::err;

LibvirtError to_libvirt(const DomainError& e, bool privileged)
{
    if (privileged && !e.detail.empty()) return to_libvirt(DomainError{e.code, e.detail}, false);
    switch (e.code) {
        case Errc::not_found:
            return {err::no_domain, "Domain not found: " + e.message};
        case Errc::exists:
            return {err::dom_exist, e.message};
        case Errc::invalid_state:
            return {err::operation_invalid, "Requested operation is not valid: " + e.message};
        case Errc::bad_definition:
            return {err::xml_error, e.message};
        case Errc::unsupported_config:
            return {err::config_unsupported, "unsupported configuration: " + e.message};
        case Errc::invalid_argument:
            return {err::invalid_arg, e.message};
        case Errc::unsupported:
            return {err::operation_unsupported, e.message};
        case Errc::failed:
            return {err::operation_failed, e.message};
        case Errc::denied:
            return {err::operation_denied, "operation forbidden: " + e.message};
        case Errc::limit:
            return {err::operation_failed, "operation failed: " + e.message};
    }
    return {err::internal_error, e.message};
}

LibvirtError not_running()
{
    return to_libvirt(DomainError{Errc::invalid_state, "domain is not running"});
}

wire::RemoteError to_remote_error(const LibvirtError& e)
{
    return wire::make_error(e.code, e.domain, e.message);
}

wire::NonnullDomain ref(const Domain& d)
{
    return wire::NonnullDomain{d.def.name, d.def.uuid, d.id};
}

std::int32_t state_number(RunState s)
{
    switch (s) {
        case RunState::running:
            return wire::state::running;
        case RunState::paused:
            return wire::state::paused;
        case RunState::shutoff:
            return wire::state::shutoff;
    }
    return wire::state::nostate;
}

std::int32_t reason_number(RunState s, Reason r)
{
    namespace reason = wire::reason;
    switch (r) {
        case Reason::unknown:
            return reason::unknown;
        case Reason::booted:
            return reason::running_booted;
        case Reason::unpaused:
            return reason::running_unpaused;
        case Reason::user:
            return s == RunState::paused ? reason::paused_user : reason::unknown;
        case Reason::shutdown:
            return reason::shutoff_shutdown;
        case Reason::destroyed:
            return reason::shutoff_destroyed;
        case Reason::crashed:
            return reason::shutoff_crashed;
        case Reason::failed:
            return reason::shutoff_failed;
    }
    return reason::unknown;
}

EventNumbers event_numbers(Lifecycle e)
{
    namespace ev = wire::event;
    namespace detail = wire::detail;
    switch (e) {
        case Lifecycle::defined_added:
            return {ev::defined, detail::defined_added};
        case Lifecycle::defined_updated:
            return {ev::defined, detail::defined_updated};
        case Lifecycle::undefined:
            return {ev::undefined, detail::undefined_removed};
        case Lifecycle::started:
            return {ev::started, detail::started_booted};
        case Lifecycle::suspended:
            return {ev::suspended, detail::suspended_paused};
        case Lifecycle::resumed:
            return {ev::resumed, detail::resumed_unpaused};
        case Lifecycle::stopped_shutdown:
            return {ev::stopped, detail::stopped_shutdown};
        case Lifecycle::stopped_destroyed:
            return {ev::stopped, detail::stopped_destroyed};
        case Lifecycle::stopped_crashed:
            return {ev::stopped, detail::stopped_crashed};
        case Lifecycle::stopped_failed:
            return {ev::stopped, detail::stopped_failed};
    }
    return {ev::defined, detail::defined_added};
}

}  // namespace fleet::router::libvirt
