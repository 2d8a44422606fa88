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

void node_get_info(const Call& call, const Void&)
{
    call.reply(Host::node_info());
}

void node_get_security_model(const Call& call, const Void&)
{
    call.reply(NodeGetSecurityModelRet{});  // no security driver: empty model and doi
}

FLEET_SERVE_GROUP(connection)

}  // namespace fleet::router::libvirt
