// fleet — <fleet:hypervisor children='N' memory='SIZE' depth='N'/>: the
// domain gets a hypervisor channel (docs/hypervisor.md), a virtio-serial
// port the router serves the libvirt protocol on, scoped to the domain's
// own children, within these quotas.
#include "parse.hpp"
#include "xml.hpp"

#include <fleet/vmm/spec.hpp>

#include <algorithm>
#include <charconv>
#include <optional>

namespace fleet::router {

namespace {

Result<std::uint64_t> memory_of(std::string_view text)
{
    auto mib = vmm::parse_memory(std::string(text));
    if (!mib || *mib < vmm::min_memory_mib || *mib > vmm::max_memory_mib)
        return fail("memory " + xml::quote(std::string(text)) + " is not a size from 2MiB to 1TiB (e.g. 512MiB)");
    return *mib;
}

Result<HypervisorQuota> quota_of(std::string_view children, std::string_view memory, std::string_view depth)
{
    HypervisorQuota q;
    auto c = xml::count_of(children, "children", 1, HypervisorQuota::max_children);
    if (!c) return std::unexpected(c.error());
    auto d = xml::count_of(depth, "depth", 1, HypervisorQuota::max_depth);
    if (!d) return std::unexpected(d.error());
    auto m = memory_of(memory);
    if (!m) return std::unexpected(m.error());
    q.children = *c;
    q.depth = *d;
    q.memory_mib = *m;
    return q;
}

}  // namespace

Result<> detail::parse_hypervisor(pugi::xml_node node, const std::string& path, ParseState& st)
{
    if (st.def.hypervisor) return fail("duplicate element " + xml::tag(path));
    if (auto r = xml::check_leaf(node, path, {"children", "memory", "depth", "xmlns"}); !r) return r;
    std::string values[3];
    const char* names[3] = {"children", "memory", "depth"};
    for (int i = 0; i < 3; i++) {
        auto text = xml::required_attr(node, path, names[i]);
        if (!text) return std::unexpected(text.error());
        values[i] = *text;
    }
    auto q = quota_of(values[0], values[1], values[2]);
    if (!q) return xml::fail_at(path, q.error().message);
    st.def.hypervisor = *q;
    return {};
}

Result<HypervisorQuota> parse_hypervisor_quota(std::string_view words)
{
    std::optional<std::string_view> children, memory, depth;
    while (!words.empty()) {
        std::string_view word = words.substr(0, words.find(','));
        words.remove_prefix(std::min(words.size(), word.size() + 1));
        auto eq = word.find('=');
        std::string_view key = word.substr(0, eq), value = eq == word.npos ? "" : word.substr(eq + 1);
        auto* slot = key == "children" ? &children : key == "memory" ? &memory : key == "depth" ? &depth : nullptr;
        if (!slot || eq == word.npos)
            return fail(xml::quote(std::string(word)) + " is not children=N, memory=SIZE or depth=N");
        if (*slot) return fail(std::string(key) + " is given twice");
        *slot = value;
    }
    if (!children || !memory) return fail("children=N and memory=SIZE are both needed (e.g. children=4,memory=256MiB)");
    return quota_of(*children, *memory, depth.value_or("1"));
}

}  // namespace fleet::router
