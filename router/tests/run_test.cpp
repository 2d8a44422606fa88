// router-unit — the DomainRegistry's run state over the FakeLauncher:
// start, ready, destroy, shutdown, crash, a failed start, transient
// domains, pause, and the rule that names a stopped domain's reason.
#include "fixture.hpp"

#include <filesystem>

using namespace fleet::router;
using namespace fleet::router::testing;

TEST_CASE("start: running once ready; the answer waits for it", "[run]")
{
    Fixture f;
    auto d = f.define("web");
    auto answer = f.start(d);
    CHECK(f.launcher.asked("start web"));
    CHECK_FALSE(answer->has_value());  // not ready yet
    CHECK(d->active());
    CHECK(d->starting);
    CHECK(d->id == 1);
    CHECK(std::filesystem::exists(f.live_dir() + "/web.xml"));

    f.launcher.ready("web");
    REQUIRE(answer->has_value());
    CHECK(answer->value());
    CHECK_FALSE(d->starting);
    CHECK(d->state == RunState::running);
    CHECK(d->reason == Reason::booted);
    CHECK(f.events_of("web") == std::vector{Lifecycle::defined_added, Lifecycle::started});

    auto twice = f.start(d);
    REQUIRE(twice->has_value());
    CHECK(twice->value().error().code == Errc::invalid_state);
    CHECK(twice->value().error().message == "domain is already running");
}

TEST_CASE("start paused: paused once ready, with both events", "[run]")
{
    Fixture f;
    auto d = f.define("web");
    auto answer = f.start(d, true);
    CHECK(f.launcher.asked("start web paused"));
    f.launcher.ready("web");
    CHECK(answer->value().has_value());
    CHECK(d->state == RunState::paused);
    CHECK(d->reason == Reason::user);
    CHECK(f.events_of("web") == std::vector{Lifecycle::defined_added, Lifecycle::started, Lifecycle::suspended});
}

TEST_CASE("destroy: answered once the VM is gone; shutoff, destroyed", "[run]")
{
    Fixture f;
    auto d = f.define("web");
    f.start(d);
    f.launcher.ready("web");
    std::optional<DomainResult<>> answer;
    f.registry->destroy(d, [&](DomainResult<> r) { answer = r; });
    CHECK(f.launcher.asked("kill web"));
    CHECK_FALSE(answer);
    f.launcher.end("web", EndKind::killed);
    REQUIRE(answer);
    CHECK(answer->has_value());
    CHECK_FALSE(d->active());
    CHECK(d->id == -1);
    CHECK(d->state == RunState::shutoff);
    CHECK(d->reason == Reason::destroyed);
    CHECK(f.events_of("web").back() == Lifecycle::stopped_destroyed);
    CHECK_FALSE(std::filesystem::exists(f.live_dir() + "/web.xml"));
    CHECK(f.registry->by_name("web"));  // persistent: still defined

    std::optional<DomainResult<>> again;
    f.registry->destroy(d, [&](DomainResult<> r) { again = r; });
    REQUIRE(again);
    CHECK(again->error().code == Errc::invalid_state);
    CHECK(again->error().message == "domain is not running");
}

TEST_CASE("shutdown: asked of the launcher; the end says how", "[run]")
{
    Fixture f;
    auto d = f.define("web");
    f.start(d);
    f.launcher.ready("web");
    REQUIRE(f.registry->shutdown(d));
    CHECK(f.launcher.asked("shutdown web"));
    CHECK(d->active());  // until the guest powers off
    f.launcher.end("web", EndKind::exited);
    CHECK(d->reason == Reason::shutdown);
    CHECK(f.events_of("web").back() == Lifecycle::stopped_shutdown);

    // A shutdown the supervisor had to finish with a kill is a destroy.
    f.start(d);
    f.launcher.ready("web");
    REQUIRE(f.registry->shutdown(d));
    f.launcher.end("web", EndKind::killed);
    CHECK(d->reason == Reason::destroyed);
    CHECK(d->id == -1);
    CHECK_FALSE(f.registry->shutdown(d));
}

