// fleet — the REMOTE procedure table (procedures.def, the one list): for
// each procedure fleet knows, its name, payload types, kind, whether it needs
// an open connection and whether it writes, at compile time (Procedure<P>,
// KnownProcedures: typed dispatch) and at run time (find_procedure,
// validate_payload: logs, the fuzzer, the router's first check of a call).
#pragma once

#include <fleet/wire/connect_messages.hpp>
#include <fleet/wire/domain_messages.hpp>
#include <fleet/wire/event_messages.hpp>
#include <fleet/wire/facts_messages.hpp>
#include <fleet/wire/packet.hpp>
#include <fleet/wire/protocol.hpp>
#include <fleet/wire/stats_messages.hpp>
#include <fleet/wire/storage_messages.hpp>
#include <fleet/wire/types.hpp>

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace fleet::wire {

enum class ProcKind {
    call,    // CALL -> REPLY
    stream,  // CALL -> REPLY, then STREAM packets on the call's serial
    event,   // MESSAGE from the server; Args is the message
};

// Whether a call is served before the client's CONNECT_OPEN.
enum class ProcConnection {
    open,  // only on an opened connection
    any,   // also before it: the handshake
};

// Whether a call changes anything: a read-only connection may not.
enum class ProcAccess { read, write };

namespace detail {
// "connect_open" -> "CONNECT_OPEN", at compile time, as a template
// argument: the result is an object with static storage.
template <std::size_t N>
struct UpperName {
    char text[N]{};
    constexpr UpperName(const char (&lower)[N])  // NOLINT: implicit, for `upper_name<"x">`
    {
        for (std::size_t i = 0; i < N; ++i)
            text[i] = lower[i] >= 'a' && lower[i] <= 'z' ? static_cast<char>(lower[i] - 'a' + 'A') : lower[i];
    }
};
template <UpperName N>
inline constexpr std::string_view upper_name{N.text, sizeof(N.text) - 1};
}  // namespace detail

template <class A, class R, ProcKind K, ProcConnection C, ProcAccess W>
struct Sig {
    using Args = A;
    using Ret = R;
    static constexpr ProcKind kind = K;
    static constexpr ProcConnection connection = C;
    static constexpr ProcAccess access = W;
};

// Procedure<P>: the row of procedures.def for P, at compile time.
template <RemoteProc P>
struct Procedure;

// Each specialisation also names it as libvirt does, without REMOTE_PROC_:
// Procedure<RemoteProc::connect_open>::name == "CONNECT_OPEN".
#define FLEET_PROCEDURE(number, id, Args, Ret, kind, connection, access, group)            \
    template <>                                                                            \
    struct Procedure<RemoteProc::id>                                                       \
        : Sig<Args, Ret, ProcKind::kind, ProcConnection::connection, ProcAccess::access> { \
        static constexpr std::string_view name = detail::upper_name<#id>;                  \
    };
#include <fleet/wire/procedures.def>

// Every procedure of the table, in number order.
inline constexpr RemoteProc known_procedures[] = {
#define FLEET_PROCEDURE(number, id, ...) RemoteProc::id,
#include <fleet/wire/procedures.def>
};

// The same list as a type, for compile-time iteration.
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

namespace detail {
template <std::size_t... I>
ProcList<known_procedures[I]...> list_of_known(std::index_sequence<I...>);
}  // namespace detail

using KnownProcedures = decltype(detail::list_of_known(std::make_index_sequence<std::size(known_procedures)>{}));

// The run-time view of one procedure.
struct ProcedureInfo {
    RemoteProc proc;
    std::string_view name;  // libvirt's, without REMOTE_PROC_: "CONNECT_OPEN"
    ProcKind kind;
    ProcConnection connection;
    ProcAccess access;
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
