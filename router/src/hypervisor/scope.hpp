// fleet-router — private: what a guest may ask over its hypervisor channel
// (docs/hypervisor.md). The transport, the session and the dispatch are the
// ones every client has; a call from a guest principal passes through here
// first, after libvirtd's own checks (program, open connection):
//   - only the procedures of a VM that manages its own children; any other
//     is VIR_ERR_OPERATION_DENIED (29);
//   - a domain it names must be one it created, else "domain not found"
//     (as for a domain that does not exist: nothing is revealed);
//   - lists count its children only;
//   - a create names a catalog image and no host path, fits the channel's
//     quotas, and its name is made the parent's ("PARENT.NAME").
#pragma once

#include "libvirt/dispatch.hpp"

#include <fleet/router/domain.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace fleet::router::hypervisor {

// Serve a guest's call: refused, scoped, or handed to `handler` (the
// procedure's own, maybe with rewritten arguments).
void serve_scoped(const libvirt::Call& call, std::int32_t proc, std::string_view payload, libvirt::Invoke handler);

// What a channel's domains use of its quota (pure, for tests).
struct Usage {
    unsigned children = 0;
    std::uint64_t memory_mib = 0;
};
// A child's cost: itself, and the quota granted to its own channel.
Usage cost_of(const DomainDef& child, std::uint64_t memory_mib);
// Why `child` may not be made under `quota` with `used` spent ("" if it may):
// no host path, a catalog image, within children, memory and depth.
std::string refuse_child(const DomainDef& child, const HypervisorQuota& quota, Usage used,
                         std::uint64_t child_memory_mib);

}  // namespace fleet::router::hypervisor
