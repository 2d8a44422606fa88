// fleet-router — the registry's words in libvirt's: error codes and
// libvirtd's wording, domain states and reasons, lifecycle events and
// details. The one place the router knows VIR_ERR_* (libvirt_enums.hpp).
#pragma once

#include <fleet/router/domain_error.hpp>
#include <fleet/router/registry.hpp>
#include <fleet/wire/libvirt_enums.hpp>
#include <fleet/wire/types.hpp>

#include <cstdint>
#include <string>

namespace fleet::router::libvirt {

// An error as the client will see it: a libvirt error code and domain.
struct LibvirtError {
    std::int32_t code;
    std::string message;
    std::int32_t domain = wire::errdom::qemu;
};

// privileged: the caller is an administrator, who gets an error's detail
// (domain_error.hpp) in place of its message.
LibvirtError to_libvirt(const DomainError& e, bool privileged = false);
// libvirtd's "Requested operation is not valid: domain is not running".
LibvirtError not_running();
wire::RemoteError to_remote_error(const LibvirtError& e);

// A domain as the client holds it: name, uuid, id (-1: not running).
wire::NonnullDomain ref(const Domain& d);
std::int32_t state_number(RunState s);
std::int32_t reason_number(RunState s, Reason r);

struct EventNumbers {
    std::int32_t event;
    std::int32_t detail;
};
EventNumbers event_numbers(Lifecycle e);

}  // namespace fleet::router::libvirt
