// fleet-router — facts about one domain beyond dominfo, and its title and
// description (the `facts` group of wire/procedures.def): max memory and
// vCPUs (fixed at define: a microvm has no memory or CPU hotplug), memory
// stats as QEMU's process shows them (no balloon device), metadata.
#include "dispatch.hpp"
#include "host.hpp"

namespace fleet::router::libvirt {

using namespace fleet::wire;

namespace {

// virDomainMemoryStatTags fleet reports; virDomainModificationImpact;
// virDomainMetadataType; virDomainVcpuFlags.
constexpr std::int32_t stat_actual_balloon = 6, stat_rss = 7;
constexpr std::uint32_t affect_live = 1, affect_config = 2, vcpu_maximum = 4;
constexpr std::int32_t metadata_description = 0, metadata_title = 1, metadata_element = 2;

std::uint64_t memory_kib(const Call& call, const DomainDef& def)
{
    return def.memory_kib > 0 ? def.memory_kib : call.launcher().image_memory_kib(def.image);
}

LibvirtError no_metadata()
{
    return {err::no_domain_metadata, "metadata not found: Requested metadata element is not present"};
}

// Which definitions a call with these flags reads or changes, as libvirt
// decides: live, config, or (neither given) live when running.
struct Affected {
    bool live = false, config = false;
};

DomainResult<Affected> affected(const Domain& d, std::uint32_t flags)
{
    Affected a{(flags & affect_live) != 0, (flags & affect_config) != 0};
    if (!a.live && !a.config) (d.active() ? a.live : a.config) = true;
    if (a.live && !d.active()) return domain_fail(Errc::invalid_state, "domain is not running");
    if (a.config && !d.persistent)
        return domain_fail(Errc::invalid_state, "cannot change persistent config of a transient domain");
    return a;
}

// The <metadata> child of another namespace whose URI is uri, as stored.
std::optional<std::string> element(const DomainDef& def, const std::string& uri)
{
    for (const auto& e : def.foreign_metadata) {
        auto tag_end = e.find('>');
        auto at = e.find("=\"" + uri + "\"");
        if (at == std::string::npos) at = e.find("='" + uri + "'");
        if (at != std::string::npos && at < tag_end && e.compare(0, 1, "<") == 0) return e;
    }
    return std::nullopt;
}

}  // namespace

void connect_get_max_vcpus(const Call& call, const ConnectGetMaxVcpusArgs&)
{
    call.reply(IntRet{microvm_max_vcpus});
}

void domain_get_max_memory(const Call& call, const DomainArgs& a)
{
    with_domain(call, a.dom, [&](const DomainPtr& d) { call.reply(DomainGetMaxMemoryRet{memory_kib(call, d->def)}); });
}

void domain_get_max_vcpus(const Call& call, const DomainArgs& a)
{
    with_domain(call, a.dom, [&](const DomainPtr& d) {
        if (!d->active()) return call.fail(not_running());
        call.reply(IntRet{static_cast<std::int32_t>(d->def.vcpus)});
    });
}

void domain_get_vcpus_flags(const Call& call, const DomainFlagsArgs& a)
{
    // No vCPU hotplug: the maximum and the current count are the same.
    with_domain(call, a.dom, [&](const DomainPtr& d) {
        auto which = affected(*d, a.flags & ~vcpu_maximum);
        if (!which) return call.fail(which.error());
        const DomainDef& def = which->config && d->next_def ? *d->next_def : d->def;
        call.reply(IntRet{static_cast<std::int32_t>(def.vcpus)});
    });
}

void domain_memory_stats(const Call& call, const DomainMemoryStatsArgs& a)
{
    with_domain(call, a.dom, [&](const DomainPtr& d) {
        if (!d->active()) return call.fail(not_running());
        DomainMemoryStatsRet r;
        r.stats.push_back({stat_actual_balloon, memory_kib(call, d->def)});
        if (auto rss = call.launcher().rss_kib(d->def.name)) r.stats.push_back({stat_rss, rss});
        if (r.stats.size() > a.max_stats) r.stats.resize(a.max_stats);
        call.reply(r);
    });
}

void domain_get_metadata(const Call& call, const DomainGetMetadataArgs& a)
{
    with_domain(call, a.dom, [&](const DomainPtr& d) {
        auto which = affected(*d, a.flags);
        if (!which) return call.fail(which.error());
        const DomainDef& def = which->config && d->next_def ? *d->next_def : d->def;
        std::optional<std::string> text;
        if (a.type == metadata_description && !def.description.empty()) text = def.description;
        if (a.type == metadata_title && !def.title.empty()) text = def.title;
        if (a.type == metadata_element) {
            if (!a.uri)
                return call.fail(LibvirtError{err::invalid_arg, "invalid argument: a metadata URI is required"});
            text = element(def, *a.uri);
        }
        if (!text) return call.fail(no_metadata());
        call.reply(StringRet{*text});
    });
}

void domain_set_metadata(const Call& call, const DomainSetMetadataArgs& a)
{
    with_domain(call, a.dom, [&](const DomainPtr& d) {
        if (a.type == metadata_element)
            return call.fail(LibvirtError{err::config_unsupported,
                                          "unsupported configuration: fleet keeps <metadata> elements of other "
                                          "namespaces as defined; redefine the domain to change them"});
        if (a.type != metadata_description && a.type != metadata_title)
            return call.fail(LibvirtError{err::invalid_arg, "invalid argument: unknown metadata type"});
        if (a.type == metadata_title && a.metadata && a.metadata->find('\n') != std::string::npos)
            return call.fail(LibvirtError{err::invalid_arg, "invalid argument: a title can't contain newlines"});
        auto which = affected(*d, a.flags);
        if (!which) return call.fail(which.error());
        auto set = [&](DomainDef& def) {
            (a.type == metadata_title ? def.title : def.description) = a.metadata.value_or("");
        };
        if (which->config) {
            DomainDef next = d->next_def ? *d->next_def : d->def;
            set(next);
            if (auto r = call.registry().define(format_domain_xml(next), call.caller()); !r)
                return call.fail(r.error());
        }
        if (which->live) set(d->def);
        call.reply(Void{});
    });
}

FLEET_SERVE_GROUP(facts)

}  // namespace fleet::router::libvirt
