// fleet-router — the libvirt mapping: libvirt's remote procedures over the
// DomainRegistry and the Launcher (router/src/libvirt/: one function per
// row of wire/procedures.def, grouped by concern), lifecycle events in
// libvirt's numbers, and the only place that knows VIR_ERR_* codes and
// libvirtd's wording.
#pragma once

#include <fleet/router/launcher.hpp>
#include <fleet/router/registry.hpp>
#include <fleet/vmm/accel.hpp>
#include <fleet/wire/packet.hpp>

#include <memory>
#include <string>

namespace fleet::router {

class Connection;
class Server;

namespace libvirt {
class Host;
struct Services;
}  // namespace libvirt

class LibvirtService {
public:
    // host: the QEMU binary, the runtime folder and the image catalog, for
    // the capabilities (kvm where the launcher's verdict says KVM runs
    // guests, vmm/accel.hpp) and the hypervisor version.
    LibvirtService(DomainRegistry& registry, Launcher& launcher, vmm::AccelContext host);
    ~LibvirtService();
    LibvirtService(const LibvirtService&) = delete;
    LibvirtService& operator=(const LibvirtService&) = delete;

    // A CALL from a client: checked (program, version, an open connection,
    // read-only), decoded and handed to its procedure's handler.
    void call(Connection& conn, const wire::Packet& p);
    // A lifecycle event, to every client that registered for it (a stopped
    // domain's console streams end too).
    void announce(Server& server, const Domain& d, Lifecycle event);
    // A client has gone: the stages of its runs that still run are
    // destroyed (run_procs.cpp: a run lives no longer than its caller).
    void closed(Connection& conn);

private:
    std::unique_ptr<libvirt::Host> host_;
    std::unique_ptr<libvirt::Services> services_;
};

}  // namespace fleet::router
