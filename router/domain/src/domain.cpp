// fleet — parse_domain_xml: bounds and syntax, the document's shape (one
// <domain>, depth, no duplicate attributes), the elements (elements.cpp,
// devices.cpp, metadata.cpp), then what holds across elements.
#include "parse.hpp"
#include "xml.hpp"

#include <algorithm>
#include <string_view>
#include <vector>

namespace fleet::router {

using detail::ParseState;

namespace {

// Depth and duplicate attributes, which pugixml lets through. Recursion
// stops at max_depth + 1.
Result<> check_tree(pugi::xml_node node, unsigned depth)
{
    if (depth > detail::max_depth)
        return fail("domain XML: nested deeper than " + std::to_string(detail::max_depth) + " elements");
    std::vector<std::string_view> names;
    for (pugi::xml_attribute a : node.attributes()) names.emplace_back(a.name());
    std::sort(names.begin(), names.end());
    if (auto d = std::adjacent_find(names.begin(), names.end()); d != names.end())
        return fail("domain XML: duplicate attribute " + xml::shorten(*d, 64) + " on " + xml::tag(node.name()));
    for (pugi::xml_node child : node.children())
        if (child.type() == pugi::node_element)
            if (auto r = check_tree(child, depth + 1); !r) return r;
    return {};
}

Result<pugi::xml_node> domain_element(const pugi::xml_document& doc)
{
    pugi::xml_node root = doc.document_element();
    if (std::string_view(root.name()) != "domain")
        return fail("domain XML: the root element is " + xml::tag(root.name()) + ", not <domain>");
    for (pugi::xml_node next = root.next_sibling(); next; next = next.next_sibling())
        if (next.type() == pugi::node_element) return fail("domain XML: extra content after </domain>");
    if (auto r = check_tree(root, 1); !r) return std::unexpected(r.error());
    return root;
}

Result<> parse_domain_attrs(pugi::xml_node root, ParseState& st)
{
    if (auto r = xml::only_attrs(root, "", {"type", "id"}); !r) return r;
    auto type = xml::required_attr(root, "", "type");
    if (!type) return std::unexpected(type.error());
    if (*type != "qemu" && *type != "kvm")
        return xml::unsupported_at("", "type " + xml::quote(*type) + " is not supported (use qemu or kvm)");
    st.def.type = *type;
    // id: a running domain's number in libvirt's own output; not part of a definition.
    const std::string_view id = root.attribute("id").as_string("-1");
    const std::string_view digits = id.starts_with('-') ? id.substr(1) : id;
    if (digits.empty() || digits.size() > 10 || digits.find_first_not_of("0123456789") != std::string_view::npos)
        return xml::fail_at("", "id " + xml::quote(id) + " is not a number");
    return {};
}

Result<> finish(ParseState& st)
{
    DomainDef& def = st.def;
    if (def.name.empty()) return fail("missing <name>");
    if (!st.has_uuid) def.uuid = random_uuid();
    if (st.current_kib && st.current_kib != st.memory_kib)
        return fail("<currentMemory> (" + std::to_string(*st.current_kib) + " KiB) must equal <memory> (" +
                    (st.memory_kib ? std::to_string(*st.memory_kib) + " KiB" : "not given") +
                    "; fleet has no balloon)");
    def.memory_kib = st.memory_kib.value_or(0);
    if (def.kernel.empty() && def.image.empty())
        return fail("nothing to boot: give <os><kernel> or <metadata><fleet:image> (namespace " +
                    std::string(fleet_xmlns) + ")");
    return detail::finish_interfaces(def);
}

}  // namespace

Result<DomainDef> parse_domain_xml(const std::string& xml)
{
    if (xml.size() > detail::max_document_bytes)
        return fail("domain XML: too large (" + std::to_string(xml.size()) + " bytes, at most 1 MiB)");
    if (auto chars = xml::check_characters(xml); !chars) return std::unexpected(chars.error());
    pugi::xml_document doc;
    const pugi::xml_parse_result parsed = doc.load_buffer(xml.data(), xml.size(), xml::parse_flags);
    if (!parsed)
        return fail("domain XML: " + std::string(parsed.description()) + " at offset " + std::to_string(parsed.offset));
    auto root = domain_element(doc);
    if (!root) return std::unexpected(root.error());
    ParseState st;
    st.def.console = false;  // until a <console> or <serial> says so
    if (auto r = parse_domain_attrs(*root, st); !r) return std::unexpected(r.error());
    if (auto r = detail::parse_domain_children(*root, st); !r) return std::unexpected(r.error());
    if (auto r = finish(st); !r) return std::unexpected(r.error());
    return std::move(st.def);
}

}  // namespace fleet::router
