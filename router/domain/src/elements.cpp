// fleet — the children of <domain> other than <devices> and <metadata>:
// identity, memory and vCPUs, <os>, lifecycle actions (the machine's
// features, cpu, clock and pm are platform.cpp's).
#include "parse.hpp"
#include "xml.hpp"

#include <fleet/vmm/spec.hpp>

#include <array>
#include <charconv>
#include <optional>

namespace fleet::router {

using detail::ParseState;
using xml::fail_at;
using xml::quote;
using xml::unsupported_at;

namespace {

std::optional<std::uint64_t> parse_number(std::string_view text)
{
    std::uint64_t n = 0;
    const char* end = text.data() + text.size();
    auto [p, ec] = std::from_chars(text.data(), end, n);
    if (text.empty() || ec != std::errc() || p != end) return std::nullopt;
    return n;
}

char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool same_word(std::string_view a, std::string_view b)  // ASCII, ignoring case
{
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

// libvirt's virScaleInteger: b/byte/bytes; k, m, g, t, p, e alone or with
// "iB" are powers of 1024, with "B" powers of 1000; any case.
std::optional<std::uint64_t> unit_bytes(std::string_view unit)
{
    if (same_word(unit, "b") || same_word(unit, "byte") || same_word(unit, "bytes")) return 1;
    if (unit.empty()) return 1024;  // as libvirt: the default
    if (unit.size() > 3) return std::nullopt;
    std::uint64_t base = 0;
    if (unit.size() == 1 || same_word(unit.substr(1), "iB"))
        base = 1024;
    else if (unit.size() == 2 && lower(unit[1]) == 'b')
        base = 1000;
    else
        return std::nullopt;
    static constexpr std::string_view prefixes = "kmgtpe";
    const auto power = prefixes.find(lower(unit[0]));
    if (power == std::string_view::npos) return std::nullopt;
    std::uint64_t scale = 1;
    for (std::size_t i = 0; i <= power; ++i) scale *= base;
    return scale;
}

// <memory> and <currentMemory>: a count of `unit`, in KiB rounded up.
// nullopt when it does not fit in 64 bits of bytes.
Result<std::optional<std::uint64_t>> size_kib(pugi::xml_node node, const std::string& path)
{
    if (auto r = xml::only_attrs(node, path, {"unit"}); !r) return std::unexpected(r.error());
    auto text = xml::word_of(node, path);
    if (!text) return std::unexpected(text.error());
    const auto count = parse_number(*text);
    if (!count) return fail_at(path, quote(*text) + " is not a number");
    const pugi::xml_attribute unit = node.attribute("unit");
    const auto scale = unit_bytes(unit ? unit.value() : "KiB");
    if (!scale) return fail_at(path, "unknown unit " + quote(unit.value()) + " (use KiB, MiB, GiB, ...)");
    if (*count > UINT64_MAX / *scale) return std::optional<std::uint64_t>{};
    const std::uint64_t bytes = *count * *scale;
    return std::optional<std::uint64_t>{bytes / 1024 + (bytes % 1024 != 0)};
}

Result<> parse_memory(pugi::xml_node node, const std::string& path, ParseState& st)
{
    auto kib = size_kib(node, path);
    if (!kib) return std::unexpected(kib.error());
    constexpr std::uint64_t min = vmm::min_memory_mib * 1024, max = vmm::max_memory_mib * 1024;
    if (!*kib || **kib < min || **kib > max) {
        const std::string size = *kib ? std::to_string(**kib) + " KiB" : "more than 16 EiB";
        return fail_at(path, size + " is out of range (2 MiB to 1 TiB)");
    }
    st.memory_kib = **kib;
    return {};
}

Result<> parse_current_memory(pugi::xml_node node, const std::string& path, ParseState& st)
{
    auto kib = size_kib(node, path);
    if (!kib) return std::unexpected(kib.error());
    st.current_kib = kib->value_or(UINT64_MAX);
    return {};
}

Result<> parse_vcpu(pugi::xml_node node, const std::string& path, ParseState& st)
{
    if (auto r = xml::only_attrs(node, path, {"placement", "current"}); !r) return r;
    const std::string_view placement = node.attribute("placement").as_string("static");
    if (placement != "static")
        return unsupported_at(path, "placement " + quote(placement) + " is not supported (use static)");
    auto text = xml::word_of(node, path);
    if (!text) return std::unexpected(text.error());
    const auto n = parse_number(*text);
    if (!n || *n < 1 || *n > vmm::max_vcpus)
        return fail_at(path, quote(*text) + " is not a vCPU count from 1 to " + std::to_string(vmm::max_vcpus));
    if (pugi::xml_attribute current = node.attribute("current"); current && parse_number(current.value()) != n)
        return fail_at(path, "current=" + quote(current.value()) + " must equal the vCPU count " + *text +
                                 " (fleet has no vCPU hot-plug)");
    st.def.vcpus = static_cast<unsigned>(*n);
    return {};
}

Result<> parse_name(pugi::xml_node node, const std::string& path, ParseState& st)
{
    if (auto r = xml::only_attrs(node, path, {}); !r) return r;
    auto text = xml::text_of(node, path);
    if (!text) return std::unexpected(text.error());
    if (auto r = check_domain_name(*text); !r) return fail_at(path, r.error().message);
    st.def.name = *text;
    return {};
}

Result<> parse_uuid_element(pugi::xml_node node, const std::string& path, ParseState& st)
{
    if (auto r = xml::only_attrs(node, path, {}); !r) return r;
    auto text = xml::word_of(node, path);
    if (!text) return std::unexpected(text.error());
    auto uuid = parse_uuid(*text);
    if (!uuid) return fail_at(path, uuid.error().message);
    st.def.uuid = *uuid;
    st.has_uuid = true;
    return {};
}

Result<> parse_title(pugi::xml_node node, const std::string& path, ParseState& st)
{
    if (auto r = xml::only_attrs(node, path, {}); !r) return r;
    auto text = xml::text_of(node, path);
    if (!text) return std::unexpected(text.error());
    if (text->find('\n') != std::string::npos) return fail_at(path, "must be a single line (as in libvirt)");
    st.def.title = *text;
    return {};
}

Result<> parse_description(pugi::xml_node node, const std::string& path, ParseState& st)
{
    if (auto r = xml::only_attrs(node, path, {}); !r) return r;
    auto text = xml::text_of(node, path);
    if (!text) return std::unexpected(text.error());
    st.def.description = *text;
    return {};
}

// <on_poweroff>, <on_reboot>, <on_crash>.
Result<> parse_lifecycle(pugi::xml_node node, const std::string& path, ParseState&)
{
    if (auto r = xml::only_attrs(node, path, {}); !r) return r;
    auto text = xml::word_of(node, path);
    if (!text) return std::unexpected(text.error());
    if (*text != "destroy")
        return unsupported_at(
            path, quote(*text) + " is not supported (a fleet domain ends when its guest stops: use destroy)");
    return {};
}

// <os><type arch='x86_64' machine='microvm'>hvm</type>
Result<> parse_os_type(pugi::xml_node node, const std::string& path, ParseState&)
{
    if (auto r = xml::only_attrs(node, path, {"arch", "machine"}); !r) return r;
    const std::string_view arch = node.attribute("arch").as_string("x86_64");
    if (arch != "x86_64")
        return unsupported_at(path, "arch " + quote(arch) + " is not supported; fleet runs x86_64 only");
    const std::string_view machine = node.attribute("machine").as_string("microvm");
    if (machine != "microvm")
        return unsupported_at(path, "machine " + quote(machine) + " is not supported; fleet runs microvm only");
    auto text = xml::word_of(node, path);
    if (!text) return std::unexpected(text.error());
    if (*text != "hvm") return unsupported_at(path, quote(*text) + " is not supported; fleet runs hvm guests only");
    return {};
}

// <kernel>, <initrd>, <cmdline>: text kept as it is.
template <std::string DomainDef::*field>
Result<> parse_os_text(pugi::xml_node node, const std::string& path, ParseState& st)
{
    if (auto r = xml::only_attrs(node, path, {}); !r) return r;
    auto text = xml::text_of(node, path);
    if (!text) return std::unexpected(text.error());
    st.def.*field = *text;
    return {};
}

constexpr std::array<xml::Rule<ParseState>, 4> os_rules{{
    {"type", false, parse_os_type},
    {"kernel", false, parse_os_text<&DomainDef::kernel>},
    {"initrd", false, parse_os_text<&DomainDef::initrd>},
    {"cmdline", false, parse_os_text<&DomainDef::cmdline>},
}};

Result<> parse_os(pugi::xml_node node, const std::string& path, ParseState& st)
{
    if (auto r = xml::only_attrs(node, path, {}); !r) return r;
    return xml::walk(node, path, std::span(os_rules), st);
}

constexpr std::array<xml::Rule<ParseState>, 17> domain_rules{{
    {"name", false, parse_name},
    {"uuid", false, parse_uuid_element},
    {"title", false, parse_title},
    {"description", false, parse_description},
    {"memory", false, parse_memory},
    {"currentMemory", false, parse_current_memory},
    {"vcpu", false, parse_vcpu},
    {"os", false, parse_os},
    {"on_poweroff", false, parse_lifecycle},
    {"on_reboot", false, parse_lifecycle},
    {"on_crash", false, parse_lifecycle},
    {"features", false, detail::parse_features},
    {"cpu", false, detail::parse_cpu},
    {"clock", false, detail::parse_clock},
    {"pm", false, detail::parse_pm},
    {"devices", false, detail::parse_devices},
    {"metadata", false, detail::parse_metadata},
}};

}  // namespace

Result<> detail::parse_domain_children(pugi::xml_node domain, ParseState& st)
{
    return xml::walk(domain, "", std::span(domain_rules), st);
}

Result<> check_domain_name(const std::string& name)
{
    if (!vmm::is_valid_name(name)) return fail("bad domain name " + quote(name) + " (" + vmm::name_rule + ")");
    return {};
}

}  // namespace fleet::router
