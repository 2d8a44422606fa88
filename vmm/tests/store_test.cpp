// The runtime folder: claiming names, records, reconciling dead owners.
#include <fleet/test/support.hpp>

#include <fleet/base/file.hpp>
#include <fleet/base/process.hpp>
#include <fleet/vmm/store.hpp>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

using namespace fleet;
using namespace fleet::vmm;
using fleet::test::contains;
using fleet::test::TempDir;

namespace {

Store open_store(const TempDir& tmp)
{
    auto s = Store::open(tmp.path());
    REQUIRE(s);
    return std::move(*s);
}

VmRecord sample(const std::string& name)
{
    VmRecord r;
    r.name = name;
    r.state = VmState::running;
    r.image = "hello";
    r.kernel = "/images/hello/hello.elf";
    r.accel = Accel::kvm;
    r.cpu = "host,-arch-capabilities";
    r.memory_mib = 16;
    r.vcpus = 2;
    r.pid = 4242;
    r.pid_start = 123456789012ull;
    r.supervisor_pid = 4241;
    r.supervisor_start = 123456789000ull;
    r.started_at_ms = 1795708095308;
    r.ended_at_ms = 0;
    r.auto_remove = true;
    r.detached = true;
    r.networks = {"fl0000000001 0e:00:00:00:00:01 10.77.0.2/24"};
    r.exit_status = 0;
    r.exit_message = "";
    return r;
}

// The folder of a VM that has ended: its record, and a log.
void ended_vm(const Store& s, const std::string& name)
{
    REQUIRE(s.create(name));
    VmRecord r = sample(name);
    r.state = VmState::exited;
    REQUIRE(s.write(r));
    fleet::test::write_file(s.path(name, "console.log"), "bye\n");
}

void check_none_listed(const Store& s)
{
    auto listed = s.list();
    REQUIRE(listed);
    CHECK(listed->empty());
}

// A pid that surely belongs to no live process, and the start time it had:
// a child that exited and was reaped.
std::pair<pid_t, std::uint64_t> dead_pid()
{
    int go[2];
    REQUIRE(::pipe(go) == 0);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::close(go[1]);
        char c;
        (void)!::read(go[0], &c, 1);
        ::_exit(0);
    }
    ::close(go[0]);
    auto info = proc_info(pid);
    REQUIRE(info);
    ::close(go[1]);  // lets it exit
    REQUIRE(::waitpid(pid, nullptr, 0) == pid);
    return {pid, info->start_time};
}

}  // namespace

