// open_as: the files come back opened with the user's rights, whatever the
// path has become, and the caller stays who it was.
#include <fleet/test/support.hpp>

#include <fleet/base/open_as.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

using namespace fleet;

namespace {

constexpr SpawnOptions::Credentials nobody{65534, 65534, {}};

struct Folder {
    std::string path;
    Folder()
    {
        char tmpl[] = "/dev/shm/fleet-open-as-XXXXXX";
        path = ::mkdtemp(tmpl);
        ::chmod(path.c_str(), 0755);
    }
    ~Folder() { std::filesystem::remove_all(path); }
    std::string file(const std::string& name, const std::string& text, mode_t mode) const
    {
        std::string p = path + "/" + name;
        int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        (void)!::write(fd, text.data(), text.size());
        ::close(fd);
        ::chmod(p.c_str(), mode);
        return p;
    }
};

std::string read_fd(int fd)
{
    char buf[256];
    ssize_t n = ::pread(fd, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

}  // namespace

TEST_CASE("open_as: opens what the user may, refuses the rest", "[open_as][root]")
{
    if (::geteuid() != 0) {
        WARN("skipped: opening as another user needs root");
        return;
    }
    Folder f;
    std::string open_file = f.file("open", "public", 0644);
    std::string secret = f.file("secret", "root only", 0600);
    auto got = open_as(nobody, {{open_file, O_RDONLY}});
    REQUIRE(got);
    REQUIRE(got->size() == 1);
    CHECK(read_fd((*got)[0].get()) == "public");
    CHECK((::fcntl((*got)[0].get(), F_GETFD) & FD_CLOEXEC));
    CHECK(!(::fcntl((*got)[0].get(), F_GETFL) & O_NONBLOCK));

    auto refused = open_as(nobody, {{open_file, O_RDONLY}, {secret, O_RDONLY}});
    REQUIRE(!refused);
    CHECK(refused.error().sys_errno == EACCES);
    CHECK(refused.error().what().find(secret) != std::string::npos);
    CHECK(!open_as(nobody, {{open_file, O_RDWR}}));
    // The caller is still root with its own groups.
    CHECK(::geteuid() == 0);
    CHECK(::getegid() == 0);
}

// The check-then-open window: whatever a client's path points to at the
// moment of the open is checked against the client, so a link swapped in
// toward a root-only file gets nothing.
TEST_CASE("open_as: a link to a root-only file is refused", "[open_as][root]")
{
    if (::geteuid() != 0) {
        WARN("skipped: opening as another user needs root");
        return;
    }
    Folder f;
    std::string secret = f.file("secret", "root only", 0600);
    std::string link = f.path + "/disk.img";
    REQUIRE(::symlink(secret.c_str(), link.c_str()) == 0);
    auto r = open_as(nobody, {{link, O_RDONLY}});
    REQUIRE(!r);
    CHECK(r.error().sys_errno == EACCES);
    // The same file for root itself: opened.
    CHECK(open_as(SpawnOptions::Credentials{0, 0, {}}, {{link, O_RDONLY}}));
}

TEST_CASE("open_as: folders, write access, and no FIFO", "[open_as][root]")
{
    if (::geteuid() != 0) {
        WARN("skipped: opening as another user needs root");
        return;
    }
    Folder f;
    std::string theirs = f.path + "/theirs", mine = f.path + "/mine", fifo = f.path + "/fifo";
    ::mkdir(theirs.c_str(), 0755);
    ::mkdir(mine.c_str(), 0755);
    REQUIRE(::chown(mine.c_str(), 65534, 65534) == 0);
    REQUIRE(::mkfifo(fifo.c_str(), 0666) == 0);
    CHECK(open_as(nobody, {{theirs, O_RDONLY, true}}));
    auto w = open_as(nobody, {{theirs, O_RDONLY, true, true}});
    REQUIRE(!w);
    CHECK(w.error().sys_errno == EACCES);
    CHECK(open_as(nobody, {{mine, O_RDONLY, true, true}}));
    // A FIFO neither blocks the open nor passes for a disk.
    auto p = open_as(nobody, {{fifo, O_RDONLY}});
    REQUIRE(!p);
    CHECK(p.error().sys_errno == EINVAL);
    CHECK(!open_as(nobody, {{f.path + "/missing", O_RDONLY}}));
}
