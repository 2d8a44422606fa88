// fleet-router — a guest's calls over its hypervisor channel (scope.hpp).
#include "hypervisor/scope.hpp"

#include "libvirt/host.hpp"

#include <fleet/vmm/catalog.hpp>
#include <fleet/vmm/spec.hpp>
#include <fleet/wire/codec.hpp>

#include <algorithm>
#include <optional>
#include <type_traits>

namespace fleet::router::hypervisor {

using namespace fleet::wire;
using libvirt::Call;
using libvirt::Invoke;
using libvirt::LibvirtError;

namespace {

enum class Rule { deny, pass, target, by_name, by_uuid, by_id, create, run, list_all, count, list_ids, none, close };

Rule rule_of(std::int32_t proc)
{
    switch (static_cast<RemoteProc>(proc)) {
        case RemoteProc::connect_open:
        case RemoteProc::auth_list:
        case RemoteProc::connect_supports_feature:
        case RemoteProc::connect_get_type:
        case RemoteProc::connect_get_version:
        case RemoteProc::connect_get_lib_version:
        case RemoteProc::connect_get_uri:
        case RemoteProc::connect_register_close_callback:
        case RemoteProc::connect_unregister_close_callback:
        case RemoteProc::connect_domain_event_register_any:
        case RemoteProc::connect_domain_event_deregister_any:
        case RemoteProc::connect_domain_event_callback_register_any:
        case RemoteProc::connect_domain_event_callback_deregister_any:
            return Rule::pass;  // events reach a guest for its children only (event_procs.cpp)
        case RemoteProc::connect_close:
            return Rule::close;
        case RemoteProc::domain_create_xml:
            return Rule::create;
        case RemoteProc::domain_lookup_by_name:
            return Rule::by_name;
        case RemoteProc::domain_lookup_by_uuid:
            return Rule::by_uuid;
        case RemoteProc::domain_lookup_by_id:
            return Rule::by_id;
        case RemoteProc::connect_list_all_domains:
            return Rule::list_all;
        case RemoteProc::connect_num_of_domains:
            return Rule::count;
        case RemoteProc::connect_list_domains:
            return Rule::list_ids;
        case RemoteProc::connect_num_of_defined_domains:
        case RemoteProc::connect_list_defined_domains:
            return Rule::none;  // children are transient
        case RemoteProc::domain_destroy:
        case RemoteProc::domain_destroy_flags:
        case RemoteProc::domain_shutdown:
        case RemoteProc::domain_shutdown_flags:
        case RemoteProc::domain_get_info:
        case RemoteProc::domain_get_state:
        case RemoteProc::domain_get_xml_desc:
        case RemoteProc::domain_is_active:
        case RemoteProc::domain_is_persistent:
        case RemoteProc::domain_get_autostart:
        case RemoteProc::domain_get_max_memory:
        case RemoteProc::domain_get_os_type:
        case RemoteProc::domain_open_console:
            return Rule::target;
        case RemoteProc::fleet_domain_run:  // each stage is a child, as a create's
            return Rule::run;
        case RemoteProc::fleet_domain_open_stdio:  // the connection's own runs only (run_procs.cpp)
        case RemoteProc::fleet_domain_resize_terminal:
            return Rule::pass;
        default:
            return Rule::deny;
    }
}

bool mine(const Call& call, const Domain& d)
{
    return d.owner == call.caller();
}

void not_found(const Call& call, const std::string& what)
{
    call.fail(DomainError{Errc::not_found, what});
}

// The domain a targeted call names, decoded with the procedure's own type.
template <class Args>
Result<NonnullDomain> target_of(std::string_view payload)
{
    auto a = decode_payload<Args>(payload);
    if (!a) return std::unexpected(a.error());
    return a->dom;
}

Result<NonnullDomain> target(std::int32_t proc, std::string_view payload)
{
    switch (static_cast<RemoteProc>(proc)) {
        case RemoteProc::domain_get_xml_desc:
        case RemoteProc::domain_get_state:
        case RemoteProc::domain_destroy_flags:
        case RemoteProc::domain_shutdown_flags:
            return target_of<DomainFlagsArgs>(payload);
        case RemoteProc::domain_open_console:
            return target_of<DomainOpenConsoleArgs>(payload);
        default:
            return target_of<DomainArgs>(payload);
    }
}

// Hands the call on if `found` is one of the caller's children.
void pass_if_mine(const Call& call, const DomainResult<DomainPtr>& found, const std::string& what,
                  std::string_view payload, Invoke handler)
{
    if (!found || !mine(call, **found)) return not_found(call, what);
    handler(call, payload);
}

void lists(const Call& call, Rule rule, std::string_view payload)
{
    std::vector<DomainPtr> children;
    for (const auto& d : call.registry().all())
        if (mine(call, *d) && d->active()) children.push_back(d);
    if (rule == Rule::count) return call.reply(ConnectNumOfDomainsRet{static_cast<std::int32_t>(children.size())});
    if (rule == Rule::list_ids) {
        auto a = decode_payload<ConnectListDomainsArgs>(payload);
        if (!a) return call.fail(libvirt::malformed(a.error()));
        ConnectListDomainsRet r;
        for (const auto& d : children)
            if (static_cast<std::int32_t>(r.ids.size()) < a->maxids) r.ids.push_back(d->id);
        return call.reply(r);
    }
    auto a = decode_payload<ConnectListAllDomainsArgs>(payload);
    if (!a) return call.fail(libvirt::malformed(a.error()));
    ConnectListAllDomainsRet r;
    // Children are active and transient: the inactive and persistent filters keep none.
    constexpr std::uint32_t list_persistent = 4;
    if (a->flags & (flags::list_domains_inactive | list_persistent)) return call.reply(r);
    for (const auto& d : children) {
        if (a->need_results) r.domains.push_back(libvirt::ref(*d));
        ++r.ret;
    }
    call.reply(r);
}

Usage used_by(const Call& call)
{
    Usage u;
    for (const auto& d : call.registry().all()) {
        if (!mine(call, *d) || !d->active()) continue;
        std::uint64_t kib = d->def.memory_kib ? d->def.memory_kib : call.launcher().image_memory_kib(d->def.image);
        Usage c = cost_of(d->def, (kib + 1023) / 1024);
        u.children += c.children;
        u.memory_mib += c.memory_mib;
    }
    return u;
}

// One child's definition, checked against the channel's scope and what is
// left of its quota (used grows by its cost), and rewritten: its name under
// the parent's, a UUID of the router's choosing (a guest's own could name a
// host domain's), the parent's domain type. An XML that does not parse is left to the registry, which
// says what is wrong with it.
std::optional<DomainError> scope_child(const Call& call, std::string& xml, Usage& used)
{
    auto deny = [](const std::string& why) { return DomainError{Errc::denied, why}; };
    auto def = parse_domain_xml(xml);
    if (!def) return std::nullopt;
    const std::string& parent = call.caller().dn;
    auto parent_domain = call.registry().by_name(parent);
    if (!parent_domain || !(*parent_domain)->def.hypervisor)
        return deny("the hypervisor channel of '" + parent + "' has no quota");
    const auto images = vmm::list_images(call.host().catalog());
    auto named = [&](const vmm::Image& i) { return i.name == def->image; };
    if (!def->image.empty() && std::none_of(images.begin(), images.end(), named))
        return deny("fleet:image '" + def->image + "' is not an image of the catalog");
    std::uint64_t kib = def->memory_kib ? def->memory_kib : call.launcher().image_memory_kib(def->image);
    std::string why = refuse_child(*def, *(*parent_domain)->def.hypervisor, used, (kib + 1023) / 1024);
    if (!why.empty()) return deny(why);
    Usage c = cost_of(*def, (kib + 1023) / 1024);
    used.children += c.children;
    used.memory_mib += c.memory_mib;
    if (!def->name.starts_with(parent + ".")) def->name = parent + "." + def->name;
    if (auto ok = check_domain_name(def->name); !ok)
        return DomainError{Errc::invalid_argument, "child domain name: " + ok.error().message};
    def->uuid = random_uuid();
    // The parent's accelerator: a guest cannot know whether the host has
    // KVM ('kvm' would fail without it, 'qemu' would crawl with it).
    def->type = (*parent_domain)->def.type;
    xml = format_domain_xml(*def);
    return std::nullopt;
}

// The call with its definitions scoped (create: one; run: every stage,
// against one quota), or its refusal.
template <class Args>
void scoped_create(const Call& call, std::string_view payload, Invoke handler)
{
    auto a = decode_payload<Args>(payload);
    if (!a) return call.fail(libvirt::malformed(a.error()));
    Usage used = used_by(call);
    if constexpr (std::is_same_v<Args, DomainCreateXmlArgs>) {
        if (auto e = scope_child(call, a->xml_desc, used)) return call.fail(*e);
    } else {
        for (std::size_t i = 0; i < a->xml.size(); ++i)
            if (auto e = scope_child(call, a->xml[i], used)) {
                e->message = "stage " + std::to_string(i + 1) + " of the run: " + e->message;
                return call.fail(*e);
            }
    }
    auto rewritten = encode_payload(*a);
    if (!rewritten) return call.fail(libvirt::malformed(rewritten.error()));
    handler(call, *rewritten);
}

}  // namespace

Usage cost_of(const DomainDef& child, std::uint64_t memory_mib)
{
    Usage u{1, memory_mib};
    if (child.hypervisor) {
        u.children += child.hypervisor->children;
        u.memory_mib += child.hypervisor->memory_mib;
    }
    return u;
}

std::string refuse_child(const DomainDef& child, const HypervisorQuota& quota, Usage used,
                         std::uint64_t child_memory_mib)
{
    if (!child.kernel.empty() || !child.initrd.empty() || !child.cmdline.empty())
        return "a child runs a catalog image (fleet:image): <os> kernel, initrd and cmdline are host paths";
    if (child.image.empty() || !vmm::is_valid_name(child.image)) return "a child names a catalog image in fleet:image";
    if (!child.filesystems.empty() || !child.disks.empty() || child.rng || !child.workdir.empty())
        return "a child gets no host files: no <filesystem>, <disk>, <rng> or fleet:workdir";
    if (!child.interfaces.empty()) return "a child gets no network interface";
    Usage c = cost_of(child, child_memory_mib);
    if (used.children + c.children > quota.children)
        return "quota: " + std::to_string(quota.children) + " children (" + std::to_string(used.children) +
               " in use; this one needs " + std::to_string(c.children) + ")";
    if (used.memory_mib + c.memory_mib > quota.memory_mib)
        return "quota: " + std::to_string(quota.memory_mib) + " MiB of memory (" + std::to_string(used.memory_mib) +
               " in use; this one needs " + std::to_string(c.memory_mib) + ")";
    if (child.hypervisor && child.hypervisor->depth >= quota.depth)
        return "quota: depth " + std::to_string(quota.depth) + ": a child's channel may reach depth " +
               std::to_string(quota.depth - 1) + " at most";
    return "";
}

void serve_scoped(const Call& call, std::int32_t proc, std::string_view payload, Invoke handler)
{
    Rule rule = rule_of(proc);
    switch (rule) {
        case Rule::deny:
            return call.fail(DomainError{Errc::denied, std::string("a hypervisor channel does not serve ") +
                                                           std::string(find_procedure(proc)->name)});
        case Rule::pass:
            return handler(call, payload);
        case Rule::close: {
            // The channel stays: the next program in the guest opens it
            // again, and finds nothing of this one's (its runs end as a
            // client's do when it goes, its streams stop at once).
            libvirt::Session& s = call.session();
            s.open = false;
            s.callbacks.clear();
            s.old_style.clear();
            libvirt::end_runs(call.connection(), call.registry());
            call.connection().end_streams();
            return call.reply(Void{});
        }
        case Rule::create:
            return scoped_create<DomainCreateXmlArgs>(call, payload, handler);
        case Rule::run:
            return scoped_create<FleetDomainRunArgs>(call, payload, handler);
        case Rule::list_all:
        case Rule::count:
        case Rule::list_ids:
            return lists(call, rule, payload);
        case Rule::none:
            if (static_cast<RemoteProc>(proc) == RemoteProc::connect_num_of_defined_domains)
                return call.reply(ConnectNumOfDefinedDomainsRet{0});
            return call.reply(ConnectListDefinedDomainsRet{});
        case Rule::by_name: {
            auto a = decode_payload<DomainLookupByNameArgs>(payload);
            if (!a) return call.fail(libvirt::malformed(a.error()));
            // A child answers to the name its parent gave it too ('kid' for
            // 'PARENT.kid'), as `virsh create` then `virsh destroy kid` expect.
            auto found = call.registry().by_name(a->name);
            if (!(found && mine(call, **found))) {
                const std::string full = call.caller().dn + "." + a->name;
                if (auto child = call.registry().by_name(full); child && mine(call, **child)) {
                    a->name = full;
                    auto rewritten = encode_payload(*a);
                    if (!rewritten) return call.fail(libvirt::malformed(rewritten.error()));
                    return handler(call, *rewritten);
                }
            }
            return pass_if_mine(call, found, "no domain with matching name '" + a->name + "'", payload, handler);
        }
        case Rule::by_uuid: {
            auto a = decode_payload<DomainLookupByUuidArgs>(payload);
            if (!a) return call.fail(libvirt::malformed(a.error()));
            return pass_if_mine(call, call.registry().by_uuid(a->uuid),
                                "no domain with matching uuid '" + format_uuid(a->uuid) + "'", payload, handler);
        }
        case Rule::by_id: {
            auto a = decode_payload<DomainLookupByIdArgs>(payload);
            if (!a) return call.fail(libvirt::malformed(a.error()));
            return pass_if_mine(call, call.registry().by_id(a->id),
                                "no domain with matching id " + std::to_string(a->id), payload, handler);
        }
        case Rule::target: {
            auto dom = target(proc, payload);
            if (!dom) return call.fail(libvirt::malformed(dom.error()));
            return pass_if_mine(call, call.registry().lookup(dom->uuid, dom->name),
                                "no domain with matching uuid '" + format_uuid(dom->uuid) + "' (" + dom->name + ")",
                                payload, handler);
        }
    }
}

}  // namespace fleet::router::hypervisor
