// fleet — how a VM ended (see exit.hpp).
#include <fleet/vmm/exit.hpp>

#include <cstdio>
#include <cstring>

namespace fleet::vmm {

std::string_view to_string(VmState s)
{
    switch (s) {
        case VmState::starting:
            return "starting";
        case VmState::running:
            return "running";
        case VmState::paused:
            return "paused";
        case VmState::stopping:
            return "stopping";
        case VmState::exited:
            return "exited";
    }
    return "?";
}

std::optional<VmState> parse_vm_state(std::string_view text)
{
    for (auto s : {VmState::starting, VmState::running, VmState::paused, VmState::stopping, VmState::exited})
        if (to_string(s) == text) return s;
    return std::nullopt;
}

std::string_view to_string(ExitReason r)
{
    switch (r) {
        case ExitReason::guest_exit:
            return "exit";
        case ExitReason::guest_poweroff:
            return "poweroff";
        case ExitReason::host_stop:
            return "stopped";
        case ExitReason::killed:
            return "killed";
        case ExitReason::crashed:
            return "crashed";
        case ExitReason::boot_timeout:
            return "boot-timeout";
        case ExitReason::launch_failed:
            return "launch-failed";
        case ExitReason::broken_pipe:
            return "broken-pipe";
    }
    return "?";
}

std::optional<ExitReason> parse_exit_reason(std::string_view text)
{
    for (auto r : {ExitReason::guest_exit, ExitReason::guest_poweroff, ExitReason::host_stop, ExitReason::killed,
                   ExitReason::crashed, ExitReason::boot_timeout, ExitReason::launch_failed, ExitReason::broken_pipe})
        if (to_string(r) == text) return r;
    return std::nullopt;
}

namespace {

std::string signal_name(int sig)
{
    const char* abbrev = ::sigabbrev_np(sig);
    return abbrev ? std::string("SIG") + abbrev : std::to_string(sig);
}

std::string last_line(std::string_view m)
{
    while (!m.empty() && (m.back() == '\n' || m.back() == '\r')) m.remove_suffix(1);
    auto nl = m.rfind('\n');
    return std::string(nl == std::string_view::npos ? m : m.substr(nl + 1));
}

ExitInfo boot_timeout(const ExitFacts& f, const std::string& name)
{
    std::string hint =
        f.accel == Accel::kvm ? "; nested KVM can hang guests: try --accel tcg" : "; try a longer --boot-timeout";
    char secs[32];
    double s = static_cast<double>(f.boot_timeout.count()) / 1000.0;
    std::snprintf(secs, sizeof secs, s < 0.1 ? "%.3g" : "%.1f", s);  // 2.5 s, 0.01 s: never "0.0 s"
    return {ExitReason::boot_timeout, 124,
            name + " did not become ready within " + secs + " s under " + std::string(to_string(f.accel)) + hint};
}

ExitInfo signaled(const ExitFacts& f, const std::string& name)
{
    int sig = f.qemu.code;
    if (f.stdout_gone) return {ExitReason::broken_pipe, 141, name + ": nobody reads its output"};
    if (f.kill_requested) return {ExitReason::killed, 128 + sig, name + " was killed"};
    return {ExitReason::crashed, 128 + sig,
            name + ": QEMU was killed by signal " + std::to_string(sig) + " (" + signal_name(sig) + ")"};
}

}  // namespace

ExitInfo decide_exit(const ExitFacts& f)
{
    std::string name = "VM '" + f.name + "'";
    if (f.boot_timed_out) return boot_timeout(f, name);
    if (f.reported)
        return {ExitReason::guest_exit, *f.reported, name + " exited with status " + std::to_string(*f.reported)};
    if (f.panicked) return {ExitReason::crashed, 134, name + ": the guest kernel panicked"};
    if (f.qemu.signaled) return signaled(f, name);
    // With -no-reboot a reset ends QEMU; a guest that resets instead of
    // exiting has failed (a Linux panic with panic=-1 ends up here).
    if (f.shutdown_reason == "guest-reset" || f.shutdown_reason == "guest-panic")
        return {ExitReason::crashed, 134,
                name + ": the guest " + (f.shutdown_reason == "guest-reset" ? "reset itself" : "panicked")};
    int code = f.qemu.code;
    if (code == 0 && f.shutdown_seen && f.shutdown_by_guest) {
        if (f.stop_requested) return {ExitReason::host_stop, 143, name + " was powered off"};
        return {ExitReason::guest_poweroff, 0, name + " powered off"};
    }
    if (code == 0) return {ExitReason::host_stop, 143, name + " was stopped"};
    // isa-debug-exit: QEMU exits with (status << 1) | 1 and says nothing.
    if ((code & 1) && f.qemu_messages.empty() && !f.shutdown_seen)
        return {ExitReason::guest_exit, code >> 1,
                name + " exited with status " + std::to_string(code >> 1) + " (isa-debug-exit)"};
    std::string why = last_line(f.qemu_messages);
    if (why.empty()) why = "QEMU exited with code " + std::to_string(code);
    return {ExitReason::launch_failed, 125, name + ": " + why};
}

ForegroundExit foreground_exit(const ExitInfo& info, bool interrupted)
{
    if (info.reason == ExitReason::host_stop && interrupted) return {130, false};
    bool quiet = info.reason == ExitReason::guest_exit || info.reason == ExitReason::guest_poweroff ||
                 info.reason == ExitReason::broken_pipe;
    return {info.status, !quiet};
}

}  // namespace fleet::vmm
