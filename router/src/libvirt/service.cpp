// fleet-router — the libvirt mapping's entry (libvirt.hpp): a call is
// checked as libvirtd checks it, then handed to its procedure's handler.
#include "dispatch.hpp"
#include "host.hpp"
#include "hypervisor/scope.hpp"

#include <fleet/router/libvirt.hpp>

namespace fleet::router {

using namespace fleet::wire;
using libvirt::Call;
using libvirt::LibvirtError;

LibvirtService::LibvirtService(DomainRegistry& registry, Launcher& launcher, vmm::AccelContext host)
    : host_(std::make_unique<libvirt::Host>(std::move(host))),
      services_(std::make_unique<libvirt::Services>(libvirt::Services{registry, launcher, *host_}))
{
}

LibvirtService::~LibvirtService() = default;

void LibvirtService::call(Connection& conn, const Packet& p)
{
    const Header& h = p.header;
    auto refuse = [&](const LibvirtError& e) { conn.reply(encode_error_reply(h, libvirt::to_remote_error(e))); };
    // libvirt's QEMU program (qemu-monitor-command, qemu-agent-command,
    // QMP event callbacks): fleet owns its QEMU's monitor and passes
    // nothing through; clients show NO_SUPPORT as "not supported".
    if (h.prog == qemu_program)
        return refuse({err::no_support,
                       "this function is not supported by the connection driver: fleet does not pass QEMU monitor "
                       "or guest agent commands through (on the host, <runtime>/vms/NAME/qmp.sock is the VM's QMP)",
                       errdom::qemu});
    if (h.prog != remote_program) return refuse({err::rpc, "unknown program " + std::to_string(h.prog), errdom::rpc});
    if (h.vers != protocol_version)
        return refuse({err::rpc, "unknown protocol version " + std::to_string(h.vers), errdom::rpc});
    if (h.status != Status::ok) return refuse({err::rpc, "a call must have status OK", errdom::rpc});
    const ProcedureInfo* info = find_procedure(h.proc);
    libvirt::Invoke handler = info ? libvirt::handler_for(h.proc) : nullptr;
    if (!handler) return conn.reply(encode_error_reply(h, unknown_procedure_error(h.proc)));
    const libvirt::Session& s = conn.session();
    if (info->connection == ProcConnection::open && !s.open)
        return refuse({err::internal_error, "connection not open", errdom::remote});
    if (info->access == ProcAccess::write && s.read_only)
        return refuse({err::operation_denied,
                       "operation forbidden: read only access prevents " + std::string(info->name), errdom::remote});
    Call call(conn, h, *services_, info->access == ProcAccess::write);
    // A VM's own hypervisor channel: its children only (hypervisor/scope.hpp).
    if (s.caller.kind == Principal::Kind::guest) return hypervisor::serve_scoped(call, h.proc, p.payload, handler);
    handler(call, p.payload);
}

}  // namespace fleet::router