TEST_CASE("a crash, and a kill nobody asked for, are crashes", "[run]")
{
    Fixture f;
    auto d = f.define("web");
    f.start(d);
    f.launcher.ready("web");
    f.launcher.end("web", EndKind::crashed);
    CHECK(d->reason == Reason::crashed);
    CHECK(f.events_of("web").back() == Lifecycle::stopped_crashed);
    f.start(d);
    f.launcher.ready("web");
    f.launcher.end("web", EndKind::killed);
    CHECK(d->reason == Reason::crashed);
    CHECK(d->id == -1);
}

TEST_CASE("a start that fails: the caller hears why, the domain is shut off, failed", "[run]")
{
    Fixture f;
    auto d = f.define("web");
    auto answer = f.start(d);
    f.launcher.fail("web", "QEMU said no");
    REQUIRE(answer->has_value());
    REQUIRE_FALSE(answer->value());
    CHECK(answer->value().error().code == Errc::failed);
    CHECK(answer->value().error().message == "domain 'web' failed to start: QEMU said no");
    CHECK(d->state == RunState::shutoff);
    CHECK(d->reason == Reason::failed);
    CHECK(f.events_of("web").back() == Lifecycle::stopped_failed);

    // Refused by the launcher before anything ran: nothing changes.
    f.launcher.refuse_start = DomainError{Errc::unsupported, "no KVM here"};
    auto refused = f.start(d);
    REQUIRE(refused->has_value());
    CHECK(refused->value().error().code == Errc::unsupported);
    CHECK_FALSE(d->active());
}

TEST_CASE("create: a transient domain, forgotten when it stops; refused names", "[run]")
{
    Fixture f;
    std::optional<DomainResult<DomainPtr>> created;
    f.registry->create(domain_xml("tmp", uuid_a), false, [&](DomainResult<DomainPtr> r) { created = r; });
    CHECK_FALSE(created);
    f.launcher.ready("tmp");
    REQUIRE(created);
    REQUIRE(created->has_value());
    DomainPtr d = **created;
    CHECK_FALSE(d->persistent);
    CHECK(d->active());
    CHECK_FALSE(std::filesystem::exists(f.state_dir() + "/domains/tmp.xml"));

    std::optional<DomainResult<DomainPtr>> dup;
    f.registry->create(domain_xml("tmp", uuid_b), false, [&](DomainResult<DomainPtr> r) { dup = r; });
    REQUIRE(dup);
    CHECK(dup->error().code == Errc::exists);

    f.launcher.end("tmp", EndKind::exited);
    CHECK_FALSE(f.registry->by_name("tmp"));

    // A transient domain the launcher refuses is not kept either.
    f.launcher.refuse_start = DomainError{Errc::invalid_argument, "image 'x' takes at most 0 arguments"};
    std::optional<DomainResult<DomainPtr>> refused;
    f.registry->create(domain_xml("tmp"), false, [&](DomainResult<DomainPtr> r) { refused = r; });
    REQUIRE(refused);
    CHECK(refused->error().code == Errc::invalid_argument);
    CHECK_FALSE(f.registry->by_name("tmp"));
}

TEST_CASE("create: a domain still starting when its registry goes is freed with it", "[run]")
{
    // The creator's callback waits in the domain until it is ready; it must
    // not hold the domain itself (a cycle: a router stopping meanwhile would
    // never free it, nor what the callback holds, such as a client's call).
    Fixture f;
    auto held = std::make_shared<int>(0);
    bool answered = false;
    f.registry->create(domain_xml("slow"), false, [held, &answered](DomainResult<DomainPtr>) { answered = true; });
    std::weak_ptr<Domain> d = *f.registry->by_name("slow");
    std::weak_ptr<int> callback = held;
    held.reset();
    CHECK(f.launcher.asked("start slow"));
    f.registry.reset();
    CHECK(d.expired());
    CHECK(callback.expired());
    CHECK_FALSE(answered);
}

TEST_CASE("redefined while running: the next start uses the new definition", "[run]")
{
    Fixture f;
    auto d = f.define("web", uuid_a);
    f.start(d);
    f.launcher.ready("web");
    auto updated = f.registry->define(domain_xml("web", uuid_a, "<vcpu>2</vcpu>"));
    REQUIRE(updated);
    CHECK(d->def.vcpus == 1);
    REQUIRE(d->next_def);
    CHECK(d->next_def->vcpus == 2);
    f.launcher.end("web", EndKind::exited);
    CHECK(d->def.vcpus == 2);
    CHECK_FALSE(d->next_def);
}

