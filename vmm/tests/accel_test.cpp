// The accelerator decision's pure parts: verdict keys and files (a corrupt
// or foreign file is never trusted), choosing from probe results, QEMU's
// failure messages, labels, and the paths that need no probe. The probes
// themselves boot real QEMU: tests/integration/accel_test.py (a fake QEMU
// standing for each kind of host) and kvm_test.py (the real KVM).
#include <fleet/test/support.hpp>

#include "accel_probe.hpp"
#include "accel_verdict.hpp"

#include <fleet/vmm/accel.hpp>
#include <fleet/vmm/cmdline.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

using namespace fleet::vmm;
using namespace fleet::vmm::accel;
using fleet::test::contains;
using fleet::test::TempDir;

namespace {

AccelChoice nocap_choice()
{
    AccelChoice c;
    c.accel = Accel::kvm;
    c.cpu = kvm_cpu_nocap;
    c.why = "-cpu host fails here: failed to set MSR 0x10a to 0x69";
    return c;
}

// A probe that answers from a table and remembers what it was asked.
struct FakeBoot {
    std::vector<std::pair<std::string, ProbeResult>> answers;
    std::vector<std::string> asked;
    BootFn fn()
    {
        return [this](const std::string& cpu) {
            asked.push_back(cpu);
            for (auto& [c, r] : answers)
                if (c == cpu) return r;
            return ProbeResult{false, "no answer", {}};
        };
    }
};

// Sets an environment variable for one scope.
struct ScopedEnv {
    std::string name;
    std::optional<std::string> old;
    ScopedEnv(std::string n, const std::string& value) : name(std::move(n))
    {
        if (const char* o = std::getenv(name.c_str())) old = o;
        ::setenv(name.c_str(), value.c_str(), 1);
    }
    ~ScopedEnv()
    {
        if (old)
            ::setenv(name.c_str(), old->c_str(), 1);
        else
            ::unsetenv(name.c_str());
    }
};

}  // namespace

TEST_CASE("accel_label: kvm, kvm* for a reduced CPU model, tcg", "[accel]")
{
    CHECK(accel_label("kvm", "host") == "kvm");
    CHECK(accel_label("kvm", "") == "kvm");  // records from before the CPU model was kept
    CHECK(accel_label("kvm", kvm_cpu_nocap) == "kvm*");
    CHECK(accel_label("tcg", "max") == "tcg");
    CHECK(accel_label("", "") == "");
}

TEST_CASE("the CPU model reaches QEMU's command line", "[accel]")
{
    VmSpec s;
    s.name = "a";
    s.kernel = "/k";
    s.cpu = kvm_cpu_nocap;
    auto argv = qemu_argv("qemu", s, Accel::kvm, Wiring{});
    auto it = std::find(argv.begin(), argv.end(), "-cpu");
    REQUIRE(it != argv.end());
    CHECK(*(it + 1) == kvm_cpu_nocap);
    s.cpu.clear();  // not chosen: the accelerator's default
    argv = qemu_argv("qemu", s, Accel::tcg, Wiring{});
    CHECK(*(std::find(argv.begin(), argv.end(), "-cpu") + 1) == "max");
}

TEST_CASE("verdict keys name the host, QEMU and guest; file names are their hash", "[accel]")
{
    std::string a = verdict_key("boot 1", "/usr/bin/qemu 1:2 3 4", "tiny");
    CHECK(a == verdict_key("boot 1", "/usr/bin/qemu 1:2 3 4", "tiny"));
    CHECK(a.ends_with("\nprobes " + std::to_string(probes_version)));  // new probes, new verdicts
    CHECK(a != verdict_key("boot 2", "/usr/bin/qemu 1:2 3 4", "tiny"));
    CHECK(a != verdict_key("boot 1", "/usr/bin/qemu 1:2 3 5", "tiny"));
    CHECK(a != verdict_key("boot 1", "/usr/bin/qemu 1:2 3 4", "runtime"));
    std::string f = verdict_file_name(a);
    CHECK(f.size() == 16 + 5);
    CHECK(f.ends_with(".json"));
    CHECK(f.find_first_not_of("0123456789abcdef") == 16);
    CHECK(f == verdict_file_name(a));
    CHECK(f != verdict_file_name(verdict_key("boot 2", "/usr/bin/qemu 1:2 3 4", "tiny")));
}

