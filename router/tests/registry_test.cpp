// router-unit — the DomainRegistry's definitions: define, redefine, lookups,
// undefine, what a restarted registry loads, and its errors.
#include "fixture.hpp"

#include <filesystem>

using namespace fleet::router;
using namespace fleet::router::testing;

TEST_CASE("define: persisted, found by name, uuid and not by id", "[registry]")
{
    Fixture f;
    auto d = f.define("web", uuid_a);
    CHECK(d->persistent);
    CHECK_FALSE(d->active());
    CHECK(d->state == RunState::shutoff);
    CHECK(std::filesystem::exists(f.state_dir() + "/domains/web.xml"));
    CHECK(f.registry->by_name("web").value() == d);
    CHECK(f.registry->by_uuid(d->def.uuid).value() == d);
    CHECK(f.registry->lookup(d->def.uuid, "web").value() == d);
    auto by_id = f.registry->by_id(-1);
    REQUIRE_FALSE(by_id);
    CHECK(by_id.error().code == Errc::not_found);
    CHECK(f.events_of("web") == std::vector{Lifecycle::defined_added});

    // Again, same uuid: an update.
    auto again = f.registry->define(domain_xml("web", uuid_a));
    REQUIRE(again);
    CHECK(*again == d);
    CHECK(f.events_of("web") == std::vector{Lifecycle::defined_added, Lifecycle::defined_updated});
}

TEST_CASE("define: names and uuids are taken, bad XML is refused", "[registry]")
{
    Fixture f;
    f.define("web", uuid_a);
    auto other_uuid = f.registry->define(domain_xml("web", uuid_b));
    REQUIRE_FALSE(other_uuid);
    CHECK(other_uuid.error().code == Errc::exists);
    CHECK(other_uuid.error().message == "domain 'web' already exists with uuid " + uuid_a);
    auto same_uuid = f.registry->define(domain_xml("db", uuid_a));
    REQUIRE_FALSE(same_uuid);
    CHECK(same_uuid.error().code == Errc::exists);
    CHECK(same_uuid.error().message.find("'web'") != std::string::npos);
    auto bad = f.registry->define("<domain type='qemu'><name>x</name>");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == Errc::bad_definition);
    auto unknown = f.registry->define(domain_xml("u", "", "<devices><disk type='file'/></devices>"));
    REQUIRE_FALSE(unknown);
    CHECK(unknown.error().code == Errc::bad_definition);
    auto display = f.registry->define(domain_xml("g", "", "<devices><graphics type='vnc'/></devices>"));
    REQUIRE_FALSE(display);
    CHECK(display.error().code == Errc::unsupported_config);
    CHECK(display.error().message.find("<devices/graphics>") == 0);
    CHECK(f.registry->all().size() == 1);
}

TEST_CASE("lookups: not found says what was asked", "[registry]")
{
    Fixture f;
    auto n = f.registry->by_name("nosuch");
    REQUIRE_FALSE(n);
    CHECK(n.error().code == Errc::not_found);
    CHECK(n.error().message == "no domain with matching name 'nosuch'");
    CHECK(f.registry->by_id(42).error().message == "no domain with matching id 42");
    auto u = f.registry->lookup(parse_uuid(uuid_b).value(), "gone");
    REQUIRE_FALSE(u);
    CHECK(u.error().message == "no domain with matching uuid '" + uuid_b + "' (gone)");
}

TEST_CASE("undefine: the file, the manifest entry and the domain go", "[registry]")
{
    Fixture f;
    auto d = f.define("web");
    REQUIRE(f.registry->set_autostart(d, true));
    REQUIRE(f.registry->undefine(d));
    CHECK_FALSE(std::filesystem::exists(f.state_dir() + "/domains/web.xml"));
    CHECK_FALSE(f.registry->by_name("web"));
    CHECK(fleet::test::read_file(f.state_dir() + "/boot").find("web") == std::string::npos);
    CHECK(f.events_of("web").back() == Lifecycle::undefined);
    auto again = f.registry->undefine(d);
    REQUIRE_FALSE(again);
    CHECK(again.error().code == Errc::invalid_state);
    CHECK(again.error().message == "cannot undefine transient domain");
}

TEST_CASE("a restarted registry loads the definitions and skips a broken one", "[registry]")
{
    Fixture f;
    f.define("a");
    f.define("b");
    fleet::test::write_file(f.state_dir() + "/domains/broken.xml", "<domain");
    auto again = f.fresh_registry();
    again->load_definitions();
    auto all = again->all();
    REQUIRE(all.size() == 2);
    CHECK(all[0]->def.name == "a");
    CHECK(all[1]->def.name == "b");
    CHECK(all[0]->persistent);
    CHECK(std::filesystem::exists(f.state_dir() + "/domains/broken.xml"));  // reported, never deleted
    bool reported = false;
    for (const auto& l : f.log) reported |= l.find("broken") != std::string::npos;
    CHECK(reported);
}