TEST_CASE("suspend and resume", "[run]")
{
    Fixture f;
    auto d = f.define("web");
    std::optional<DomainResult<>> r;
    auto keep = [&](DomainResult<> x) { r = x; };
    f.registry->suspend(d, true, keep);
    CHECK(r->error().message == "domain is not running");
    f.start(d);
    f.registry->suspend(d, true, keep);  // still starting
    CHECK(r->error().code == Errc::invalid_state);
    f.launcher.ready("web");
    f.registry->suspend(d, false, keep);
    CHECK(r->error().message == "domain is not paused");
    f.registry->suspend(d, true, keep);
    CHECK(r->has_value());
    CHECK(d->state == RunState::paused);
    CHECK(f.launcher.asked("pause web"));
    f.registry->suspend(d, false, keep);
    CHECK(d->state == RunState::running);
    CHECK(d->reason == Reason::unpaused);
    CHECK(f.events_of("web").back() == Lifecycle::resumed);

    f.launcher.refuse_pause = DomainError{Errc::failed, "the domain's monitor did not answer within 5 s"};
    f.registry->suspend(d, true, keep);
    CHECK(r->error().code == Errc::failed);
    CHECK(d->state == RunState::running);
}

TEST_CASE("a resume asked while the pause is under way goes after it", "[run]")
{
    // Ctrl-Z, then fg at once: the resume comes before the monitor has
    // paused the guest; refused, it would leave the domain paused for good.
    Fixture f;
    auto d = f.define("web");
    f.start(d);
    f.launcher.ready("web");
    f.launcher.hold_pauses = true;
    std::vector<DomainResult<>> answers;
    auto keep = [&](DomainResult<> x) { answers.push_back(x); };
    f.registry->suspend(d, true, keep);
    f.registry->suspend(d, false, keep);
    f.registry->suspend(d, false, keep);  // resumed already, once the first resume is done
    REQUIRE(answers.size() == 1);
    CHECK(answers[0].error().message == "domain is not paused");
    CHECK(f.launcher.asked("pause web"));
    CHECK(f.launcher.asked("resume web"));
    f.launcher.answer_pauses();
    REQUIRE(answers.size() == 3);
    CHECK(answers[1].has_value());
    CHECK(answers[2].has_value());
    CHECK(d->state == RunState::running);
    CHECK_FALSE(d->pausing);
    auto events = f.events_of("web");
    REQUIRE(events.size() >= 2);
    CHECK(events[events.size() - 2] == Lifecycle::suspended);
    CHECK(events.back() == Lifecycle::resumed);
    // And a pause asked while a resume is under way.
    f.registry->suspend(d, true, keep);
    f.launcher.answer_pauses();
    f.registry->suspend(d, false, keep);
    f.registry->suspend(d, true, keep);
    f.launcher.answer_pauses();
    CHECK(d->state == RunState::paused);
    CHECK(answers.back().has_value());
}

TEST_CASE("stop_reason: the launcher's verdict and what was asked", "[run]")
{
    using E = EndKind;
    // nothing asked
    CHECK(stop_reason(E::exited, false, false) == Reason::shutdown);
    CHECK(stop_reason(E::killed, false, false) == Reason::crashed);
    CHECK(stop_reason(E::crashed, false, false) == Reason::crashed);
    CHECK(stop_reason(E::boot_timeout, false, false) == Reason::crashed);
    CHECK(stop_reason(E::launch_failed, false, false) == Reason::failed);
    // a shutdown asked
    CHECK(stop_reason(E::exited, true, false) == Reason::shutdown);
    CHECK(stop_reason(E::killed, true, false) == Reason::destroyed);
    CHECK(stop_reason(E::boot_timeout, true, false) == Reason::shutdown);
    CHECK(stop_reason(E::crashed, true, false) == Reason::crashed);
    CHECK(stop_reason(E::launch_failed, true, false) == Reason::failed);
    // a destroy asked
    CHECK(stop_reason(E::killed, false, true) == Reason::destroyed);
    CHECK(stop_reason(E::exited, false, true) == Reason::destroyed);
    CHECK(stop_reason(E::crashed, false, true) == Reason::crashed);
}
