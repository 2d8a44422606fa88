// fleet — <metadata>: fleet's own elements, found by namespace URI
// (fleet_xmlns) whatever the prefix, and every other namespace's elements
// kept as XML text that stands on its own. pugixml knows no namespaces, so
// the xmlns declarations are resolved here.
#include "parse.hpp"
#include "xml.hpp"

#include <algorithm>
#include <optional>
#include <sstream>
#include <utility>
#include <vector>

namespace fleet::router {

using detail::ParseState;
using xml::fail_at;
using xml::quote;

namespace {

std::string_view prefix_of(std::string_view name)
{
    const auto colon = name.find(':');
    return colon == std::string_view::npos ? std::string_view{} : name.substr(0, colon);
}

std::string_view local_of(std::string_view name)
{
    const auto colon = name.find(':');
    return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

// The URI bound to `prefix` ("" = the default namespace) at `node`, looking
// up through its ancestors, stopping after `last` (or at the document).
std::optional<std::string> lookup_namespace(pugi::xml_node node, std::string_view prefix, pugi::xml_node last = {})
{
    const std::string attr = prefix.empty() ? "xmlns" : "xmlns:" + std::string(prefix);
    for (pugi::xml_node n = node; n.type() == pugi::node_element; n = n.parent()) {
        if (pugi::xml_attribute a = n.attribute(attr.c_str())) return std::string(a.value());
        if (n == last) break;
    }
    return std::nullopt;
}

using Declarations = std::vector<std::pair<std::string, std::string>>;  // prefix, URI

// Collects the declarations of the prefixes used in the subtree of `node`
// that are made outside `root` (on <metadata> or <domain>).
Result<> outer_declarations(pugi::xml_node node, pugi::xml_node root, const std::string& path, Declarations& out)
{
    std::vector<std::string_view> prefixes{prefix_of(node.name())};
    for (pugi::xml_attribute a : node.attributes())
        if (!xml::is_namespace_declaration(a.name())) prefixes.push_back(prefix_of(a.name()));
    for (std::string_view p : prefixes) {
        if (p.empty() || p == "xml" || lookup_namespace(node, p, root)) continue;
        auto uri = lookup_namespace(root.parent(), p);
        if (!uri) return fail_at(path, "namespace prefix " + quote(p) + " is not declared");
        auto known = [&](const auto& d) { return d.first == p; };
        if (std::none_of(out.begin(), out.end(), known)) out.emplace_back(p, *uri);
    }
    for (pugi::xml_node child : node.children())  // depth is bounded by the parser
        if (child.type() == pugi::node_element)
            if (auto r = outer_declarations(child, root, path, out); !r) return r;
    return {};
}

// pugixml's compact output, with carriage returns escaped: pugixml writes
// them as they are in text, and reading would turn them into newlines.
struct TextWriter : pugi::xml_writer {
    std::string out;
    void write(const void* data, std::size_t size) override
    {
        for (const char c : std::string_view(static_cast<const char*>(data), size)) {
            if (c == '\r')
                out += "&#13;";
            else
                out += c;
        }
    }
};

std::string print(pugi::xml_node node)
{
    TextWriter w;
    node.print(w, "", pugi::format_raw | pugi::format_attribute_single_quote);
    return std::move(w.out);
}

// A foreign element as text that reads back to itself on its own.
Result<std::string> foreign_element(pugi::xml_node node, const std::string& path)
{
    Declarations outer;
    if (auto r = outer_declarations(node, node, path, outer); !r) return std::unexpected(r.error());
    pugi::xml_document doc;
    pugi::xml_node copy = doc.append_copy(node);
    for (const auto& [prefix, uri] : outer) copy.append_attribute(("xmlns:" + prefix).c_str()).set_value(uri.c_str());
    // Printed, read and printed again: the text is then what it reads as.
    const std::string once = print(copy);
    pugi::xml_document again;
    if (!again.load_buffer(once.data(), once.size(), xml::parse_flags) || !again.document_element())
        return fail_at(path, "cannot be kept as it is");
    return print(again.document_element());
}

// <fleet:env name='NAME' value='VALUE'/>
Result<> parse_env(pugi::xml_node node, const std::string& path, ParseState& st)
{
    if (auto r = xml::check_leaf(node, path, {"name", "value", "xmlns"}); !r) return r;
    auto name = xml::required_attr(node, path, "name");
    if (!name) return std::unexpected(name.error());
    auto value = xml::required_attr(node, path, "value");
    if (!value) return std::unexpected(value.error());
    if (name->empty() || name->find('=') != std::string::npos)
        return fail_at(path, "name " + xml::quote(*name) + " is not a variable name (non-empty, no '=')");
    st.def.env.emplace_back(std::move(*name), std::move(*value));
    return {};
}

// <fleet:workdir>/PATH</fleet:workdir>
Result<> parse_workdir(pugi::xml_node node, const std::string& path, ParseState& st)
{
    if (!st.def.workdir.empty()) return fail("duplicate element " + xml::tag(path));
    auto text = xml::text_of(node, path);
    if (!text) return std::unexpected(text.error());
    if (text->empty() || (*text)[0] != '/') return fail_at(path, xml::quote(*text) + " is not an absolute path");
    st.def.workdir = std::move(*text);
    return {};
}

// <fleet:net outbound='yes|no'/>
Result<> parse_net(pugi::xml_node node, const std::string& path, ParseState& st)
{
    if (st.def.outbound) return fail("duplicate element " + xml::tag(path));
    if (auto r = xml::check_leaf(node, path, {"outbound", "xmlns"}); !r) return r;
    auto value = xml::required_attr(node, path, "outbound");
    if (!value) return std::unexpected(value.error());
    if (*value != "yes" && *value != "no") return fail_at(path, "outbound " + quote(*value) + " is not yes or no");
    st.def.outbound = *value == "yes";
    return {};
}

// <fleet:terminal rows='N' cols='N' [stderr='yes|no']/>
Result<> parse_terminal(pugi::xml_node node, const std::string& path, ParseState& st)
{
    if (st.def.terminal) return fail("duplicate element " + xml::tag(path));
    if (auto r = xml::check_leaf(node, path, {"rows", "cols", "stderr", "xmlns"}); !r) return r;
    DomainTerminal t;
    for (auto [name, field] : {std::pair{"rows", &t.rows}, std::pair{"cols", &t.cols}}) {
        auto value = xml::required_attr(node, path, name);
        if (!value) return std::unexpected(value.error());
        auto n = xml::count_of(*value, name, 1, DomainTerminal::max_size);
        if (!n) return fail_at(path, n.error().message);
        *field = static_cast<std::uint16_t>(*n);
    }
    if (pugi::xml_attribute a = node.attribute("stderr")) {
        std::string_view v = a.value();
        if (v != "yes" && v != "no") return fail_at(path, "stderr " + quote(v) + " is not yes or no");
        t.stderr_too = v == "yes";
    }
    st.def.terminal = t;
    return {};
}

// A name the policy can say group:NAME of (netfilter/README.md).
bool valid_group_name(std::string_view name)
{
    auto ok = [](char c, bool first) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
               (!first && (c == '.' || c == '-'));
    };
    if (name.empty() || name.size() > 64 || !ok(name[0], true)) return false;
    return std::all_of(name.begin() + 1, name.end(), [&](char c) { return ok(c, false); });
}

// <fleet:groups>NAME NAME …</fleet:groups>
Result<> parse_groups(pugi::xml_node node, const std::string& path, ParseState& st)
{
    if (!st.def.groups.empty()) return fail("duplicate element " + xml::tag(path));
    auto text = xml::text_of(node, path);
    if (!text) return std::unexpected(text.error());
    std::istringstream words(*text);
    for (std::string name; words >> name;) {
        if (!valid_group_name(name))
            return fail_at(path, quote(name) + " is not a group name ([A-Za-z0-9_][A-Za-z0-9_.-]*, at most 64)");
        if (std::find(st.def.groups.begin(), st.def.groups.end(), name) != st.def.groups.end())
            return fail_at(path, "group " + quote(name) + " is named twice");
        st.def.groups.push_back(std::move(name));
    }
    if (st.def.groups.empty()) return fail_at(path, "names no group");
    return {};
}

Result<> parse_fleet_element(pugi::xml_node node, const std::string& path, ParseState& st)
{
    const std::string_view local = local_of(node.name());
    if (local == "env") return parse_env(node, path, st);
    if (local == "net") return parse_net(node, path, st);
    if (local == "hypervisor") return detail::parse_hypervisor(node, path, st);
    if (local == "terminal") return parse_terminal(node, path, st);
    if (auto r = xml::only_attrs(node, path, {"xmlns"}); !r) return r;
    if (local == "workdir") return parse_workdir(node, path, st);
    if (local == "groups") return parse_groups(node, path, st);
    if (local != "image" && local != "arg") return xml::unsupported("unsupported element " + xml::tag(path));
    auto text = xml::text_of(node, path);
    if (!text) return std::unexpected(text.error());
    if (local == "arg") {
        st.def.args.push_back(std::move(*text));
        return {};
    }
    if (!st.def.image.empty()) return fail("duplicate element " + xml::tag(path));
    if (xml::is_blank(*text)) return fail_at(path, "names no image");
    st.def.image = std::move(*text);
    return {};
}

}  // namespace

Result<> detail::parse_metadata(pugi::xml_node node, const std::string& path, ParseState& st)
{
    if (auto r = xml::only_attrs(node, path, {}); !r) return r;
    if (auto r = xml::check_blank_text(node, path); !r) return r;
    for (pugi::xml_node child : node.children()) {
        if (child.type() != pugi::node_element) continue;
        const std::string child_path = xml::child_path(path, child.name());
        const std::string_view prefix = prefix_of(child.name());
        const auto uri = lookup_namespace(child, prefix);
        if (!uri && !prefix.empty())
            return fail_at(child_path, "namespace prefix " + quote(prefix) + " is not declared");
        if (uri == fleet_xmlns) {
            if (auto r = parse_fleet_element(child, child_path, st); !r) return r;
            continue;
        }
        auto text = foreign_element(child, child_path);
        if (!text) return std::unexpected(text.error());
        st.def.foreign_metadata.push_back(std::move(*text));
    }
    return {};
}

}  // namespace fleet::router
