// fleet-router — the connection's procedures: the handshake, open and
// close, and the facts about the host (the `connection` group of
// wire/procedures.def).
#include "dispatch.hpp"
#include "host.hpp"

namespace fleet::router::libvirt {

using namespace fleet::wire;

void auth_list(const Call& call, const Void&)
{
    AuthListRet r;
    r.types.push_back(auth::none);
    call.reply(r);
}

void connect_supports_feature(const Call& call, const ConnectSupportsFeatureArgs& a)
{
    bool yes = a.feature == feature::program_keepalive || a.feature == feature::remote_event_callback ||
               a.feature == feature::remote_close_callback;
    call.reply(ConnectSupportsFeatureRet{yes ? 1 : 0});
}

void connect_open(const Call& call, const ConnectOpenArgs& a)
{
    std::string name = a.name.value_or("");
    bool ok = name.empty() || name.starts_with("qemu:") || name.starts_with("fleet:");
    if (!ok)
        return call.fail(LibvirtError{
            err::invalid_arg, "fleet-router serves qemu:///system; cannot open '" + name + "'", errdom::remote});
    Session& s = call.session();
    bool read_only = (a.flags & flags::connect_ro) != 0;
    if (s.read_only_listener && !read_only)
        return call.fail(LibvirtError{err::operation_denied,
                                      "operation forbidden: this socket serves read-only connections; connect with "
                                      "--readonly (virsh -r), or use the read-write socket or TLS",
                                      errdom::remote});
    s.open = true;
    s.read_only = read_only;
    call.reply(Void{});
}

void connect_close(const Call& call, const Void&)
{
    call.reply(Void{});
    Connection& conn = call.connection();
    conn.when_flushed([weak = conn.weak_from_this()] {
        if (auto c = weak.lock()) c->close();
    });
}

void connect_register_close_callback(const Call& call, const Void&)
{
    call.reply(Void{});
}

void connect_unregister_close_callback(const Call& call, const Void&)
{
    call.reply(Void{});
}

void connect_get_type(const Call& call, const Void&)
{
    call.reply(ConnectGetTypeRet{"QEMU"});
}

void connect_get_version(const Call& call, const Void&)
{
    call.reply(ConnectGetVersionRet{call.host().hypervisor_version()});
}

void connect_get_lib_version(const Call& call, const Void&)
{
    call.reply(ConnectGetLibVersionRet{Host::lib_version()});
}

void connect_get_hostname(const Call& call, const Void&)
{
    call.reply(ConnectGetHostnameRet{Host::hostname()});
}

void connect_get_uri(const Call& call, const Void&)
{
    call.reply(ConnectGetUriRet{"qemu:///system"});
}

void connect_get_capabilities(const Call& call, const Void&)
{
    call.reply(ConnectGetCapabilitiesRet{call.host().capabilities_xml()});
}

// libvirt's defaults and checks: the emulator, x86_64, microvm; the type
// kvm where KVM runs guests here, else qemu.
void connect_get_domain_capabilities(const Call& call, const ConnectGetDomainCapabilitiesArgs& a)
{
    auto invalid = [&](const std::string& m) { call.fail(LibvirtError{err::invalid_arg, "invalid argument: " + m}); };
    Host& host = call.host();
    if (a.emulatorbin && *a.emulatorbin != host.emulator())
        return invalid("emulator '" + *a.emulatorbin + "' is not the one fleet runs (" + host.emulator() + ")");
    if (a.arch && *a.arch != "x86_64") return invalid("architecture '" + *a.arch + "': fleet runs x86_64 only");
    if (a.machine && *a.machine != "microvm")
        return invalid("the machine '" + *a.machine + "' is not supported: fleet runs microvm only");
    if (a.virttype && *a.virttype != "kvm" && *a.virttype != "qemu") return invalid("unknown virttype: " + *a.virttype);
    const bool kvm = host.kvm();
    if (a.virttype && *a.virttype == "kvm" && !kvm)
        return call.fail(
            LibvirtError{err::config_unsupported,
                         "unsupported configuration: KVM does not run guests on this host (type qemu does)"});
    call.reply(ConnectGetDomainCapabilitiesRet{host.domain_capabilities_xml(a.virttype ? *a.virttype == "kvm" : kvm)});
}

void node_get_info(const Call& call, const Void&)
{
    call.reply(Host::node_info());
}

namespace {

LibvirtError no_meminfo()
{
    return LibvirtError{err::internal_error, "internal error: cannot read the host's memory from /proc/meminfo"};
}

}  // namespace

// The host is one cell, 0 (Host::memory); free memory is MemFree in bytes,
// as libvirt reports it.
void node_get_free_memory(const Call& call, const Void&)
{
    auto m = Host::memory();
    if (!m) return call.fail(no_meminfo());
    call.reply(NodeGetFreeMemoryRet{m->free_kib * 1024});
}

void node_get_cells_free_memory(const Call& call, const NodeGetCellsFreeMemoryArgs& a)
{
    if (a.maxcells < 1 || static_cast<std::uint32_t>(a.maxcells) > node_max_cells)
        return call.fail(LibvirtError{err::invalid_arg, "invalid argument: maxcells must be 1 to 1024"});
    if (a.start_cell != 0)
        return call.fail(LibvirtError{
            err::internal_error, "internal error: start cell " + std::to_string(a.start_cell) + " out of range (0-0)"});
    auto m = Host::memory();
    if (!m) return call.fail(no_meminfo());
    NodeGetCellsFreeMemoryRet r;
    r.cells.push_back(m->free_kib * 1024);
    call.reply(r);
}

// libvirt's four fields for the whole host (cell -1, or cell 0: the same),
// in KiB; nparams 0 asks for the count.
void node_get_memory_stats(const Call& call, const NodeGetMemoryStatsArgs& a)
{
    constexpr std::int32_t count = 4;
    if (a.cell_num != -1 && a.cell_num != 0)
        return call.fail(LibvirtError{
            err::invalid_arg, "invalid argument: cell number " + std::to_string(a.cell_num) + " out of range (0-0)"});
    if (a.nparams == 0) return call.reply(NodeGetMemoryStatsRet{{}, count});
    if (a.nparams != count)
        return call.fail(LibvirtError{err::invalid_arg, "invalid argument: nparams must be 4, the number of fields"});
    auto m = Host::memory();
    if (!m) return call.fail(no_meminfo());
    NodeGetMemoryStatsRet r;
    r.params = {
        {{"total", m->total_kib}, {"free", m->free_kib}, {"buffers", m->buffers_kib}, {"cached", m->cached_kib}}};
    r.nparams = count;
    call.reply(r);
}

void node_get_security_model(const Call& call, const Void&)
{
    call.reply(NodeGetSecurityModelRet{});  // no security driver: empty model and doi
}

FLEET_SERVE_GROUP(connection)

}  // namespace fleet::router::libvirt
