// VM spec: parse_memory, parse_accel, validate_name, validate, kernel_cmdline.
#include <fleet/test/support.hpp>

#include <fleet/vmm/spec.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <string>

using namespace fleet::vmm;
using fleet::test::contains;
using fleet::test::TempDir;

TEST_CASE("parse_memory: plain numbers are MiB, M and G suffixes", "[spec]")
{
    CHECK(parse_memory("64").value() == 64);
    CHECK(parse_memory("64M").value() == 64);
    CHECK(parse_memory("64m").value() == 64);
    CHECK(parse_memory("64MiB").value() == 64);
    CHECK(parse_memory("64MB").value() == 64);
    CHECK(parse_memory("1G").value() == 1024);
    CHECK(parse_memory("1g").value() == 1024);
    CHECK(parse_memory("1GiB").value() == 1024);
    CHECK(parse_memory("1GB").value() == 1024);
    CHECK(parse_memory("2").value() == min_memory_mib);
    CHECK(parse_memory("1024G").value() == max_memory_mib);
    CHECK(parse_memory("1048576").value() == max_memory_mib);
}

TEST_CASE("parse_memory: bad units and bad numbers", "[spec]")
{
    for (const char* bad : {"", "M", "G", "64K", "64k", "1T", "64 M", " 64", "64M ", "64Mi", "1Gi", "0x40", "-64",
                            "+64", "6.4G", "64MM", "sixty"}) {
        INFO("input '" << bad << "'");
        auto r = parse_memory(bad);
        REQUIRE_FALSE(r);
        CHECK(contains(r.error().message, "bad memory size"));
        CHECK(r.error().sys_errno == 0);
    }
}

TEST_CASE("parse_memory: out of range", "[spec]")
{
    for (const char* small : {"0", "1", "0M", "1M", "0G"}) {
        INFO("input '" << small << "'");
        auto r = parse_memory(small);
        REQUIRE_FALSE(r);
        CHECK(contains(r.error().message, "out of range"));
    }
    for (const char* big : {"1025G", "1048577", "99999999999999G", "18446744073709551615M", "18446744073709551615G"}) {
        INFO("input '" << big << "'");
        auto r = parse_memory(big);
        REQUIRE_FALSE(r);
        CHECK(contains(r.error().message, "out of range"));
    }
    // More digits than a 64-bit number holds.
    auto r = parse_memory("99999999999999999999999G");
    REQUIRE_FALSE(r);
    CHECK(contains(r.error().message, "bad memory size"));
}

TEST_CASE("parse_accel and to_string", "[spec]")
{
    CHECK(parse_accel("auto").value() == Accel::automatic);
    CHECK(parse_accel("kvm").value() == Accel::kvm);
    CHECK(parse_accel("tcg").value() == Accel::tcg);
    for (const char* bad : {"", "KVM", "hvf", "tcg ", "xen"}) {
        auto r = parse_accel(bad);
        REQUIRE_FALSE(r);
        CHECK(contains(r.error().message, "unknown accelerator"));
    }
    for (Accel a : {Accel::automatic, Accel::kvm, Accel::tcg}) CHECK(parse_accel(to_string(a)).value() == a);
}

TEST_CASE("validate_name", "[spec]")
{
    for (const char* good : {"a", "Z", "7", "web-1", "web_1", "web.1", "a.b-c_d", "0abc", "A-"}) {
        INFO("name '" << good << "'");
        CHECK(validate_name(good));
    }
    for (const char* bad :
         {"", ".", "..", ".hidden", "-x", "_x", "a b", "a/b", "a,b", "a:b", "é", "a\n", "a\tb", "x\xff"}) {
        INFO("name '" << bad << "'");
        auto r = validate_name(bad);
        REQUIRE_FALSE(r);
        CHECK(contains(r.error().message, "bad VM name"));
    }
    CHECK_FALSE(validate_name(std::string_view("a\0b", 3)));
    CHECK(validate_name(std::string(64, 'a')));
    CHECK_FALSE(validate_name(std::string(65, 'a')));
}

