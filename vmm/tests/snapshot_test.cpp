// Snapshot keys and checks (snapshot.hpp); the restore itself is tested with
// real guests in tests/integration/snapshot_test.py.
#include <fleet/test/support.hpp>
#include <fleet/vmm/net.hpp>
#include <fleet/vmm/snapshot.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cstdio>
#include <fstream>
#include <string>

using namespace fleet::vmm;

namespace {

VmSpec linux_spec()
{
    VmSpec s;
    s.kernel = "/bin/sh";  // any file: the key only takes its identity
    s.initrd = "/bin/ls";
    s.stdio = StdioKind::virtio;
    s.accel = Accel::tcg;
    s.cpu = "max";
    return s;
}

void write_file(const std::string& path, const std::string& text)
{
    std::ofstream(path, std::ios::binary) << text;
}

}  // namespace

TEST_CASE("snapshot: which specs a snapshot can serve", "[snapshot]")
{
    CHECK(snapshot_unfit(linux_spec()).empty());
    VmSpec tiny;
    CHECK_FALSE(snapshot_unfit(tiny).empty());
    VmSpec shared = linux_spec();
    shared.shares.push_back({"/tmp", "/mnt/tmp", true});
    CHECK(snapshot_unfit(shared).empty());
    VmSpec networked = linux_spec();
    networked.nets.push_back(
        NetInterface{.tap_fd = 3, .tap_name = "t", .mac = "0e:00:00:00:00:01", .ipv4 = "", .gateway = ""});
    CHECK(snapshot_unfit(networked).empty());
    VmSpec rng = linux_spec();
    rng.rng = RngDevice{};
    CHECK(snapshot_unfit(rng).empty());
    CHECK(snapshot_key(rng, "/bin/true") != snapshot_key(linux_spec(), "/bin/true"));
    VmSpec disk = linux_spec();
    disk.disks.push_back({});
    CHECK_FALSE(snapshot_unfit(disk).empty());
    VmSpec unsettled = linux_spec();
    unsettled.accel = Accel::automatic;
    CHECK_FALSE(snapshot_unfit(unsettled).empty());
}

TEST_CASE("snapshot: the key follows the device line, not the program", "[snapshot]")
{
    VmSpec a = linux_spec(), b = linux_spec();
    b.name = "other";
    b.args = {"sh", "-c", "true"};
    b.env = {"A=1"};
    CHECK(snapshot_key(a, "/bin/true") == snapshot_key(b, "/bin/true"));
    b.memory_mib = 128;
    CHECK(snapshot_key(a, "/bin/true") != snapshot_key(b, "/bin/true"));
    VmSpec c = linux_spec();
    c.kernel = "/bin/cat";
    CHECK(snapshot_key(a, "/bin/true") != snapshot_key(c, "/bin/true"));
    CHECK(snapshot_key(a, "/bin/true") != snapshot_key(a, "/bin/false"));
}

TEST_CASE("snapshot: one key per number of shares, wherever they are", "[snapshot]")
{
    VmSpec none = linux_spec(), a = linux_spec(), b = linux_spec(), two = linux_spec();
    a.shares = {{"/home/me/src", "/home/me/src", true}};
    a.workdir = "/home/me/src/sub";
    b.shares = {{"/srv/other,dir", "/out", false}};
    two.shares = {{"/srv/a", "/a", true}, {"/srv/b", "/b", true}};
    CHECK(snapshot_key(a, "/bin/true") == snapshot_key(b, "/bin/true"));
    CHECK(snapshot_key(a, "/bin/true") != snapshot_key(none, "/bin/true"));
    CHECK(snapshot_key(a, "/bin/true") != snapshot_key(two, "/bin/true"));
    CHECK(snapshot_key(a, "/bin/true").find("/home/me") == std::string::npos);

    // The boot that is saved: no program, every share read-only on the folder given.
    VmSpec saved = saved_spec(b, "/run/empty");
    CHECK(saved.args.empty());
    CHECK(saved.workdir.empty());
    CHECK_FALSE(saved.snapshot);
    REQUIRE(saved.shares.size() == 1);
    CHECK(saved.shares[0].host_path == "/run/empty");
    CHECK(saved.shares[0].read_only);
}

TEST_CASE("snapshot: one key per number of interfaces, whatever their taps, MACs and addresses", "[snapshot]")
{
    VmSpec none = linux_spec(), a = linux_spec(), b = linux_spec(), two = linux_spec();
    a.nets = {NetInterface{.tap_fd = 3,
                           .tap_name = "fleet-a",
                           .mac = "0e:00:00:00:00:01",
                           .ipv4 = "10.77.0.2/24",
                           .gateway = "10.77.0.1"}};
    b.nets = {NetInterface{.tap_fd = 4, .tap_name = "fleet-b", .mac = "0e:00:00:00:00:02", .ipv4 = "", .gateway = ""}};
    two.nets = {a.nets[0], b.nets[0]};
    CHECK(snapshot_key(a, "/bin/true") == snapshot_key(b, "/bin/true"));
    CHECK(snapshot_key(a, "/bin/true") != snapshot_key(none, "/bin/true"));
    CHECK(snapshot_key(a, "/bin/true") != snapshot_key(two, "/bin/true"));
    CHECK(snapshot_key(a, "/bin/true").find("0e:00") == std::string::npos);

    // The boot that is saved: each interface on a network of its own, with the ABI's MAC.
    VmSpec saved = saved_spec(two, "/run/empty");
    REQUIRE(saved.nets.size() == 2);
    CHECK(saved.nets[1].mac == snapshot_mac(1));
    CHECK(saved.nets[1].tap_fd == -1);
    CHECK(saved.nets[0].ipv4.empty());
    CHECK(validate_nets(saved.nets));
}

