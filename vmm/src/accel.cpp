// fleet — choosing the accelerator (see accel.hpp).
#include <fleet/vmm/accel.hpp>

#include "accel_probe.hpp"
#include "accel_verdict.hpp"

#include <fleet/base/fd.hpp>
#include <fleet/base/process.hpp>
#include <fleet/vmm/catalog.hpp>

#include <fcntl.h>

#include <cstdlib>
#include <optional>

namespace fleet::vmm {

namespace {

using namespace accel;

std::string kvm_device()
{
    const char* dev = std::getenv("FLEET_KVM_DEVICE");  // tests point this elsewhere
    return dev && *dev ? dev : "/dev/kvm";
}

AccelChoice tcg_choice(std::string why)
{
    AccelChoice c;
    c.why = std::move(why);
    return c;
}

// The guest a kind's probe runs, from the catalog (a Linux guest: itself).
Result<ProbeGuest> probe_guest(GuestKind kind, const VmSpec& guest, const std::vector<std::string>& catalog)
{
    ProbeGuest p;
    if (kind == GuestKind::linux_image) {
        p.spec = guest;
        p.check = ProbeCheck::ready;
        p.deadline = linux_probe_deadline;
        p.what = "this Linux kernel (booted to init's ready line)";
        return p;
    }
    bool tiny = kind == GuestKind::tiny;
    auto image = resolve_image(tiny ? "hello" : "cat", catalog);
    if (!image) return std::unexpected(image.error());
    p.spec.kernel = image->kernel;
    p.spec.initrd = image->initrd;
    p.spec.extra_cmdline = image->cmdline;
    p.spec.memory_mib = image->memory_mib;
    p.spec.stdio = image->stdio;
    if (tiny) p.spec.args = {"hold"};
    p.check = tiny ? ProbeCheck::power_button : ProbeCheck::echo;
    p.deadline = tiny ? tiny_probe_deadline : runtime_probe_deadline;
    p.what = tiny ? "the hello guest (booted, then its power button)" : "the runtime's cat (1 MiB piped through)";
    return p;
}

// A verdict's key: the host's boot and KVM device, the QEMU binary, the
// kind (and a Linux guest's kernel and initrd).
std::string key_for(const std::string& qemu, const VmSpec& guest, GuestKind kind)
{
    std::string what = kind == GuestKind::tiny ? "tiny" : kind == GuestKind::runtime ? "runtime" : "linux";
    if (kind == GuestKind::linux_image)
        what +=
            " " + file_identity(guest.kernel) + " initrd " + (guest.initrd.empty() ? "-" : file_identity(guest.initrd));
    return verdict_key(host_identity(kvm_device()), file_identity(qemu), what);
}

// Probe (the caller holds the lock) and remember.
AccelChoice probe_and_remember(const std::optional<VerdictStore>& store, const std::string& key, GuestKind kind,
                               const VmSpec& guest, const std::string& qemu, const AccelContext& ctx)
{
    using clock = std::chrono::steady_clock;
    const auto start = clock::now();
    auto probe = probe_guest(kind, guest, ctx.catalog);
    if (!probe) return tcg_choice("KVM not checked: no guest to probe it with (" + probe.error().what() + ")");
    AccelChoice c =
        decide([&](const std::string& cpu) { return probe_boot(*probe, Accel::kvm, cpu, qemu); }, probe->what);
    if (store) (void)store->write(key, c);  // not written: probed again next time
    c.probed_now = true;
    c.probe_time = std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - start);
    return c;
}

}  // namespace

std::string accel_label(std::string_view accel, std::string_view cpu)
{
    if (accel == "kvm") return cpu.empty() || cpu == kvm_cpu_host ? "kvm" : "kvm*";
    return std::string(accel);
}

Result<> check_kvm_device()
{
    // Opening is the cheap test; whether QEMU can really run guests on it
    // is for the probe boot to find out.
    std::string path = kvm_device();
    Fd kvm(::open(path.c_str(), O_RDWR | O_CLOEXEC));
    if (!kvm) return fail_errno("KVM is not usable (" + path + ")");
    return {};
}

GuestKind guest_kind(std::string_view image_kind)
{
    if (image_kind == "runtime") return GuestKind::runtime;
    if (image_kind == "linux") return GuestKind::linux_image;
    return GuestKind::tiny;
}

Result<AccelChoice> choose_accel(Accel requested, const VmSpec& guest, GuestKind kind, const AccelContext& ctx)
{
    if (requested == Accel::tcg) return tcg_choice("asked for");
    if (auto dev = check_kvm_device(); !dev) return tcg_choice(dev.error().what());
    auto qemu = find_program(ctx.qemu);
    if (!qemu) return fail(qemu.error().message + " (install Debian's qemu-system-x86, or point FLEET_QEMU at QEMU)");
    std::string key = key_for(*qemu, guest, kind);

    // Remembered: one small file read. Else probe under the lock, after
    // looking again (whoever held it may have just probed).
    auto opened = VerdictStore::open(ctx.runtime_dir);
    std::optional<VerdictStore> store;
    if (opened) store = std::move(*opened);
    if (store)
        if (auto v = store->read(key)) return *v;
    Fd held;
    if (store) {
        if (auto l = store->lock()) held = std::move(*l);
        if (auto v = store->read(key)) return *v;
    }
    return probe_and_remember(store, key, kind, guest, *qemu, ctx);
}

Result<AccelChoice> resolve_accel(Accel requested, const VmSpec& guest, GuestKind kind, const AccelContext& ctx)
{
    auto c = choose_accel(requested, guest, kind, ctx);
    if (!c || requested != Accel::kvm || c->accel == Accel::kvm) return c;
    return fail(c->why + "; use --accel tcg (or FLEET_ACCEL=tcg)");
}

}  // namespace fleet::vmm
