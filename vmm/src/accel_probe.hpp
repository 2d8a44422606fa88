// fleet — one probe boot, and what fleet concludes from probes (private to
// accel.cpp).
//
// A probe does what that kind of guest needs, not only boot: on a nested
// /dev/kvm the hello guest boots but KVM fails to emulate its `iret` once
// the power button interrupts it, and the runtime's guests boot but move
// data through virtio-serial a thousand times slower than under TCG.
#pragma once

#include <fleet/vmm/accel.hpp>
#include <fleet/vmm/spec.hpp>
#include <fleet/vmm/vm.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace fleet::vmm::accel {

struct ProbeResult {
    bool ok = false;
    std::string why;  // when not ok: one phrase, e.g. "failed to set MSR 0x10a to 0x69"
    std::chrono::milliseconds took{0};
};

// What a probe checks once the guest says ready.
enum class ProbeCheck {
    ready,         // nothing more (Linux: its kernel reached init's ready line)
    power_button,  // once it prints, press it; it must report exit 0 and power off (hello hold)
    echo,          // pipe probe_payload() through: intact, within echo_within, exit 0 (cat)
};

struct ProbeGuest {
    VmSpec spec;
    ProbeCheck check = ProbeCheck::ready;
    // The whole probe, boot and check. Under a KVM that works hello powers
    // off and cat echoes 1 MiB in well under 100 ms, a Linux kernel is
    // ready in under a second; generous for a loaded host, short enough
    // that a guest which hangs costs one wait, once per host boot.
    std::chrono::milliseconds deadline{3000};
    std::string what;  // "the hello guest's power button", for messages
};

inline constexpr std::chrono::milliseconds tiny_probe_deadline{3000};
inline constexpr std::chrono::milliseconds runtime_probe_deadline{3000};
inline constexpr std::chrono::milliseconds linux_probe_deadline{5000};

// The echo must be done this soon after ready: at least 2 MiB/s. TCG
// moves some 20 MiB/s through the runtime's cat on a loaded two-core host,
// a KVM that works more; the nested /dev/kvm that boots it moves 0.5-0.7,
// so "works" there would mean thirty times slower than TCG.
inline constexpr std::chrono::milliseconds echo_within{500};

// The bytes the echo check pipes through the guest (1 MiB).
const std::string& probe_payload();

// What happened in one probe run.
struct ProbeRun {
    bool ready = false, paused = false, timed_out = false;
    std::chrono::steady_clock::time_point ready_at, end_at;
    std::optional<ExitInfo> end;
    std::string out;           // the guest's stdout, up to a little over the payload
    std::string launch_error;  // QEMU could not be started, or the loop failed
};

// Why a run fails its check ("" when it passes). `messages`: QEMU's own.
std::string judge(const ProbeGuest& guest, const ProbeRun& run, const std::string& messages);

// Run `guest` under `accel` with CPU model `cpu` through its check. The
// guest gets no shares and null channels; its name is a probe's own; it is
// killed once the check is decided.
ProbeResult probe_boot(const ProbeGuest& guest, Accel accel, const std::string& cpu, const std::string& qemu);

// QEMU's messages and how the VM ended -> why a probe failed, in one phrase:
// QEMU's first error line (without its program prefix) when there is one.
std::string failure_summary(std::string_view qemu_messages, std::string_view exit_message);

// Deciding. `boot(cpu)` is one KVM probe with that CPU model; `what` names
// the probe in the reasons ("the hello guest's power button").
using BootFn = std::function<ProbeResult(const std::string& cpu)>;

// The first of kvm_cpu_host, kvm_cpu_nocap that passes, else TCG with
// every reason.
AccelChoice decide(const BootFn& boot, const std::string& what);

}  // namespace fleet::vmm::accel