TEST_CASE("snapshot: a stream is used only if it matches its record", "[snapshot]")
{
    std::string dir = "/tmp/fleet-snapshot-test-" + std::to_string(::getpid());
    REQUIRE(std::system(("mkdir -p " + dir).c_str()) == 0);
    std::string stream = dir + "/s.vmstate", record = dir + "/s.json";
    write_file(stream, std::string(100000, 'x') + "tail");
    auto h = content_hash(stream);
    REQUIRE(h);
    char hex[24];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(*h));
    write_file(record,
               std::string("{\"format\":\"fleet-snapshot/2\",\"key\":\"K\",\"size\":100004,\"hash\":\"") + hex + "\"}");
    CHECK(check_snapshot(stream, record, "K").empty());
    CHECK_FALSE(check_snapshot(stream, record, "another key").empty());
    write_file(stream, std::string(100000, 'x') + "TAIL");  // garbled, same size
    CHECK(check_snapshot(stream, record, "K").find("hash") != std::string::npos);
    write_file(stream, std::string(50000, 'x'));  // truncated
    CHECK(check_snapshot(stream, record, "K").find("size") != std::string::npos);
    write_file(record, "not json");
    CHECK_FALSE(check_snapshot(stream, record, "K").empty());

    // A record that names the stream's identity is taken without a hash;
    // any later write changes the ctime, and the hash is checked again.
    write_file(stream, std::string(100000, 'x') + "tail");
    struct stat st {};
    REQUIRE(::stat(stream.c_str(), &st) == 0);
    std::string id = stream_identity(st);
    write_file(record, std::string("{\"format\":\"fleet-snapshot/2\",\"key\":\"K\",\"size\":100004,\"hash\":\"") +
                           "0000000000000000\",\"checked\":\"" + id + "\"}");
    CHECK(check_snapshot(stream, record, "K").empty());
    ::usleep(20000);                                        // a later tick of the file clock
    write_file(stream, std::string(100000, 'x') + "TAIL");  // garbled in place
    REQUIRE(::stat(stream.c_str(), &st) == 0);
    CHECK(stream_identity(st) != id);
    CHECK(check_snapshot(stream, record, "K").find("hash") != std::string::npos);
    ::unlink(stream.c_str());
    ::unlink(record.c_str());
    ::rmdir(dir.c_str());
}

TEST_CASE("snapshot: a new build removes those of the same device line under another key", "[snapshot]")
{
    std::string dir = "/tmp/fleet-snapshot-prune-" + std::to_string(::getpid());
    REQUIRE(std::system(("mkdir -p " + dir).c_str()) == 0);
    auto record = [&](const std::string& stem, const std::string& key, const std::string& format) {
        write_file(dir + "/" + stem + ".vmstate", "stream");
        write_file(dir + "/" + stem + ".json", "{\"format\":\"" + format + "\",\"key\":\"" + key + "\"}");
    };
    auto exists = [&](const std::string& f) { return ::access((dir + "/" + f).c_str(), F_OK) == 0; };
    record("new", "fleet-snapshot/2 fleet 2\\nline qemu -kernel /k", "fleet-snapshot/2");
    record("old", "fleet-snapshot/2 fleet 1\\nline qemu -kernel /k", "fleet-snapshot/2");        // superseded
    record("older", "fleet-snapshot/1 fleet 1\\nline qemu -kernel /k", "fleet-snapshot/1");      // an older format
    record("other", "fleet-snapshot/2 fleet 1\\nline qemu -kernel /other", "fleet-snapshot/2");  // another image
    record("alien", "x\\nline qemu -kernel /k", "another-tool/1");                               // not ours
    write_file(dir + "/junk.json", "not json");
    write_file(dir + "/lock", "");
    drop_superseded(dir, "new", "fleet-snapshot/2 fleet 2\nline qemu -kernel /k");
    CHECK(exists("new.vmstate"));
    CHECK(exists("new.json"));
    CHECK_FALSE(exists("old.vmstate"));
    CHECK_FALSE(exists("old.json"));
    CHECK_FALSE(exists("older.vmstate"));
    CHECK_FALSE(exists("older.json"));
    CHECK(exists("alien.vmstate"));
    CHECK(exists("other.vmstate"));
    CHECK(exists("other.json"));
    CHECK(exists("junk.json"));
    CHECK(exists("lock"));
    drop_superseded(dir + "/missing", "new", "x\nline y");  // no folder: nothing to do
    REQUIRE(std::system(("rm -rf " + dir).c_str()) == 0);
}