TEST_CASE("store: open makes a private vms folder", "[store]")
{
    TempDir tmp;
    Store s = open_store(tmp);
    CHECK(s.root() == tmp / "vms");
    struct stat st {};
    REQUIRE(::stat(s.root().c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);
    CHECK(s.dir("a") == tmp / "vms/a");
    CHECK(s.path("a", "state.json") == tmp / "vms/a/state.json");
    CHECK(open_store(tmp).root() == s.root());  // opening again is fine
}

TEST_CASE("store: default_runtime_dir", "[store]")
{
    CHECK(default_runtime_dir("/flag") == "/flag");
    const char* old = std::getenv("FLEET_RUNTIME_DIR");
    std::string saved = old ? old : "";
    ::setenv("FLEET_RUNTIME_DIR", "/env/runtime", 1);
    CHECK(default_runtime_dir("") == "/env/runtime");
    CHECK(default_runtime_dir("/flag") == "/flag");
    if (old)
        ::setenv("FLEET_RUNTIME_DIR", saved.c_str(), 1);
    else
        ::unsetenv("FLEET_RUNTIME_DIR");
}

TEST_CASE("store: create claims a name once", "[store]")
{
    TempDir tmp;
    Store s = open_store(tmp);
    REQUIRE(s.create("web"));
    auto again = s.create("web");
    REQUIRE_FALSE(again);
    CHECK(contains(again.error().message, "VM 'web' already exists"));
    CHECK(contains(again.error().message, "fleet-vmm rm web"));

    // With a record, the message says what state it is in.
    VmRecord r = sample("web");
    REQUIRE(s.write(r));
    r.state = VmState::exited;
    REQUIRE(s.write(r));
    auto third = s.create("web");
    REQUIRE_FALSE(third);
    CHECK(contains(third.error().message, "already exists (exited)"));

    CHECK(s.create("other"));
}

TEST_CASE("store: racing threads, one winner", "[store]")
{
    TempDir tmp;
    Store s = open_store(tmp);
    for (int round = 0; round < 5; ++round) {
        std::string name = "race" + std::to_string(round);
        std::atomic<int> wins{0}, losses{0};
        std::atomic<bool> go{false};
        std::vector<std::thread> threads;
        for (int i = 0; i < 8; ++i)
            threads.emplace_back([&] {
                while (!go) std::this_thread::yield();
                auto r = s.create(name);
                if (r)
                    ++wins;
                else if (contains(r.error().message, "already exists"))
                    ++losses;
            });
        go = true;
        for (auto& t : threads) t.join();
        CHECK(wins == 1);
        CHECK(losses == 7);
    }
}

TEST_CASE("store: racing processes, one winner", "[store]")
{
    TempDir tmp;
    Store s = open_store(tmp);
    constexpr int n = 8;
    int go[2];
    REQUIRE(::pipe(go) == 0);
    std::vector<pid_t> kids;
    for (int i = 0; i < n; ++i) {
        pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            ::close(go[1]);
            char c;
            (void)!::read(go[0], &c, 1);  // all start together at EOF
            auto store = Store::open(tmp.path());
            if (!store) ::_exit(3);
            auto r = store->create("contested");
            ::_exit(r ? 0 : contains(r.error().message, "already exists") ? 1 : 2);
        }
        kids.push_back(pid);
    }
    ::close(go[0]);
    ::close(go[1]);
    int winners = 0, losers = 0;
    for (pid_t k : kids) {
        int status = 0;
        REQUIRE(::waitpid(k, &status, 0) == k);
        REQUIRE(WIFEXITED(status));
        if (WEXITSTATUS(status) == 0)
            ++winners;
        else if (WEXITSTATUS(status) == 1)
            ++losers;
    }
    CHECK(winners == 1);
    CHECK(losers == n - 1);
}

TEST_CASE("store: write and read a record", "[store]")
{
    TempDir tmp;
    Store s = open_store(tmp);
    REQUIRE(s.create("web"));
    auto none = s.read("web");
    REQUIRE_FALSE(none);
    CHECK(contains(none.error().message, "no state record yet"));

    VmRecord w = sample("web");
    w.state = VmState::exited;
    w.ended_at_ms = 1795708099999;
    w.exit_reason = ExitReason::guest_exit;
    w.exit_status = 3;
    w.exit_message = "the guest said \"exit 3\"\nand more";
    REQUIRE(s.write(w));
    auto r = s.read("web");
    REQUIRE(r);
    CHECK(r->name == w.name);
    CHECK(r->state == w.state);
    CHECK(r->image == w.image);
    CHECK(r->kernel == w.kernel);
    CHECK(r->accel == w.accel);
    CHECK(r->cpu == w.cpu);
    CHECK(r->memory_mib == w.memory_mib);
    CHECK(r->vcpus == w.vcpus);
    CHECK(r->pid == w.pid);
    CHECK(r->pid_start == w.pid_start);
    CHECK(r->supervisor_pid == w.supervisor_pid);
    CHECK(r->supervisor_start == w.supervisor_start);
    CHECK(r->started_at_ms == w.started_at_ms);
    CHECK(r->ended_at_ms == w.ended_at_ms);
    CHECK(r->auto_remove == w.auto_remove);
    CHECK(r->detached == w.detached);
    CHECK(r->networks == w.networks);
    CHECK(r->exit_reason == w.exit_reason);
    CHECK(r->exit_status == w.exit_status);
    CHECK(r->exit_message == w.exit_message);
    CHECK(r->ended());

    // Replaced atomically: no temporary file is left behind.
    std::vector<std::string> files;
    for (const auto& e : std::filesystem::directory_iterator(s.dir("web"))) files.push_back(e.path().filename());
    CHECK(files == std::vector<std::string>{"state.json"});

    auto unknown = s.read("nobody");
    REQUIRE_FALSE(unknown);
    CHECK(contains(unknown.error().message, "no VM named 'nobody'"));
}

