// fleet — <devices>: interfaces, shared folders, the console, and what
// libvirt clients add that fleet can accept as it is (<emulator>,
// <memballoon model='none'/>); disks and rng are storage.cpp's, the
// devices kept as written kept.cpp's.
#include "parse.hpp"
#include "xml.hpp"

#include <fleet/netfilter/identity.hpp>

#include <algorithm>
#include <array>
#include <cstdio>

namespace fleet::router {

using detail::ParseState;
using xml::fail_at;
using xml::quote;
using xml::unsupported_at;

namespace {

bool has_control(std::string_view s)
{
    return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < ' ' || c == 127; });
}

bool has_blank_or_control(std::string_view s)
{
    return has_control(s) || s.find(' ') != std::string_view::npos;
}

// A Linux interface name (bridge) or a libvirt network name.
bool valid_link_name(std::string_view name, std::size_t max)
{
    return !name.empty() && name.size() <= max && name != "." && name != ".." &&
           name.find_first_of("/:") == std::string_view::npos && !has_blank_or_control(name);
}

int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// "AA:bb:..." -> "aa:bb:...", or an error naming the element.
Result<std::string> parse_mac(std::string_view text, const std::string& path)
{
    bool ok = text.size() == 17;
    std::string mac;
    for (std::size_t i = 0; ok && i < 17; ++i) {
        ok = i % 3 == 2 ? text[i] == ':' : hex_digit(text[i]) >= 0;
        mac += i % 3 == 2 ? ':' : "0123456789abcdef"[std::max(hex_digit(text[i]), 0)];
    }
    if (!ok) return fail_at(path, quote(text) + " is not a MAC address (six hex pairs: 52:54:00:12:34:56)");
    if (hex_digit(mac[1]) & 1) return fail_at(path, quote(text) + " is a multicast address; a NIC needs a unicast one");
    return mac;
}

// ---- <interface type='bridge|network'> ----

struct InterfaceCtx {
    Interface iface;
    bool has_source = false;
};

Result<> parse_interface_source(pugi::xml_node node, const std::string& path, InterfaceCtx& c)
{
    const std::string& kind = c.iface.type;  // the attribute is named after the type
    if (auto r = xml::check_leaf(node, path, {kind}); !r) return r;
    auto source = xml::required_attr(node, path, kind.c_str());
    if (!source) return std::unexpected(source.error());
    if (!valid_link_name(*source, kind == "bridge" ? 15 : 64))
        return fail_at(path, kind + "=" + quote(*source) + " is not a " + kind + " name");
    c.iface.source = *source;
    c.has_source = true;
    return {};
}

Result<> parse_interface_mac(pugi::xml_node node, const std::string& path, InterfaceCtx& c)
{
    if (auto r = xml::check_leaf(node, path, {"address"}); !r) return r;
    auto address = xml::required_attr(node, path, "address");
    if (!address) return std::unexpected(address.error());
    auto mac = parse_mac(*address, path);
    if (!mac) return std::unexpected(mac.error());
    c.iface.mac = *mac;
    return {};
}

Result<> parse_interface_model(pugi::xml_node node, const std::string& path, InterfaceCtx&)
{
    if (auto r = xml::check_leaf(node, path, {"type"}); !r) return r;
    auto model = xml::required_attr(node, path, "type");
    if (!model) return std::unexpected(model.error());
    if (*model != "virtio")
        return unsupported_at(path, "type " + quote(*model) + " is not supported (fleet's NICs are virtio)");
    return {};
}

constexpr std::array<xml::Rule<InterfaceCtx>, 3> interface_rules{{
    {"source", false, parse_interface_source},
    {"mac", false, parse_interface_mac},
    {"model", false, parse_interface_model},
}};

Result<> parse_interface(pugi::xml_node node, const std::string& path, ParseState& st)
{
    if (auto r = xml::only_attrs(node, path, {"type"}); !r) return r;
    auto type = xml::required_attr(node, path, "type");
    if (!type) return std::unexpected(type.error());
    if (*type != "bridge" && *type != "network")
        return unsupported_at(path, "type " + quote(*type) + " is not supported (use bridge or network)");
    InterfaceCtx c;
    c.iface.type = *type;
    if (auto r = xml::walk(node, path, std::span(interface_rules), c); !r) return r;
    if (!c.has_source) return fail_at(path, "missing <source " + *type + "='...'/>");
    if (st.def.interfaces.size() == detail::max_interfaces)
        return fail_at(path, "at most " + std::to_string(detail::max_interfaces) + " interfaces");
    st.def.interfaces.push_back(std::move(c.iface));
    return {};
}

// ---- <filesystem type='mount' accessmode='passthrough'> ----

