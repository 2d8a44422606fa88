// router-unit — adoption: a restarted registry takes over the VMs the last
// one left running (their live records), clears those that ended meanwhile,
// and keeps ids counting up.
#include "fixture.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>

using namespace fleet::router;
using namespace fleet::router::testing;

TEST_CASE("adopt: running VMs come back with their ids; ended ones are cleared", "[adopt]")
{
    Fixture f;
    auto web = f.define("web", uuid_a);
    f.start(web);
    f.launcher.ready("web");
    std::optional<DomainResult<DomainPtr>> tmp;
    f.registry->create(domain_xml("tmp", uuid_b), false, [&](DomainResult<DomainPtr> r) { tmp = r; });
    f.launcher.ready("tmp");
    REQUIRE(tmp);
    CHECK((**tmp)->id == 2);

    // The router goes; "web" keeps running, "tmp" ends while none runs.
    f.registry->stop();
    CHECK(f.launcher.asked("detach"));
    f.registry.reset();
    f.launcher.left_running["web"] = Adopted{false};

    f.registry = f.fresh_registry();
    f.registry->load_definitions();
    f.registry->adopt();
    CHECK(f.launcher.asked("adopt web"));
    CHECK(f.launcher.asked("adopt tmp"));
    auto d = f.registry->by_name("web").value();
    CHECK(d->active());
    CHECK(d->id == 1);
    CHECK(d->persistent);
    CHECK(d->state == RunState::running);
    CHECK_FALSE(f.registry->by_name("tmp"));
    CHECK_FALSE(std::filesystem::exists(f.live_dir() + "/tmp.xml"));
    CHECK(std::filesystem::exists(f.live_dir() + "/web.xml"));

    // Its end is watched as before, and ids go on after the adopted ones.
    auto other = f.define("other");
    f.start(other);
    CHECK(other->id == 2);  // after the highest one adopted
    f.launcher.end("web", EndKind::exited);
    CHECK_FALSE(d->active());
    CHECK(d->reason == Reason::shutdown);
}

TEST_CASE("adopt: a transient domain stays transient, a paused one paused", "[adopt]")
{
    Fixture f;
    std::optional<DomainResult<DomainPtr>> tmp;
    f.registry->create(domain_xml("tmp", uuid_b), true, [&](DomainResult<DomainPtr> r) { tmp = r; });
    f.launcher.ready("tmp");
    f.registry->stop();
    f.launcher.left_running["tmp"] = Adopted{true};
    f.registry = f.fresh_registry();
    f.registry->load_definitions();
    f.registry->adopt();
    auto d = f.registry->by_name("tmp").value();
    CHECK_FALSE(d->persistent);
    CHECK(d->state == RunState::paused);
    CHECK(d->reason == Reason::user);
    f.launcher.end("tmp", EndKind::exited);
    CHECK_FALSE(f.registry->by_name("tmp"));
}

TEST_CASE("adopt: a definition changed while no router ran is the next boot's", "[adopt]")
{
    Fixture f;
    auto web = f.define("web", uuid_a);
    f.start(web);
    f.launcher.ready("web");
    f.registry->stop();
    f.launcher.left_running["web"] = Adopted{false};
    // Edited by hand meanwhile: 2 vCPUs from the next boot on.
    auto edited = parse_domain_xml(domain_xml("web", uuid_a, "<vcpu>2</vcpu>"));
    REQUIRE(edited);
    auto defs = DefinitionStore::open(f.state_dir() + "/domains");
    REQUIRE(defs);
    REQUIRE(defs->save(*edited));

    f.registry = f.fresh_registry();
    f.registry->load_definitions();
    f.registry->adopt();
    auto d = f.registry->by_name("web").value();
    CHECK(d->def.vcpus == 1);  // what runs
    REQUIRE(d->next_def);
    CHECK(d->next_def->vcpus == 2);
}

TEST_CASE("adopt: a live record that does not parse is cleared", "[adopt]")
{
    Fixture f;
    fleet::test::write_file(f.live_dir() + "/junk.xml", "<domain");
    f.registry->adopt();
    CHECK(f.launcher.asked("clear junk"));
    CHECK_FALSE(std::filesystem::exists(f.live_dir() + "/junk.xml"));
    CHECK(f.registry->all().empty());
}

TEST_CASE("adopt: a stage of a run is destroyed, its client having gone with the router", "[adopt][runs]")
{
    Fixture f;
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    auto stdio = std::make_shared<RunStdio>();
    stdio->in = fleet::Fd(p[0]);
    stdio->out = fleet::Fd(p[1]);
    stdio->err = fleet::Fd(::fcntl(p[1], F_DUPFD_CLOEXEC, 3));
    std::optional<DomainResult<DomainPtr>> stage;
    f.registry->create(
        domain_xml("stage", uuid_a), false, [&](DomainResult<DomainPtr> r) { stage = r; }, Principal::router(), stdio);
    f.launcher.ready("stage");
    REQUIRE(stage);
    REQUIRE(*stage);
    CHECK((**stage)->run_stage);
    CHECK(std::filesystem::exists(f.live_dir() + "/stage.run"));
    f.registry->stop();
    f.launcher.left_running["stage"] = Adopted{false};
    f.registry = f.fresh_registry();
    f.registry->adopt();
    CHECK(f.launcher.asked("kill stage"));
    f.launcher.end("stage", EndKind::killed);
    CHECK_FALSE(f.registry->by_name("stage"));
    CHECK_FALSE(std::filesystem::exists(f.live_dir() + "/stage.run"));
    CHECK(f.events_of("stage").back() == Lifecycle::stopped_destroyed);
}
