// fleet-router — the remote program's procedures (../shared/libvirt-protocol.md).
//
// Each procedure decodes its typed arguments (wire/), asks the Router,
// and answers with a typed reply or a libvirt error. A procedure fleet does
// not serve gets libvirtd's own "unknown procedure" answer, which clients
// turn into VIR_ERR_NO_SUPPORT ("this function is not supported").
#include "router.hpp"

#include <fleet/wire/procedures.hpp>

#include <unistd.h>

#include <fstream>
#include <functional>
#include <unordered_map>

namespace fleet::router {

using namespace fleet::wire;

namespace {

constexpr std::int32_t err_operation_denied = 6;

// Domain list filter groups (virConnectListAllDomainsFlags).
enum : std::uint32_t {
    list_active = 1, list_inactive = 2, list_persistent = 4, list_transient = 8,
    list_running = 16, list_paused = 32, list_shutoff = 64, list_other = 128,
    list_managedsave = 256, list_no_managedsave = 512, list_autostart = 1024, list_no_autostart = 2048,
    list_has_snapshot = 4096, list_no_snapshot = 8192, list_has_checkpoint = 16384, list_no_checkpoint = 32768,
};

std::uint64_t lib_version()
{
    unsigned major = 0, minor = 0, micro = 0;
    std::sscanf(FLEET_VERSION, "%u.%u.%u", &major, &minor, &micro);
    return major * 1000000ull + minor * 1000ull + micro;
}

std::string hostname()
{
    char buf[256] = {};
    ::gethostname(buf, sizeof buf - 1);
    return buf;
}

NodeGetInfoRet node_info()
{
    NodeGetInfoRet r;
    r.model = std::string("x86_64");
    std::ifstream mem("/proc/meminfo");
    std::string key;
    std::uint64_t value = 0;
    while (mem >> key >> value) {
        if (key == "MemTotal:") {
            r.memory = value;
            break;
        }
        mem.ignore(1 << 10, '\n');
    }
    long n = ::sysconf(_SC_NPROCESSORS_ONLN);
    r.cpus = static_cast<std::int32_t>(n > 0 ? n : 1);
    std::ifstream cpu("/proc/cpuinfo");
    std::string line;
    while (std::getline(cpu, line)) {
        if (line.starts_with("cpu MHz")) {
            if (auto c = line.find(':'); c != std::string::npos) r.mhz = std::atoi(line.c_str() + c + 1);
            break;
        }
    }
    r.nodes = 1;
    r.sockets = 1;
    r.cores = r.cpus;
    r.threads = 1;
    return r;
}

bool keep(const Router& router, const Domain& d, std::uint32_t f)
{
    auto pair = [f](std::uint32_t yes, std::uint32_t no, bool is) {
        if (!(f & (yes | no))) return true;
        return is ? (f & yes) != 0 : (f & no) != 0;
    };
    if (!pair(list_active, list_inactive, d.active())) return false;
    if (!pair(list_persistent, list_transient, d.persistent)) return false;
    if (f & (list_running | list_paused | list_shutoff | list_other)) {
        bool ok = (f & list_running && d.state == state::running) || (f & list_paused && d.state == state::paused) ||
                  (f & list_shutoff && d.state == state::shutoff) ||
                  (f & list_other && d.state != state::running && d.state != state::paused && d.state != state::shutoff);
        if (!ok) return false;
    }
    if (!pair(list_managedsave, list_no_managedsave, false)) return false;
    if (f & (list_autostart | list_no_autostart))
        if (!pair(list_autostart, list_no_autostart, router.autostart(d))) return false;
    if (!pair(list_has_snapshot, list_no_snapshot, false)) return false;
    if (!pair(list_has_checkpoint, list_no_checkpoint, false)) return false;
    return true;
}

}  // namespace

// The procedure table; a friend of Connection.
struct Rpc {
    using Handler = std::function<void(Connection&, const Header&, std::string_view)>;
    struct Entry {
        Handler fn;
        bool needs_open = true;
        bool writes = false;  // refused on a read-only connection
    };

    static const std::unordered_map<std::int32_t, Entry>& table();

    // A handler for procedure P with its arguments decoded.
    template <RemoteProc P, class F>
    static Handler typed(F f)
    {
        return [f](Connection& c, const Header& h, std::string_view payload) {
            using Args = typename Procedure<P>::Args;
            auto args = decode_payload<Args>(payload);
            if (!args)
                return c.reply_error(h, RpcError{err::rpc, "malformed arguments: " + args.error().what(), errdom::rpc});
            f(c, h, *args);
        };
    }

