// fleet — private helpers for domain XML: reading elements with pugixml
// (a table of allowed children per element, attribute allow-lists, text
// content) and writing XML the way libvirt does (two-space indent, single
// quotes).
#pragma once

#include <fleet/base/error.hpp>

#include <pugixml.hpp>

#include <cstddef>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace fleet::router::xml {

// pugixml's defaults, and a blank text that is an element's only child is
// kept (<description> </description> is " ", as libvirt reads it).
inline constexpr unsigned parse_flags = pugi::parse_default | pugi::parse_ws_pcdata_single;

// No raw control byte XML 1.0 forbids (pugixml would take one), and no
// reference (&#N; &#xN;) to NUL, a surrogate or past Unicode: &#0; cut a
// value short. References to other control characters are kept (format
// writes them). Comments and CDATA sections are skipped (text there).
Result<> check_characters(std::string_view document);

// Paths are relative to <domain>: "" is <domain> itself, "devices/disk".
std::string child_path(std::string_view parent, std::string_view child);
std::string tag(std::string_view path);                                             // "<devices/disk>", "<domain>"
std::unexpected<Error> fail_at(std::string_view path, const std::string& message);  // "<path>: message"
// What fleet understands but cannot honour (libvirt's CONFIG_UNSUPPORTED,
// not malformed XML): the same words, marked (is_unsupported_configuration).
inline constexpr int unsupported_errno = ENOTSUP;
std::unexpected<Error> unsupported(std::string message);
std::unexpected<Error> unsupported_at(std::string_view path, const std::string& message);

bool is_blank(std::string_view text);
std::string_view trim(std::string_view text);
bool is_namespace_declaration(std::string_view attribute_name);  // xmlns, xmlns:p

// Every attribute is in `allowed` or declares a namespace prefix (xmlns:p);
// otherwise "unsupported attribute name='value' on <path>".
Result<> only_attrs(pugi::xml_node node, std::string_view path, std::initializer_list<std::string_view> allowed);
Result<std::string> required_attr(pugi::xml_node node, std::string_view path, const char* name);

// An element that holds only text: its text and CDATA joined. A child
// element is an unsupported element.
Result<std::string> text_of(pugi::xml_node node, std::string_view path);
// The same, trimmed of blanks: for numbers and keywords.
Result<std::string> word_of(pugi::xml_node node, std::string_view path);
// An element with only attributes from `allowed` and no content, like
// <source dir='/srv'/> or <readonly/>.
Result<> check_leaf(pugi::xml_node node, std::string_view path, std::initializer_list<std::string_view> allowed = {});
// Text from the document for an error message: at most `max` bytes, cut
// short with "...". quote() puts a value in quotes, at most 64 bytes.
std::string shorten(std::string_view text, std::size_t max);
std::string quote(std::string_view value);
// A count in [lo, hi], whatever wrote it; else "NAME 'TEXT' is not a
// number from LO to HI".
Result<unsigned> count_of(std::string_view text, std::string_view name, unsigned lo, unsigned hi);

// One allowed child element and what reads it.
template <class Ctx>
struct Rule {
    std::string_view name;
    bool repeat;  // may appear more than once
    Result<> (*parse)(pugi::xml_node node, const std::string& path, Ctx& ctx);
};

// Text between child elements must be blank.
Result<> check_blank_text(pugi::xml_node node, std::string_view path);

// Reads every child element of `node` by its rule: an element without a
// rule is unsupported, a second copy of a single one is a duplicate.
template <class Ctx>
Result<> walk(pugi::xml_node node, std::string_view path, std::span<const Rule<std::type_identity_t<Ctx>>> rules,
              Ctx& ctx)
{
    if (auto r = check_blank_text(node, path); !r) return r;
    std::vector<unsigned> seen(rules.size(), 0);
    for (pugi::xml_node child : node.children()) {
        if (child.type() != pugi::node_element) continue;
        const std::string path_of_child = child_path(path, child.name());
        std::size_t i = 0;
        while (i < rules.size() && rules[i].name != child.name()) ++i;
        if (i == rules.size()) return unsupported("unsupported element " + tag(path_of_child));
        if (seen[i]++ > 0 && !rules[i].repeat) return fail("duplicate element " + tag(path_of_child));
        if (auto r = rules[i].parse(child, path_of_child, ctx); !r) return r;
    }
    return {};
}

// An element as one line of XML that reads back to itself: attributes in
// document order, single quotes, blank text dropped, comments dropped.
// For elements fleet checks and keeps as written.
std::string canonical(pugi::xml_node node);

// Indented XML out, libvirt's look: <a b='c'>text</a>, <d/>.
class Writer {
public:
    using Attrs = std::initializer_list<std::pair<std::string_view, std::string_view>>;
    void open(std::string_view name, Attrs attrs = {});
    void close(std::string_view name);
    void empty(std::string_view name, Attrs attrs = {});
    void text(std::string_view name, std::string_view value, Attrs attrs = {});
    void raw(std::string_view element);  // a complete element, written as is
    [[nodiscard]] std::string take() { return std::move(out_); }

private:
    void start(std::string_view name, Attrs attrs);
    std::string out_;
    std::size_t depth_ = 0;
};

// Escaped for XML text or a single-quoted attribute value, so that pugixml
// reads back exactly `value` (a carriage return too).
std::string escape(std::string_view value, bool attribute);

}  // namespace fleet::router::xml
