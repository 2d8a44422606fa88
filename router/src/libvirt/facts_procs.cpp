// fleet-router — facts about one domain beyond dominfo, and its title and
// description (the `facts` group of wire/procedures.def): max memory and
// vCPUs (fixed at define: a microvm has no memory or CPU hotplug), memory
// stats as QEMU's process shows them (no balloon device), metadata: title,
// description and elements of other namespaces, read and set.
#include "dispatch.hpp"
#include "host.hpp"

#include <pugixml.hpp>

#include <algorithm>
#include <cctype>
#include <optional>
#include <sstream>

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

// Whether a stored <metadata> child (self-contained: its namespace
// declared in its start tag) is in the namespace uri.
bool in_namespace(const std::string& e, const std::string& uri)
{
    auto tag_end = e.find('>');
    auto at = e.find("=\"" + uri + "\"");
    if (at == std::string::npos) at = e.find("='" + uri + "'");
    return at != std::string::npos && at < tag_end && e.compare(0, 1, "<") == 0;
}

// The <metadata> child of another namespace whose URI is uri, as stored.
std::optional<std::string> element(const DomainDef& def, const std::string& uri)
{
    for (const auto& e : def.foreign_metadata)
        if (in_namespace(e, uri)) return e;
    return std::nullopt;
}

// An XML name usable as a namespace prefix: a letter or '_', then
// letters, digits, '_', '-', '.' (ASCII; libvirt asks for an XML NCName).
bool valid_prefix(const std::string& key)
{
    auto first = [](char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; };
    auto rest = [&](char c) { return first(c) || std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '.'; };
    if (key.empty() || !first(key[0]) || key.starts_with("xml") || key.starts_with("XML")) return false;
    return std::all_of(key.begin() + 1, key.end(), rest);
}

// Limits on what a client may store (docs/domain-xml.md).
constexpr std::size_t max_title = 1024, max_description = 64 * 1024, max_element = 64 * 1024, max_key = 64,
                      max_uri = 1024;

std::optional<LibvirtError> check_metadata_args(const DomainSetMetadataArgs& a)
{
    auto invalid = [](std::string why) { return LibvirtError{err::invalid_arg, "invalid argument: " + why}; };
    const std::size_t size = a.metadata ? a.metadata->size() : 0;
    if (a.type == metadata_title) {
        if (a.metadata && a.metadata->find('\n') != std::string::npos) return invalid("a title can't contain newlines");
        if (size > max_title) return invalid("a title is at most 1024 bytes");
    }
    if (a.type == metadata_description && size > max_description) return invalid("a description is at most 64 KiB");
    if (a.type != metadata_element) return std::nullopt;
    if (!a.uri || a.uri->empty()) return invalid("a metadata URI is required");
    if (a.uri->size() > max_uri) return invalid("a metadata URI is at most 1024 bytes");
    if (a.uri == std::string(fleet_xmlns))
        return LibvirtError{err::config_unsupported, "unsupported configuration: fleet's own metadata (" +
                                                         std::string(fleet_xmlns) +
                                                         ") changes by redefining the domain"};
    if (!a.metadata) return std::nullopt;  // removal
    if (!a.key || a.key->empty()) return invalid("a metadata key is required");
    if (a.key->size() > max_key || !valid_prefix(*a.key))
        return invalid("a metadata key is an XML name without ':' of at most 64 bytes");
    if (size > max_element) return invalid("a metadata element is at most 64 KiB");
    return std::nullopt;
}

// The element as libvirt stores it: its root put in the namespace uri
// under the prefix key (declared on it); the rest as given.
Result<std::string> namespaced(const std::string& text, const std::string& key, const std::string& uri)
{
    pugi::xml_document doc;
    auto parsed = doc.load_buffer(text.data(), text.size(), pugi::parse_default, pugi::encoding_utf8);
    if (!parsed) return fail(std::string("the metadata element does not parse: ") + parsed.description());
    pugi::xml_node root;
    for (pugi::xml_node n : doc.children()) {
        if (n.type() != pugi::node_element) continue;
        if (root) return fail("the metadata is more than one element");
        root = n;
    }
    if (!root) return fail("the metadata is not an element");
    std::string name = root.name();
    if (auto colon = name.find(':'); colon != std::string::npos) name = name.substr(colon + 1);
    root.set_name((key + ":" + name).c_str());
    root.remove_attribute(("xmlns:" + key).c_str());
    root.prepend_attribute(("xmlns:" + key).c_str()).set_value(uri.c_str());
    std::ostringstream out;
    root.print(out, "", pugi::format_raw);
    return out.str();
}

// The change a set asks for, on one definition.
Result<> apply_metadata(DomainDef& def, const DomainSetMetadataArgs& a)
{
    if (a.type == metadata_title) def.title = a.metadata.value_or("");
    if (a.type == metadata_description) def.description = a.metadata.value_or("");
    if (a.type != metadata_element) return {};
    auto& all = def.foreign_metadata;
    auto same = std::find_if(all.begin(), all.end(), [&](const std::string& e) { return in_namespace(e, *a.uri); });
    if (!a.metadata) {
        if (same != all.end()) all.erase(same);
        return {};
    }
    auto text = namespaced(*a.metadata, *a.key, *a.uri);
    if (!text) return std::unexpected(text.error());
    if (same != all.end())
        *same = std::move(*text);
    else
        all.push_back(std::move(*text));
    return {};
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
    if (a.type != metadata_description && a.type != metadata_title && a.type != metadata_element)
        return call.fail(LibvirtError{err::invalid_arg, "invalid argument: unknown metadata type"});
    if (auto bad = check_metadata_args(a)) return call.fail(*bad);
    with_domain(call, a.dom, [&](const DomainPtr& d) {
        auto which = affected(*d, a.flags);
        if (!which) return call.fail(which.error());
        // Each changed definition is checked whole (format, parse) before
        // anything is kept: the document limit holds, and a bad element
        // changes nothing.
        auto changed = [&](const DomainDef& from) -> Result<DomainDef> {
            DomainDef next = from;
            if (auto ok = apply_metadata(next, a); !ok) return std::unexpected(ok.error());
            return parse_domain_xml(format_domain_xml(next));
        };
        std::optional<DomainDef> live;
        if (which->live) {
            auto n = changed(d->def);
            if (!n) return call.fail(LibvirtError{err::xml_error, "XML error: " + n.error().what()});
            live = std::move(*n);
        }
        if (which->config) {
            auto n = changed(d->next_def ? *d->next_def : d->def);
            if (!n) return call.fail(LibvirtError{err::xml_error, "XML error: " + n.error().what()});
            if (auto r = call.registry().define(format_domain_xml(*n), call.caller()); !r) return call.fail(r.error());
        }
        if (live) {
            // The persistent definition stays as it was: a live change
            // ends with the VM (and dumpxml --inactive does not show it).
            if (d->persistent && !d->next_def) d->next_def = d->def;
            d->def.title = live->title;
            d->def.description = live->description;
            d->def.foreign_metadata = live->foreign_metadata;
        }
        call.reply(Void{});
    });
}

FLEET_SERVE_GROUP(facts)

}  // namespace fleet::router::libvirt
