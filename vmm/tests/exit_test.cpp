// decide_exit and foreground_exit: every row of how a VM's end is told.
#include <fleet/test/support.hpp>
#include <fleet/vmm/exit.hpp>

#include <signal.h>

using namespace fleet;
using namespace fleet::vmm;
using namespace std::chrono_literals;

namespace {

ExitFacts facts(int code = 0, bool signaled = false)
{
    ExitFacts f;
    f.name = std::string(1, 'v');  // (GCC 12 warns falsely on f.name = "v")
    f.boot_timeout = 2500ms;
    f.qemu = ExitStatus{signaled, code};
    return f;
}

ExitFacts shutdown(ExitFacts f, bool by_guest, std::string reason)
{
    f.shutdown_seen = true;
    f.shutdown_by_guest = by_guest;
    f.shutdown_reason = std::move(reason);
    return f;
}

}  // namespace

TEST_CASE("decide_exit: the table", "[exit]")
{
    struct Row {
        const char* what;
        ExitFacts f;
        ExitReason reason;
        int status;
        const char* message;
    };
    auto reported = [](ExitFacts f, int n) {
        f.reported = n;
        return f;
    };
    auto with = [](ExitFacts f, bool ExitFacts::*flag) {
        f.*flag = true;
        return f;
    };
    auto messages = [](ExitFacts f, std::string m) {
        f.qemu_messages = std::move(m);
        return f;
    };
    const Row rows[] = {
        {"program status", reported(facts(), 3), ExitReason::guest_exit, 3, "VM 'v' exited with status 3"},
        {"status even when QEMU was then killed", reported(facts(SIGKILL, true), 0), ExitReason::guest_exit, 0,
         "VM 'v' exited with status 0"},
        {"boot timeout wins over everything", with(reported(facts(SIGKILL, true), 0), &ExitFacts::boot_timed_out),
         ExitReason::boot_timeout, 124,
         "VM 'v' did not become ready within 2.5 s under tcg; try a longer --boot-timeout"},
        {"kernel panic", with(facts(), &ExitFacts::panicked), ExitReason::crashed, 134,
         "VM 'v': the guest kernel panicked"},
        {"reader gone", with(facts(SIGKILL, true), &ExitFacts::stdout_gone), ExitReason::broken_pipe, 141,
         "VM 'v': nobody reads its output"},
        {"killed on request", with(facts(SIGKILL, true), &ExitFacts::kill_requested), ExitReason::killed, 137,
         "VM 'v' was killed"},
        {"QEMU killed by someone else", facts(SIGABRT, true), ExitReason::crashed, 134,
         "VM 'v': QEMU was killed by signal 6 (SIGABRT)"},
        {"guest reset", shutdown(facts(), true, "guest-reset"), ExitReason::crashed, 134,
         "VM 'v': the guest reset itself"},
        {"guest panic event", shutdown(facts(), true, "guest-panic"), ExitReason::crashed, 134,
         "VM 'v': the guest panicked"},
        {"guest powered off", shutdown(facts(), true, "guest-shutdown"), ExitReason::guest_poweroff, 0,
         "VM 'v' powered off"},
        {"powered off at the host's request",
         with(shutdown(facts(), true, "guest-shutdown"), &ExitFacts::stop_requested), ExitReason::host_stop, 143,
         "VM 'v' was powered off"},
        {"quit from the host", shutdown(facts(), false, "host-qmp-quit"), ExitReason::host_stop, 143,
         "VM 'v' was stopped"},
        {"isa-debug-exit 7", facts(15), ExitReason::guest_exit, 7, "VM 'v' exited with status 7 (isa-debug-exit)"},
        {"QEMU refused, its last line", messages(facts(1), "warning: x\nqemu: -kernel: no such file\n"),
         ExitReason::launch_failed, 125, "VM 'v': qemu: -kernel: no such file"},
        {"QEMU failed silently with an even code", facts(2), ExitReason::launch_failed, 125,
         "VM 'v': QEMU exited with code 2"},
        {"odd code after a SHUTDOWN is not isa-debug-exit", shutdown(facts(1), false, "host-signal"),
         ExitReason::launch_failed, 125, "VM 'v': QEMU exited with code 1"},
    };
    for (const auto& r : rows) {
        INFO(r.what);
        ExitInfo i = decide_exit(r.f);
        CHECK(i.reason == r.reason);
        CHECK(i.status == r.status);
        CHECK(i.message == r.message);
    }
}

TEST_CASE("decide_exit: a boot timeout under kvm suggests tcg", "[exit]")
{
    ExitFacts f = facts(SIGKILL, true);
    f.boot_timed_out = true;
    f.accel = Accel::kvm;
    CHECK(decide_exit(f).message ==
          "VM 'v' did not become ready within 2.5 s under kvm; nested KVM can hang guests: try --accel tcg");
}

TEST_CASE("decide_exit: a short boot timeout is said as given, never 0.0 s", "[exit]")
{
    ExitFacts f = facts(SIGKILL, true);
    f.boot_timed_out = true;
    for (auto [ms, said] : {std::pair{10, "0.01 s"}, {1, "0.001 s"}, {100, "0.1 s"}, {60000, "60.0 s"}}) {
        f.boot_timeout = std::chrono::milliseconds(ms);
        CHECK_THAT(decide_exit(f).message, Catch::Matchers::Contains(std::string("within ") + said + " under"));
    }
}

TEST_CASE("foreground_exit: which endings a foreground run reports", "[exit]")
{
    struct Row {
        ExitReason reason;
        int status;
        bool interrupted;
        int want_status;
        bool want_report;
    };
    const Row rows[] = {
        {ExitReason::guest_exit, 3, false, 3, false},       {ExitReason::guest_poweroff, 0, false, 0, false},
        {ExitReason::broken_pipe, 141, false, 141, false},  {ExitReason::host_stop, 143, true, 130, false},
        {ExitReason::host_stop, 143, false, 143, true},     {ExitReason::killed, 137, true, 137, true},
        {ExitReason::crashed, 134, false, 134, true},       {ExitReason::boot_timeout, 124, false, 124, true},
        {ExitReason::launch_failed, 125, false, 125, true},
    };
    for (const auto& r : rows) {
        INFO(to_string(r.reason) << " interrupted " << r.interrupted);
        auto fg = foreground_exit(ExitInfo{r.reason, r.status, "m"}, r.interrupted);
        CHECK(fg.status == r.want_status);
        CHECK(fg.report == r.want_report);
    }
}
