// QEMU command-line building: qemu_argv, qemu_escape, shell_join.
#include <fleet/test/support.hpp>

#include <fleet/vmm/cmdline.hpp>

#include <algorithm>
#include <string>
#include <vector>

using namespace fleet::vmm;
using fleet::test::contains;

namespace {

using Argv = std::vector<std::string>;

VmSpec basic_spec()
{
    VmSpec s;
    s.name = "web-1";
    s.kernel = "/images/hello.elf";
    s.memory_mib = 64;
    s.vcpus = 2;
    return s;
}

// The word after the first `flag`, or "" if the flag is missing.
std::string value_of(const Argv& a, const std::string& flag)
{
    auto it = std::find(a.begin(), a.end(), flag);
    if (it == a.end() || it + 1 == a.end()) return "";
    return *(it + 1);
}

bool has(const Argv& a, const std::string& word)
{
    return std::find(a.begin(), a.end(), word) != a.end();
}

// Every value given to `flag`, in order.
Argv values_of(const Argv& a, const std::string& flag)
{
    Argv out;
    for (std::size_t i = 0; i + 1 < a.size(); ++i)
        if (a[i] == flag) out.push_back(a[i + 1]);
    return out;
}

}  // namespace

TEST_CASE("qemu_argv: the machine and the basics", "[cmdline]")
{
    Argv a = qemu_argv("/usr/bin/qemu-system-x86_64", basic_spec(), Accel::tcg, Wiring{});
    REQUIRE(!a.empty());
    CHECK(a[0] == "/usr/bin/qemu-system-x86_64");
    CHECK(value_of(a, "-M") == std::string(machine_options) + ",acpi=on");
    CHECK(value_of(a, "-accel") == "tcg");
    CHECK(value_of(a, "-cpu") == "max");
    CHECK(value_of(a, "-m") == "64M");
    CHECK(value_of(a, "-smp") == "2");
    CHECK(value_of(a, "-name") == "guest=web-1");
    CHECK(value_of(a, "-kernel") == "/images/hello.elf");
    CHECK(value_of(a, "-display") == "none");
    for (const char* w : {"-nodefaults", "-no-user-config", "-no-reboot"}) CHECK(has(a, w));
    CHECK(value_of(a, "-sandbox") == "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny");
    CHECK_FALSE(has(a, "-add-fd"));
    CHECK_FALSE(has(a, "-S"));
    CHECK_FALSE(has(a, "-initrd"));
    CHECK_FALSE(has(a, "-append"));  // empty command line: no -append at all
    CHECK_FALSE(has(a, "-mon"));     // no monitor asked for
}

TEST_CASE("qemu_argv: a power=ctl image's QEMU has no ACPI", "[cmdline]")
{
    VmSpec spec = basic_spec();
    spec.power_ctl = true;
    Argv a = qemu_argv("qemu", spec, Accel::tcg, Wiring{});
    // Everything else of the machine is the same.
    CHECK(value_of(a, "-M") == std::string(machine_options) + ",acpi=off");
}

TEST_CASE("qemu_argv: kvm uses the host CPU", "[cmdline]")
{
    Argv a = qemu_argv("qemu", basic_spec(), Accel::kvm, Wiring{});
    CHECK(value_of(a, "-accel") == "kvm");
    CHECK(value_of(a, "-cpu") == "host");
}

TEST_CASE("qemu_argv: memory sizes", "[cmdline]")
{
    VmSpec s = basic_spec();
    s.memory_mib = 2048;
    CHECK(value_of(qemu_argv("qemu", s, Accel::tcg, Wiring{}), "-m") == "2048M");
    s.memory_mib = 2;
    CHECK(value_of(qemu_argv("qemu", s, Accel::tcg, Wiring{}), "-m") == "2M");
}

TEST_CASE("qemu_argv: -append is extra_cmdline; the args are not on it", "[cmdline]")
{
    VmSpec s = basic_spec();
    s.extra_cmdline = "console=ttyS0 quiet";
    s.args = {"hello", "exit=3"};
    CHECK(value_of(qemu_argv("qemu", s, Accel::tcg, Wiring{}), "-append") == "console=ttyS0 quiet");
    CHECK(kernel_cmdline(s) == "console=ttyS0 quiet");

    s.extra_cmdline.clear();
    CHECK_FALSE(has(qemu_argv("qemu", s, Accel::tcg, Wiring{}), "-append"));

    // A raw command line carries the exec block itself.
    Wiring raw;
    raw.exec_on_cmdline = "%46LXB";
    CHECK(value_of(qemu_argv("qemu", s, Accel::tcg, raw), "-append") == "fleet.exec=%46LXB");

    s.args.clear();
    s.extra_cmdline = "only=defaults";
    CHECK(value_of(qemu_argv("qemu", s, Accel::tcg, Wiring{}), "-append") == "only=defaults");
}

