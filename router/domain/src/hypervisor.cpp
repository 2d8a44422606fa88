// fleet — <fleet:hypervisor children='N' memory='SIZE' depth='N'/>: the
// domain gets a hypervisor channel (docs/hypervisor.md), a virtio-serial
// port the router serves the libvirt protocol on, scoped to the domain's
// own children, within these quotas.
#include "parse.hpp"
#include "xml.hpp"

#include <fleet/vmm/spec.hpp>

#include <charconv>

namespace fleet::router {

namespace {

Result<unsigned> count_attr(pugi::xml_node node, const std::string& path, const char* name, unsigned lo, unsigned hi)
{
    auto text = xml::required_attr(node, path, name);
    if (!text) return std::unexpected(text.error());
    unsigned n = 0;
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), n);
    if (text->empty() || ec != std::errc() || end != text->data() + text->size() || n < lo || n > hi)
        return xml::fail_at(path, std::string(name) + " " + xml::quote(*text) + " is not a number from " +
                                      std::to_string(lo) + " to " + std::to_string(hi));
    return n;
}

}  // namespace

Result<> detail::parse_hypervisor(pugi::xml_node node, const std::string& path, ParseState& st)
{
    if (st.def.hypervisor) return fail("duplicate element " + xml::tag(path));
    if (auto r = xml::check_leaf(node, path, {"children", "memory", "depth", "xmlns"}); !r) return r;
    HypervisorQuota q;
    auto children = count_attr(node, path, "children", 1, HypervisorQuota::max_children);
    if (!children) return std::unexpected(children.error());
    auto depth = count_attr(node, path, "depth", 1, HypervisorQuota::max_depth);
    if (!depth) return std::unexpected(depth.error());
    auto memory = xml::required_attr(node, path, "memory");
    if (!memory) return std::unexpected(memory.error());
    auto mib = vmm::parse_memory(*memory);
    if (!mib || *mib < vmm::min_memory_mib || *mib > vmm::max_memory_mib)
        return xml::fail_at(path, "memory " + xml::quote(*memory) + " is not a size from 2MiB to 1TiB (e.g. 512MiB)");
    q.children = *children;
    q.depth = *depth;
    q.memory_mib = *mib;
    st.def.hypervisor = q;
    return {};
}

}  // namespace fleet::router
