// router-unit — the `pool` setting (pools.hpp): IMAGE[:SIZE], ... and its
// one-phrase errors (the daemon puts the file:line in front).
#include <fleet/router/pools.hpp>
#include <fleet/test/support.hpp>

using fleet::router::parse_pool_setting;
using fleet::router::PoolSetting;

TEST_CASE("pool setting: images with and without sizes", "[pools]")
{
    auto p = parse_pool_setting(" echo:2, cat ,hello:1", 3);
    REQUIRE(p);
    CHECK(*p == std::vector<PoolSetting>{{"echo", 2}, {"cat", 3}, {"hello", 1}});
    CHECK(parse_pool_setting("", 1)->empty());
    CHECK(parse_pool_setting("none", 1)->empty());
    CHECK(*parse_pool_setting("linux-ls:64", 1) == std::vector<PoolSetting>{{"linux-ls", 64}});
}

TEST_CASE("pool setting: bad input is one phrase naming what is wrong", "[pools]")
{
    auto error = [](const char* text) { return parse_pool_setting(text, 1).error(); };
    CHECK(error("echo:0") == "pool: the size of 'echo' must be 1 to 64");
    CHECK(error("echo:65") == "pool: the size of 'echo' must be 1 to 64");
    CHECK(error("echo:two") == "pool: bad size 'two' for 'echo'");
    CHECK(error("echo:") == "pool: bad size '' for 'echo'");
    CHECK(error("echo:2x") == "pool: bad size '2x' for 'echo'");
    CHECK(error("echo,,cat") == "pool: an empty image name (IMAGE[:SIZE], ...)");
    CHECK(error("echo,") == "pool: an empty image name (IMAGE[:SIZE], ...)");
    CHECK(error("../etc:1") == "pool: '../etc' is not a catalog image name");
    CHECK(error("/boot/vmlinuz") == "pool: '/boot/vmlinuz' is not a catalog image name");
    CHECK(error("echo:1,echo:2") == "pool: 'echo' is named twice");
    CHECK(parse_pool_setting("echo", 0).error() == "pool: the size of 'echo' must be 1 to 64");
}
