// fleet-router — the typed dispatch, generated from wire/procedures.def.
//
// Every row names its group (the last column). Each group's file
// (connection_procs.cpp, domain_procs.cpp, query_procs.cpp,
// event_procs.cpp) defines one function per row of its group, named like
// the row and taking the decoded arguments:
//
//     void domain_get_state(const Call& call, const wire::DomainFlagsArgs& a);
//
// and ends with FLEET_SERVE_GROUP(group), which expands the table, keeps
// that group's rows and takes each row's function. A row whose function
// is missing (or has other argument types) stops the build there, with a
// message naming the row: a procedure in the table either has a handler
// or is marked `unsupported`.
#pragma once

#include "call.hpp"

#include <fleet/wire/procedures.hpp>

#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace fleet::router::libvirt {

enum class Group { connection, domains, queries, events, storage, facts, stats, networks, runs, unsupported, none };

// A handler with its arguments not yet decoded.
using Invoke = void (*)(const Call& call, std::string_view payload);

struct Entry {
    wire::RemoteProc proc;
    Invoke invoke;
};

// Each group's entries (defined by FLEET_SERVE_GROUP in its file).
template <Group G>
std::span<const Entry> entries();

// The handler of a procedure number; nullptr for one fleet does not serve
// (not in the table, an event, or marked unsupported).
Invoke handler_for(std::int32_t proc);

// Whether a domain passes virConnectListAllDomains' filter flags (also the
// low bits of virConnectGetAllDomainStats' flags); query_procs.cpp.
bool list_keeps(const DomainRegistry& registry, const Domain& d, std::uint32_t flags);

// Why this connection may not open one more stream (its limit, or a
// stream on the call's serial already); nullopt: it may (event_procs.cpp).
std::optional<LibvirtError> stream_refusal(const Call& call);
// A stage of a run of this client ended (run_procs.cpp).
void run_ended(Connection& c, const Domain& d);
// The client's session ends (it went, or a hypervisor channel's program
// closed it): what still runs of its runs is destroyed (run_procs.cpp).
void end_runs(Connection& c, DomainRegistry& registry);

// Malformed arguments: libvirtd's RPC error.
LibvirtError malformed(const Error& e);

template <class Args, class F>
void decoded(const Call& call, std::string_view payload, F handler)
{
    auto args = wire::decode_payload<Args>(payload);
    if (!args) return call.fail(malformed(args.error()));
    handler(call, *args);
}

// T, as a type that depends on G: keeps a row's check until G is known.
template <class T, Group G>
struct Dependent {
    using type = T;
};

// The rows of group G. The handler is found by argument-dependent lookup
// in this namespace (where Call lives) at the point of instantiation, the
// end of the group's file: handlers are plain functions at namespace scope.
template <Group G>
std::vector<Entry> collect()
{
    std::vector<Entry> out;
#define FLEET_PROCEDURE(number, id, Args, Ret, kind, connection, access, group)                                     \
    if constexpr (Group::group == G) {                                                                              \
        static_assert(                                                                                              \
            requires(const Call& c, const typename Dependent<wire::Args, G>::type& a) { id(c, a); },                \
            "procedures.def: " #id " (group " #group ") has no handler: define void " #id                           \
            "(const Call&, const wire::" #Args "&) in the group's file, or mark the row unsupported");              \
        out.push_back(Entry{wire::RemoteProc::id, [](const Call& call, std::string_view payload) {                  \
                                decoded<wire::Args>(call, payload, [](const Call& c, const auto& a) { id(c, a); }); \
                            }});                                                                                    \
    }
#include <fleet/wire/procedures.def>
    return out;
}

#define FLEET_SERVE_GROUP(G)                                         \
    template <>                                                      \
    std::span<const Entry> entries<Group::G>()                       \
    {                                                                \
        static const std::vector<Entry> table = collect<Group::G>(); \
        return table;                                                \
    }

}  // namespace fleet::router::libvirt
