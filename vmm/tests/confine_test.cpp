// Confining QEMU: the user it runs as, the sealed copies it boots from.
#include <fleet/test/support.hpp>

#include <fleet/vmm/confine.hpp>

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

using namespace fleet;
using namespace fleet::vmm;
using fleet::test::contains;

TEST_CASE("sealed_copy: the same bytes, readable by reopening, never writable", "[confine]")
{
    std::string path = "/dev/shm/fleet-confine-test-" + std::to_string(::getpid());
    std::string text(100000, 'k');
    text += "end";
    std::ofstream(path) << text;
    auto copy = sealed_copy(path);
    ::unlink(path.c_str());
    REQUIRE(copy);
    Fd again(::open(("/proc/self/fd/" + std::to_string(copy->get())).c_str(), O_RDONLY | O_CLOEXEC));
    REQUIRE(again);
    std::string read_back(text.size() + 10, '\0');
    ssize_t n = ::pread(again.get(), read_back.data(), read_back.size(), 0);
    REQUIRE(n == static_cast<ssize_t>(text.size()));
    read_back.resize(static_cast<std::size_t>(n));
    CHECK(read_back == text);
    CHECK(::pwrite(copy->get(), "x", 1, 0) < 0);  // sealed
    auto missing = sealed_copy("/nonexistent/kernel");
    REQUIRE_FALSE(missing);
    CHECK(contains(missing.error().what(), "/nonexistent/kernel"));
}

TEST_CASE("boot_file: a file anyone may read is handed as it is, another one as a sealed copy", "[confine]")
{
    std::string path = "/dev/shm/fleet-boot-file-test-" + std::to_string(::getpid());
    std::ofstream(path) << "kernel bytes";
    struct stat want {
    }, got{};
    REQUIRE(::stat(path.c_str(), &want) == 0);
    REQUIRE(::chmod(path.c_str(), 0644) == 0);
    auto shared = boot_file(path);
    REQUIRE(shared);
    REQUIRE(::fstat(shared->get(), &got) == 0);
    CHECK((got.st_dev == want.st_dev && got.st_ino == want.st_ino));  // the file itself: no copy
    CHECK((::fcntl(shared->get(), F_GETFL) & O_ACCMODE) == O_RDONLY);
    REQUIRE(::chmod(path.c_str(), 0600) == 0);
    auto copied = boot_file(path);
    REQUIRE(copied);
    REQUIRE(::fstat(copied->get(), &got) == 0);
    CHECK_FALSE(got.st_ino == want.st_ino);  // not the file: a copy
    CHECK(::fcntl(copied->get(), F_GET_SEALS) & F_SEAL_WRITE);
    Fd opened(::open(path.c_str(), O_RDONLY | O_CLOEXEC));  // opened by the caller (a client's file)
    REQUIRE(::chmod(path.c_str(), 0644) == 0);
    auto given = boot_file("/elsewhere", std::move(opened));
    REQUIRE(given);
    REQUIRE(::fstat(given->get(), &got) == 0);
    CHECK(got.st_ino == want.st_ino);
    ::unlink(path.c_str());
    auto missing = boot_file("/nonexistent/kernel");
    REQUIRE_FALSE(missing);
    CHECK(contains(missing.error().what(), "/nonexistent/kernel"));
}

TEST_CASE("qemu_credentials: a root launcher never falls back to root silently", "[confine]")
{
    const char* before = std::getenv("FLEET_QEMU_USER");
    std::string saved = before ? before : "";
    ::setenv("FLEET_QEMU_USER", "fleet-no-such-user", 1);
    auto missing = qemu_credentials();
    ::setenv("FLEET_QEMU_USER", "root", 1);
    auto as_root = qemu_credentials();
    ::setenv("FLEET_QEMU_USER", "nobody", 1);
    auto nobody = qemu_credentials();
    if (before)
        ::setenv("FLEET_QEMU_USER", saved.c_str(), 1);
    else
        ::unsetenv("FLEET_QEMU_USER");
    REQUIRE(as_root);
    CHECK_FALSE(*as_root);  // explicitly root, or not root at all: no change of user
    if (::geteuid() != 0) {
        CHECK((missing && !*missing));  // QEMU runs as the caller
        return;
    }
    REQUIRE_FALSE(missing);
    CHECK(contains(missing.error().what(), "'fleet-no-such-user' does not exist"));
    REQUIRE(nobody);
    REQUIRE(*nobody);
    CHECK((*nobody)->uid == 65534);
}

