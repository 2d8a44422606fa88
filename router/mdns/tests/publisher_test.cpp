// MdnsPublisher with no D-Bus system bus to reach: one warning, no failure,
// quiet retries, and nothing left in the loop once it is destroyed. (With a
// real avahi-daemon: tests/integration/mdns_test.py.)
#include <fleet/router/mdns.hpp>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>
#include <vector>

TEST_CASE("with no system bus the publisher warns once and keeps trying", "[publisher]")
{
    // libdbus reads the address once per process: set it before any client.
    REQUIRE(::setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/fleet-mdns-test/bus", 1) == 0);
    auto loop = std::move(fleet::Loop::create().value());
    std::vector<std::string> lines;
    fleet::router::MdnsService service{.name = "fleet on test", .port = 1234, .txt = {"impl=fleet"}};
    auto publisher =
        fleet::router::MdnsPublisher::start(*loop, service, [&lines](const std::string& l) { lines.push_back(l); });
    REQUIRE(publisher);

    // Past the first retry (1 s): still one line.
    bool done = false;
    loop->timer(std::chrono::milliseconds(1300), [&done](int) { done = true; });
    REQUIRE(loop->run_until([&done] { return done; }));
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].starts_with("mdns: no avahi-daemon ("));
    CHECK(lines[0].ends_with("); serving without mDNS"));
    CHECK_FALSE(publisher->established());
    CHECK(publisher->published_name() == "fleet on test");

    // Destroyed, it leaves no timer or watch behind.
    publisher.reset();
    REQUIRE(loop->run_until([&loop] { return loop->pending() == 0; }));
}

TEST_CASE("a name longer than a DNS label is cut at a character boundary", "[publisher]")
{
    REQUIRE(::setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/fleet-mdns-test/bus", 1) == 0);
    auto loop = std::move(fleet::Loop::create().value());
    std::vector<std::string> lines;
    // "fleet on x" (10 bytes) + 28 two-byte characters = 66 bytes; the
    // 63-byte limit falls inside the 27th character, so 62 bytes remain.
    std::string name = "fleet on x";
    for (int i = 0; i < 28; ++i) name += "\xc3\xa9";  // é
    auto publisher = fleet::router::MdnsPublisher::start(*loop, {.name = name},
                                                         [&lines](const std::string& l) { lines.push_back(l); });
    std::string cut = publisher->published_name();
    CHECK(cut.size() == 62);
    CHECK(name.starts_with(cut));
    REQUIRE(lines.size() == 2);
    CHECK(lines[0] == "mdns: name '" + name + "' is longer than a DNS label; publishing as '" + cut + "'");

    std::string short_name = "fleet on host";
    auto other = fleet::router::MdnsPublisher::start(*loop, {.name = short_name}, nullptr);
    CHECK(other->published_name() == short_name);
    publisher.reset();
    other.reset();
    REQUIRE(loop->run_until([&loop] { return loop->pending() == 0; }));
}
