// RotatingLog: a size cap and a few backups, like virtlogd's.
#include <fleet/test/support.hpp>

#include <fleet/base/rotating_log.hpp>

#include <filesystem>
#include <string>

using fleet::RotatingLog;
using fleet::test::read_file;
using fleet::test::TempDir;

TEST_CASE("RotatingLog: no file grows past the cap; the newest bytes are kept", "[rotating_log]")
{
    TempDir tmp;
    std::string path = tmp / "console.log";
    auto log = RotatingLog::open(path, 100, 2);
    REQUIRE(log);
    std::string all;
    for (int i = 0; i < 50; ++i) {
        std::string line = "line " + std::to_string(i) + " of the guest's output\n";
        log->write(line);
        all += line;
    }
    std::string cur = read_file(path), one = read_file(path + ".1"), two = read_file(path + ".2");
    CHECK(cur.size() <= 100);
    CHECK(one.size() == 100);
    CHECK(two.size() == 100);
    CHECK_FALSE(std::filesystem::exists(path + ".3"));
    CHECK(all.ends_with(two + one + cur));  // in order, nothing lost between them
}

TEST_CASE("RotatingLog: one write larger than the cap is split", "[rotating_log]")
{
    TempDir tmp;
    std::string path = tmp / "big.log";
    auto log = RotatingLog::open(path, 10, 1);
    REQUIRE(log);
    log->write(std::string(25, 'x'));
    CHECK(read_file(path).size() == 5);
    CHECK(read_file(path + ".1").size() == 10);
    CHECK_FALSE(std::filesystem::exists(path + ".2"));
}

TEST_CASE("RotatingLog: reopening continues the size count", "[rotating_log]")
{
    TempDir tmp;
    std::string path = tmp / "again.log";
    {
        auto log = RotatingLog::open(path, 10, 1);
        REQUIRE(log);
        log->write("12345678");
    }
    auto log = RotatingLog::open(path, 10, 1);
    REQUIRE(log);
    CHECK(log->size() == 8);
    log->write("abcd");
    CHECK(read_file(path + ".1") == "12345678ab");
    CHECK(read_file(path) == "cd");
}

TEST_CASE("RotatingLog: no backups means the file starts over", "[rotating_log]")
{
    TempDir tmp;
    std::string path = tmp / "none.log";
    auto log = RotatingLog::open(path, 4, 0);
    REQUIRE(log);
    log->write("abcdef");
    CHECK(read_file(path) == "ef");
}
