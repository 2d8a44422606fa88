// fleet — the run-time procedure table (generated from procedures.def) and
// payload validation (procedures.hpp).
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
constexpr ProcedureInfo row()
{
    using Sig = Procedure<P>;
    return ProcedureInfo{
        P, Sig::name, Sig::kind, Sig::connection, Sig::access, &check<typename Sig::Args>, &check<typename Sig::Ret>};
}

constexpr std::array table{
#define FLEET_PROCEDURE(number, id, ...) row<RemoteProc::id>(),
#include <fleet/wire/procedures.def>
};

constexpr bool sorted_and_unique()
{
    for (std::size_t i = 1; i < table.size(); ++i) {
        if (to_int(table[i - 1].proc) >= to_int(table[i].proc)) return false;
    }
    return true;
}
static_assert(sorted_and_unique(), "keep procedures.def in number order, each procedure once");

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
        case MessageType::reply_with_fds: {
            // libvirt's format: the count of fds that follow the packet,
            // then the return payload. Errors come as plain REPLYs.
            if (p->kind != ProcKind::call) return fail(std::string(p->name) + " is not a call");
            if (h.status != Status::ok) return fail("reply with fds and status " + to_string(h.status));
            auto nfds = decode_payload<std::uint32_t>(payload.substr(0, std::min<std::size_t>(payload.size(), 4)));
            if (!nfds) return std::unexpected(nfds.error());
            if (*nfds > max_fds)
                return fail("a reply with " + std::to_string(*nfds) + " fds (at most " + std::to_string(max_fds) + ")");
            return p->check_ret(payload.substr(4));
        }
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