TEST_CASE("store: damaged records are errors", "[store]")
{
    TempDir tmp;
    Store s = open_store(tmp);
    REQUIRE(s.create("bad"));
    auto with = [&](const std::string& text) {
        fleet::test::write_file(s.path("bad", "state.json"), text);
        return s.read("bad");
    };
    auto r = with("{not json");
    REQUIRE_FALSE(r);
    CHECK(contains(r.error().message, "not valid JSON"));
    r = with("[1, 2]");
    REQUIRE_FALSE(r);
    CHECK(contains(r.error().message, "not a JSON object"));
    r = with(R"({"state": "running"})");
    REQUIRE_FALSE(r);
    CHECK(contains(r.error().message, "malformed"));
    r = with(R"({"name": "bad", "state": "running", "pid": "many"})");
    REQUIRE_FALSE(r);
    CHECK(contains(r.error().message, "malformed"));
    // Only name and state are required.
    r = with(R"({"name": "bad", "state": "paused", "some_future_field": 1})");
    REQUIRE(r);
    CHECK(r->state == VmState::paused);
    CHECK(r->vcpus == 1);
    // Words outside the enums' own spellings are errors, not new states.
    r = with(R"({"name": "bad", "state": "Running"})");
    REQUIRE_FALSE(r);
    CHECK(contains(r.error().message, "unknown state 'Running'"));
    r = with(R"({"name": "bad", "state": "running", "accel": "auto"})");
    REQUIRE_FALSE(r);
    CHECK(contains(r.error().message, "unknown accelerator 'auto'"));
    // An older fleet's record of a failed launch has an empty accelerator.
    r = with(R"({"name": "bad", "state": "exited", "accel": "", "exit_reason": "launch-failed"})");
    REQUIRE(r);
    CHECK(r->accel == Accel::tcg);
    r = with(R"({"name": "bad", "state": "running", "accel": ""})");
    REQUIRE_FALSE(r);
    r = with(R"({"name": "bad", "state": "exited", "exit_reason": "guest-exit"})");
    REQUIRE_FALSE(r);
    CHECK(contains(r.error().message, "unknown exit reason 'guest-exit'"));
    r = with(R"({"name": "bad", "state": "exited", "exit_reason": "boot-timeout"})");
    REQUIRE(r);
    CHECK(r->exit_reason == ExitReason::boot_timeout);
}

TEST_CASE("store: list is sorted and skips claims without a record", "[store]")
{
    TempDir tmp;
    Store s = open_store(tmp);
    for (const char* name : {"zeta", "alpha", "mid", "Beta"}) {
        REQUIRE(s.create(name));
        VmRecord r = sample(name);
        r.state = VmState::exited;
        REQUIRE(s.write(r));
    }
    REQUIRE(s.create("claimed"));  // a folder, no record yet
    auto lock = s.lock();          // the .lock file is not a VM
    REQUIRE(lock);
    lock->reset();
    fleet::test::write_file(s.root() + "/stray-file", "x");

    auto all = s.list();
    REQUIRE(all);
    std::vector<std::string> names;
    for (const auto& r : *all) names.push_back(r.name);
    CHECK(names == std::vector<std::string>{"Beta", "alpha", "mid", "zeta"});

    TempDir empty;
    auto none = open_store(empty).list();
    REQUIRE(none);
    CHECK(none->empty());
}