TEST_CASE("snapshot: past max_snapshots in a folder, the least recently used go", "[snapshot]")
{
    fleet::test::TempDir tmp;
    const std::string dir = tmp.path();
    auto exists = [&](const std::string& f) { return ::access((dir + "/" + f).c_str(), F_OK) == 0; };
    auto record = [&](const std::string& stem, long age) {
        write_file(dir + "/" + stem + ".vmstate", "stream");
        write_file(dir + "/" + stem + ".json", "{\"format\":\"fleet-snapshot/2\",\"key\":\"k " + stem + "\"}");
        timespec t[2] = {{::time(nullptr) - age, 0}, {::time(nullptr) - age, 0}};
        REQUIRE(::utimensat(AT_FDCWD, (dir + "/" + stem + ".json").c_str(), t, 0) == 0);
    };
    for (std::size_t i = 0; i + 1 < max_snapshots; ++i) record("s" + std::to_string(i), 100 + static_cast<long>(i));
    record("new", 0);
    write_file(dir + "/alien.json", "{\"format\":\"another-tool/1\"}");  // not ours: neither counted nor removed
    drop_least_used(dir, "new");                                         // max_snapshots in all: none goes
    for (std::size_t i = 0; i + 1 < max_snapshots; ++i) CHECK(exists("s" + std::to_string(i) + ".json"));
    record("newer", 0);
    record("newest", 0);
    drop_least_used(dir, "newest");  // two over: the two used longest ago go
    const std::string oldest = "s" + std::to_string(max_snapshots - 2), next = "s" + std::to_string(max_snapshots - 3);
    CHECK_FALSE(exists(oldest + ".json"));
    CHECK_FALSE(exists(oldest + ".vmstate"));
    CHECK_FALSE(exists(next + ".json"));
    CHECK(exists("s0.json"));
    for (const char* f : {"new.json", "newer.json", "newest.json", "newest.vmstate", "alien.json"}) CHECK(exists(f));
    drop_least_used(dir + "/missing", "new");  // no folder: nothing to do
}

TEST_CASE("snapshot: the RAM is written sparse and copied back whole", "[snapshot]")
{
    constexpr std::uint64_t ram_bytes = 8 << 20;
    auto ram = new_ram(ram_bytes);
    REQUIRE(ram);
    CHECK(::ftruncate(ram->get(), 4096) != 0);  // sealed at its size: QEMU cannot shrink it under write_ram
    // Data in three places, one of them a run across a 2 MiB boundary; a
    // page written with zeros is data in the memfd but a hole in the file.
    auto put = [&](off_t at, const std::string& bytes) {
        REQUIRE(::pwrite(ram->get(), bytes.data(), bytes.size(), at) == static_cast<ssize_t>(bytes.size()));
    };
    put(0, "first page");
    put((2 << 20) - 100, std::string(8192, 'r'));
    put(5 << 20, std::string(4096, '\0'));
    put((8 << 20) - 4, "end!");

    std::string path = "/tmp/fleet-snapshot-ram-" + std::to_string(::getpid());
    fleet::Fd file(::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    REQUIRE(file);
    REQUIRE(write_ram(ram->get(), file.get(), ram_bytes));
    REQUIRE(::pwrite(file.get(), "STREAM", 6, static_cast<off_t>(ram_bytes)) == 6);  // the stream after it
    struct stat st {};
    REQUIRE(::fstat(file.get(), &st) == 0);
    CHECK(st.st_size == static_cast<off_t>(ram_bytes + 6));
    CHECK(st.st_blocks * 512 <= 64 * 1024);  // five data pages and the stream's, not 8 MiB

    auto filled = RamFill::start(file.get(), ram_bytes);
    REQUIRE(filled);
    CHECK((*filled)->result());
    int back = (*filled)->ram();
    REQUIRE(::fstat(back, &st) == 0);
    CHECK(st.st_size == static_cast<off_t>(ram_bytes));
    std::string a(ram_bytes, '\0'), b(ram_bytes, '\0');
    REQUIRE(::pread(ram->get(), a.data(), ram_bytes, 0) == static_cast<ssize_t>(ram_bytes));
    REQUIRE(::pread(back, b.data(), ram_bytes, 0) == static_cast<ssize_t>(ram_bytes));
    CHECK(a == b);
    CHECK(b.substr(0, 10) == "first page");
    CHECK(b.substr(ram_bytes - 4) == "end!");

    // The hash reads holes as zeros: the sparse file hashes as a dense copy.
    std::string dense = path + ".dense";
    write_file(dense, a + "STREAM");
    auto hs = content_hash(path), hd = content_hash(dense);
    REQUIRE(hs);
    REQUIRE(hd);
    CHECK(*hs == *hd);
    ::unlink(path.c_str());
    ::unlink(dense.c_str());
}
