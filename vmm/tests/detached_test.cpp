// start_detached and the ready line (detached.hpp). A supervisor that cannot
// launch its VM still reports through the pipe; a real boot is the
// lifecycle and router integration tests' part.
#include <fleet/test/support.hpp>
#include <fleet/vmm/detached.hpp>

#include <sys/wait.h>
#include <catch2/catch.hpp>

using namespace fleet;
using namespace fleet::vmm;
using fleet::test::TempDir;

TEST_CASE("detached: the ready line", "[detached]")
{
    CHECK(parse_ready_line("ready", "died"));
    CHECK(parse_ready_line("ready\n", "died"));
    auto e = parse_ready_line("error no such kernel\n", "died");
    REQUIRE_FALSE(e);
    CHECK(e.error().message == "no such kernel");
    e = parse_ready_line("", "the supervisor died");
    REQUIRE_FALSE(e);
    CHECK(e.error().message == "the supervisor died");
    CHECK_FALSE(parse_ready_line("readyish", "died"));
}

TEST_CASE("detached: a launch that fails says why on the pipe", "[detached]")
{
    TempDir tmp;
    auto store = Store::open(tmp.path());
    REQUIRE(store);
    for (bool orphan : {false, true}) {
        std::string name = orphan ? "orphan" : "child";
        REQUIRE(store->create(name));
        SupervisorOptions so;
        so.spec.name = name;
        so.spec.kernel = tmp.path() + "/no-such-kernel";
        so.detached = true;
        auto d = start_detached(*store, std::move(so), DetachOptions{.orphan = orphan, .in_child = {}});
        REQUIRE(d);
        auto ready = parse_ready_line(read_ready_line(d->ready), "died");
        REQUIRE_FALSE(ready);
        CHECK(ready.error().message.find("no-such-kernel") != std::string::npos);
        if (!orphan) {  // our own child: reap it
            int status = 0;
            REQUIRE(::waitpid(d->pid, &status, 0) == d->pid);
            CHECK(WIFEXITED(status));
            CHECK(WEXITSTATUS(status) == 125);
        }
    }
}