struct FilesystemCtx {
    Filesystem fs{.source_dir = {}, .target_dir = {}, .read_only = false};  // libvirt: read-write unless <readonly/>
    bool has_source = false, has_target = false;
};

Result<> parse_fs_source(pugi::xml_node node, const std::string& path, FilesystemCtx& c)
{
    if (auto r = xml::check_leaf(node, path, {"dir"}); !r) return r;
    auto dir = xml::required_attr(node, path, "dir");
    if (!dir) return std::unexpected(dir.error());
    if (!dir->starts_with('/')) return fail_at(path, "dir=" + quote(*dir) + " is not an absolute path");
    c.fs.source_dir = *dir;
    c.has_source = true;
    return {};
}

Result<> parse_fs_target(pugi::xml_node node, const std::string& path, FilesystemCtx& c)
{
    if (auto r = xml::check_leaf(node, path, {"dir"}); !r) return r;
    auto dir = xml::required_attr(node, path, "dir");
    if (!dir) return std::unexpected(dir.error());
    // Blanks are fine (the guest learns its mount points from the exec
    // block); a ':' is refused when the domain starts (vmm::is_mount_point),
    // not here, so that a stored definition still loads.
    if (dir->empty() || has_control(*dir))
        return fail_at(path, "dir=" + quote(*dir) + " must be non-empty, without control characters");
    c.fs.target_dir = *dir;
    c.has_target = true;
    return {};
}

Result<> parse_fs_readonly(pugi::xml_node node, const std::string& path, FilesystemCtx& c)
{
    c.fs.read_only = true;
    return xml::check_leaf(node, path);
}

constexpr std::array<xml::Rule<FilesystemCtx>, 3> filesystem_rules{{
    {"source", false, parse_fs_source},
    {"target", false, parse_fs_target},
    {"readonly", false, parse_fs_readonly},
}};

Result<> check_fs_attrs(pugi::xml_node node, const std::string& path)
{
    if (auto r = xml::only_attrs(node, path, {"type", "accessmode"}); !r) return r;
    const std::string_view type = node.attribute("type").as_string("mount");
    if (type != "mount") return unsupported_at(path, "type " + quote(type) + " is not supported (use mount)");
    const std::string_view mode = node.attribute("accessmode").as_string("passthrough");
    if (mode != "passthrough" && mode != "squash")
        return unsupported_at(path, "accessmode " + quote(mode) + " is not supported (use passthrough)");
    return {};
}

Result<> parse_filesystem(pugi::xml_node node, const std::string& path, ParseState& st)
{
    if (auto r = check_fs_attrs(node, path); !r) return r;
    FilesystemCtx c;
    if (auto r = xml::walk(node, path, std::span(filesystem_rules), c); !r) return r;
    if (!c.has_source) return fail_at(path, "missing <source dir='...'/>");
    if (!c.has_target) return fail_at(path, "missing <target dir='...'/>");
    auto& all = st.def.filesystems;
    if (all.size() == detail::max_filesystems)
        return fail_at(path, "at most " + std::to_string(detail::max_filesystems) + " filesystems");
    if (std::any_of(all.begin(), all.end(), [&](const Filesystem& f) { return f.target_dir == c.fs.target_dir; }))
        return fail_at(path, "target dir=" + quote(c.fs.target_dir) + " is used twice");
    all.push_back(std::move(c.fs));
    return {};
}

// ---- <console type='pty'> and <serial type='pty'>: one guest serial port ----

Result<> check_pty(pugi::xml_node node, const std::string& path)
{
    if (auto r = xml::only_attrs(node, path, {"type"}); !r) return r;
    auto type = xml::required_attr(node, path, "type");
    if (!type) return std::unexpected(type.error());
    if (*type != "pty") return unsupported_at(path, "type " + quote(*type) + " is not supported (use pty)");
    return {};
}

// <target type=TYPE port='0'>; `expected` is the target type libvirt uses.
Result<> check_serial_target(pugi::xml_node node, const std::string& path, const char* expected)
{
    if (auto r = xml::only_attrs(node, path, {"type", "port"}); !r) return r;
    const std::string_view type = node.attribute("type").as_string(expected);
    if (type != expected)
        return unsupported_at(path, "type " + quote(type) + " is not supported (use " + quote(expected) + ")");
    const std::string_view port = node.attribute("port").as_string("0");
    if (port != "0")
        return unsupported_at(path, "port " + quote(port) + " is not supported (fleet has one serial port, 0)");
    return {};
}

Result<> parse_console_target(pugi::xml_node node, const std::string& path, ParseState& st)
{
    if (auto r = check_serial_target(node, path, "serial"); !r) return r;
    return xml::walk(node, path, std::span<const xml::Rule<ParseState>>{}, st);
}

