// replace_file and ensure_private_dir: atomic replacement, and folders that
// another local user cannot plant.
#include <fleet/test/support.hpp>

#include <fleet/base/file.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

using fleet::ensure_private_dir;
using fleet::replace_file;
using fleet::Sync;
using fleet::test::contains;
using fleet::test::TempDir;

TEST_CASE("replace_file: writes, replaces, leaves no temp file", "[file]")
{
    TempDir tmp;
    REQUIRE(replace_file(tmp.path(), "a", "one", Sync::yes));
    REQUIRE(replace_file(tmp.path(), "a", "two", Sync::no));
    CHECK(fleet::test::read_file(tmp / "a") == "two");
    int entries = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(tmp.path())) ++entries;
    CHECK(entries == 1);
}

TEST_CASE("ensure_private_dir: creates with parents and the mode given", "[file]")
{
    TempDir tmp;
    std::string dir = tmp / "x/y/fleet";
    REQUIRE(ensure_private_dir(dir, 0700));
    struct stat st {};
    REQUIRE(::stat(dir.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);
    CHECK(ensure_private_dir(dir));  // again: fine
}

TEST_CASE("ensure_private_dir: clears group and other write bits", "[file]")
{
    TempDir tmp;
    std::string dir = tmp / "open";
    REQUIRE(::mkdir(dir.c_str(), 0777) == 0);
    REQUIRE(::chmod(dir.c_str(), 0777) == 0);
    REQUIRE(ensure_private_dir(dir));
    struct stat st {};
    REQUIRE(::stat(dir.c_str(), &st) == 0);
    CHECK((st.st_mode & 022) == 0);
}

TEST_CASE("ensure_private_dir: refuses a symlink and a file", "[file]")
{
    TempDir tmp;
    REQUIRE(::mkdir((tmp / "target").c_str(), 0700) == 0);
    REQUIRE(::symlink((tmp / "target").c_str(), (tmp / "link").c_str()) == 0);
    auto r = ensure_private_dir(tmp / "link");
    REQUIRE_FALSE(r);
    CHECK(contains(r.error().what(), "symbolic link"));
    REQUIRE(replace_file(tmp.path(), "file", "x", Sync::no));
    auto f = ensure_private_dir(tmp / "file");
    REQUIRE_FALSE(f);
    CHECK(contains(f.error().what(), "not a folder"));
}

TEST_CASE("ensure_private_dir: refuses a folder another user owns", "[file]")
{
    if (::geteuid() != 0) {
        WARN("skipped: needs root to make a folder owned by another user");
        return;
    }
    TempDir tmp;
    std::string dir = tmp / "planted";
    REQUIRE(::mkdir(dir.c_str(), 0700) == 0);
    REQUIRE(::chown(dir.c_str(), 65534, 65534) == 0);
    auto r = ensure_private_dir(dir);
    REQUIRE_FALSE(r);
    CHECK(contains(r.error().what(), "belongs to uid 65534"));
}