TEST_CASE("store: a running record whose supervisor died is reconciled", "[store]")
{
    TempDir tmp;
    Store s = open_store(tmp);
    auto [dead, dead_start] = dead_pid();
    REQUIRE_FALSE(process_alive(dead, dead_start));
    auto self = proc_info(::getpid());
    REQUIRE(self);

    REQUIRE(s.create("orphan"));
    VmRecord r = sample("orphan");
    r.state = VmState::running;
    r.supervisor_pid = dead;
    r.supervisor_start = dead_start;
    r.pid = dead;  // its QEMU is gone too
    r.pid_start = dead_start;
    REQUIRE(s.write(r));
    fleet::test::write_file(s.path("orphan", "qmp.sock"), "");
    fleet::test::write_file(s.path("orphan", "console.sock"), "");
    fleet::test::write_file(s.path("orphan", "console.log"), "hello\n");

    auto got = s.inspect("orphan");
    REQUIRE(got);
    CHECK(got->state == VmState::exited);
    CHECK(got->exit_reason == ExitReason::crashed);
    CHECK(got->exit_status == 137);
    CHECK(contains(got->exit_message, "died with its supervisor"));
    CHECK(got->ended_at_ms > 0);
    CHECK(got->ended());
    // Settled on disk, sockets removed, the log kept.
    auto on_disk = s.read("orphan");
    REQUIRE(on_disk);
    CHECK(on_disk->state == VmState::exited);
    CHECK(on_disk->exit_reason == ExitReason::crashed);
    CHECK_FALSE(std::filesystem::exists(s.path("orphan", "qmp.sock")));
    CHECK_FALSE(std::filesystem::exists(s.path("orphan", "console.sock")));
    CHECK(std::filesystem::exists(s.path("orphan", "console.log")));

    // Other records: a live supervisor (this process), an ended record, and
    // a live QEMU whose supervisor is gone are all left alone.
    REQUIRE(s.create("alive"));
    VmRecord a = sample("alive");
    a.supervisor_pid = ::getpid();
    a.supervisor_start = self->start_time;
    REQUIRE(s.write(a));
    REQUIRE(s.create("done"));
    VmRecord d = sample("done");
    d.state = VmState::exited;
    d.exit_reason = ExitReason::guest_exit;
    d.supervisor_pid = dead;
    d.supervisor_start = dead_start;
    REQUIRE(s.write(d));
    REQUIRE(s.create("stray-qemu"));
    VmRecord q = sample("stray-qemu");
    q.supervisor_pid = dead;
    q.supervisor_start = dead_start;
    q.pid = ::getpid();
    q.pid_start = self->start_time;
    REQUIRE(s.write(q));
    // A reused pid: this process's pid with another start time is not the owner.
    REQUIRE(s.create("reused"));
    VmRecord u = sample("reused");
    u.supervisor_pid = ::getpid();
    u.supervisor_start = self->start_time + 1;
    u.pid = 0;
    REQUIRE(s.write(u));

    auto all = s.list();
    REQUIRE(all);
    REQUIRE(all->size() == 5);
    for (const auto& rec : *all) {
        INFO(rec.name);
        if (rec.name == "alive") CHECK(rec.state == VmState::running);
        if (rec.name == "done") CHECK(rec.exit_reason == ExitReason::guest_exit);
        if (rec.name == "stray-qemu") CHECK(rec.state == VmState::running);
        if (rec.name == "reused") CHECK(rec.exit_reason == ExitReason::crashed);
        if (rec.name == "orphan") CHECK(rec.exit_reason == ExitReason::crashed);
    }
}

TEST_CASE("store: remove", "[store]")
{
    TempDir tmp;
    Store s = open_store(tmp);
    ended_vm(s, "gone");
    REQUIRE(s.remove("gone"));
    CHECK_FALSE(std::filesystem::exists(s.dir("gone")));
    auto after = s.read("gone");
    REQUIRE_FALSE(after);
    CHECK(contains(after.error().message, "no VM named"));
    CHECK(s.create("gone"));  // the name is free again
    CHECK(s.remove("never-existed"));
}

TEST_CASE("store: clear empties the folder of a VM being killed, and keeps its name taken", "[store]")
{
    TempDir tmp;
    Store s = open_store(tmp);
    REQUIRE(s.create("dying"));
    REQUIRE(s.write(sample("dying")));
    fleet::test::write_file(s.path("dying", "vmm.log"), "started\n");
    REQUIRE(s.clear("dying"));
    CHECK(std::filesystem::is_empty(s.dir("dying")));
    check_none_listed(s);  // no record: not listed
    auto again = s.create("dying");
    REQUIRE_FALSE(again);  // until remove, once its QEMU is gone
    CHECK(contains(again.error().message, "already exists"));
    REQUIRE(s.remove("dying"));
    CHECK(s.create("dying"));
    CHECK_FALSE(s.clear("../outside"));
}

