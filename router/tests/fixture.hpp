// router-unit — a DomainRegistry over the FakeLauncher, in a folder of its
// own, with the events it emitted and the lines it logged.
#pragma once

#include "fake_launcher.hpp"

#include <fleet/router/registry.hpp>
#include <fleet/test/support.hpp>

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace fleet::router::testing {

// A domain in fleet's subset; uuid: 32 hex digits, or none (a random one).
inline std::string domain_xml(const std::string& name, const std::string& uuid = "", const std::string& extra = "")
{
    std::string u = uuid.empty() ? "" : "<uuid>" + uuid + "</uuid>";
    return "<domain type='qemu'><name>" + name + "</name>" + u +
           "<memory unit='MiB'>64</memory><os><type arch='x86_64' machine='microvm'>hvm</type>"
           "<kernel>/nonexistent/hello.elf</kernel></os>" +
           extra + "</domain>";
}

inline const std::string uuid_a = "11111111-2222-4333-8444-555555555555";
inline const std::string uuid_b = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";

struct Fixture {
    fleet::test::TempDir dir;
    std::unique_ptr<Loop> loop;
    FakeLauncher launcher;
    std::vector<std::string> log;
    std::vector<std::pair<std::string, Lifecycle>> events;
    std::unique_ptr<DomainRegistry> registry;

    Fixture()
    {
        auto l = Loop::create(64);
        REQUIRE(l);
        loop = std::move(*l);
        std::filesystem::create_directories(live_dir());  // as the daemon's lock_runtime_dir does
        registry = fresh_registry();
    }

    std::string state_dir() const { return dir / "state"; }
    std::string live_dir() const { return dir / "run/router/live"; }

    // Another registry on the same folders (a router restarted).
    std::unique_ptr<DomainRegistry> fresh_registry()
    {
        auto defs = DefinitionStore::open(state_dir() + "/domains");
        REQUIRE(defs);
        auto r = std::make_unique<DomainRegistry>(*loop, launcher, std::move(*defs),
                                                  RegistryOptions{state_dir(), live_dir()},
                                                  Log{[this](const std::string& line) { log.push_back(line); }});
        r->on_event([this](const Domain& d, Lifecycle e) { events.emplace_back(d.def.name, e); });
        return r;
    }

    DomainPtr define(const std::string& name, const std::string& uuid = "")
    {
        auto d = registry->define(domain_xml(name, uuid));
        REQUIRE(d);
        return *d;
    }

    // start(), its answer (empty while it waits).
    std::shared_ptr<std::optional<DomainResult<>>> start(const DomainPtr& d, bool paused = false)
    {
        auto answer = std::make_shared<std::optional<DomainResult<>>>();
        registry->start(d, paused, [answer](DomainResult<> r) { *answer = std::move(r); });
        return answer;
    }

    std::vector<Lifecycle> events_of(const std::string& name) const
    {
        std::vector<Lifecycle> v;
        for (const auto& [n, e] : events)
            if (n == name) v.push_back(e);
        return v;
    }

    // Run what is deferred on the loop so far (the boot manifest's next step).
    void flush()
    {
        bool reached = false;
        loop->defer([&] { reached = true; });
        turn_until([&] { return reached; });
    }

    // Turn the loop until cond() holds (deferred work: the boot manifest).
    void turn_until(const std::function<bool()>& cond)
    {
        auto r = loop->run_until(cond);
        REQUIRE(r);
    }
};

}  // namespace fleet::router::testing