namespace {

VmSpec hello_spec()
{
    VmSpec s;
    s.name = "hello";
    s.kernel = fleet::test::hello_elf();
    return s;
}

}  // namespace

TEST_CASE("validate: the hello guest is a bootable spec", "[spec][elf]")
{
    REQUIRE(::access(fleet::test::hello_elf().c_str(), R_OK) == 0);
    auto r = validate(hello_spec());
    INFO((r ? std::string() : r.error().what()));
    CHECK(r);
}

TEST_CASE("validate: kernel problems", "[spec][elf]")
{
    TempDir tmp;
    VmSpec s = hello_spec();

    SECTION("no kernel")
    {
        s.kernel.clear();
        auto r = validate(s);
        REQUIRE_FALSE(r);
        CHECK(contains(r.error().message, "no kernel"));
    }
    SECTION("missing kernel")
    {
        s.kernel = tmp / "nope.elf";
        auto r = validate(s);
        REQUIRE_FALSE(r);
        CHECK(contains(r.error().message, "not found"));
        CHECK(contains(r.error().message, s.kernel));
    }
    SECTION("not an ELF file")
    {
        s.kernel = tmp / "kernel.txt";
        fleet::test::write_file(s.kernel, "#!/bin/sh\necho this is not a kernel\n");
        auto r = validate(s);
        REQUIRE_FALSE(r);
        CHECK(contains(r.error().message, "not an ELF file"));
    }
    SECTION("an empty file")
    {
        s.kernel = tmp / "empty";
        fleet::test::write_file(s.kernel, "");
        auto r = validate(s);
        REQUIRE_FALSE(r);
        CHECK(contains(r.error().message, "not an ELF file"));
    }
    SECTION("a folder")
    {
        s.kernel = tmp.path();
        auto r = validate(s);
        REQUIRE_FALSE(r);
        CHECK(contains(r.error().message, "not a regular file"));
    }
    SECTION("an ELF without the PVH note")
    {
        s.kernel = "/bin/true";  // a 64-bit x86 ELF with no Xen note
        auto r = validate(s);
        REQUIRE_FALSE(r);
        CHECK(contains(r.error().message, "no PVH entry note"));
    }
    SECTION("an unreadable kernel")
    {
        if (::geteuid() == 0) return;  // root reads anything
        s.kernel = tmp / "locked.elf";
        fleet::test::write_file(s.kernel, fleet::test::read_file(fleet::test::hello_elf()));
        ::chmod(s.kernel.c_str(), 0);
        auto r = validate(s);
        REQUIRE_FALSE(r);
        CHECK(contains(r.error().message, "cannot be opened"));
        CHECK(r.error().sys_errno == EACCES);
    }
}

