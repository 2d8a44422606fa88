// fleet — domain XML helpers (see xml.hpp).
#include "xml.hpp"

#include <fleet/router/domain.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <optional>
#include <span>

namespace fleet::router {

bool is_unsupported_configuration(const Error& e)
{
    return e.sys_errno == xml::unsupported_errno;
}

}  // namespace fleet::router

namespace fleet::router::xml {

std::string child_path(std::string_view parent, std::string_view child)
{
    if (parent.empty()) return std::string(child);
    return std::string(parent) + "/" + std::string(child);
}

std::string shorten(std::string_view text, std::size_t max)
{
    if (text.size() <= max) return std::string(text);
    std::size_t cut = max - 3;  // not inside a UTF-8 sequence
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xc0) == 0x80) --cut;
    return std::string(text.substr(0, cut)) + "...";
}

std::string tag(std::string_view path)
{
    return "<" + shorten(path.empty() ? "domain" : path, 128) + ">";
}

std::unexpected<Error> fail_at(std::string_view path, const std::string& message)
{
    return fail(tag(path) + ": " + message);
}

std::unexpected<Error> unsupported(std::string message)
{
    return fail(std::move(message), unsupported_errno);
}

std::unexpected<Error> unsupported_at(std::string_view path, const std::string& message)
{
    return unsupported(tag(path) + ": " + message);
}

std::string quote(std::string_view value)
{
    return "'" + shorten(value, 64) + "'";
}

namespace {

// XML 1.0's Char production.
bool is_xml_char(unsigned long c)
{
    return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) || (c >= 0xE000 && c <= 0xFFFD) ||
           (c >= 0x10000 && c <= 0x10FFFF);
}

int digit(char c, bool hex)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (hex && c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (hex && c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// The code point of the reference at text[at] ("&#...;"), or nullopt if it
// is not a well-formed one (pugixml keeps those as text).
std::optional<unsigned long> char_reference(std::string_view text, std::size_t at, std::size_t& end)
{
    std::size_t i = at + 2;
    bool hex = i < text.size() && text[i] == 'x';
    if (hex) ++i;
    unsigned long value = 0;
    std::size_t digits = 0;
    for (; i < text.size() && text[i] != ';'; ++i, ++digits) {
        int d = digit(text[i], hex);
        if (d < 0) return std::nullopt;
        value = std::min<unsigned long>(value * (hex ? 16 : 10) + static_cast<unsigned long>(d), 0x110000);
    }
    if (i >= text.size() || digits == 0) return std::nullopt;
    end = i;
    return value;
}

// Comments and CDATA sections: their text is not parsed, but control
// characters are refused there too. Both begin with '<', which most bytes
// are not (the check runs on every byte of every definition).
using Section = std::pair<std::string_view, std::string_view>;
constexpr std::array<Section, 2> unparsed_sections{{{"<!--", "-->"}, {"<![CDATA[", "]]>"}}};

}  // namespace

Result<> check_characters(std::string_view doc)
{
    auto bad = [](std::string what, std::size_t at) {
        return fail("domain XML: " + what + " at offset " + std::to_string(at));
    };
    for (std::size_t i = 0; i < doc.size(); ++i) {
        auto c = static_cast<unsigned char>(doc[i]);
        if (c < 0x20 && !is_xml_char(c)) return bad("control character " + std::to_string(c) + " is not allowed", i);
        for (const auto& [open, close] : c == '<' ? unparsed_sections : std::span<const Section>{}) {
            if (!doc.substr(i).starts_with(open)) continue;
            std::size_t e = doc.find(close, i);
            if (e == std::string_view::npos) return {};  // unterminated: pugixml says so
            for (std::size_t k = i; k < e; ++k)
                if (static_cast<unsigned char>(doc[k]) < 0x20 && !is_xml_char(static_cast<unsigned char>(doc[k])))
                    return bad("control character is not allowed", k);
            i = e + close.size() - 1;
        }
        if (c != '&' || i + 1 >= doc.size() || doc[i + 1] != '#') continue;
        std::size_t end = i;
        auto value = char_reference(doc, i, end);
        // Control characters by reference are kept (the formatter writes
        // them so text survives the round trip); NUL, surrogates and
        // numbers past Unicode are no characters at all.
        if (value && (*value == 0 || (*value >= 0xD800 && *value <= 0xDFFF) || *value > 0x10FFFF))
            return bad("character reference '" + std::string(doc.substr(i, end + 1 - i)) + "' is not a character", i);
    }
    return {};
}

bool is_blank(std::string_view text)
{
    return text.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

std::string_view trim(std::string_view text)
{
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return {};
    const auto last = text.find_last_not_of(" \t\r\n");
    return text.substr(first, last - first + 1);
}

bool is_namespace_declaration(std::string_view attribute_name)
{
    return attribute_name == "xmlns" || attribute_name.starts_with("xmlns:");
}

Result<> only_attrs(pugi::xml_node node, std::string_view path, std::initializer_list<std::string_view> allowed)
{
    for (pugi::xml_attribute a : node.attributes()) {
        const std::string_view name = a.name();
        bool ok = name.starts_with("xmlns:");
        for (std::string_view known : allowed) ok = ok || name == known;
        if (!ok)
            return unsupported("unsupported attribute " + shorten(name, 64) + "=" + quote(a.value()) + " on " +
                               tag(path));
    }
    return {};
}

Result<std::string> required_attr(pugi::xml_node node, std::string_view path, const char* name)
{
    pugi::xml_attribute a = node.attribute(name);
    if (!a) return fail_at(path, "missing attribute " + std::string(name));
    return std::string(a.value());
}

Result<std::string> text_of(pugi::xml_node node, std::string_view path)
{
    std::string text;
    for (pugi::xml_node child : node.children()) {
        if (child.type() == pugi::node_pcdata || child.type() == pugi::node_cdata) text += child.value();
        if (child.type() == pugi::node_element)
            return unsupported("unsupported element " + tag(child_path(path, child.name())));
    }
    return text;
}

Result<std::string> word_of(pugi::xml_node node, std::string_view path)
{
    auto text = text_of(node, path);
    if (!text) return text;
    return std::string(trim(*text));
}

Result<> check_leaf(pugi::xml_node node, std::string_view path, std::initializer_list<std::string_view> allowed)
{
    if (auto r = only_attrs(node, path, allowed); !r) return r;
    auto text = text_of(node, path);
    if (!text) return std::unexpected(text.error());
    if (!is_blank(*text)) return fail_at(path, "takes no text");
    return {};
}

Result<> check_blank_text(pugi::xml_node node, std::string_view path)
{
    for (pugi::xml_node child : node.children()) {
        const bool text = child.type() == pugi::node_pcdata || child.type() == pugi::node_cdata;
        if (text && !is_blank(child.value())) return fail("unexpected text in " + tag(path));
    }
    return {};
}

std::string escape(std::string_view value, bool attribute)
{
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '&')
            out += "&amp;";
        else if (c == '<')
            out += "&lt;";
        else if (c == '>')
            out += "&gt;";
        else if (c == '\'' && attribute)
            out += "&apos;";
        else if (u < 32 && (attribute || (c != '\t' && c != '\n')))
            out += "&#" + std::to_string(u) + ";";
        else
            out += c;
    }
    return out;
}

