// fleet-router — one handler table from the groups' entries (dispatch.hpp).
#include "dispatch.hpp"

#include <algorithm>
#include <array>
#include <iterator>

namespace fleet::router::libvirt {

namespace {

using wire::ProcKind;

// The table's own consistency, row by row: an event has no handler (group
// none), and nothing else is in group none.
#define FLEET_PROCEDURE(number, id, Args, Ret, kind, connection, access, group)                            \
    static_assert((ProcKind::kind == ProcKind::event) == (Group::group == Group::none),                    \
                  "procedures.def: " #id ": an event's group is none, and only an event's");               \
    static_assert(ProcKind::kind != ProcKind::event || wire::ProcAccess::access == wire::ProcAccess::read, \
                  "procedures.def: " #id ": an event is not a write");
#include <fleet/wire/procedures.def>

constexpr std::int32_t max_proc =
    to_int(*std::max_element(std::begin(wire::known_procedures), std::end(wire::known_procedures),
                             [](auto a, auto b) { return to_int(a) < to_int(b); }));

using Table = std::array<Invoke, max_proc + 1>;

Table build()
{
    Table t{};
    for (auto group : {entries<Group::connection>(), entries<Group::domains>(), entries<Group::queries>(),
                       entries<Group::events>(), entries<Group::storage>(), entries<Group::facts>(),
                       entries<Group::stats>(), entries<Group::networks>(), entries<Group::runs>()})
        for (const Entry& e : group) t[static_cast<std::size_t>(to_int(e.proc))] = e.invoke;
    return t;
}

}  // namespace

Invoke handler_for(std::int32_t proc)
{
    static const Table table = build();
    if (proc < 0 || proc > max_proc) return nullptr;
    return table[static_cast<std::size_t>(proc)];
}

LibvirtError malformed(const Error& e)
{
    return {wire::err::rpc, "malformed arguments: " + e.what(), wire::errdom::rpc};
}

}  // namespace fleet::router::libvirt