namespace {

struct Scratch {
    std::string path;
    Scratch()
    {
        char tmpl[] = "/dev/shm/fleet-confine-XXXXXX";
        path = ::mkdtemp(tmpl);
        ::chmod(path.c_str(), 0755);
    }
    ~Scratch() { std::filesystem::remove_all(path); }
    std::string file(const std::string& name, mode_t mode, uid_t uid = 0) const
    {
        std::string p = path + "/" + name;
        std::ofstream(p) << "the bytes of " << name;
        ::chmod(p.c_str(), mode);
        if (::chown(p.c_str(), uid, uid) != 0) return "";
        return p;
    }
};

}  // namespace

// A client's files are opened with its owner's rights even when nothing
// checked them before (the router's may_open is bypassed here): a path that
// has become a root-only file, or a link to one, by the time of the open is
// refused, so QEMU never gets it. The window between the router's check
// and the open cannot hand a client root's files.
TEST_CASE("confine_files: a client's files are opened as its owner", "[confine][root]")
{
    if (::geteuid() != 0) {
        WARN("skipped: opening as another user needs root");
        return;
    }
    Scratch s;
    const ClientFiles nobody{SpawnOptions::Credentials{65534, 65534, {}}, true, true};
    std::string theirs = s.file("kernel", 0600, 65534), secret = s.file("secret", 0600);
    std::string link = s.path + "/disk.img", dir = s.path + "/share", root_dir = s.path + "/root-only";
    REQUIRE(::symlink(secret.c_str(), link.c_str()) == 0);
    ::mkdir(dir.c_str(), 0755);
    ::mkdir(root_dir.c_str(), 0700);
    auto attempt = [&](auto edit) {
        VmSpec spec;
        spec.kernel = theirs;
        edit(spec);
        Wiring w;
        return confine_files(spec, w, "", nobody);
    };
    CHECK(attempt([](VmSpec&) {}));  // its own kernel: handed over
    CHECK_FALSE(attempt([&](VmSpec& v) { v.kernel = secret; }));
    CHECK_FALSE(attempt([&](VmSpec& v) { v.initrd = link; }));
    CHECK_FALSE(attempt([&](VmSpec& v) { v.disks.push_back(BlockDevice{link, "raw", true}); }));
    CHECK_FALSE(attempt([&](VmSpec& v) { v.disks.push_back(BlockDevice{theirs + "-no", "raw", true}); }));
    // A read-write share needs write access; a root-only folder none.
    CHECK(attempt([&](VmSpec& v) { v.shares.push_back(SharedFolder{dir, "/mnt/d", true}); }));
    CHECK_FALSE(attempt([&](VmSpec& v) { v.shares.push_back(SharedFolder{dir, "/mnt/d", false}); }));
    CHECK_FALSE(attempt([&](VmSpec& v) { v.shares.push_back(SharedFolder{root_dir, "/mnt/d", true}); }));
    // The launcher's own kernel (a catalog image's) stays the launcher's.
    VmSpec spec;
    spec.kernel = secret;
    spec.disks.push_back(BlockDevice{theirs, "raw", false});
    spec.shares.push_back(SharedFolder{dir, "/mnt/d", true});
    Wiring w;
    auto c = confine_files(spec, w, "", ClientFiles{nobody.owner, false, false});
    REQUIRE(c);
    CHECK(spec.kernel == "/proc/self/fd/40");
    CHECK(spec.disks[0].path == "/dev/fdset/1");
    CHECK(w.fd_sets.size() == 2);  // read-write: its read-only fd too
    CHECK(spec.shares[0].host_path == "/proc/self/fd/46");
}

TEST_CASE("qemu_environment: malloc in huge pages, a user's own tunables kept", "[confine]")
{
    const char* saved = std::getenv("GLIBC_TUNABLES");
    std::string restore = saved ? saved : "";
    ::unsetenv("GLIBC_TUNABLES");
    CHECK(qemu_environment() == std::vector<std::string>{"GLIBC_TUNABLES=glibc.malloc.hugetlb=1"});
    ::setenv("GLIBC_TUNABLES", "glibc.malloc.check=3", 1);
    CHECK(qemu_environment() == std::vector<std::string>{"GLIBC_TUNABLES=glibc.malloc.check=3:glibc.malloc.hugetlb=1"});
    ::setenv("GLIBC_TUNABLES", "glibc.malloc.hugetlb=0", 1);  // the user turned it off
    CHECK(qemu_environment() == std::vector<std::string>{"GLIBC_TUNABLES=glibc.malloc.hugetlb=0"});
    if (saved)
        ::setenv("GLIBC_TUNABLES", restore.c_str(), 1);
    else
        ::unsetenv("GLIBC_TUNABLES");
}
