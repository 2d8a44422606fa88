// Many VMs in one io_uring loop, driven through libfleet-vmm directly: all of
// them boot, print, report their status and are reaped, on one thread.
#include <catch2/catch.hpp>

#include <fleet/base/loop.hpp>
#include <fleet/vmm/vm.hpp>

#include <cstdlib>
#include <fstream>
#include <map>
#include <string>

using namespace fleet;
using namespace fleet::vmm;

namespace {

std::string hello_elf()
{
    const char* images = std::getenv("FLEET_IMAGES");
    REQUIRE(images != nullptr);
    return std::string(images) + "/hello/hello.elf";
}

int thread_count()
{
    std::ifstream status("/proc/self/status");
    std::string key;
    while (status >> key)
        if (key == "Threads:") {
            int n = 0;
            status >> n;
            return n;
        }
    return -1;
}

VmSpec spec(const std::string& name, std::vector<std::string> args)
{
    VmSpec s;
    s.name = name;
    s.kernel = hello_elf();
    s.args = std::move(args);
    s.memory_mib = 16;
    s.accel = Accel::tcg;
    return s;
}

}  // namespace

TEST_CASE("twenty VMs in one loop report their own output and status")
{
    auto loop = Loop::create();
    REQUIRE(loop);
    constexpr int count = 20;
    std::map<int, std::string> out;
    std::map<int, ExitInfo> ended;
    std::vector<std::unique_ptr<Vm>> vms;
    for (int i = 0; i < count; ++i) {
        VmHooks h;
        h.output = [&out, i](int stream, std::string_view b) {
            if (stream == 1) out[i] += b;
        };
        h.exited = [&ended, i](const ExitInfo& e) { ended[i] = e; };
        auto vm =
            Vm::launch(**loop, spec("v" + std::to_string(i), {"n" + std::to_string(i), "exit=" + std::to_string(i)}),
                       LaunchOptions{}, std::move(h));
        REQUIRE(vm);
        vms.push_back(std::move(*vm));
    }
    CHECK(thread_count() == 1);
    auto ran = (*loop)->run_until([&] { return ended.size() == count; });
    REQUIRE(ran);
    for (int i = 0; i < count; ++i) {
        CHECK(out[i] == "hello n" + std::to_string(i) + " exit=" + std::to_string(i) + "\n");
        CHECK(ended[i].reason == ExitReason::guest_exit);
        CHECK(ended[i].status == i);
    }
}

TEST_CASE("held VMs stop on the power button, and a deaf one is killed at the deadline")
{
    auto loop = Loop::create();
    REQUIRE(loop);
    std::map<std::string, ExitInfo> ended;
    std::map<std::string, bool> ready;
    auto launch = [&](const std::string& name, bool paused) {
        VmHooks h;
        h.ready = [&ready, name] { ready[name] = true; };
        h.exited = [&ended, name](const ExitInfo& e) { ended[name] = e; };
        VmSpec s = spec(name, {"hold"});
        s.start_paused = paused;
        auto vm = Vm::launch(**loop, s, LaunchOptions{}, std::move(h));
        REQUIRE(vm);
        return std::move(*vm);
    };
    auto a = launch("held", false);
    auto b = launch("deaf", true);  // paused: it cannot answer the button
    REQUIRE((*loop)->run_until([&] { return ready["held"] && b->state() == VmState::paused; }));
    a->stop(std::chrono::seconds(10));
    b->stop(std::chrono::milliseconds(300));
    REQUIRE((*loop)->run_until([&] { return ended.size() == 2; }));
    CHECK(ended["held"].reason == ExitReason::guest_exit);
    CHECK(ended["held"].status == 0);
    CHECK(ended["deaf"].reason == ExitReason::killed);
    CHECK(ended["deaf"].status == 137);
}

TEST_CASE("QMP passthrough answers on the private monitor")
{
    auto loop = Loop::create();
    REQUIRE(loop);
    bool ended = false;
    VmHooks h;
    h.exited = [&](const ExitInfo&) { ended = true; };
    VmSpec s = spec("q", {"hold"});
    s.start_paused = true;
    auto vm = Vm::launch(**loop, s, LaunchOptions{}, std::move(h));
    REQUIRE(vm);
    std::optional<Result<json>> status;
    (*vm)->execute("query-status", json(), [&](Result<json> r) { status = std::move(r); });
    REQUIRE((*loop)->run_until([&] { return status.has_value(); }));
    REQUIRE(status->has_value());
    CHECK((**status)["status"] == "prelaunch");
    std::optional<Result<json>> bad;
    (*vm)->execute("no-such-command", json(), [&](Result<json> r) { bad = std::move(r); });
    REQUIRE((*loop)->run_until([&] { return bad.has_value(); }));
    CHECK(!bad->has_value());
    CHECK(bad->error().message.find("CommandNotFound") != std::string::npos);
    (*vm)->kill();
    REQUIRE((*loop)->run_until([&] { return ended; }));
}