TEST_CASE("validate: sizes, name, initrd and unsupported devices", "[spec]")
{
    TempDir tmp;
    VmSpec s = hello_spec();

    SECTION("bad name comes first")
    {
        s.name = "-bad";
        s.kernel.clear();
        auto r = validate(s);
        REQUIRE_FALSE(r);
        CHECK(contains(r.error().message, "bad VM name"));
    }
    SECTION("memory")
    {
        s.memory_mib = 1;
        CHECK_FALSE(validate(s));
        s.memory_mib = max_memory_mib + 1;
        CHECK_FALSE(validate(s));
        s.memory_mib = min_memory_mib;
        CHECK(validate(s));
        s.memory_mib = max_memory_mib;
        CHECK(validate(s));
    }
    SECTION("vcpus")
    {
        s.vcpus = 0;
        CHECK_FALSE(validate(s));
        s.vcpus = max_vcpus + 1;
        CHECK_FALSE(validate(s));
        s.vcpus = max_vcpus;
        CHECK(validate(s));
    }
    SECTION("boot timeout")
    {
        s.boot_timeout = std::chrono::milliseconds(0);
        CHECK_FALSE(validate(s));
    }
    SECTION("initrd")
    {
        s.initrd = tmp / "missing.cpio";
        auto r = validate(s);
        REQUIRE_FALSE(r);
        CHECK(contains(r.error().message, "initrd"));
        CHECK(r.error().sys_errno == ENOENT);
        fleet::test::write_file(s.initrd, "070701");
        CHECK(validate(s));
    }
    SECTION("a network interface needs an open tap and a MAC")
    {
        s.nets.push_back(
            NetInterface{.tap_fd = 1000, .tap_name = "", .mac = "0e:00:00:00:00:01", .ipv4 = "", .gateway = ""});
        auto r = validate(s);
        REQUIRE_FALSE(r);
        CHECK(contains(r.error().message, "no open tap"));
        s.nets[0].tap_fd = 0;
        CHECK(validate(s));
        s.nets[0].mac = "0E:00:00:00:00:01";
        CHECK_FALSE(validate(s));
    }
    SECTION("shared folders: virtio guests only, existing folders, at most 8")
    {
        s.shares.push_back(SharedFolder{tmp.path(), "/mnt/x", true});
        auto r = validate(s);
        REQUIRE_FALSE(r);
        CHECK(contains(r.error().message, "need a virtio guest"));
        s.stdio = StdioKind::virtio;
        CHECK(validate(s));

        s.shares[0].host_path = tmp / "missing";
        r = validate(s);
        REQUIRE_FALSE(r);
        CHECK(contains(r.error().message, "shared folder '" + (tmp / "missing") + "'"));
        CHECK(r.error().sys_errno == ENOENT);

        fleet::test::write_file(tmp / "file", "x");
        s.shares[0].host_path = tmp / "file";
        r = validate(s);
        REQUIRE_FALSE(r);
        CHECK(contains(r.error().message, "is not a folder"));

        s.shares.assign(8, SharedFolder{tmp.path(), "/mnt/x", true});
        CHECK(validate(s));
        s.shares.push_back(SharedFolder{tmp.path(), "/mnt/y", false});
        r = validate(s);
        REQUIRE_FALSE(r);
        CHECK(contains(r.error().message, "at most 8"));
    }
}

TEST_CASE("validate: arguments and the command line", "[spec]")
{
    VmSpec s = hello_spec();
    s.args = {"hello", "exit=3", "ünïcödé", "a=b,c"};
    CHECK(validate(s));

    // Any byte but NUL: the arguments travel in the exec block.
    s.args = {"two words", "tab\there", "new\nline", " ", "", "'\"", std::string(3000, 'x')};
    CHECK(validate(s));
    s.args = {std::string("nul\0byte", 8)};
    auto r = validate(s);
    REQUIRE_FALSE(r);
    CHECK(contains(r.error().message, "NUL"));

    // The kernel command line itself: at most 2048 bytes.
    s.args.clear();
    s.extra_cmdline = std::string(2048, 'x');
    CHECK(validate(s));
    s.extra_cmdline += 'y';
    r = validate(s);
    REQUIRE_FALSE(r);
    CHECK(contains(r.error().message, "too long"));
}

TEST_CASE("validate: environment and working folder", "[spec]")
{
    VmSpec s = hello_spec();
    s.env = {"A=1", "B=", "C=x=y z"};
    CHECK(validate(s));
    for (const std::string& bad : std::vector<std::string>{"NOVALUE", "=x", std::string("A=\0", 3)}) {
        s.env = {bad};
        CHECK_FALSE(validate(s));
    }
    s.env.clear();
    s.workdir = "/mnt/src";
    auto r = validate(s);
    REQUIRE_FALSE(r);
    CHECK(contains(r.error().message, "not on a shared folder"));
}

TEST_CASE("kernel_cmdline is extra_cmdline, never the args", "[spec]")
{
    VmSpec s;
    CHECK(kernel_cmdline(s).empty());
    s.args = {"a", "b"};
    CHECK(kernel_cmdline(s).empty());
    s.extra_cmdline = "x=1 y=2";
    CHECK(kernel_cmdline(s) == "x=1 y=2");
    s.drain = true;
    s.stdio = StdioKind::virtio;
    CHECK(kernel_cmdline(s) == "fleet.drain=1 x=1 y=2");
    s.hypervisor_fds = {30};  // a hypervisor channel: the guest waits for its port
    CHECK(kernel_cmdline(s) == "fleet.drain=1 fleet.hypervisor=1 x=1 y=2");
}

