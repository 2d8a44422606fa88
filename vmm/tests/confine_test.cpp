// Confining QEMU: the user it runs as, the sealed copies it boots from.
#include <fleet/test/support.hpp>

#include <fleet/vmm/confine.hpp>

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

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