TEST_CASE("file_identity changes when the file does; host_identity names this boot", "[accel]")
{
    TempDir tmp;
    std::string q = tmp / "qemu";
    CHECK(file_identity(q) == q + " missing");
    fleet::test::write_file(q, "one");
    std::string first = file_identity(q);
    CHECK(first.starts_with(q + " "));
    fleet::test::write_file(q + ".new", "other");  // an upgrade: a new file renamed over it
    REQUIRE(::rename((q + ".new").c_str(), q.c_str()) == 0);
    CHECK(file_identity(q) != first);

    std::string boot = fleet::test::read_file("/proc/sys/kernel/random/boot_id");
    boot.pop_back();
    std::string h = host_identity(tmp / "no-kvm");
    CHECK(contains(h, boot));
    CHECK(contains(h, "kvm " + (tmp / "no-kvm") + " none"));
    CHECK(host_identity(q) != h);
}

TEST_CASE("a verdict round-trips; anything odd in the file is not trusted", "[accel]")
{
    std::string key = verdict_key("boot 1", "/q 1:2 3 4", "tiny");
    AccelChoice c = nocap_choice();
    auto back = parse_verdict(format_verdict(key, c), key);
    REQUIRE(back);
    CHECK(back->accel == Accel::kvm);
    CHECK(back->cpu == kvm_cpu_nocap);
    CHECK(back->why == c.why);
    CHECK_FALSE(back->probed_now);

    AccelChoice t;
    t.why = "KVM does not boot the hello guest here";
    CHECK(parse_verdict(format_verdict(key, t), key)->accel == Accel::tcg);

    std::string good = format_verdict(key, c);
    CHECK_FALSE(parse_verdict(good, key + "x"));                       // another key (a hash collision, a copied file)
    CHECK_FALSE(parse_verdict(good.substr(0, good.size() / 2), key));  // torn
    CHECK_FALSE(parse_verdict("", key));
    CHECK_FALSE(parse_verdict("[]", key));
    CHECK_FALSE(parse_verdict(std::string(100, '\0'), key));
    auto edited = [&](const std::string& from, const std::string& to) {
        std::string s = good;
        auto at = s.find(from);
        REQUIRE(at != std::string::npos);
        return s.replace(at, from.size(), to);
    };
    CHECK_FALSE(parse_verdict(edited("fleet-accel-verdict/1", "fleet-accel-verdict/2"), key));
    CHECK_FALSE(parse_verdict(edited("\"kvm\"", "\"auto\""), key));
    CHECK_FALSE(parse_verdict(edited("\"kvm\"", "\"tcg\""), key));  // tcg with a KVM CPU model
    CHECK_FALSE(parse_verdict(edited("\"kvm\"", "7"), key));
    // Only the CPU models fleet chooses ever reach QEMU's command line.
    CHECK_FALSE(parse_verdict(edited("host,-arch-capabilities", "host,+vmx"), key));
    CHECK_FALSE(parse_verdict(edited("host,-arch-capabilities", "max"), key));
    CHECK_FALSE(parse_verdict(edited(c.why, std::string(2000, 'x')), key));
}

TEST_CASE("the verdict store: written atomically, read back, corrupt files ignored, one prober at a time", "[accel]")
{
    TempDir tmp;
    auto store = VerdictStore::open(tmp / "run");
    REQUIRE(store);
    std::string key = verdict_key("boot 1", "/q 1:2 3 4", "tiny");
    CHECK_FALSE(store->read(key));
    REQUIRE(store->write(key, nocap_choice()));
    auto r = store->read(key);
    REQUIRE(r);
    CHECK(r->cpu == kvm_cpu_nocap);
    std::string file = store->dir() + "/" + verdict_file_name(key);
    fleet::test::write_file(file, "{\"format\": \"fleet-accel-verdict/1\", \"key\": ");
    CHECK_FALSE(store->read(key));
    fleet::test::write_file(file, std::string(100 * 1024, ' '));
    CHECK_FALSE(store->read(key));
    // A symlink planted in its place is not followed.
    REQUIRE(store->write(key, nocap_choice()));
    REQUIRE(::rename(file.c_str(), (file + ".real").c_str()) == 0);
    REQUIRE(::symlink((file + ".real").c_str(), file.c_str()) == 0);
    CHECK_FALSE(store->read(key));

    auto held = store->lock();
    REQUIRE(held);
    fleet::Fd other(::open((store->dir() + "/lock").c_str(), O_RDWR | O_CLOEXEC));
    REQUIRE(other);
    CHECK(::flock(other.get(), LOCK_EX | LOCK_NB) != 0);  // a second prober waits
    held->reset();
    CHECK(::flock(other.get(), LOCK_EX | LOCK_NB) == 0);
}

