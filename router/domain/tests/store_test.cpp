// router-domain-unit — DefinitionStore: save, load, replace, remove, bad
// files, leftover temp files, and a save killed at random moments.
#include "helpers.hpp"

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <thread>

using namespace fleet::router;
using namespace fleet::router::testing;
using Catch::Matchers::Contains;
using Catch::Matchers::Equals;
using Catch::Matchers::StartsWith;

namespace {

// A fresh folder under /tmp, removed at the end of the test.
struct TempDir {
    std::string path;
    TempDir()
    {
        std::string templ = "/tmp/fleet-domain-test-XXXXXX";
        REQUIRE(::mkdtemp(templ.data()) != nullptr);
        path = templ;
    }
    ~TempDir() { std::filesystem::remove_all(path); }
};

DomainDef def_named(const std::string& name, const std::string& kernel = "/k")
{
    DomainDef d;
    d.name = name;
    d.uuid = random_uuid();
    d.kernel = kernel;
    d.interfaces = {{"bridge", "br0", "52:54:00:12:34:56", "virtio"}};
    return d;
}

std::vector<std::string> files_in(const std::string& dir)
{
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

void write(const std::string& path, const std::string& text)
{
    std::ofstream(path) << text;
}

unsigned mode_of(const std::string& path)
{
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("store: open makes the folder, 0700", "[store]")
{
    TempDir tmp;
    auto store = DefinitionStore::open(tmp.path + "/state/domains/");
    REQUIRE(store);
    CHECK(store->dir() == tmp.path + "/state/domains");
    CHECK(mode_of(store->dir()) == 0700);
    CHECK(DefinitionStore::open(store->dir()));  // again: already there
    write(tmp.path + "/file", "");
    CHECK_THAT(DefinitionStore::open(tmp.path + "/file").error().what(),
               Equals("cannot use " + tmp.path + "/file: not a folder"));
    CHECK_FALSE(DefinitionStore::open(""));
}

TEST_CASE("store: save, load back, replace, remove", "[store]")
{
    TempDir tmp;
    auto store = DefinitionStore::open(tmp.path);
    REQUIRE(store);
    const DomainDef a = def_named("alpha"), b = def_named("beta");
    REQUIRE(store->save(b));
    REQUIRE(store->save(a));
    CHECK(files_in(tmp.path) == std::vector<std::string>{"alpha.xml", "beta.xml"});
    CHECK(mode_of(tmp.path + "/alpha.xml") == 0600);

    auto loaded = store->load_all();
    REQUIRE(loaded);
    CHECK(loaded->bad.empty());
    REQUIRE(loaded->defs.size() == 2);
    CHECK(loaded->defs[0] == a);  // sorted by name
    CHECK(loaded->defs[1] == b);

    DomainDef a2 = a;
    a2.vcpus = 4;
    a2.description = "replaced";
    REQUIRE(store->save(a2));
    loaded = store->load_all();
    REQUIRE(loaded);
    CHECK(loaded->defs[0] == a2);
    CHECK(files_in(tmp.path).size() == 2);

    REQUIRE(store->remove("alpha"));
    CHECK(files_in(tmp.path) == std::vector<std::string>{"beta.xml"});
    auto again = store->remove("alpha");
    REQUIRE_FALSE(again);
    CHECK(again.error().message == "no definition for 'alpha' in " + tmp.path);
    CHECK(again.error().sys_errno == ENOENT);
}

TEST_CASE("store: names are checked before they become file names", "[store]")
{
    TempDir tmp;
    auto store = DefinitionStore::open(tmp.path);
    REQUIRE(store);
    CHECK_THAT(store->save(def_named("../escape")).error().what(), StartsWith("bad domain name '../escape'"));
    CHECK_THAT(store->remove("../x").error().what(), StartsWith("bad domain name"));
    DomainDef nothing = def_named("empty", "");
    CHECK_THAT(store->save(nothing).error().what(),
               StartsWith("definition of 'empty' would not read back: nothing to boot"));
    CHECK(files_in(tmp.path).empty());
}

TEST_CASE("store: bad files are reported and left alone; others ignored", "[store]")
{
    TempDir tmp;
    auto store = DefinitionStore::open(tmp.path);
    REQUIRE(store);
    REQUIRE(store->save(def_named("good")));
    write(tmp.path + "/broken.xml", "<domain type='qemu'><name>broken</name>");
    write(tmp.path + "/other.xml", format_domain_xml(def_named("someone")));
    write(tmp.path + "/README", "not a definition");
    write(tmp.path + "/good.xml~", "an editor's backup");
    std::filesystem::create_directory(tmp.path + "/dir.xml");
    ::symlink("good.xml", (tmp.path + "/link.xml").c_str());

    auto loaded = store->load_all();
    REQUIRE(loaded);
    REQUIRE(loaded->defs.size() == 1);
    CHECK(loaded->defs[0].name == "good");
    REQUIRE(loaded->bad.size() == 4);
    CHECK_THAT(loaded->bad[0], StartsWith(tmp.path + "/broken.xml: domain XML: "));
    CHECK_THAT(loaded->bad[1], StartsWith(tmp.path + "/dir.xml: not a regular file"));
    CHECK_THAT(loaded->bad[2], StartsWith(tmp.path + "/link.xml: cannot open"));
    CHECK(loaded->bad[3] == tmp.path + "/other.xml: defines 'someone', not 'other'");
    CHECK(files_in(tmp.path).size() == 7);  // nothing deleted
}

TEST_CASE("store: leftover temp files from a crash are removed", "[store]")
{
    TempDir tmp;
    auto store = DefinitionStore::open(tmp.path);
    REQUIRE(store);
    REQUIRE(store->save(def_named("vm")));
    write(tmp.path + "/.vm.xml.tmp-AbC123", "<domain");
    write(tmp.path + "/.hidden", "kept");
    auto loaded = store->load_all();
    REQUIRE(loaded);
    CHECK(loaded->defs.size() == 1);
    CHECK(loaded->bad.empty());
    CHECK(files_in(tmp.path) == std::vector<std::string>{".hidden", "vm.xml"});
}

TEST_CASE("store: a file over 1 MiB is bad, not read whole", "[store]")
{
    TempDir tmp;
    auto store = DefinitionStore::open(tmp.path);
    REQUIRE(store);
    write(tmp.path + "/big.xml", std::string(3 * 1024 * 1024, ' '));
    auto loaded = store->load_all();
    REQUIRE(loaded);
    REQUIRE(loaded->bad.size() == 1);
    CHECK_THAT(loaded->bad[0], Contains("too large (1048577 bytes, at most 1 MiB)"));
}

// A child saves two definitions of one domain in turn, forever; once it
// has saved once, it is SIGKILLed at a random moment. The file is then
// always one of the two, whole, and the next load_all cleans up the temp
// file the child may have left. 40 rounds, more (up to 300) until 10 kills
// have landed inside a save (a temp file was left).
TEST_CASE("store: a save killed at any moment leaves the old or the new definition", "[store][crash]")
{
    TempDir tmp;
    auto store = DefinitionStore::open(tmp.path);
    REQUIRE(store);
    DomainDef one = def_named("vm", "/one");
    DomainDef two = def_named("vm", "/two");
    two.uuid = one.uuid;
    two.description = std::string(200000, 'x');  // a write that takes a while
    REQUIRE(store->save(one));

    std::mt19937 rng(7);
    int rounds = 0, killed_mid_save = 0;
    for (; rounds < 40 || (killed_mid_save < 10 && rounds < 300); ++rounds) {
        int ready[2];
        REQUIRE(::pipe(ready) == 0);
        const pid_t child = ::fork();
        REQUIRE(child >= 0);
        if (child == 0) {
            for (unsigned i = 0;; ++i) {
                if (!store->save(i % 2 ? one : two)) ::_exit(1);
                if (i == 0 && ::write(ready[1], "", 1) != 1) ::_exit(1);
            }
        }
        ::close(ready[1]);
        char byte;
        REQUIRE(::read(ready[0], &byte, 1) == 1);  // the child is in its loop
        ::close(ready[0]);
        std::this_thread::sleep_for(std::chrono::microseconds(rng() % 5000));
        ::kill(child, SIGKILL);
        int status = 0;
        REQUIRE(::waitpid(child, &status, 0) == child);
        REQUIRE(WIFSIGNALED(status));
        killed_mid_save += files_in(tmp.path).size() > 1;

        auto loaded = store->load_all();
        REQUIRE(loaded);
        INFO((loaded->bad.empty() ? std::string() : loaded->bad[0]));
        REQUIRE(loaded->bad.empty());
        REQUIRE(loaded->defs.size() == 1);
        CHECK((loaded->defs[0] == one || loaded->defs[0] == two));
        CHECK(files_in(tmp.path) == std::vector<std::string>{"vm.xml"});
    }
    INFO(rounds << " rounds");
    CHECK(killed_mid_save > 0);  // the kills did land inside saves
}