TEST_CASE("qemu_argv: the exec block as fw_cfg's file is an inherited fd, its bytes in no argv", "[cmdline]")
{
    VmSpec s = basic_spec();
    s.args = {"secret-token"};
    CHECK_FALSE(has(qemu_argv("qemu", s, Accel::tcg, Wiring{}), "-fw_cfg"));
    Wiring w;
    w.exec_fw_cfg_fd = 29;
    Argv a = qemu_argv("qemu", s, Accel::tcg, w);
    CHECK(value_of(a, "-fw_cfg") == "name=opt/fleet/exec,file=/proc/self/fd/29");
    for (const auto& word : a) CHECK_FALSE(contains(word, "secret-token"));
}

TEST_CASE("qemu_argv: RAM on an inherited memfd or snapshot file", "[cmdline]")
{
    VmSpec s = basic_spec();
    s.memory_mib = 96;
    Argv plain = qemu_argv("qemu", s, Accel::tcg, Wiring{});
    CHECK_FALSE(has(plain, "-object"));
    Wiring w;
    w.ram_fd = 28;
    Argv a = qemu_argv("qemu", s, Accel::tcg, w);
    CHECK(value_of(a, "-m") == "96M");
    CHECK(value_of(a, "-object") == "memory-backend-file,id=fleet-ram,share=on,size=96M,mem-path=/proc/self/fd/28");
    CHECK(value_of(a, "-machine") == "memory-backend=fleet-ram");
    w.ram_private = true;  // the snapshot file itself: mapped privately, never written
    CHECK(value_of(qemu_argv("qemu", s, Accel::tcg, w), "-object") ==
          "memory-backend-file,id=fleet-ram,share=off,size=96M,mem-path=/proc/self/fd/28");
}

TEST_CASE("qemu_argv: initrd present and absent", "[cmdline]")
{
    VmSpec s = basic_spec();
    CHECK_FALSE(has(qemu_argv("qemu", s, Accel::tcg, Wiring{}), "-initrd"));
    s.initrd = "/images/root.cpio";
    CHECK(value_of(qemu_argv("qemu", s, Accel::tcg, Wiring{}), "-initrd") == "/images/root.cpio");
}

TEST_CASE("qemu_argv: start_paused adds -S", "[cmdline]")
{
    VmSpec s = basic_spec();
    s.start_paused = true;
    Argv a = qemu_argv("qemu", s, Accel::tcg, Wiring{});
    CHECK(std::count(a.begin(), a.end(), "-S") == 1);
}

TEST_CASE("qemu_argv: the isa channel devices", "[cmdline]")
{
    Wiring w;
    w.out = "socket,fd=4";
    w.err = "file,path=/tmp/err";
    w.ctl = "socket,fd=6";
    Argv a = qemu_argv("qemu", basic_spec(), Accel::tcg, w);
    Argv chardevs = values_of(a, "-chardev");
    REQUIRE(chardevs.size() == 3);
    CHECK(chardevs[0] == "socket,fd=4,id=fleet-out");
    CHECK(chardevs[1] == "file,path=/tmp/err,id=fleet-err");
    CHECK(chardevs[2] == "socket,fd=6,id=fleet-ctl");
    CHECK(value_of(a, "-serial") == "chardev:fleet-out");  // COM1
    Argv devices = values_of(a, "-device");
    CHECK(devices == Argv{"isa-serial,chardev=fleet-err,iobase=0x2f8,irq=3",                     // COM2
                          "isa-serial,chardev=fleet-ctl,iobase=0x3e8,irq=6,baudbase=115200000",  // ctl UART
                          "isa-debug-exit,iobase=0xf4,iosize=4"});

    // Unwired channels default to the null backend.
    Argv d = qemu_argv("qemu", basic_spec(), Accel::tcg, Wiring{});
    CHECK(values_of(d, "-chardev") == Argv{"null,id=fleet-out", "null,id=fleet-err", "null,id=fleet-ctl"});
}

