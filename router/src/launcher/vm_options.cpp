// fleet-router — DomainDef -> vmm::SupervisorOptions: the image, the
// kernel, memory, vCPUs, the accelerator its type asks for, shares; and
// what fleet cannot run (yet).
#include "vm_options.hpp"

#include <fleet/vmm/accel.hpp>
#include <fleet/vmm/catalog.hpp>

namespace fleet::router {

namespace {

// An error about a file the client named (a kernel, initrd, image or share
// path): the router reads as root, so what it found (missing, unreadable,
// not an ELF, an image file's first key) would tell anyone whether a
// root-only file exists and what it holds. The client gets only that the
// path cannot be used; an administrator gets the full story (detail).
std::unexpected<DomainError> about_client_path(Errc code, const std::string& what, const std::string& full)
{
    return std::unexpected(DomainError{
        code, what + " cannot be used (it does not exist, cannot be read, or is not what fleet expects)", full});
}

bool names_a_client_path(const DomainDef& def, const std::string& message)
{
    auto in = [&](const std::string& p) { return !p.empty() && message.find(p) != std::string::npos; };
    if (in(def.kernel) || in(def.initrd)) return true;
    for (const auto& fs : def.filesystems)
        if (in(fs.source_dir)) return true;
    return false;
}

}  // namespace

DomainResult<vmm::SupervisorOptions> supervisor_options(const DomainDef& def, const std::vector<std::string>& catalog,
                                                        const LauncherOptions& o,
                                                        const std::optional<SpawnOptions::Credentials>& owner)
{
    vmm::VmSpec spec;
    spec.name = def.name;
    std::string image_name, image_kind;
    if (!def.image.empty()) {
        auto image = vmm::resolve_image(def.image, catalog);
        if (!image) {
            std::string full = "fleet:image: " + image.error().what();
            if (def.image.find('/') != std::string::npos)
                return about_client_path(Errc::invalid_argument, "fleet:image '" + def.image + "'", full);
            return domain_fail(Errc::invalid_argument, full);
        }
        std::string name = spec.name;
        spec = vmm::spec_from_image(*image);  // its first arguments (a Linux applet), then fleet:arg
        spec.name = name;
        image_name = image->name;
        image_kind = image->kind;
    }
    if (!def.kernel.empty()) {
        spec.kernel = def.kernel;
        if (image_name.empty()) image_name = def.kernel;
    }
    if (!def.initrd.empty()) spec.initrd = def.initrd;
    if (!def.cmdline.empty()) spec.extra_cmdline = def.cmdline;
    spec.args.insert(spec.args.end(), def.args.begin(), def.args.end());
    for (const auto& [name, value] : def.env) spec.env.push_back(name + "=" + value);
    spec.workdir = def.workdir;
    if (const auto& t = def.terminal) {
        if (spec.stdio != vmm::StdioKind::virtio)
            return domain_fail(Errc::unsupported, "fleet:terminal: only Linux images give a program a terminal");
        spec.tty = vmm::Terminal{t->rows, t->cols, t->stderr_too};
    }
    if (def.memory_kib > 0) spec.memory_mib = (def.memory_kib + 1023) / 1024;
    spec.vcpus = def.vcpus;
    spec.accel = def.type == "kvm" ? vmm::Accel::kvm : vmm::Accel::tcg;
    if (def.type == "kvm") {  // the launcher's verdict (vmm/accel.hpp): probed once, remembered
        auto k = vmm::choose_accel(vmm::Accel::kvm, spec, vmm::guest_kind(image_kind),
                                   vmm::AccelContext{o.qemu, o.runtime_dir, catalog});
        if (!k) return domain_fail(Errc::unsupported, "domain type 'kvm': " + k.error().what());
        if (k->accel != vmm::Accel::kvm)
            return domain_fail(Errc::unsupported,
                               "domain type 'kvm' needs KVM: " + k->why + " (type='qemu' runs under TCG)");
        spec.cpu = k->cpu;
    }
    if (!def.interfaces.empty() && !o.network)  // the taps come at the fork (network.hpp)
        return domain_fail(Errc::unsupported,
                           "<interface>: this router has no bridge (start it with --bridge NAME, e.g. fleet0)");
    for (const auto& fs : def.filesystems) {
        if (spec.stdio != vmm::StdioKind::virtio)
            return domain_fail(Errc::unsupported, "<filesystem>: only Linux images (virtio guests) can mount shares");
        // libvirt's target dir is a tag the guest mounts by; fleet's guest
        // mounts each share itself: at the target if it is a path, else at
        // /mnt/TAG (as fleet-vmm's --share HOST does).
        std::string at = fs.target_dir.starts_with('/') ? fs.target_dir : "/mnt/" + fs.target_dir;
        spec.shares.push_back(vmm::SharedFolder{fs.source_dir, std::move(at), fs.read_only});
    }
    for (const auto& d : def.disks) spec.disks.push_back(vmm::BlockDevice{d.source, d.format, d.read_only});
    if (def.rng)
        spec.rng = vmm::RngDevice{def.rng->source, static_cast<std::uint32_t>(def.rng->rate_bytes),
                                  static_cast<std::uint32_t>(def.rng->rate_period_ms)};
    if (auto v = vmm::validate(spec); !v) {
        if (names_a_client_path(def, v.error().what()))
            return about_client_path(Errc::invalid_argument, "a file the domain names", v.error().what());
        return domain_fail(Errc::invalid_argument, v.error().what());
    }

    vmm::SupervisorOptions so;
    so.spec = std::move(spec);
    so.launch.qemu = o.qemu;
    if (owner) {
        // The client's files, not the catalog's: an image by path is the
        // client's, kernel and initrd alike.
        bool by_path = def.image.find('/') != std::string::npos;
        so.launch.client_files =
            vmm::ClientFiles{*owner, by_path || !def.kernel.empty(), by_path || !def.initrd.empty()};
    }
    so.image = image_name;
    so.detached = true;
    so.forward_stdin = true;  // the console's input reaches the guest
    so.stop_deadline = o.stop_deadline;
    so.log_max_size = o.console_log_max;
    so.log_backups = o.console_log_backups;
    return so;
}

}  // namespace fleet::router
