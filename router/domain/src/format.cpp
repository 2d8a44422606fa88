// fleet — format_domain_xml: a definition as libvirt would write it, in
// libvirt's element order, holding only what DomainDef holds (plus the
// fixed values fleet runs with: x86_64 microvm, destroy on every end).
#include "xml.hpp"

#include <fleet/router/domain.hpp>

namespace fleet::router {

namespace {

void write_identity(xml::Writer& w, const DomainDef& def)
{
    w.text("name", def.name);
    w.text("uuid", format_uuid(def.uuid));
    if (!def.title.empty()) w.text("title", def.title);
    if (!def.description.empty()) w.text("description", def.description);
}

void write_metadata(xml::Writer& w, const DomainDef& def)
{
    const bool fleet = !def.image.empty() || !def.args.empty() || !def.env.empty() || !def.workdir.empty() ||
                       def.outbound || !def.groups.empty() || def.hypervisor || def.terminal;
    if (!fleet && def.foreign_metadata.empty()) return;
    if (fleet)
        w.open("metadata", {{"xmlns:fleet", fleet_xmlns}});
    else
        w.open("metadata");
    if (!def.image.empty()) w.text("fleet:image", def.image);
    for (const auto& arg : def.args) w.text("fleet:arg", arg);
    for (const auto& [name, value] : def.env) w.empty("fleet:env", {{"name", name}, {"value", value}});
    if (!def.workdir.empty()) w.text("fleet:workdir", def.workdir);
    if (def.outbound) w.empty("fleet:net", {{"outbound", *def.outbound ? "yes" : "no"}});
    if (!def.groups.empty()) {
        std::string names;
        for (const auto& g : def.groups) names += (names.empty() ? "" : " ") + g;
        w.text("fleet:groups", names);
    }
    if (const auto& h = def.hypervisor)
        w.empty("fleet:hypervisor", {{"children", std::to_string(h->children)},
                                     {"memory", std::to_string(h->memory_mib) + "MiB"},
                                     {"depth", std::to_string(h->depth)}});
    if (const auto& t = def.terminal)
        w.empty("fleet:terminal", {{"rows", std::to_string(t->rows)},
                                   {"cols", std::to_string(t->cols)},
                                   {"stderr", t->stderr_too ? "yes" : "no"}});
    for (const auto& element : def.foreign_metadata) w.raw(element);
    w.close("metadata");
}

void write_resources(xml::Writer& w, const DomainDef& def)
{
    if (def.memory_kib > 0) {  // 0: the image's default, so no <memory>
        const std::string kib = std::to_string(def.memory_kib);
        w.text("memory", kib, {{"unit", "KiB"}});
        w.text("currentMemory", kib, {{"unit", "KiB"}});
    }
    w.text("vcpu", std::to_string(def.vcpus), {{"placement", "static"}});
}

void write_os(xml::Writer& w, const DomainDef& def)
{
    w.open("os");
    w.text("type", "hvm", {{"arch", "x86_64"}, {"machine", "microvm"}});
    if (!def.kernel.empty()) w.text("kernel", def.kernel);
    if (!def.initrd.empty()) w.text("initrd", def.initrd);
    if (!def.cmdline.empty()) w.text("cmdline", def.cmdline);
    w.close("os");
}

// <features>, <cpu>, <clock>: what the definition said, kept as written.
void write_platform(xml::Writer& w, const DomainDef& def)
{
    if (!def.features.empty()) {
        w.open("features");
        for (const auto& f : def.features) w.raw(f);
        w.close("features");
    }
    if (!def.cpu.empty()) w.raw(def.cpu);
    if (!def.timers.empty()) {
        w.open("clock", {{"offset", "utc"}});
        for (const auto& t : def.timers) w.raw(t);
        w.close("clock");
    } else if (def.clock) {
        w.empty("clock", {{"offset", "utc"}});
    }
}

void write_lifecycle(xml::Writer& w, const DomainDef& def)
{
    for (const char* event : {"on_poweroff", "on_reboot", "on_crash"}) w.text(event, "destroy");
    if (!def.pm.empty()) w.raw(def.pm);
}

void write_disks(xml::Writer& w, const DomainDef& def)
{
    for (const auto& d : def.disks) {
        w.open("disk", {{"type", d.type}, {"device", "disk"}});
        w.empty("driver", {{"name", "qemu"}, {"type", d.format}});
        w.empty("source", {{d.type == "block" ? "dev" : "file", d.source}});
        w.empty("target", {{"dev", d.target}, {"bus", "virtio"}});
        if (d.read_only) w.empty("readonly");
        w.close("disk");
    }
}

void write_rng(xml::Writer& w, const DomainDef& def)
{
    if (!def.rng) return;
    w.open("rng", {{"model", "virtio"}});
    if (def.rng->rate_bytes > 0) {
        const std::string bytes = std::to_string(def.rng->rate_bytes), period = std::to_string(def.rng->rate_period_ms);
        w.empty("rate", {{"bytes", bytes}, {"period", period}});
    }
    w.text("backend", def.rng->source, {{"model", "random"}});
    w.close("rng");
}

void write_devices(xml::Writer& w, const DomainDef& def)
{
    if (def.filesystems.empty() && def.interfaces.empty() && !def.console && def.disks.empty() && !def.rng &&
        def.kept_devices.empty())
        return;
    w.open("devices");
    write_disks(w, def);
    for (const auto& fs : def.filesystems) {
        w.open("filesystem", {{"type", "mount"}, {"accessmode", "passthrough"}});
        w.empty("source", {{"dir", fs.source_dir}});
        w.empty("target", {{"dir", fs.target_dir}});
        if (fs.read_only) w.empty("readonly");
        w.close("filesystem");
    }
    for (const auto& nic : def.interfaces) {
        w.open("interface", {{"type", nic.type}});
        if (!nic.mac.empty()) w.empty("mac", {{"address", nic.mac}});
        w.empty("source", {{nic.type, nic.source}});
        w.empty("model", {{"type", nic.model}});
        w.close("interface");
    }
    if (def.console) {
        w.open("console", {{"type", "pty"}});
        w.empty("target", {{"type", "serial"}, {"port", "0"}});
        w.close("console");
    }
    for (const auto& k : def.kept_devices) w.raw(k);
    write_rng(w, def);
    w.close("devices");
}

}  // namespace

std::string format_domain_xml(const DomainDef& def, int id)
{
    xml::Writer w;
    const std::string id_text = std::to_string(id);
    if (id >= 0)
        w.open("domain", {{"type", def.type}, {"id", id_text}});
    else
        w.open("domain", {{"type", def.type}});
    write_identity(w, def);
    write_metadata(w, def);
    write_resources(w, def);
    write_os(w, def);
    write_platform(w, def);
    write_lifecycle(w, def);
    write_devices(w, def);
    w.close("domain");
    return w.take();
}

std::string escape_xml_attribute(std::string_view value)
{
    return xml::escape(value, true);
}

}  // namespace fleet::router