    // Replies that may come later: to the connection if it is still there.
    static std::function<void(RpcResult<>)> later(Connection& c, const Header& h)
    {
        std::weak_ptr<Connection> weak = c.weak_from_this();
        return [weak, h](RpcResult<> r) {
            auto conn = weak.lock();
            if (!conn || conn->closed()) return;
            if (!r) return conn->reply_error(h, r.error());
            conn->reply(h, Void{});
        };
    }

    template <class T>
    static void answer(Connection& c, const Header& h, const RpcResult<T>& r, auto&& make)
    {
        if (!r) return c.reply_error(h, r.error());
        c.reply(h, make(*r));
    }

    static void with_domain(Connection& c, const Header& h, const NonnullDomain& ref,
                            const std::function<void(const std::shared_ptr<Domain>&)>& f)
    {
        auto d = c.router_.lookup(ref);
        if (!d) return c.reply_error(h, d.error());
        f(*d);
    }
};

void Connection::on_packet(Packet p)
{
    const Header& h = p.header;
    if (h.prog == keepalive_program) {
        if (is_ping(h)) send(encode_pong());
        return;
    }
    if (h.type == MessageType::stream) return on_stream_packet(p);
    if (h.type != MessageType::call) return;  // replies and events are not ours to get
    if (h.prog != remote_program)
        return reply_error(h, RpcError{err::rpc, "unknown program " + std::to_string(h.prog), errdom::rpc});
    if (h.vers != protocol_version)
        return reply_error(h, RpcError{err::rpc, "unknown protocol version " + std::to_string(h.vers), errdom::rpc});
    if (h.status != Status::ok)
        return reply_error(h, RpcError{err::rpc, "a call must have status OK", errdom::rpc});
    const auto& table = Rpc::table();
    auto it = table.find(h.proc);
    if (it == table.end()) return send(encode_error_reply(h, unknown_procedure_error(h.proc)));
    if (it->second.needs_open && !open_)
        return reply_error(h, RpcError{err::internal_error, "connection not open", errdom::remote});
    if (it->second.writes && read_only_)
        return reply_error(h, RpcError{err_operation_denied, "operation forbidden: read only access prevents it", errdom::remote});
    it->second.fn(*this, h, p.payload);
}

const std::unordered_map<std::int32_t, Rpc::Entry>& Rpc::table()
{
    using P = RemoteProc;
    static const std::unordered_map<std::int32_t, Entry> t = [] {
        std::unordered_map<std::int32_t, Entry> t;
        auto add = [&t](P p, Handler h, bool needs_open = true, bool writes = false) {
            t[to_int(p)] = Entry{std::move(h), needs_open, writes};
        };

        // ---- Connection ----
        add(P::auth_list, typed<P::auth_list>([](Connection& c, const Header& h, const Void&) {
                AuthListRet r;
                r.types.push_back(auth::none);
                c.reply(h, r);
            }), false);
        add(P::connect_supports_feature,
            typed<P::connect_supports_feature>([](Connection& c, const Header& h, const ConnectSupportsFeatureArgs& a) {
                bool yes = a.feature == feature::program_keepalive || a.feature == feature::remote_event_callback ||
                           a.feature == feature::remote_close_callback;
                c.reply(h, ConnectSupportsFeatureRet{yes ? 1 : 0});
            }), false);
        add(P::connect_open, typed<P::connect_open>([](Connection& c, const Header& h, const ConnectOpenArgs& a) {
                std::string name = a.name.value_or("");
                bool ok = name.empty() || name.starts_with("qemu:") || name.starts_with("fleet:");
                if (!ok)
                    return c.reply_error(h, RpcError{err::invalid_arg,
                                                     "fleet-router serves qemu:///system; cannot open '" + name + "'",
                                                     errdom::remote});
                c.open_ = true;
                c.read_only_ = (a.flags & flags::connect_ro) != 0;
                c.reply(h, Void{});
            }), false);
        add(P::connect_close, typed<P::connect_close>([](Connection& c, const Header& h, const Void&) {
                c.reply(h, Void{});
                std::weak_ptr<Connection> weak = c.weak_from_this();
                c.out_->when_idle([weak] {
                    if (auto conn = weak.lock()) conn->close();
                });
            }), false);
        auto nothing = [](Connection& c, const Header& h, const Void&) { c.reply(h, Void{}); };
        add(P::connect_register_close_callback, typed<P::connect_register_close_callback>(nothing));
        add(P::connect_unregister_close_callback, typed<P::connect_unregister_close_callback>(nothing));
        add(P::connect_get_type, typed<P::connect_get_type>([](Connection& c, const Header& h, const Void&) {
                c.reply(h, ConnectGetTypeRet{"QEMU"});
            }));
        add(P::connect_get_version, typed<P::connect_get_version>([](Connection& c, const Header& h, const Void&) {
                c.reply(h, ConnectGetVersionRet{c.router_.hypervisor_version()});
            }));
        add(P::connect_get_lib_version, typed<P::connect_get_lib_version>([](Connection& c, const Header& h, const Void&) {
                c.reply(h, ConnectGetLibVersionRet{lib_version()});
            }));
        add(P::connect_get_hostname, typed<P::connect_get_hostname>([](Connection& c, const Header& h, const Void&) {
                c.reply(h, ConnectGetHostnameRet{hostname()});
            }));
        add(P::connect_get_uri, typed<P::connect_get_uri>([](Connection& c, const Header& h, const Void&) {
                c.reply(h, ConnectGetUriRet{"qemu:///system"});
            }));
        add(P::connect_get_capabilities, typed<P::connect_get_capabilities>([](Connection& c, const Header& h, const Void&) {
                c.reply(h, ConnectGetCapabilitiesRet{c.router_.capabilities_xml()});
            }));
        add(P::node_get_info, typed<P::node_get_info>([](Connection& c, const Header& h, const Void&) {
                c.reply(h, node_info());
            }));
        add(P::node_get_security_model, typed<P::node_get_security_model>([](Connection& c, const Header& h, const Void&) {
                c.reply(h, NodeGetSecurityModelRet{});  // no security driver: empty model and doi
            }));

        // ---- Listing ----
        add(P::connect_list_all_domains,
            typed<P::connect_list_all_domains>([](Connection& c, const Header& h, const ConnectListAllDomainsArgs& a) {
                ConnectListAllDomainsRet r;
                for (const auto& d : c.router_.all()) {
                    if (!keep(c.router_, *d, a.flags)) continue;
                    if (a.need_results) r.domains.push_back(d->ref());
                    ++r.ret;
                }
                c.reply(h, r);
            }));
        add(P::connect_num_of_domains, typed<P::connect_num_of_domains>([](Connection& c, const Header& h, const Void&) {
                ConnectNumOfDomainsRet r;
                for (const auto& d : c.router_.all()) r.num += d->active() ? 1 : 0;
                c.reply(h, r);
            }));
        add(P::connect_list_domains,
            typed<P::connect_list_domains>([](Connection& c, const Header& h, const ConnectListDomainsArgs& a) {
                ConnectListDomainsRet r;
                for (const auto& d : c.router_.all())
                    if (d->active() && static_cast<std::int32_t>(r.ids.size()) < a.maxids) r.ids.push_back(d->id);
                c.reply(h, r);
            }));
        add(P::connect_num_of_defined_domains,
            typed<P::connect_num_of_defined_domains>([](Connection& c, const Header& h, const Void&) {
                ConnectNumOfDefinedDomainsRet r;
                for (const auto& d : c.router_.all()) r.num += (!d->active() && d->persistent) ? 1 : 0;
                c.reply(h, r);
            }));
        add(P::connect_list_defined_domains,
            typed<P::connect_list_defined_domains>([](Connection& c, const Header& h, const ConnectListDefinedDomainsArgs& a) {
                ConnectListDefinedDomainsRet r;
                for (const auto& d : c.router_.all())
                    if (!d->active() && d->persistent && static_cast<std::int32_t>(r.names.size()) < a.maxnames)
                        r.names.push_back(d->def.name);
                c.reply(h, r);
            }));

        // ---- Lookups ----
        add(P::domain_lookup_by_name,
            typed<P::domain_lookup_by_name>([](Connection& c, const Header& h, const DomainLookupByNameArgs& a) {
                answer(c, h, c.router_.by_name(a.name), [](const auto& d) { return DomainRet{d->ref()}; });
            }));
        add(P::domain_lookup_by_uuid,
            typed<P::domain_lookup_by_uuid>([](Connection& c, const Header& h, const DomainLookupByUuidArgs& a) {
                answer(c, h, c.router_.by_uuid(a.uuid), [](const auto& d) { return DomainRet{d->ref()}; });
            }));
        add(P::domain_lookup_by_id,
            typed<P::domain_lookup_by_id>([](Connection& c, const Header& h, const DomainLookupByIdArgs& a) {
                answer(c, h, c.router_.by_id(a.id), [](const auto& d) { return DomainRet{d->ref()}; });
            }));

        // ---- Define, create, start, stop ----
        add(P::domain_define_xml, typed<P::domain_define_xml>([](Connection& c, const Header& h, const DomainDefineXmlArgs& a) {
                answer(c, h, c.router_.define(a.xml), [](const auto& d) { return DomainRet{d->ref()}; });
            }), true, true);
        add(P::domain_define_xml_flags,
            typed<P::domain_define_xml_flags>([](Connection& c, const Header& h, const DomainDefineXmlFlagsArgs& a) {
                answer(c, h, c.router_.define(a.xml), [](const auto& d) { return DomainRet{d->ref()}; });
            }), true, true);
        add(P::domain_create_xml, typed<P::domain_create_xml>([](Connection& c, const Header& h, const DomainCreateXmlArgs& a) {
                std::weak_ptr<Connection> weak = c.weak_from_this();
                c.router_.create(a.xml_desc, (a.flags & flags::create_paused) != 0,
                                 [weak, h](RpcResult<std::shared_ptr<Domain>> r) {
                                     auto conn = weak.lock();
                                     if (!conn || conn->closed()) return;
                                     answer(*conn, h, r, [](const auto& d) { return DomainRet{d->ref()}; });
                                 });
            }), true, true);
        auto start = [](Connection& c, const Header& h, const NonnullDomain& ref, std::uint32_t f, bool with_dom) {
            with_domain(c, h, ref, [&](const std::shared_ptr<Domain>& d) {
                std::weak_ptr<Connection> weak = c.weak_from_this();
                c.router_.start_domain(d, (f & flags::create_paused) != 0, [weak, h, d, with_dom](RpcResult<> r) {
                    auto conn = weak.lock();
                    if (!conn || conn->closed()) return;
                    if (!r) return conn->reply_error(h, r.error());
                    if (with_dom) conn->reply(h, DomainRet{d->ref()});
                    else conn->reply(h, Void{});
                });
            });
        };
        add(P::domain_create, typed<P::domain_create>([start](Connection& c, const Header& h, const DomainArgs& a) {
                start(c, h, a.dom, 0, false);
            }), true, true);
        add(P::domain_create_with_flags,
            typed<P::domain_create_with_flags>([start](Connection& c, const Header& h, const DomainFlagsArgs& a) {
                start(c, h, a.dom, a.flags, true);
            }), true, true);
        auto shutdown = [](Connection& c, const Header& h, const NonnullDomain& ref) {
            with_domain(c, h, ref, [&](const std::shared_ptr<Domain>& d) {
                later(c, h)(c.router_.shutdown_domain(d));
            });
        };
        add(P::domain_shutdown, typed<P::domain_shutdown>([shutdown](Connection& c, const Header& h, const DomainArgs& a) {
                shutdown(c, h, a.dom);
            }), true, true);
        add(P::domain_shutdown_flags,
            typed<P::domain_shutdown_flags>([shutdown](Connection& c, const Header& h, const DomainFlagsArgs& a) {
                shutdown(c, h, a.dom);
            }), true, true);
        auto destroy = [](Connection& c, const Header& h, const NonnullDomain& ref) {
            with_domain(c, h, ref, [&](const std::shared_ptr<Domain>& d) { c.router_.destroy(d, later(c, h)); });
        };
        add(P::domain_destroy, typed<P::domain_destroy>([destroy](Connection& c, const Header& h, const DomainArgs& a) {
                destroy(c, h, a.dom);
            }), true, true);
        add(P::domain_destroy_flags,
            typed<P::domain_destroy_flags>([destroy](Connection& c, const Header& h, const DomainFlagsArgs& a) {
                destroy(c, h, a.dom);
            }), true, true);
        add(P::domain_suspend, typed<P::domain_suspend>([](Connection& c, const Header& h, const DomainArgs& a) {
                with_domain(c, h, a.dom, [&](const auto& d) { c.router_.suspend(d, true, later(c, h)); });
            }), true, true);
        add(P::domain_resume, typed<P::domain_resume>([](Connection& c, const Header& h, const DomainArgs& a) {
                with_domain(c, h, a.dom, [&](const auto& d) { c.router_.suspend(d, false, later(c, h)); });
            }), true, true);
        add(P::domain_reboot, typed<P::domain_reboot>([](Connection& c, const Header& h, const DomainFlagsArgs& a) {
                with_domain(c, h, a.dom, [&](const auto&) {
                    c.reply_error(h, RpcError{err::no_support,
                                              "this function is not supported by the connection driver: virDomainReboot "
                                              "(fleet guests run one program; use shutdown and start)"});
                });
            }), true, true);
        auto undefine = [](Connection& c, const Header& h, const NonnullDomain& ref) {
            with_domain(c, h, ref, [&](const std::shared_ptr<Domain>& d) {
                later(c, h)(c.router_.undefine(d));
            });
        };
        add(P::domain_undefine, typed<P::domain_undefine>([undefine](Connection& c, const Header& h, const DomainArgs& a) {
                undefine(c, h, a.dom);
            }), true, true);
        add(P::domain_undefine_flags,
            typed<P::domain_undefine_flags>([undefine](Connection& c, const Header& h, const DomainFlagsArgs& a) {
                undefine(c, h, a.dom);
            }), true, true);
        add(P::domain_set_autostart,
            typed<P::domain_set_autostart>([](Connection& c, const Header& h, const DomainSetAutostartArgs& a) {
                with_domain(c, h, a.dom, [&](const auto& d) {
                    later(c, h)(c.router_.set_autostart(d, a.autostart != 0));
                });
            }), true, true);

        // ---- Facts about one domain ----
        add(P::domain_get_xml_desc, typed<P::domain_get_xml_desc>([](Connection& c, const Header& h, const DomainFlagsArgs& a) {
                with_domain(c, h, a.dom, [&](const std::shared_ptr<Domain>& d) {
                    bool inactive = (a.flags & flags::xml_inactive) != 0 || !d->active();
                    const DomainDef& def = inactive && d->next_def ? *d->next_def : d->def;
                    c.reply(h, StringRet{format_domain_xml(def, inactive ? -1 : d->id)});
                });
            }));
        add(P::domain_get_autostart, typed<P::domain_get_autostart>([](Connection& c, const Header& h, const DomainArgs& a) {
                with_domain(c, h, a.dom, [&](const auto& d) { c.reply(h, IntRet{c.router_.autostart(*d) ? 1 : 0}); });
            }));
        add(P::domain_get_info, typed<P::domain_get_info>([](Connection& c, const Header& h, const DomainArgs& a) {
                with_domain(c, h, a.dom, [&](const std::shared_ptr<Domain>& d) {
                    DomainGetInfoRet r;
                    r.state = static_cast<std::uint8_t>(d->state);
                    r.max_mem = c.router_.memory_kib(*d);
                    r.memory = r.max_mem;
                    r.nr_virt_cpu = static_cast<std::uint16_t>(d->def.vcpus);
                    r.cpu_time = c.router_.cpu_time_ns(*d);
                    c.reply(h, r);
                });
            }));
        add(P::domain_get_state, typed<P::domain_get_state>([](Connection& c, const Header& h, const DomainFlagsArgs& a) {
                with_domain(c, h, a.dom, [&](const auto& d) { c.reply(h, DomainGetStateRet{d->state, d->reason}); });
            }));
        add(P::domain_get_os_type, typed<P::domain_get_os_type>([](Connection& c, const Header& h, const DomainArgs& a) {
                with_domain(c, h, a.dom, [&](const auto&) { c.reply(h, StringRet{"hvm"}); });
            }));
        add(P::domain_is_active, typed<P::domain_is_active>([](Connection& c, const Header& h, const DomainArgs& a) {
                with_domain(c, h, a.dom, [&](const auto& d) { c.reply(h, IntRet{d->active() ? 1 : 0}); });
            }));
        add(P::domain_is_persistent, typed<P::domain_is_persistent>([](Connection& c, const Header& h, const DomainArgs& a) {
                with_domain(c, h, a.dom, [&](const auto& d) { c.reply(h, IntRet{d->persistent ? 1 : 0}); });
            }));
        auto zero = [](Connection& c, const Header& h, const DomainFlagsArgs& a) {
            with_domain(c, h, a.dom, [&](const auto&) { c.reply(h, IntRet{0}); });
        };
        add(P::domain_has_managed_save_image, typed<P::domain_has_managed_save_image>(zero));
        add(P::domain_snapshot_num, typed<P::domain_snapshot_num>(zero));
        add(P::domain_get_security_label,
            typed<P::domain_get_security_label>([](Connection& c, const Header& h, const DomainArgs& a) {
                with_domain(c, h, a.dom, [&](const auto&) { c.reply(h, DomainGetSecurityLabelRet{}); });
            }));
        add(P::domain_get_messages, typed<P::domain_get_messages>([](Connection& c, const Header& h, const DomainFlagsArgs& a) {
                with_domain(c, h, a.dom, [&](const auto&) { c.reply(h, DomainGetMessagesRet{}); });
            }));
        add(P::domain_interface_addresses,
            typed<P::domain_interface_addresses>([](Connection& c, const Header& h, const DomainInterfaceAddressesArgs& a) {
                with_domain(c, h, a.dom, [&](const std::shared_ptr<Domain>& d) {
                    if (!d->active())
                        return c.reply_error(h, RpcError{err::operation_invalid,
                                                         "Requested operation is not valid: domain is not running"});
                    c.reply(h, DomainInterfaceAddressesRet{});  // no interfaces yet
                });
            }));
        add(P::domain_open_console,
            typed<P::domain_open_console>([](Connection& c, const Header& h, const DomainOpenConsoleArgs& a) {
                with_domain(c, h, a.dom, [&](const std::shared_ptr<Domain>& d) {
                    if (!d->active() || d->starting)
                        return c.reply_error(h, RpcError{err::operation_invalid,
                                                         "Requested operation is not valid: domain is not running"});
                    if (a.dev_name && !a.dev_name->empty() && *a.dev_name != "serial0" && *a.dev_name != "console0")
                        return c.reply_error(h, RpcError{err::invalid_arg, "cannot find console device '" + *a.dev_name + "'"});
                    c.open_console(h, d);
                });
            }), true, true);

        // ---- Events ----
        add(P::connect_domain_event_callback_register_any,
            typed<P::connect_domain_event_callback_register_any>(
                [](Connection& c, const Header& h, const ConnectDomainEventCallbackRegisterAnyArgs& a) {
                    if (a.event_id != event_id::lifecycle)
                        return c.reply_error(h, RpcError{err::no_support, "fleet sends lifecycle events only (event " +
                                                                              std::to_string(a.event_id) + " is not supported)"});
                    std::optional<Uuid> dom;
                    if (a.dom) dom = a.dom->uuid;
                    std::int32_t id = c.next_callback_++;
                    c.callbacks_[id] = Connection::Registration{a.event_id, dom};
                    c.reply(h, ConnectDomainEventCallbackRegisterAnyRet{id});
                }));
        add(P::connect_domain_event_callback_deregister_any,
            typed<P::connect_domain_event_callback_deregister_any>(
                [](Connection& c, const Header& h, const ConnectDomainEventCallbackDeregisterAnyArgs& a) {
                    if (!c.callbacks_.erase(a.callback_id))
                        return c.reply_error(h, RpcError{err::invalid_arg, "no callback with id " + std::to_string(a.callback_id)});
                    c.reply(h, Void{});
                }));
        add(P::connect_domain_event_register_any,
            typed<P::connect_domain_event_register_any>([](Connection& c, const Header& h, const ConnectDomainEventRegisterAnyArgs& a) {
                if (a.event_id != event_id::lifecycle)
                    return c.reply_error(h, RpcError{err::no_support, "fleet sends lifecycle events only"});
                c.old_style_.insert(a.event_id);
                c.reply(h, Void{});
            }));
        add(P::connect_domain_event_deregister_any,
            typed<P::connect_domain_event_deregister_any>(
                [](Connection& c, const Header& h, const ConnectDomainEventDeregisterAnyArgs& a) {
                    c.old_style_.erase(a.event_id);
                    c.reply(h, Void{});
                }));
        return t;
    }();
    return t;
}

}  // namespace fleet::router
