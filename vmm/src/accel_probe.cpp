// fleet — probe boots and the decisions made from them (see accel_probe.hpp).
#include "accel_probe.hpp"

#include <fleet/base/loop.hpp>
#include <fleet/vmm/vm.hpp>

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <optional>
#include <vector>

namespace fleet::vmm::accel {

namespace {

using std::chrono::milliseconds;

std::string read_all(int fd)
{
    std::string text;
    char buf[4096];
    for (off_t at = 0;;) {
        ssize_t n = ::pread(fd, buf, sizeof buf, at);
        if (n <= 0 || text.size() > 64 * 1024) return text;
        text.append(buf, static_cast<std::size_t>(n));
        at += n;
    }
}

bool contains_nocase(std::string_view text, std::string_view word)
{
    auto it = std::search(text.begin(), text.end(), word.begin(), word.end(),
                          [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
    return it != text.end();
}

// "qemu-system-x86_64: error: failed to ..." -> "failed to ..."
std::string without_prefixes(std::string_view line)
{
    auto colon = line.find(": ");
    if (colon != std::string_view::npos && line.substr(0, colon).find(' ') == std::string_view::npos &&
        contains_nocase(line.substr(0, colon), "qemu"))
        line.remove_prefix(colon + 2);
    if (line.starts_with("error: ")) line.remove_prefix(7);
    return std::string(line.substr(0, 200));
}

std::string seconds(milliseconds ms)
{
    char s[32];
    std::snprintf(s, sizeof s, "%.1f s", static_cast<double>(ms.count()) / 1000.0);
    return s;
}

}  // namespace

std::string failure_summary(std::string_view qemu_messages, std::string_view exit_message)
{
    std::vector<std::string_view> lines;
    for (std::string_view rest = qemu_messages; !rest.empty();) {
        auto nl = rest.find('\n');
        std::string_view line = rest.substr(0, nl);
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
        if (!line.empty()) lines.push_back(line);
        rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    }
    for (const char* word : {"error", "fail"})
        for (auto line : lines)
            if (contains_nocase(line, word)) return without_prefixes(line);
    if (!lines.empty()) return without_prefixes(lines.front());
    // "VM 'name': QEMU was killed by signal 6 (SIGABRT)" -> after the name
    if (exit_message.starts_with("VM '")) {
        auto end = exit_message.find("': ");
        if (end != std::string_view::npos) exit_message.remove_prefix(end + 3);
    }
    return std::string(exit_message.empty() ? "QEMU failed" : exit_message);
}

const std::string& probe_payload()
{
    static const std::string bytes = [] {
        std::string b(1024 * 1024, '\0');
        for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<char>((i * 131 + i / 4096) & 0xff);
        return b;
    }();
    return bytes;
}

namespace {

ProbeRun run_probe(const ProbeGuest& g, VmSpec spec, int log_fd, const std::string& qemu)
{
    ProbeRun r;
    auto loop = Loop::create(32);
    if (!loop) {
        r.launch_error = "cannot probe: " + loop.error().what();
        return r;
    }
    LaunchOptions lo;
    lo.qemu = qemu;
    lo.qemu_log_fd = log_fd;
    Vm* vm = nullptr;
    VmHooks hooks;
    bool pressed = false;
    hooks.ready = [&] {
        r.ready = true;
        r.ready_at = std::chrono::steady_clock::now();
        if (g.check == ProbeCheck::ready) return vm->kill();  // proof enough; the program need not run
        if (g.check == ProbeCheck::echo) {
            vm->write_stdin(probe_payload());
            vm->close_stdin();
        }
    };
    hooks.output = [&](int stream, std::string_view b) {
        if (stream == 1 && r.out.size() <= probe_payload().size()) r.out.append(b);
        // hello prints once its interrupts are set up: a press now takes the
        // interrupt path (an earlier one is merely polled).
        if (stream == 1 && g.check == ProbeCheck::power_button && !pressed) {
            pressed = true;
            vm->stop(g.deadline);
        }
    };
    // QEMU pauses a guest KVM cannot run further (an emulation failure);
    // the probe never pauses it.
    hooks.event = [&](const QmpMessage& m) {
        if (m.event != "STOP" || r.paused) return;
        r.paused = true;
        vm->kill();
    };
    hooks.exited = [&](const ExitInfo& e) {
        r.end = e;
        r.end_at = std::chrono::steady_clock::now();
    };
    auto launched = Vm::launch(**loop, std::move(spec), lo, std::move(hooks));
    if (!launched) {
        r.launch_error = launched.error().what();
        return r;
    }
    vm = launched->get();
    OpId timer = (*loop)->timer(g.deadline, [&](int) {
        timer = 0;
        r.timed_out = true;
        vm->kill();
    });
    auto ran = (*loop)->run_until([&] { return r.end.has_value(); });
    if (timer) (*loop)->cancel(timer);
    launched->reset();  // kills and reaps QEMU if the loop failed
    if (!ran && !r.end) r.launch_error = "cannot probe: " + ran.error().what();
    return r;
}

}  // namespace

std::string judge(const ProbeGuest& g, const ProbeRun& r, const std::string& messages)
{
    if (!r.launch_error.empty()) return r.launch_error;
    if (r.paused) return "QEMU stopped the guest (" + failure_summary(messages, "") + ")";
    if (!r.ready) {
        if (r.timed_out || (r.end && r.end->reason == ExitReason::boot_timeout))
            return "not ready within " + seconds(g.deadline);
        if (r.end && r.end->reason == ExitReason::guest_exit)
            return "the guest exited with status " + std::to_string(r.end->status) + " before it was ready";
        return failure_summary(messages, r.end ? r.end->message : "");
    }
    bool clean_exit = r.end && r.end->reason == ExitReason::guest_exit && r.end->status == 0;
    if (g.check == ProbeCheck::ready) return "";
    if (g.check == ProbeCheck::power_button)
        return clean_exit ? "" : "no power-off on the power button within " + seconds(g.deadline);
    const std::string& sent = probe_payload();
    if (r.timed_out)
        return std::to_string(r.out.size() / 1024) + " of " + std::to_string(sent.size() / 1024) +
               " KiB piped through within " + seconds(g.deadline);
    if (!clean_exit || r.out != sent)
        return "the piped data did not come back intact (" + (r.end ? r.end->message : "") + ")";
    auto took = std::chrono::duration_cast<milliseconds>(r.end_at - r.ready_at);
    if (took > echo_within) return "1 MiB piped through in " + seconds(took) + ", slower than 2 MiB/s";
    return "";
}

ProbeResult probe_boot(const ProbeGuest& g, Accel accel, const std::string& cpu, const std::string& qemu)
{
    using clock = std::chrono::steady_clock;
    const auto start = clock::now();
    auto result = [&start](bool ok, std::string why) {
        return ProbeResult{ok, std::move(why), std::chrono::duration_cast<milliseconds>(clock::now() - start)};
    };
    VmSpec spec = g.spec;
    spec.name = "fleet-accel-probe";
    spec.accel = accel;
    spec.cpu = cpu;
    spec.shares.clear();
    spec.nets.clear();
    spec.start_paused = false;
    spec.boot_timeout = g.deadline;
    Fd log(::memfd_create("fleet-accel-probe", MFD_CLOEXEC));
    if (!log) return result(false, "cannot probe: memfd_create: " + std::string(std::strerror(errno)));

    ProbeRun r = run_probe(g, std::move(spec), log.get(), qemu);
    std::string why = judge(g, r, read_all(log.get()));
    return result(why.empty(), why);
}

AccelChoice decide(const BootFn& boot, const std::string& what)
{
    AccelChoice c;
    ProbeResult host = boot(kvm_cpu_host);
    c.probe_time = host.took;
    if (host.ok) {
        c.accel = Accel::kvm;
        c.cpu = kvm_cpu_host;
        c.why = "checked with " + what;
        return c;
    }
    ProbeResult nocap = boot(kvm_cpu_nocap);
    c.probe_time += nocap.took;
    if (nocap.ok) {
        c.accel = Accel::kvm;
        c.cpu = kvm_cpu_nocap;
        c.why = "-cpu host fails here: " + host.why + "; checked with " + what;
        return c;
    }
    c.accel = Accel::tcg;
    c.cpu = tcg_cpu;
    c.why = "KVM does not run " + what + " here (-cpu host: " + host.why + "; -cpu " + kvm_cpu_nocap + ": " +
            nocap.why + ")";
    return c;
}

}  // namespace fleet::vmm::accel
