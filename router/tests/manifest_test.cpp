// router-unit — the boot manifest: autostart edits it, and the router boots
// its domains one after another, each once the previous is ready or failed.
#include "fixture.hpp"

using namespace fleet::router;
using namespace fleet::router::testing;

TEST_CASE("autostart: appends to and removes from <state>/boot", "[manifest]")
{
    Fixture f;
    auto a = f.define("a");
    auto b = f.define("b");
    CHECK_FALSE(f.registry->autostart(*a));
    REQUIRE(f.registry->set_autostart(b, true));
    REQUIRE(f.registry->set_autostart(a, true));
    REQUIRE(f.registry->set_autostart(a, true));  // once is enough
    CHECK(f.registry->autostart(*a));
    std::string text = fleet::test::read_file(f.state_dir() + "/boot");
    CHECK(text.find("b\na\n") != std::string::npos);
    REQUIRE(f.registry->set_autostart(b, false));
    CHECK_FALSE(f.registry->autostart(*b));
    CHECK(fleet::test::read_file(f.state_dir() + "/boot").find("b\n") == std::string::npos);

    std::optional<DomainResult<DomainPtr>> tmp;
    f.registry->create(domain_xml("tmp"), false, [&](DomainResult<DomainPtr> r) { tmp = r; });
    f.launcher.ready("tmp");
    auto refused = f.registry->set_autostart(**tmp, true);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == Errc::invalid_state);
    CHECK(refused.error().message == "cannot set autostart for transient domain");
}

TEST_CASE("boot manifest: in order, one at a time; unknown names and failures are skipped", "[manifest]")
{
    Fixture f;
    f.define("first");
    f.define("second");
    f.define("third");
    fleet::test::write_file(f.state_dir() + "/boot",
                            "# the order\nsecond\n  nosuch  \nfirst # comment\nthird\nsecond\n");
    f.registry->boot_manifest();
    CHECK(f.launcher.calls == std::vector<std::string>{"start second"});  // nosuch is not even tried

    f.launcher.ready("second");
    f.turn_until([&] { return f.launcher.running("first"); });
    CHECK(f.launcher.calls == std::vector<std::string>{"start second", "start first"});
    CHECK_FALSE(f.launcher.running("third"));  // not before first is settled

    f.launcher.fail("first", "no kernel");  // a failure: the rest go on
    f.turn_until([&] { return f.launcher.running("third"); });
    f.launcher.ready("third");
    f.flush();
    CHECK(f.launcher.calls.size() == 3);  // second is listed twice, started once

    bool skipped = false, first_vm = false;
    for (const auto& l : f.log) {
        skipped |= l == "boot: 'nosuch' is not a defined domain; skipped";
        first_vm |= l.find("boot: 'second' ready in") == 0 && l.find("(the first VM)") != std::string::npos;
    }
    CHECK(skipped);
    CHECK(first_vm);
}

TEST_CASE("boot manifest: a stopping router boots nothing more", "[manifest]")
{
    Fixture f;
    f.define("a");
    f.define("b");
    fleet::test::write_file(f.state_dir() + "/boot", "a\nb\n");
    f.registry->boot_manifest();
    f.launcher.ready("a");  // b's turn is queued on the loop...
    f.registry->stop();     // ... and the router stops first
    f.flush();
    CHECK(f.launcher.calls == std::vector<std::string>{"start a", "detach"});
}
