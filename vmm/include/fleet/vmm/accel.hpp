// fleet — choosing the accelerator: KVM where it really runs guests, else TCG.
//
// A KVM device that opens is not proof: on a nested /dev/kvm QEMU can abort
// with `-cpu host` ("failed to set MSR 0x10a"), KVM can fail to emulate an
// instruction a guest needs (QEMU then pauses it: "KVM internal error"),
// virtio can crawl, Linux can stop during boot. So `auto` decides by running
// a guest of each kind for real, once: the hello guest through its power
// button (tiny guests), the runtime's cat echoing 1 MiB within half a second
// (runtime guests), a Linux image's own kernel to its ready line (Linux
// guests) — under KVM with each CPU model in turn (`host`, then `host`
// without the features such a host cannot set); the first that passes wins,
// else TCG. The verdict is remembered in <runtime>/accel/, keyed by the
// host's boot, the QEMU binary and the guest kind (and Linux kernel), so
// later starts pay one small file read.
#pragma once

#include <fleet/vmm/spec.hpp>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace fleet::vmm {

// How a VM runs: never automatic.
struct AccelChoice {
    Accel accel = Accel::tcg;
    std::string cpu = "max";                  // QEMU's -cpu model
    std::string why;                          // how it was decided, for `run -v`
    bool probed_now = false;                  // false: a remembered verdict (or no probe needed)
    std::chrono::milliseconds probe_time{0};  // what the probes of this call cost
};

// The CPU models fleet tries under KVM, best first, and the one under TCG.
inline constexpr const char* kvm_cpu_host = "host";
inline constexpr const char* kvm_cpu_nocap = "host,-arch-capabilities";
inline constexpr const char* tcg_cpu = "max";

// What `ls` shows: "kvm" (-cpu host), "kvm*" (KVM with CPU features the
// host cannot set removed), "tcg"; anything else as given.
std::string accel_label(std::string_view accel, std::string_view cpu);

// What sort of guest, as far as KVM is concerned (the catalog's kind=).
enum class GuestKind { tiny, runtime, linux_image };
// "runtime", "linux"; anything else is tiny.
GuestKind guest_kind(std::string_view image_kind);

struct AccelContext {
    std::string qemu = "qemu-system-x86_64";  // a path, or a name on PATH
    std::string runtime_dir;                  // verdicts live in <runtime_dir>/accel/
    std::vector<std::string> catalog;         // where the probe guests `hello` and `cat` are found
};

// May this process open the KVM device at all? (FLEET_KVM_DEVICE names
// another path; tests use it.) The cheap first step before any probe.
Result<> check_kvm_device();

// The best way to run `guest` here. A Linux guest's own kernel is probed;
// tiny and runtime guests share their kind's verdict. tcg never probes.
// auto and kvm both return the best choice, which may be TCG with the
// reason in `why`. An error only for a QEMU that cannot be found.
Result<AccelChoice> choose_accel(Accel requested, const VmSpec& guest, GuestKind kind, const AccelContext& ctx);

// choose_accel for the command line: an explicit kvm that cannot run the
// guest is an error that says why and names --accel tcg.
Result<AccelChoice> resolve_accel(Accel requested, const VmSpec& guest, GuestKind kind, const AccelContext& ctx);

}  // namespace fleet::vmm
