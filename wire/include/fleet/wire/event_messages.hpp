// fleet — payloads of event registration and of the events themselves
// (MESSAGE packets): lifecycle, old and callback style, and connection
// closed.
#pragma once

#include <fleet/wire/codec.hpp>
#include <fleet/wire/types.hpp>

#include <cstdint>
#include <optional>
#include <tuple>

namespace fleet::wire {

// CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY (316): dom NULL = all domains.
struct ConnectDomainEventCallbackRegisterAnyArgs {
    std::int32_t event_id = 0;  // event_id::*
    std::optional<NonnullDomain> dom;
    static constexpr auto xdr = std::tuple{&ConnectDomainEventCallbackRegisterAnyArgs::event_id,
                                           &ConnectDomainEventCallbackRegisterAnyArgs::dom};
    bool operator==(const ConnectDomainEventCallbackRegisterAnyArgs&) const = default;
};

// ... returns the callback id the server chose.
struct ConnectDomainEventCallbackRegisterAnyRet {
    std::int32_t callback_id = 0;
    static constexpr auto xdr = std::tuple{&ConnectDomainEventCallbackRegisterAnyRet::callback_id};
    bool operator==(const ConnectDomainEventCallbackRegisterAnyRet&) const = default;
};

// CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY (317).
struct ConnectDomainEventCallbackDeregisterAnyArgs {
    std::int32_t callback_id = 0;
    static constexpr auto xdr = std::tuple{&ConnectDomainEventCallbackDeregisterAnyArgs::callback_id};
    bool operator==(const ConnectDomainEventCallbackDeregisterAnyArgs&) const = default;
};

// CONNECT_DOMAIN_EVENT_REGISTER_ANY (167) and _DEREGISTER_ANY (168): the
// old form, used by clients that get 0 for feature 14 (one registration per
// event id, no callback id).
struct ConnectDomainEventRegisterAnyArgs {
    std::int32_t event_id = 0;
    static constexpr auto xdr = std::tuple{&ConnectDomainEventRegisterAnyArgs::event_id};
    bool operator==(const ConnectDomainEventRegisterAnyArgs&) const = default;
};
using ConnectDomainEventDeregisterAnyArgs = ConnectDomainEventRegisterAnyArgs;

// DOMAIN_EVENT_LIFECYCLE (107), old style: {dom, event, detail}.
struct DomainEventLifecycleMsg {
    NonnullDomain dom;
    std::int32_t event = 0;   // event::*
    std::int32_t detail = 0;  // detail::*
    static constexpr auto xdr =
        std::tuple{&DomainEventLifecycleMsg::dom, &DomainEventLifecycleMsg::event, &DomainEventLifecycleMsg::detail};
    bool operator==(const DomainEventLifecycleMsg&) const = default;
};

// DOMAIN_EVENT_CALLBACK_LIFECYCLE (318): the callback id, then the old
// message.
struct DomainEventCallbackLifecycleMsg {
    std::int32_t callback_id = 0;
    DomainEventLifecycleMsg msg;
    static constexpr auto xdr =
        std::tuple{&DomainEventCallbackLifecycleMsg::callback_id, &DomainEventCallbackLifecycleMsg::msg};
    bool operator==(const DomainEventCallbackLifecycleMsg&) const = default;
};

// CONNECT_EVENT_CONNECTION_CLOSED (362).
struct ConnectEventConnectionClosedMsg {
    std::int32_t reason = 0;  // close_reason::*
    static constexpr auto xdr = std::tuple{&ConnectEventConnectionClosedMsg::reason};
    bool operator==(const ConnectEventConnectionClosedMsg&) const = default;
};

}  // namespace fleet::wire