TEST_CASE("store: retire frees the name at once and leaves the deletion for later", "[store]")
{
    TempDir tmp;
    Store s = open_store(tmp);
    ended_vm(s, "ended");
    auto retired = s.retire("ended");
    REQUIRE(retired);
    CHECK_FALSE(std::filesystem::exists(s.dir("ended")));
    CHECK(std::filesystem::exists(*retired + "/console.log"));  // not deleted yet
    CHECK(std::filesystem::path(*retired).parent_path() == s.root());
    check_none_listed(s);        // a retired folder is not a VM
    REQUIRE(s.create("ended"));  // the name is free again, before the deletion
    REQUIRE(s.write(sample("ended")));
    s.remove_retired(*retired);
    CHECK_FALSE(std::filesystem::exists(*retired));
    CHECK(s.read("ended"));  // the new VM of the same name is untouched

    // Only what retire() made is ever deleted.
    s.remove_retired(s.dir("ended"));
    s.remove_retired(s.root() + "/../x");
    CHECK(s.read("ended"));
    CHECK_FALSE(s.retire("never-existed"));
    CHECK_FALSE(s.retire("../outside"));
}

TEST_CASE("store: sweep_retired deletes folders left retired, and nothing else", "[store]")
{
    TempDir tmp;
    Store s = open_store(tmp);
    for (const char* name : {"a", "b", "kept"}) {
        REQUIRE(s.create(name));
        REQUIRE(s.write(sample(name)));
    }
    auto a = s.retire("a");
    auto b = s.retire("b");
    REQUIRE(a);
    REQUIRE(b);
    CHECK(*a != *b);
    s.sweep_retired();
    CHECK_FALSE(std::filesystem::exists(*a));
    CHECK_FALSE(std::filesystem::exists(*b));
    CHECK(s.read("kept"));
    CHECK(std::filesystem::exists(s.root() + "/.lock"));
}

TEST_CASE("store: a record with bytes that are not UTF-8", "[store]")
{
    // Paths and QEMU's messages are bytes, not UTF-8: `fleet-vmm run
    // /tmp/$'\xff'.elf` puts one in kernel, image and exit_message. Writing
    // the record must not throw (nlohmann's dump() does by default).
    TempDir tmp;
    Store s = open_store(tmp);
    REQUIRE(s.create("bytes"));
    VmRecord r = sample("bytes");
    r.state = VmState::exited;
    r.kernel = "/tmp/\xff\xfe.elf";
    r.image = "/tmp/\xc3(.elf";
    r.exit_message = "kernel '/tmp/\xff\xfe.elf' not found";
    fleet::Result<> w;
    REQUIRE_NOTHROW(w = s.write(r));
    REQUIRE(w);
    auto back = s.read("bytes");
    REQUIRE(back);
    CHECK(back->name == "bytes");
    CHECK(back->state == VmState::exited);
    CHECK(back->kernel.starts_with("/tmp/"));
    CHECK(back->kernel.ends_with(".elf"));
}

TEST_CASE("store: a name is never a path", "[store]")
{
    TempDir tmp;
    auto store = open_store(tmp);
    REQUIRE(::mkdir((tmp / "outside").c_str(), 0700) == 0);
    for (std::string bad : {"../outside", "..", ".", "a/b", "", ".hidden"}) {
        INFO(bad);
        CHECK_FALSE(store.create(bad));
        CHECK_FALSE(store.read(bad));
        CHECK_FALSE(store.inspect(bad));
        CHECK_FALSE(store.remove(bad));
        CHECK(store.dir(bad).find("..") == std::string::npos);
    }
    struct stat st {};
    CHECK(::stat((tmp / "outside").c_str(), &st) == 0);
}

TEST_CASE("store: a record that names another VM is refused", "[store]")
{
    TempDir tmp;
    auto store = open_store(tmp);
    REQUIRE(store.create("a"));
    REQUIRE(store.write(sample("a")));
    REQUIRE(fleet::replace_file(store.dir("a"), "state.json", R"({"name": "b", "state": "running"})", fleet::Sync::no));
    auto r = store.read("a");
    REQUIRE_FALSE(r);
    CHECK(contains(r.error().what(), "names another VM"));
}
