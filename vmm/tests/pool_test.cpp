// Warm pools: the key that says which runs a pool may serve, claiming by
// rename (one winner), stale entries, a dead daemon's leftovers.
#include <fleet/test/support.hpp>

#include <fleet/base/socket.hpp>
#include <fleet/vmm/pool.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

using namespace fleet;
using namespace fleet::vmm;
using fleet::test::TempDir;

namespace {

VmSpec spec()
{
    VmSpec s;
    s.name = "x";
    s.kernel = FLEET_TEST_HELLO_ELF;
    s.stdio = StdioKind::virtio;
    s.accel = Accel::tcg;
    return s;
}

void make_pool(const std::string& dir)
{
    for (const char* sub : {"", "/idle", "/taken", "/slots"}) REQUIRE(::mkdir((dir + sub).c_str(), 0700) == 0);
}

}  // namespace

TEST_CASE("the pool key: what a waiting VM must share with a run")
{
    VmSpec a = spec(), b = spec();
    b.name = "other";
    b.args = {"different"};
    b.env = {"A=1"};
    CHECK(pool_key(a) == pool_key(b));  // the program does not count
    CHECK_FALSE(pool_key(a).empty());
    b.memory_mib = 128;
    CHECK(pool_key(a) != pool_key(b));
    b = spec();
    b.accel = Accel::kvm;
    CHECK(pool_key(a) != pool_key(b));
    b = spec();
    b.drain = true;  // on the kernel command line
    CHECK(pool_key(a) != pool_key(b));
    b = spec();
    b.shares.push_back({"/tmp", "/mnt/tmp", true});
    CHECK(pool_key(b).empty());
    b = spec();
    b.workdir = "/";
    CHECK(pool_key(b).empty());
    b = spec();
    b.start_paused = true;
    CHECK(pool_key(b).empty());
}

TEST_CASE("a pool restores its VMs where the image has a snapshot, under KVM or TCG, unless told")
{
    VmSpec linux_image = spec();
    linux_image.kernel = "/nonexistent/vmlinux";
    linux_image.initrd = "/nonexistent/initramfs.cpio";
    linux_image.cpu = "max";
    linux_image.snapshot = true;  // the image's snapshot=yes
    VmSpec s = linux_image;
    settle_pool_boot(s, PoolBoot::automatic);
    CHECK(s.snapshot);  // TCG: the rehearsal fills the translation cache
    CHECK(pool_boot(s) == "snapshot");
    s = linux_image;
    s.accel = Accel::kvm;
    settle_pool_boot(s, PoolBoot::automatic);
    CHECK(s.snapshot);
    CHECK(pool_boot(s) == "snapshot");
    s = linux_image;
    settle_pool_boot(s, PoolBoot::cold);  // --no-snapshot under TCG
    CHECK(pool_boot(s) == "cold");
    settle_pool_boot(s, PoolBoot::snapshot);
    CHECK(pool_boot(s) == "snapshot");
    s.accel = Accel::kvm;
    settle_pool_boot(s, PoolBoot::cold);
    CHECK(pool_boot(s) == "cold");
    CHECK(parse_pool_boot("auto") == PoolBoot::automatic);
    CHECK(parse_pool_boot("cold") == PoolBoot::cold);
    CHECK(parse_pool_boot("snapshot") == PoolBoot::snapshot);
    CHECK_FALSE(parse_pool_boot("warm"));
    s = linux_image;
    s.accel = Accel::kvm;
    s.snapshot = false;  // the image has none
    settle_pool_boot(s, PoolBoot::automatic);
    CHECK_FALSE(s.snapshot);
    s = linux_image;
    s.accel = Accel::automatic;  // a router's pool: settled as each VM launches
    s.cpu.clear();
    CHECK(pool_boot(s) == "snapshot");
    VmSpec hello = spec();  // no initrd: nothing to restore, whatever it says
    hello.accel = Accel::kvm;
    hello.cpu = "host";
    hello.snapshot = true;
    CHECK(pool_boot(hello) == "cold");
    // How a pool's VMs boot is not part of the key: any of them stands in for a cold boot.
    VmSpec cold = linux_image;
    cold.snapshot = false;
    CHECK(pool_key(cold) == pool_key(linux_image));
}

TEST_CASE("claiming renames the entry: one claimant per VM; stale entries go")
{
    TempDir tmp;
    std::string dir = tmp.path() + "/hello";
    make_pool(dir);
    auto live = listen_unix(dir + "/idle/a");
    REQUIRE(live);
    {
        auto stale = listen_unix(dir + "/idle/b");  // closed at once: its VM is gone
        REQUIRE(stale);
    }
    CHECK(idle_slots(dir) == std::vector<std::string>{"a", "b"});
    auto first = claim_idle(dir);
    REQUIRE(first);                  // the live one (the stale one is passed over)
    CHECK_FALSE(claim_idle(dir));    // nothing left for a second claimant
    CHECK(idle_slots(dir).empty());  // and the stale entry is gone
    CHECK(std::filesystem::is_empty(dir + "/taken"));
}

TEST_CASE("pool.json round-trips; a pool without a daemon is reconciled")
{
    TempDir tmp;
    std::string dir = tmp.path() + "/echo";
    make_pool(dir);
    PoolInfo in{"echo", 3, ::getpid(), 42, pool_key(spec()), 64, "tcg", "snapshot"};
    REQUIRE(write_pool_info(dir, in));
    auto out = read_pool_info(dir);
    REQUIRE(out);
    CHECK(out->image == "echo");
    CHECK(out->size == 3);
    CHECK(out->key == in.key);
    CHECK(out->pid_start == 42);
    CHECK(out->boot == "snapshot");

    Fd lock(::open((dir + "/lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    REQUIRE(::flock(lock.get(), LOCK_EX) == 0);
    CHECK(*pool_alive(dir, true));  // held: a daemon lives; nothing touched
    CHECK(read_pool_info(dir));
    lock.reset();  // the daemon died
    CHECK_FALSE(*pool_alive(dir, true));
    CHECK_FALSE(read_pool_info(dir));
    CHECK_FALSE(std::filesystem::exists(dir + "/idle"));
    CHECK_FALSE(*pool_alive(tmp.path() + "/none", true));
}