TEST_CASE("parse_stdio and to_string", "[spec]")
{
    CHECK(parse_stdio("isa").value() == StdioKind::isa);
    CHECK(parse_stdio("virtio").value() == StdioKind::virtio);
    for (const char* bad : {"", "ISA", "serial", "virtio "}) {
        auto r = parse_stdio(bad);
        REQUIRE_FALSE(r);
        CHECK(contains(r.error().message, "unknown stdio kind"));
    }
    for (StdioKind k : {StdioKind::isa, StdioKind::virtio}) CHECK(parse_stdio(to_string(k)).value() == k);
}

TEST_CASE("parse_share", "[spec]")
{
    struct Case {
        const char* text;
        const char* host;
        const char* guest;
        bool read_only;
    };
    for (auto c :
         {Case{"/srv/data", "/srv/data", "/mnt/data", true}, Case{"/srv/data/", "/srv/data/", "/mnt/data", true},
          Case{"/srv/data:ro", "/srv/data", "/mnt/data", true}, Case{"/srv/data:rw", "/srv/data", "/mnt/data", false},
          Case{"/srv/data:/data", "/srv/data", "/data", true}, Case{"/srv/data:/data:rw", "/srv/data", "/data", false},
          Case{"/srv/data:/data:ro", "/srv/data", "/data", true}, Case{"rel/dir", "rel/dir", "/mnt/dir", true},
          Case{"dir", "dir", "/mnt/dir", true}, Case{"/", "/", "/mnt/share", true}, Case{".", ".", "/mnt/share", true},
          Case{"/a,b:/ab", "/a,b", "/ab", true}, Case{"/a,b", "/a,b", "/mnt/a,b", true},
          Case{"/srv:/da ta", "/srv", "/da ta", true}, Case{"/srv:/a,b:rw", "/srv", "/a,b", false}}) {
        INFO("share '" << c.text << "'");
        auto r = parse_share(c.text);
        REQUIRE(r);
        CHECK(r->host_path == c.host);
        CHECK(r->guest_path == c.guest);
        CHECK(r->read_only == c.read_only);
    }
    for (const char* bad : {"", ":/data", ":ro", "/srv:data", "/srv:/a:b"}) {
        INFO("share '" << bad << "'");
        auto r = parse_share(bad);
        REQUIRE_FALSE(r);
        CHECK(contains(r.error().message, "bad --share"));
    }
}

TEST_CASE("validate: a share's mount point", "[spec]")
{
    // A share built in code (the router's <filesystem>) is held to the same
    // rule as --share: the exec block appends ":rw" to it.
    VmSpec s = hello_spec();
    s.stdio = StdioKind::virtio;
    s.shares = {SharedFolder{"/tmp", "/mnt/tmp", true}};
    CHECK(validate(s));
    s.shares = {SharedFolder{"/tmp", "/my files, old", false}};  // the exec block carries any bytes but NUL
    CHECK(validate(s));
    for (const std::string& bad : std::vector<std::string>{"", "tag", "/a:rw", "/a:b", std::string("/a\0b", 4)}) {
        INFO("mount point '" << bad << "'");
        s.shares = {SharedFolder{"/tmp", bad, true}};
        auto r = validate(s);
        REQUIRE_FALSE(r);
        CHECK(contains(r.error().message, "the guest path must be absolute"));
        CHECK_FALSE(is_mount_point(bad));
    }
}

TEST_CASE("kernel_cmdline leaves the shares' mount points to the exec block", "[spec]")
{
    VmSpec s;
    s.stdio = StdioKind::virtio;
    s.shares = {SharedFolder{"/srv/a", "/mnt/a", true}, SharedFolder{"/srv/b", "/data", false}};
    CHECK(kernel_cmdline(s).empty());
    s.extra_cmdline = "console=ttyS0";
    s.args = {"--flag", "x"};
    CHECK(kernel_cmdline(s) == "console=ttyS0");
}