TEST_CASE("decide: -cpu host, else without the features the host cannot set, else TCG", "[accel]")
{
    const std::string what = "the hello guest (booted, then its power button)";
    FakeBoot ok{{{kvm_cpu_host, {true, "", std::chrono::milliseconds(70)}}}, {}};
    AccelChoice c = decide(ok.fn(), what);
    CHECK(c.accel == Accel::kvm);
    CHECK(c.cpu == kvm_cpu_host);
    CHECK(ok.asked == std::vector<std::string>{kvm_cpu_host});  // one boot on an ordinary host
    CHECK(c.probe_time.count() == 70);
    CHECK(contains(c.why, "checked with " + what));

    FakeBoot nested{{{kvm_cpu_host, {false, "failed to set MSR 0x10a to 0x69", {}}}, {kvm_cpu_nocap, {true, "", {}}}},
                    {}};
    c = decide(nested.fn(), what);
    CHECK(c.accel == Accel::kvm);
    CHECK(c.cpu == kvm_cpu_nocap);
    CHECK(contains(c.why, "-cpu host fails here: failed to set MSR 0x10a"));
    CHECK(nested.asked == std::vector<std::string>{kvm_cpu_host, kvm_cpu_nocap});

    FakeBoot none{{{kvm_cpu_host, {false, "failed to initialize kvm", {}}},
                   {kvm_cpu_nocap, {false, "QEMU stopped the guest (KVM internal error. Suberror: 1)", {}}}},
                  {}};
    c = decide(none.fn(), what);
    CHECK(c.accel == Accel::tcg);
    CHECK(c.cpu == "max");
    CHECK(contains(c.why, "KVM does not run " + what + " here"));
    CHECK(contains(c.why, "failed to initialize kvm"));
    CHECK(contains(c.why, "KVM internal error"));
}

TEST_CASE("guest_kind and the echo payload", "[accel]")
{
    CHECK(guest_kind("linux") == GuestKind::linux_image);
    CHECK(guest_kind("runtime") == GuestKind::runtime);
    CHECK(guest_kind("tiny") == GuestKind::tiny);
    CHECK(guest_kind("") == GuestKind::tiny);
    CHECK(guest_kind("LINUX") == GuestKind::tiny);
    const std::string& p = probe_payload();
    CHECK(p.size() == 1024 * 1024);
    CHECK(p.find('\0') != std::string::npos);          // binary, not only text
    CHECK(p.substr(0, 4096) != p.substr(4096, 4096));  // a shifted or repeated block shows
}

TEST_CASE("failure_summary: QEMU's own error line, without its prefix", "[accel]")
{
    CHECK(failure_summary("qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69\n"
                          "qemu-system-x86_64: ../../target/i386/kvm/kvm.c:3183: kvm_buf_set_msrs: Assertion "
                          "`ret == cpu->kvm_msr_buf->nmsrs' failed.\n",
                          "VM 'p': QEMU was killed by signal 6 (SIGABRT)") == "failed to set MSR 0x10a to 0x69");
    CHECK(failure_summary("Could not access KVM kernel module: No such file or directory\n"
                          "/usr/bin/qemu-system-x86_64: -accel kvm: failed to initialize kvm: No such file or "
                          "directory\n",
                          "") == "-accel kvm: failed to initialize kvm: No such file or directory");
    CHECK(failure_summary("KVM internal error. Suberror: 1\r\nextra data[0]: 0x0\nemulation failure\nRAX=0\n", "") ==
          "KVM internal error. Suberror: 1");
    CHECK(failure_summary("qemu: something odd\n", "") == "something odd");
    CHECK(failure_summary("", "VM 'p': QEMU was killed by signal 6 (SIGABRT)") ==
          "QEMU was killed by signal 6 (SIGABRT)");
    CHECK(failure_summary("", "") == "QEMU failed");
    CHECK(failure_summary(std::string(1000, 'e') + "rror\n", "").size() <= 200);
}