namespace {
void write_canonical(pugi::xml_node node, std::string& out)
{
    out += '<';
    out += node.name();
    for (pugi::xml_attribute a : node.attributes())
        out += " " + std::string(a.name()) + "='" + escape(a.value(), true) + "'";
    std::string inside;
    for (pugi::xml_node child : node.children()) {
        if (child.type() == pugi::node_element)
            write_canonical(child, inside);
        else if ((child.type() == pugi::node_pcdata || child.type() == pugi::node_cdata) && !is_blank(child.value()))
            inside += escape(child.value(), false);
    }
    if (inside.empty()) {
        out += "/>";
        return;
    }
    out += ">" + inside + "</" + node.name() + ">";
}
}  // namespace

std::string canonical(pugi::xml_node node)
{
    std::string out;
    write_canonical(node, out);  // depth is bounded by the parser's check
    return out;
}

void Writer::start(std::string_view name, Attrs attrs)
{
    out_.append(2 * depth_, ' ');
    out_ += '<';
    out_ += name;
    for (const auto& [key, value] : attrs) {
        out_ += ' ';
        out_ += key;
        out_ += "='" + escape(value, true) + "'";
    }
}

void Writer::open(std::string_view name, Attrs attrs)
{
    start(name, attrs);
    out_ += ">\n";
    ++depth_;
}

void Writer::close(std::string_view name)
{
    --depth_;
    out_.append(2 * depth_, ' ');
    out_ += "</" + std::string(name) + ">\n";
}

void Writer::empty(std::string_view name, Attrs attrs)
{
    start(name, attrs);
    out_ += "/>\n";
}

void Writer::text(std::string_view name, std::string_view value, Attrs attrs)
{
    start(name, attrs);
    out_ += ">" + escape(value, false) + "</" + std::string(name) + ">\n";
}

void Writer::raw(std::string_view element)
{
    out_.append(2 * depth_, ' ');
    out_ += element;
    out_ += '\n';
}

Result<unsigned> count_of(std::string_view text, std::string_view name, unsigned lo, unsigned hi)
{
    unsigned n = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || n < lo || n > hi)
        return fail(std::string(name) + " " + quote(text) + " is not a number from " + std::to_string(lo) + " to " +
                    std::to_string(hi));
    return n;
}

}  // namespace fleet::router::xml