TEST_CASE("qemu_argv: virtio channels", "[cmdline]")
{
    VmSpec s = basic_spec();
    s.stdio = StdioKind::virtio;
    Wiring w;
    w.console = "file,path=/tmp/console";
    w.in = "socket,fd=3";
    w.out = "socket,fd=4";
    w.err = "socket,fd=5";
    w.ctl = "socket,fd=6";
    Argv a = qemu_argv("qemu", s, Accel::tcg, w);
    CHECK(values_of(a, "-chardev") == Argv{"file,path=/tmp/console,id=fleet-console", "socket,fd=3,id=fleet-stdin",
                                           "socket,fd=4,id=fleet-stdout", "socket,fd=5,id=fleet-stderr",
                                           "socket,fd=6,id=fleet-ctl"});
    CHECK(value_of(a, "-serial") == "chardev:fleet-console");
    CHECK(values_of(a, "-device") ==
          Argv{"virtio-serial-device,max_ports=5", "virtserialport,chardev=fleet-stdin,name=fleet.stdin,nr=1",
               "virtserialport,chardev=fleet-stdout,name=fleet.stdout,nr=2",
               "virtserialport,chardev=fleet-stderr,name=fleet.stderr,nr=3",
               "virtserialport,chardev=fleet-ctl,name=fleet.ctl,nr=4", "isa-debug-exit,iobase=0xf4,iosize=4"});
    // No isa UARTs beyond COM1.
    for (const auto& d : values_of(a, "-device")) CHECK_FALSE(contains(d, "isa-serial"));
}

TEST_CASE("qemu_argv: a hypervisor channel is more virtio-serial ports, one per connection", "[cmdline]")
{
    VmSpec s = basic_spec();
    s.stdio = StdioKind::virtio;
    Wiring w;
    w.hypervisor = {"socket,fd=30", "socket,fd=31", "socket,fd=32", "socket,fd=33"};
    Argv a = qemu_argv("qemu", s, Accel::tcg, w);
    CHECK(has(a, "socket,fd=30,id=fleet-hypervisor"));
    CHECK(has(a, "socket,fd=33,id=fleet-hypervisor-3"));
    Argv devices = values_of(a, "-device");
    CHECK(devices.front() == "virtio-serial-device,max_ports=9");
    CHECK(std::find(devices.begin(), devices.end(),
                    "virtserialport,chardev=fleet-hypervisor,name=org.fleet.hypervisor,nr=5") != devices.end());
    CHECK(std::find(devices.begin(), devices.end(),
                    "virtserialport,chardev=fleet-hypervisor-3,name=org.fleet.hypervisor.3,nr=8") != devices.end());
    // Without one, the device line is the one every snapshot was saved with.
    CHECK(values_of(qemu_argv("qemu", s, Accel::tcg, Wiring{}), "-device").front() ==
          "virtio-serial-device,max_ports=5");
}

TEST_CASE("qemu_argv: shared folders", "[cmdline]")
{
    VmSpec s = basic_spec();
    s.stdio = StdioKind::virtio;
    s.shares = {SharedFolder{"/srv/a,b", "/mnt/ab", true}, SharedFolder{"/home/me", "/data", false}};
    Argv a = qemu_argv("qemu", s, Accel::tcg, Wiring{});
    CHECK(values_of(a, "-fsdev") == Argv{"local,id=fleet-share0,path=/srv/a,,b,security_model=none,readonly=on",
                                         "local,id=fleet-share1,path=/home/me,security_model=none"});
    Argv devices = values_of(a, "-device");
    CHECK(has(devices, "virtio-9p-device,fsdev=fleet-share0,mount_tag=fleet-share0"));
    CHECK(has(devices, "virtio-9p-device,fsdev=fleet-share1,mount_tag=fleet-share1"));
    // The mount points travel in the exec block, never in QEMU's argv.
    for (const auto& word : a) CHECK(word.find("/mnt/ab") == std::string::npos);
}

// A confined QEMU (confine.hpp): read-write shares keep the guest's modes in
// xattrs, disks come from fd sets, the public monitor is an inherited socket.
TEST_CASE("qemu_argv: what a confined QEMU is handed", "[cmdline]")
{
    VmSpec s = basic_spec();
    s.stdio = StdioKind::virtio;
    s.shares = {SharedFolder{"/srv/a", "/mnt/a", true}, SharedFolder{"/home/me", "/data", false}};
    Wiring w;
    w.mapped_shares = true;
    w.fd_sets = {{44, 1}, {45, 1}};
    w.qmp_public = "/ignored/qmp.sock";
    w.qmp_public_fd = 42;
    Argv a = qemu_argv("qemu", s, Accel::tcg, w);
    CHECK(values_of(a, "-fsdev") ==
          Argv{"local,id=fleet-share0,path=/srv/a,security_model=none,readonly=on",
               "local,id=fleet-share1,path=/home/me,security_model=mapped-xattr,fmode=0644,dmode=0755"});
    CHECK(values_of(a, "-add-fd") == Argv{"fd=44,set=1", "fd=45,set=1"});
    Argv chardevs = values_of(a, "-chardev");
    CHECK(has(chardevs, "socket,id=fleet-qmp-pub,server=on,wait=off,fd=42"));
    for (const auto& c : chardevs) CHECK_FALSE(contains(c, "/ignored"));
}

