// fleet-router — the procedures that only look: lookups, lists and facts
// about one domain (the `queries` group of wire/procedures.def).
#include "dispatch.hpp"

namespace fleet::router::libvirt {

using namespace fleet::wire;

namespace {

// Domain list filter groups (virConnectListAllDomainsFlags).
enum : std::uint32_t {
    list_active = 1,
    list_inactive = 2,
    list_persistent = 4,
    list_transient = 8,
    list_running = 16,
    list_paused = 32,
    list_shutoff = 64,
    list_other = 128,
    list_managedsave = 256,
    list_no_managedsave = 512,
    list_autostart = 1024,
    list_no_autostart = 2048,
    list_has_snapshot = 4096,
    list_no_snapshot = 8192,
    list_has_checkpoint = 16384,
    list_no_checkpoint = 32768,
};

}  // namespace

bool list_keeps(const DomainRegistry& registry, const Domain& d, std::uint32_t f)
{
    auto pair = [f](std::uint32_t yes, std::uint32_t no, bool is) {
        if (!(f & (yes | no))) return true;
        return is ? (f & yes) != 0 : (f & no) != 0;
    };
    if (!pair(list_active, list_inactive, d.active())) return false;
    if (!pair(list_persistent, list_transient, d.persistent)) return false;
    if (f & (list_running | list_paused | list_shutoff | list_other)) {
        bool running = d.state == RunState::running, paused = d.state == RunState::paused,
             shutoff = d.state == RunState::shutoff;
        bool ok = (f & list_running && running) || (f & list_paused && paused) || (f & list_shutoff && shutoff) ||
                  (f & list_other && !running && !paused && !shutoff);
        if (!ok) return false;
    }
    if (!pair(list_managedsave, list_no_managedsave, false)) return false;
    if (f & (list_autostart | list_no_autostart))
        if (!pair(list_autostart, list_no_autostart, registry.autostart(d))) return false;
    if (!pair(list_has_snapshot, list_no_snapshot, false)) return false;
    if (!pair(list_has_checkpoint, list_no_checkpoint, false)) return false;
    return true;
}

namespace {

void found(const Call& call, const DomainResult<DomainPtr>& d)
{
    if (!d) return call.fail(d.error());
    call.reply(DomainRet{ref(**d)});
}

void zero(const Call& call, const NonnullDomain& dom)
{
    with_domain(call, dom, [&](const DomainPtr&) { call.reply(IntRet{0}); });
}

}  // namespace

// ---- Lists ------------------------------------------------------------------------

void connect_list_all_domains(const Call& call, const ConnectListAllDomainsArgs& a)
{
    ConnectListAllDomainsRet r;
    for (const auto& d : call.registry().all()) {
        if (!list_keeps(call.registry(), *d, a.flags)) continue;
        if (a.need_results) r.domains.push_back(ref(*d));
        ++r.ret;
    }
    call.reply(r);
}

void connect_num_of_domains(const Call& call, const Void&)
{
    ConnectNumOfDomainsRet r;
    for (const auto& d : call.registry().all()) r.num += d->active() ? 1 : 0;
    call.reply(r);
}

void connect_list_domains(const Call& call, const ConnectListDomainsArgs& a)
{
    ConnectListDomainsRet r;
    for (const auto& d : call.registry().all())
        if (d->active() && static_cast<std::int32_t>(r.ids.size()) < a.maxids) r.ids.push_back(d->id);
    call.reply(r);
}

void connect_num_of_defined_domains(const Call& call, const Void&)
{
    ConnectNumOfDefinedDomainsRet r;
    for (const auto& d : call.registry().all()) r.num += (!d->active() && d->persistent) ? 1 : 0;
    call.reply(r);
}

void connect_list_defined_domains(const Call& call, const ConnectListDefinedDomainsArgs& a)
{
    ConnectListDefinedDomainsRet r;
    for (const auto& d : call.registry().all())
        if (!d->active() && d->persistent && static_cast<std::int32_t>(r.names.size()) < a.maxnames)
            r.names.push_back(d->def.name);
    call.reply(r);
}

// ---- Lookups ------------------------------------------------------------------------

void domain_lookup_by_name(const Call& call, const DomainLookupByNameArgs& a)
{
    found(call, call.registry().by_name(a.name));
}

void domain_lookup_by_uuid(const Call& call, const DomainLookupByUuidArgs& a)
{
    found(call, call.registry().by_uuid(a.uuid));
}

void domain_lookup_by_id(const Call& call, const DomainLookupByIdArgs& a)
{
    found(call, call.registry().by_id(a.id));
}

// ---- Facts about one domain ------------------------------------------------------------

void domain_get_xml_desc(const Call& call, const DomainFlagsArgs& a)
{
    with_domain(call, a.dom, [&](const DomainPtr& d) {
        bool inactive = (a.flags & flags::xml_inactive) != 0 || !d->active();
        const DomainDef& def = inactive && d->next_def ? *d->next_def : d->def;
        call.reply(StringRet{format_domain_xml(def, inactive ? -1 : d->id)});
    });
}

void domain_get_autostart(const Call& call, const DomainArgs& a)
{
    with_domain(call, a.dom, [&](const DomainPtr& d) { call.reply(IntRet{call.registry().autostart(*d) ? 1 : 0}); });
}

void domain_get_info(const Call& call, const DomainArgs& a)
{
    with_domain(call, a.dom, [&](const DomainPtr& d) {
        DomainGetInfoRet r;
        r.state = static_cast<std::uint8_t>(state_number(d->state));
        r.max_mem = d->def.memory_kib > 0 ? d->def.memory_kib : call.launcher().image_memory_kib(d->def.image);
        r.memory = r.max_mem;
        r.nr_virt_cpu = static_cast<std::uint16_t>(d->def.vcpus);
        r.cpu_time = d->active() ? call.launcher().cpu_time_ns(d->def.name) : 0;
        call.reply(r);
    });
}

void domain_get_state(const Call& call, const DomainFlagsArgs& a)
{
    with_domain(call, a.dom, [&](const DomainPtr& d) {
        call.reply(DomainGetStateRet{state_number(d->state), reason_number(d->state, d->reason)});
    });
}

void domain_get_os_type(const Call& call, const DomainArgs& a)
{
    with_domain(call, a.dom, [&](const DomainPtr&) { call.reply(StringRet{"hvm"}); });
}

void domain_is_active(const Call& call, const DomainArgs& a)
{
    with_domain(call, a.dom, [&](const DomainPtr& d) { call.reply(IntRet{d->active() ? 1 : 0}); });
}

void domain_is_persistent(const Call& call, const DomainArgs& a)
{
    with_domain(call, a.dom, [&](const DomainPtr& d) { call.reply(IntRet{d->persistent ? 1 : 0}); });
}

void domain_has_managed_save_image(const Call& call, const DomainFlagsArgs& a)
{
    zero(call, a.dom);
}

void domain_snapshot_num(const Call& call, const DomainFlagsArgs& a)
{
    zero(call, a.dom);
}

void domain_get_security_label(const Call& call, const DomainArgs& a)
{
    with_domain(call, a.dom, [&](const DomainPtr&) { call.reply(DomainGetSecurityLabelRet{}); });
}

void domain_get_messages(const Call& call, const DomainFlagsArgs& a)
{
    with_domain(call, a.dom, [&](const DomainPtr&) { call.reply(DomainGetMessagesRet{}); });
}

void domain_interface_addresses(const Call& call, const DomainInterfaceAddressesArgs& a)
{
    with_domain(call, a.dom, [&](const DomainPtr& d) {
        if (!d->active()) return call.fail(not_running());
        // Addresses come from fleet's leases, whatever source is asked for.
        DomainInterfaceAddressesRet r;
        for (const auto& a : call.launcher().interface_addresses(d->def.name)) {
            DomainInterface i{.name = a.name, .hwaddr = a.mac, .addrs = {}};
            if (!a.ipv4.empty())
                i.addrs.push_back(DomainIpAddr{.type = flags::ip_addr_ipv4, .addr = a.ipv4, .prefix = a.ipv4_prefix});
            if (!a.ipv6.empty())
                i.addrs.push_back(DomainIpAddr{.type = flags::ip_addr_ipv6, .addr = a.ipv6, .prefix = a.ipv6_prefix});
            r.ifaces.push_back(std::move(i));
        }
        call.reply(std::move(r));
    });
}

FLEET_SERVE_GROUP(queries)

}  // namespace fleet::router::libvirt
