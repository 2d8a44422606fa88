// fleet — the devices that carry data into a VM beside its image: <disk>
// (virtio-blk on microvm: a raw or qcow2 file, or a block device) and
// <rng> (virtio-rng fed from a host file).
#include "parse.hpp"
#include "xml.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace fleet::router {

using detail::ParseState;
using xml::fail_at;
using xml::quote;
using xml::unsupported_at;

namespace {

struct DiskCtx {
    Disk disk;
    bool has_source = false;
    bool has_target = false;
};

Result<> parse_driver(pugi::xml_node node, const std::string& path, DiskCtx& c)
{
    if (auto r = xml::check_leaf(node, path, {"name", "type"}); !r) return r;
    const std::string_view name = node.attribute("name").as_string("qemu");
    if (name != "qemu") return unsupported_at(path, "name " + quote(name) + " is not supported (use qemu)");
    const std::string_view type = node.attribute("type").as_string("raw");
    if (type != "raw" && type != "qcow2")
        return unsupported_at(path, "type " + quote(type) + " is not supported (use raw or qcow2)");
    c.disk.format = type;
    return {};
}

Result<> parse_source(pugi::xml_node node, const std::string& path, DiskCtx& c)
{
    const char* attr = c.disk.type == "block" ? "dev" : "file";
    if (auto r = xml::check_leaf(node, path, {attr}); !r) return r;
    auto source = xml::required_attr(node, path, attr);
    if (!source) return std::unexpected(source.error());
    if (!source->starts_with('/'))
        return fail_at(path, std::string(attr) + "=" + quote(*source) + " is not an absolute path");
    c.disk.source = *source;
    c.has_source = true;
    return {};
}

Result<> parse_target(pugi::xml_node node, const std::string& path, DiskCtx& c)
{
    if (auto r = xml::check_leaf(node, path, {"dev", "bus"}); !r) return r;
    auto dev = xml::required_attr(node, path, "dev");
    if (!dev) return std::unexpected(dev.error());
    const std::string_view bus = node.attribute("bus").as_string("virtio");
    if (bus != "virtio")
        return unsupported_at(
            path,
            "bus " + quote(bus) + " is not supported (fleet's microvm disks are virtio: bus='virtio', dev='vda')");
    if (dev->size() != 3 || !dev->starts_with("vd") || (*dev)[2] < 'a' || (*dev)[2] > 'z')
        return fail_at(path, "dev=" + quote(*dev) + " is not a virtio disk name (vda to vdz)");
    c.disk.target = *dev;
    c.has_target = true;
    return {};
}

Result<> parse_readonly(pugi::xml_node node, const std::string& path, DiskCtx& c)
{
    c.disk.read_only = true;
    return xml::check_leaf(node, path);
}

constexpr std::array<xml::Rule<DiskCtx>, 4> disk_rules{{
    {"driver", false, parse_driver},
    {"source", false, parse_source},
    {"target", false, parse_target},
    {"readonly", false, parse_readonly},
}};

// ---- <rng> ----

Result<> parse_backend(pugi::xml_node node, const std::string& path, Rng& rng)
{
    if (auto r = xml::only_attrs(node, path, {"model"}); !r) return r;
    const std::string_view model = node.attribute("model").as_string("random");
    if (model != "random") return unsupported_at(path, "model " + quote(model) + " is not supported (use random)");
    auto file = xml::word_of(node, path);
    if (!file) return std::unexpected(file.error());
    if (file->empty()) return {};  // libvirt's default: /dev/urandom
    if (*file != "/dev/urandom" && *file != "/dev/random" && *file != "/dev/hwrng")
        return unsupported_at(path, quote(*file) + " is not supported (use /dev/urandom, /dev/random or /dev/hwrng)");
    rng.source = *file;
    return {};
}

std::uint64_t number_or_zero(std::string_view text)
{
    std::uint64_t n = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    return ec == std::errc() && p == text.data() + text.size() ? n : 0;
}

Result<> parse_rate(pugi::xml_node node, const std::string& path, Rng& rng)
{
    if (auto r = xml::check_leaf(node, path, {"bytes", "period"}); !r) return r;
    auto bytes = xml::required_attr(node, path, "bytes");
    if (!bytes) return std::unexpected(bytes.error());
    rng.rate_bytes = number_or_zero(*bytes);
    rng.rate_period_ms = number_or_zero(node.attribute("period").as_string("1000"));
    if (rng.rate_bytes == 0 || rng.rate_bytes > UINT32_MAX || rng.rate_period_ms == 0 ||
        rng.rate_period_ms > UINT32_MAX)
        return fail_at(path, "bytes and period must be whole numbers from 1 to 4294967295");
    return {};
}

constexpr std::array<xml::Rule<Rng>, 2> rng_rules{{
    {"backend", false, parse_backend},
    {"rate", false, parse_rate},
}};

}  // namespace

Result<> detail::parse_disk(pugi::xml_node node, const std::string& path, ParseState& st)
{
    if (auto r = xml::only_attrs(node, path, {"type", "device"}); !r) return r;
    const std::string_view device = node.attribute("device").as_string("disk");
    if (device != "disk")
        return unsupported_at(
            path, "device " + quote(device) + " is not supported (fleet's disks are virtio-blk: device='disk')");
    DiskCtx c;
    c.disk.type = node.attribute("type").as_string("file");
    if (c.disk.type != "file" && c.disk.type != "block")
        return unsupported_at(path, "type " + quote(c.disk.type) + " is not supported (use file or block)");
    if (auto r = xml::walk(node, path, std::span(disk_rules), c); !r) return r;
    if (!c.has_source)
        return fail_at(path, std::string("missing <source ") + (c.disk.type == "block" ? "dev" : "file") + "='...'/>");
    if (!c.has_target) return fail_at(path, "missing <target dev='vdX'/>");
    auto& all = st.def.disks;
    if (all.size() == max_disks) return fail_at(path, "at most " + std::to_string(max_disks) + " disks");
    if (std::any_of(all.begin(), all.end(), [&](const Disk& d) { return d.target == c.disk.target; }))
        return fail_at(path, "target dev=" + quote(c.disk.target) + " is used twice");
    all.push_back(std::move(c.disk));
    return {};
}

Result<> detail::parse_rng(pugi::xml_node node, const std::string& path, ParseState& st)
{
    if (auto r = xml::only_attrs(node, path, {"model"}); !r) return r;
    auto model = xml::required_attr(node, path, "model");
    if (!model) return std::unexpected(model.error());
    if (*model != "virtio") return unsupported_at(path, "model " + quote(*model) + " is not supported (use virtio)");
    Rng rng;
    if (auto r = xml::walk(node, path, std::span(rng_rules), rng); !r) return r;
    st.def.rng = rng;
    return {};
}

}  // namespace fleet::router