Result<> parse_serial_model(pugi::xml_node node, const std::string& path, ParseState&)
{
    if (auto r = xml::check_leaf(node, path, {"name"}); !r) return r;
    const std::string_view name = node.attribute("name").as_string("isa-serial");
    if (name != "isa-serial") return unsupported_at(path, "name " + quote(name) + " is not supported (use isa-serial)");
    return {};
}

constexpr std::array<xml::Rule<ParseState>, 1> serial_target_rules{{{"model", false, parse_serial_model}}};

Result<> parse_serial_target(pugi::xml_node node, const std::string& path, ParseState& st)
{
    if (auto r = check_serial_target(node, path, "isa-serial"); !r) return r;
    return xml::walk(node, path, std::span(serial_target_rules), st);
}

constexpr std::array<xml::Rule<ParseState>, 1> console_rules{{{"target", false, parse_console_target}}};
constexpr std::array<xml::Rule<ParseState>, 1> serial_rules{{{"target", false, parse_serial_target}}};

Result<> parse_console(pugi::xml_node node, const std::string& path, ParseState& st)
{
    if (auto r = check_pty(node, path); !r) return r;
    st.def.console = true;
    return xml::walk(node, path, std::span(console_rules), st);
}

Result<> parse_serial(pugi::xml_node node, const std::string& path, ParseState& st)
{
    if (auto r = check_pty(node, path); !r) return r;
    st.def.console = true;
    return xml::walk(node, path, std::span(serial_rules), st);
}

// ---- accepted, not kept ----

Result<> parse_emulator(pugi::xml_node node, const std::string& path, ParseState&)
{
    if (auto r = xml::only_attrs(node, path, {}); !r) return r;
    auto text = xml::word_of(node, path);
    if (!text) return std::unexpected(text.error());
    constexpr std::string_view qemu = "qemu-system-x86_64";
    if (*text != qemu && !text->ends_with("/" + std::string(qemu)))
        return unsupported_at(path, quote(*text) + " is not supported; fleet runs its own " + std::string(qemu));
    return {};
}

Result<> parse_memballoon(pugi::xml_node node, const std::string& path, ParseState& st)
{
    if (auto r = xml::check_leaf(node, path, {"model"}); !r) return r;
    auto model = xml::required_attr(node, path, "model");
    if (!model) return std::unexpected(model.error());
    if (*model != "none")
        return unsupported_at(
            path, "model " + quote(*model) + " is not supported (use none: fleet's microvm has no balloon)");
    st.def.kept_devices.push_back(xml::canonical(node));
    return {};
}

constexpr std::array<xml::Rule<ParseState>, 12> device_rules{{
    {"emulator", false, parse_emulator},
    {"console", false, parse_console},
    {"serial", false, parse_serial},
    {"interface", true, parse_interface},
    {"filesystem", true, parse_filesystem},
    {"memballoon", false, parse_memballoon},
    {"disk", true, detail::parse_disk},
    {"rng", false, detail::parse_rng},
    {"controller", true, detail::parse_controller},
    {"input", true, detail::parse_input},
    {"graphics", true, detail::parse_graphics},
    {"video", true, detail::parse_video},
}};

}  // namespace

Result<> detail::parse_devices(pugi::xml_node node, const std::string& path, ParseState& st)
{
    if (auto r = xml::only_attrs(node, path, {}); !r) return r;
    return xml::walk(node, path, std::span(device_rules), st);
}

// Interface `index`'s MAC from the domain's UUID (netfilter's derive_mac:
// 0e: and 40 bits of a hash): the same UUID gives the same MAC after an
// undefine and a define, and on every host.
std::string detail::derived_mac(const Uuid& uuid, unsigned index)
{
    auto mac = netfilter::derive_mac(format_uuid(uuid), index);
    return mac ? netfilter::format(*mac) : std::string();  // a formatted UUID always parses
}

// Given MACs are distinct; missing ones are derived from the UUID, distinct
// too (a given MAC that happens to be a derived one moves the derivation on).
Result<> detail::finish_interfaces(DomainDef& def)
{
    auto used = [&](const std::string& mac, std::size_t count) {
        return std::count_if(def.interfaces.begin(), def.interfaces.end(),
                             [&](const Interface& i) { return i.mac == mac; }) > static_cast<std::ptrdiff_t>(count);
    };
    for (const auto& i : def.interfaces)
        if (!i.mac.empty() && used(i.mac, 1))
            return fail("<devices/interface/mac>: address '" + i.mac + "' is used twice");
    const auto n = static_cast<unsigned>(def.interfaces.size());
    for (unsigned k = 0; k < n; ++k) {
        Interface& i = def.interfaces[k];
        for (unsigned index = k; i.mac.empty() || used(i.mac, 1); index += n) i.mac = derived_mac(def.uuid, index);
    }
    return {};
}

}  // namespace fleet::router