TEST_CASE("qemu_argv: private and public QMP monitors", "[cmdline]")
{
    Wiring w;
    w.qmp = "socket,fd=3";
    w.qmp_public = "/run/fleet/vms/a,b/qmp.sock";
    Argv a = qemu_argv("qemu", basic_spec(), Accel::tcg, w);
    Argv chardevs = values_of(a, "-chardev");
    REQUIRE(chardevs.size() == 5);
    CHECK(chardevs[3] == "socket,fd=3,id=fleet-qmp");
    // The path is a value inside an option list: its comma is doubled.
    CHECK(chardevs[4] == "socket,id=fleet-qmp-pub,server=on,wait=off,path=/run/fleet/vms/a,,b/qmp.sock");
    CHECK(values_of(a, "-mon") == Argv{"chardev=fleet-qmp,mode=control", "chardev=fleet-qmp-pub,mode=control"});

    Wiring only_public;
    only_public.qmp_public = "/tmp/q.sock";
    Argv b = qemu_argv("qemu", basic_spec(), Accel::tcg, only_public);
    CHECK(values_of(b, "-mon") == Argv{"chardev=fleet-qmp-pub,mode=control"});
}

TEST_CASE("qemu_argv: every option has its value", "[cmdline]")
{
    VmSpec s = basic_spec();
    s.initrd = "/i";
    s.args = {"x"};
    s.start_paused = true;
    Wiring w;
    w.qmp = "socket,fd=3";
    w.qmp_public = "/q";
    Argv a = qemu_argv("qemu", s, Accel::kvm, w);
    // Flags that take no value; everything else starting with '-' needs one.
    const Argv bare = {"-nodefaults", "-no-user-config", "-no-reboot", "-S"};
    for (std::size_t i = 1; i < a.size(); ++i) {
        if (a[i].empty() || a[i][0] != '-' || has(bare, a[i])) continue;
        INFO("option " << a[i]);
        REQUIRE(i + 1 < a.size());
        CHECK_FALSE(a[i + 1].empty());
        CHECK(a[i + 1][0] != '-');
        ++i;
    }
}

TEST_CASE("qemu_escape doubles commas", "[cmdline]")
{
    CHECK(qemu_escape("") == "");
    CHECK(qemu_escape("plain") == "plain");
    CHECK(qemu_escape("a,b") == "a,,b");
    CHECK(qemu_escape(",,") == ",,,,");
    CHECK(qemu_escape(",x,") == ",,x,,");
    CHECK(qemu_escape("a=b c") == "a=b c");
}

TEST_CASE("shell_join quotes what the shell would split or expand", "[cmdline]")
{
    CHECK(shell_join({}) == "");
    CHECK(shell_join({"qemu", "-m", "64M"}) == "qemu -m 64M");
    CHECK(shell_join({"/usr/bin/x", "a=b:c,d+e@f%g"}) == "/usr/bin/x a=b:c,d+e@f%g");
    CHECK(shell_join({""}) == "''");
    CHECK(shell_join({"a b"}) == "'a b'");
    CHECK(shell_join({"it's"}) == "'it'\\''s'");
    CHECK(shell_join({"$HOME"}) == "'$HOME'");
    CHECK(shell_join({"*"}) == "'*'");
    CHECK(shell_join({"a;b", "c|d", "e&f", "`g`", "~"}) == "'a;b' 'c|d' 'e&f' '`g`' '~'");
    CHECK(shell_join({"line\nbreak"}) == "'line\nbreak'");
    CHECK(shell_join({"-append", "hello exit=3"}) == "-append 'hello exit=3'");
}

TEST_CASE("shell_join output reads back as the same words in sh", "[cmdline]")
{
    // Round trip through a real shell: printf prints each word on its own
    // line between markers.
    Argv words = {"plain", "with space", "it's", "$x", "\"q\"", "back\\slash", "", "a,b", "tab\there"};
    Argv cmd = {"printf", "<%s>\\n"};
    cmd.insert(cmd.end(), words.begin(), words.end());
    std::string line = shell_join(cmd);
    FILE* p = ::popen(("/bin/sh -c " + shell_join({line})).c_str(), "r");
    REQUIRE(p != nullptr);
    std::string out;
    char buf[256];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    REQUIRE(::pclose(p) == 0);
    std::string expected;
    for (const auto& w : words) expected += "<" + w + ">\n";
    CHECK(out == expected);
}