TEST_CASE("choose_accel: tcg and a missing KVM device need no probe", "[accel]")
{
    TempDir tmp;
    AccelContext ctx{"/nonexistent/qemu", tmp / "run", {tmp.path()}};
    VmSpec guest;
    auto t = choose_accel(Accel::tcg, guest, GuestKind::tiny, ctx);
    REQUIRE(t);
    CHECK(t->accel == Accel::tcg);
    CHECK(t->cpu == "max");
    CHECK_FALSE(t->probed_now);

    ScopedEnv dev("FLEET_KVM_DEVICE", tmp / "no-kvm");
    auto a = choose_accel(Accel::automatic, guest, GuestKind::linux_image, ctx);
    REQUIRE(a);
    CHECK(a->accel == Accel::tcg);
    CHECK(contains(a->why, "KVM is not usable (" + (tmp / "no-kvm") + ")"));
    auto k = resolve_accel(Accel::kvm, guest, GuestKind::runtime, ctx);
    REQUIRE_FALSE(k);
    CHECK(contains(k.error().what(), "KVM is not usable"));
    CHECK(contains(k.error().what(), "use --accel tcg"));

    // A device that opens but a QEMU that is not there: the QEMU error.
    fleet::test::write_file(tmp / "kvm", "");
    ScopedEnv dev2("FLEET_KVM_DEVICE", tmp / "kvm");
    auto q = choose_accel(Accel::automatic, guest, GuestKind::tiny, ctx);
    REQUIRE_FALSE(q);
    CHECK(contains(q.error().what(), "/nonexistent/qemu"));
}

TEST_CASE("judge: each check, and the ways a probe fails", "[accel]")
{
    using std::chrono::milliseconds;
    ProbeGuest hello;
    hello.check = ProbeCheck::power_button;
    hello.deadline = milliseconds(3000);
    ProbeRun r;
    r.launch_error = "'qemu' not found";
    CHECK(judge(hello, r, "") == "'qemu' not found");

    r = {};
    r.end = ExitInfo{ExitReason::crashed, 134, "VM 'p': QEMU was killed by signal 6 (SIGABRT)"};
    CHECK(judge(hello, r, "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69\n") ==
          "failed to set MSR 0x10a to 0x69");
    r.timed_out = true;
    CHECK(judge(hello, r, "") == "not ready within 3.0 s");

    r = {};
    r.ready = true;
    r.paused = true;  // QEMU stopped it: KVM could not go on
    CHECK(judge(hello, r, "KVM internal error. Suberror: 1\nemulation failure\n") ==
          "QEMU stopped the guest (KVM internal error. Suberror: 1)");
    r.paused = false;
    r.end = ExitInfo{ExitReason::killed, 137, "VM 'p' was killed"};
    CHECK(contains(judge(hello, r, ""), "no power-off on the power button"));
    r.end = ExitInfo{ExitReason::guest_exit, 0, "exited with status 0"};
    CHECK(judge(hello, r, "") == "");

    ProbeGuest kernel;  // ready is all a Linux probe asks
    ProbeRun k;
    k.ready = true;
    k.end = ExitInfo{ExitReason::killed, 137, "killed"};
    CHECK(judge(kernel, k, "") == "");
    k = {};
    k.end = ExitInfo{ExitReason::guest_exit, 125, "exited with status 125 (isa-debug-exit)"};
    CHECK(judge(kernel, k, "") == "the guest exited with status 125 before it was ready");
    k.end = ExitInfo{ExitReason::boot_timeout, 124, "did not become ready"};
    CHECK(contains(judge(kernel, k, ""), "not ready within"));

    ProbeGuest cat;
    cat.check = ProbeCheck::echo;
    ProbeRun e;
    e.ready = true;
    e.ready_at = std::chrono::steady_clock::now();
    e.end_at = e.ready_at + milliseconds(40);
    e.end = ExitInfo{ExitReason::guest_exit, 0, "exited with status 0"};
    e.out = probe_payload();
    CHECK(judge(cat, e, "") == "");
    e.end_at = e.ready_at + echo_within + milliseconds(900);  // works, but crawls
    CHECK(contains(judge(cat, e, ""), "slower than 2 MiB/s"));
    e.end_at = e.ready_at + milliseconds(40);
    e.out.back() ^= 1;
    CHECK(contains(judge(cat, e, ""), "did not come back intact"));
    e.out = probe_payload().substr(0, 300 * 1024);
    e.end.reset();
    e.timed_out = true;
    CHECK(judge(cat, e, "") == "300 of 1024 KiB piped through within 3.0 s");
}
