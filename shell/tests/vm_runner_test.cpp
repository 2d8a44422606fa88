// fleet shell — the VM runner without VMs: the initramfs reader, the
// resolver's order over a catalog folder written here, and the launcher's
// argv (the real guests run in the shell-vm differential test).
#include <fleet/router/domain.hpp>
#include <fleet/shell/router_run.hpp>
#include <fleet/shell/vm_runner.hpp>
#include <fleet/test/support.hpp>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

using namespace fleet::shell;
using fleet::test::TempDir;
using fleet::test::write_file;

namespace {

// One newc entry, as mkinitramfs writes it.
std::string entry(const std::string& name, unsigned mode, const std::string& data)
{
    char header[111];
    std::snprintf(header, sizeof header, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", 1u, mode, 0u, 0u,
                  1u, 0u, static_cast<unsigned>(data.size()), 0u, 0u, 0u, 0u, static_cast<unsigned>(name.size() + 1),
                  0u);
    std::string out = std::string(header, 110) + name + '\0';
    out.resize((out.size() + 3) & ~std::size_t{3}, '\0');
    out += data;
    out.resize((out.size() + 3) & ~std::size_t{3}, '\0');
    return out;
}

std::string sample_cpio()
{
    return entry("bin", 040755, "") +
           entry("bin/busybox", 0100755,
                 "\x7f"
                 "ELF") +
           entry("bin/grep", 0120777, "/bin/busybox") + entry("usr/bin/sort", 0120777, "/bin/busybox") +
           entry("sbin/cat", 0120777, "/bin/busybox") + entry("bin/readme", 0100644, "not a program") +
           entry("init", 0100755, "x") + entry("lib/modules/load", 0120777, "y") + entry("TRAILER!!!", 0, "");
}

// A catalog folder: runtime `cat` (no arguments), `wc` (-l, -w, --lines)
// and `upper` (any words), tiny `hello`, and `linux` with an initramfs
// whose busybox has grep, sort and cat.
void write_catalog(const TempDir& dir)
{
    write_file(dir / "k.elf", "kernel");
    for (auto [name, options] : {std::pair{"cat", "options=\n"}, {"wc", "options=-l -w --lines\n"}, {"upper", ""}}) {
        write_file(dir / ("runtime/" + std::string(name) + ".image"),
                   "name=" + std::string(name) + "\nkernel=../k.elf\nkind=runtime\nstdio=virtio\n" + options);
    }
    write_file(dir / "hello.image", "kernel=k.elf\nkind=tiny\ndescription=says hello\n");
    write_file(dir / "linux/initramfs.cpio", sample_cpio());
    write_file(dir / "linux/linux.image", "kernel=../k.elf\ninitrd=initramfs.cpio\nkind=linux\nstdio=virtio\n");
}

}  // namespace

TEST_CASE("initramfs_programs lists bin and sbin programs of a newc archive")
{
    auto names = initramfs_programs(sample_cpio());
    REQUIRE(names);
    CHECK(*names == std::vector<std::string>{"busybox", "cat", "grep", "sort"});
}

TEST_CASE("initramfs_programs refuses what is not a whole newc archive, without reading past it")
{
    std::string cpio = sample_cpio();
    CHECK_FALSE(initramfs_programs(""));
    CHECK_FALSE(initramfs_programs("\x1f\x8b compressed"));
    for (std::size_t cut : {std::size_t{5}, std::size_t{109}, std::size_t{120}, cpio.size() / 2, cpio.size() - 200}) {
        CHECK_FALSE(initramfs_programs(std::string_view(cpio).substr(0, cut)));
    }
    std::string bad_size = entry("bin/x", 0120777, "t");
    bad_size.replace(6 + 6 * 8, 8, "FFFFFFFF");  // a file size past the end
    CHECK_FALSE(initramfs_programs(bad_size));
    std::string bad_hex = entry("bin/x", 0120777, "t");
    bad_hex.replace(6 + 8, 8, "zzzzzzzz");
    CHECK_FALSE(initramfs_programs(bad_hex));
}

TEST_CASE("a name is a runtime program first, then a Linux applet, then any image, else not found")
{
    TempDir dir;
    write_catalog(dir);
    VmCatalog catalog({dir.path()});
    VmResolver resolver(catalog);
    CHECK(resolver.resolve("cat", "") == "runtime/cat");  // busybox has cat too: the runtime's wins
    CHECK(resolver.resolve("wc", "") == "runtime/wc");
    CHECK(resolver.resolve("grep", "") == "applet/grep");
    CHECK(resolver.resolve("sort", "") == "applet/sort");
    CHECK(resolver.resolve("hello", "") == "image/hello");
    CHECK(resolver.resolve("linux", "") == "image/linux");
    CHECK_FALSE(resolver.resolve("nosuchcommand", ""));
    CHECK_FALSE(resolver.resolve("readme", ""));  // not executable in the archive
    CHECK_FALSE(resolver.resolve("/bin/cat", ""));
    CHECK_FALSE(resolver.resolve("", ""));
    auto text = resolver.listing();
    REQUIRE(text);
    CHECK(text->find("hello            tiny     says hello\n") != std::string::npos);
    CHECK(text->find("busybox cat grep sort\n") != std::string::npos);
}

TEST_CASE("not found: the note names a host program of that name, which `host` would run")
{
    TempDir dir;
    write_catalog(dir);
    VmCatalog catalog({dir.path()});
    VmResolver resolver(catalog);
    std::string bin = dir / "bin";
    REQUIRE(::mkdir(bin.c_str(), 0755) == 0);
    write_file(bin + "/tool", "#!/bin/sh\n");
    REQUIRE(::chmod((bin + "/tool").c_str(), 0755) == 0);
    write_file(bin + "/plain", "not a program\n");
    CHECK(resolver.not_found_note("tool", bin) == " (a host program, " + bin + "/tool: `host tool` runs it)");
    CHECK(resolver.not_found_note(bin + "/tool", "") ==
          " (a host program, " + bin + "/tool: `host " + bin + "/tool` runs it)");
    CHECK(resolver.not_found_note("plain", bin) == "");
    CHECK(resolver.not_found_note(bin + "/plain", "") == "");
    CHECK(resolver.not_found_note("./no-such-file", "") == "");
    CHECK(resolver.not_found_note("nosuchcommand", bin) == "");
    CHECK(HostResolver().not_found_note("tool", bin) == "");  // --host-commands: nothing to point at
}

TEST_CASE("a runtime program's options= says which command lines it understands")
{
    using V = std::vector<std::string>;
    V head = {"-n:", "-c:", "-#"}, wc = {"-l", "-w", "-c", "-m", "--lines"}, sum = {"-"};
    CHECK(understands(head, {}));
    CHECK(understands(head, {"-n", "2"}));
    CHECK(understands(head, {"-n2"}));
    CHECK(understands(head, {"-5"}));
    CHECK(understands(head, {"-c", "3", "-n", "4"}));
    CHECK_FALSE(understands(head, {"-n"}));  // its value is missing
    CHECK_FALSE(understands(head, {"-n", "2", "notes.txt"}));
    CHECK_FALSE(understands(head, {"-q"}));
    CHECK_FALSE(understands(head, {"-"}));
    CHECK(understands(wc, {"-lw", "--lines"}));
    CHECK_FALSE(understands(wc, {"-lL"}));
    CHECK_FALSE(understands(wc, {"--max-line-length"}));
    CHECK_FALSE(understands(wc, {"--"}));
    CHECK_FALSE(understands(wc, {"-5"}));  // no -#
    CHECK(understands(sum, {"-"}));
    CHECK_FALSE(understands(sum, {"-c"}));
    CHECK_FALSE(understands({}, {"x"}));
    CHECK(understands({}, {}));
}

TEST_CASE("a runtime program given what it does not understand runs as the Linux applet of its name")
{
    TempDir dir;
    write_catalog(dir);
    VmCatalog catalog({dir.path()});
    using V = std::vector<std::string>;
    CHECK(program_for(catalog, "runtime/cat", V{"cat"}) == "runtime/cat");
    CHECK(program_for(catalog, "runtime/cat", V{"cat", "notes.txt"}) == "applet/cat");
    CHECK(program_for(catalog, "runtime/cat", V{"cat", "-n"}) == "applet/cat");
    CHECK(program_for(catalog, "runtime/wc", V{"wc", "-l"}) == "runtime/wc");
    CHECK(program_for(catalog, "runtime/wc", V{"wc", "-l", "notes.txt"}) == "runtime/wc");    // no wc applet
    CHECK(program_for(catalog, "runtime/upper", V{"upper", "anything"}) == "runtime/upper");  // no options=
    CHECK(program_for(catalog, "applet/grep", V{"grep", "x", "f"}) == "applet/grep");
    CHECK(program_for(catalog, "image/hello", V{"hello", "a"}) == "image/hello");
    // The launcher's argv for the applet: busybox's cat, the working folder shared.
    std::string program = program_for(catalog, "runtime/cat", V{"cat", "notes.txt"});
    auto argv = vm_launch_argv({"fleet-vmm", Share::ro}, program, linux_program(catalog, program),
                               V{"cat", "notes.txt"}, {}, "/home/u/src");
    CHECK(argv == V{"fleet-vmm", "run", "--share", "/home/u/src:/home/u/src:ro", "-w", "/home/u/src", "linux", "cat",
                    "notes.txt"});
}

TEST_CASE("without a Linux image only catalog names resolve, and images says why")
{
    TempDir dir;
    write_file(dir / "k.elf", "kernel");
    write_file(dir / "cat.image", "kernel=k.elf\nkind=runtime\n");
    VmCatalog catalog({dir.path()});
    VmResolver resolver(catalog);
    CHECK(resolver.resolve("cat", "") == "runtime/cat");
    CHECK_FALSE(resolver.resolve("grep", ""));
    CHECK(resolver.listing()->find("no Linux applets: no Linux image") != std::string::npos);
}

TEST_CASE("the launcher's argv: environment, the shared working folder, image, applet, arguments")
{
    VmOptions o{"/x/fleet-vmm", Share::ro};
    std::vector<std::string> env = {"PATH=/usr/bin", "A=1", "HOME=/root", "B=x=y", "FLEET_ACCEL=tcg", "A=2"};
    CHECK(vm_launch_argv(o, "runtime/head", false, {"head", "-n", "3"}, env, "/src") ==
          std::vector<std::string>{"/x/fleet-vmm", "run", "-e", "A=2", "-e", "B=x=y", "head", "-n", "3"});
    CHECK(vm_launch_argv(o, "applet/grep", true, {"grep", "-rn", "--", "TODO"}, {}, "/src") ==
          std::vector<std::string>{"/x/fleet-vmm", "run", "--share", "/src:/src:ro", "-w", "/src", "linux", "grep",
                                   "-rn", "--", "TODO"});
    CHECK(vm_launch_argv(o, "image/hello", false, {"hello", "a"}, {}, "/src") ==
          std::vector<std::string>{"/x/fleet-vmm", "run", "hello", "a"});
    CHECK(vm_launch_argv(o, "runtime/cat", false, {"cat"}, {}, "/src", true) ==
          std::vector<std::string>{"/x/fleet-vmm", "run", "--no-stdin", "cat"});
    o.share = Share::no;
    CHECK(vm_launch_argv(o, "applet/ls", true, {"ls"}, {}, "/src") ==
          std::vector<std::string>{"/x/fleet-vmm", "run", "linux", "ls"});
}

TEST_CASE("a stage's domain: FLEET_ACCEL and FLEET_HYPERVISOR configure it and never reach the program")
{
    VmOptions o{"/x/fleet-vmm", Share::no};
    auto stage = [&](std::vector<std::string> env, bool router_kvm) {
        VmCommand c = vm_command(o, "runtime/spawn", false, {"spawn", "upper"}, env, "/src");
        auto xml = stage_xml(c, "s-0", router_kvm);
        REQUIRE(xml.has_value());
        auto def = fleet::router::parse_domain_xml(*xml);
        REQUIRE(def.has_value());
        return *def;
    };
    // The host's best where not asked: what the router offers.
    CHECK(stage({}, false).type == "qemu");
    CHECK(stage({}, true).type == "kvm");
    CHECK(stage({"FLEET_ACCEL=auto"}, true).type == "kvm");
    CHECK(stage({"FLEET_ACCEL=tcg"}, true).type == "qemu");
    CHECK(stage({"FLEET_ACCEL=kvm"}, false).type == "kvm");  // the router says why it cannot
    auto d = stage({"FLEET_HYPERVISOR=children=2,memory=64MiB", "X=1"}, false);
    REQUIRE(d.hypervisor.has_value());
    CHECK(d.hypervisor->children == 2);
    CHECK(d.hypervisor->memory_mib == 64);
    CHECK(d.env == std::vector<std::pair<std::string, std::string>>{{"X", "1"}});
    CHECK(d.args == std::vector<std::string>{"upper"});
    CHECK_FALSE(stage({}, false).hypervisor.has_value());

    VmCommand bad = vm_command(o, "runtime/cat", false, {"cat"}, {"FLEET_ACCEL=fast"}, "/src");
    auto r = stage_xml(bad, "s-0", false);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().message == "FLEET_ACCEL: 'fast' is not kvm, tcg or auto");
    bad = vm_command(o, "runtime/cat", false, {"cat"}, {"FLEET_HYPERVISOR=children=2"}, "/src");
    r = stage_xml(bad, "s-0", false);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().message.starts_with("FLEET_HYPERVISOR: children=N and memory=SIZE are both needed"));
}

TEST_CASE("a Linux stage's domain gets the working folder where the guest can mount it")
{
    VmOptions o{"/x/fleet-vmm", Share::ro};
    for (auto [cwd, at] : {std::pair{"/src", "/src"}, {"/etc", "/host/etc"}}) {
        INFO(cwd);
        auto xml = stage_xml(vm_command(o, "applet/ls", true, {"ls"}, {}, cwd), "s-0", false);
        REQUIRE(xml.has_value());
        auto def = fleet::router::parse_domain_xml(*xml);
        REQUIRE(def.has_value());
        CHECK(def->filesystems == std::vector<fleet::router::Filesystem>{{cwd, at, true}});
        CHECK(def->workdir == at);
    }
}

TEST_CASE("FSH_SHARE: a command's own says how its folder is shared, over the shell's --share")
{
    CHECK(parse_share("ro") == Share::ro);
    CHECK(parse_share("yes") == Share::ro);
    CHECK(parse_share("rw") == Share::rw);
    CHECK(parse_share("no") == Share::no);
    CHECK_FALSE(parse_share("RW"));
    CHECK_FALSE(parse_share(""));
    for (Share shell : {Share::ro, Share::no}) {
        VmOptions o{"/x/fleet-vmm", shell};
        CHECK(vm_launch_argv(o, "applet/cp", true, {"cp", "a", "b"}, {"FSH_SHARE=rw", "X=1"}, "/src") ==
              std::vector<std::string>{"/x/fleet-vmm", "run", "-e", "X=1", "--share", "/src:/src:rw", "-w", "/src",
                                       "linux", "cp", "a", "b"});
        CHECK(vm_launch_argv(o, "applet/ls", true, {"ls"}, {"FSH_SHARE=ro"}, "/src") ==
              std::vector<std::string>{"/x/fleet-vmm", "run", "--share", "/src:/src:ro", "-w", "/src", "linux", "ls"});
        CHECK(vm_launch_argv(o, "applet/ls", true, {"ls"}, {"FSH_SHARE=no"}, "/src") ==
              std::vector<std::string>{"/x/fleet-vmm", "run", "linux", "ls"});
        // Empty is unset: the shell's --share.
        CHECK(vm_command(o, "applet/ls", true, {"ls"}, {"FSH_SHARE="}, "/src").shares.empty() == (shell == Share::no));
    }
    // The last assignment wins, as for the guest's variables.
    VmCommand c =
        vm_command({"/x/fleet-vmm", Share::ro}, "applet/cp", true, {"cp"}, {"FSH_SHARE=no", "FSH_SHARE=rw"}, "/src");
    CHECK(c.share_writable);
    // No folder, no share: a runtime program, or nowhere the guest can mount it.
    CHECK(vm_command({"/x/fleet-vmm", Share::rw}, "runtime/cat", false, {"cat"}, {}, "/src").shares.empty());
    CHECK(vm_command({"/x/fleet-vmm", Share::rw}, "applet/ls", true, {"ls"}, {}, "/proc").shares.empty());

    // Through the router: a read-write <filesystem>.
    auto xml = stage_xml(vm_command({"/x/fleet-vmm", Share::ro}, "applet/cp", true, {"cp"}, {"FSH_SHARE=rw"}, "/src"),
                         "s-0", false);
    REQUIRE(xml.has_value());
    auto def = fleet::router::parse_domain_xml(*xml);
    REQUIRE(def.has_value());
    CHECK(def->filesystems == std::vector<fleet::router::Filesystem>{{"/src", "/src", false}});
    CHECK(def->env.empty());  // FSH_SHARE is the shell's, not the guest's

    // A value it does not know stops the command with one line, both ways.
    VmCommand bad =
        vm_command({"/x/fleet-vmm", Share::ro}, "applet/ls", true, {"ls"}, {"FSH_SHARE=yes please"}, "/src");
    CHECK(bad.refused == "FSH_SHARE: 'yes please' is not ro, rw or no");
    auto r = stage_xml(bad, "s-0", false);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().message == bad.refused);
}

static bool is_folder_here(const char* path)
{
    struct stat st {};
    return ::stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

TEST_CASE(
    "a Linux command's host paths outside its folder: their folders shared, rewritten where the guest mounts elsewhere")
{
    TempDir tmp;
    const std::string data = tmp.path() + "/my data";  // blanks are fine
    REQUIRE(::mkdir(data.c_str(), 0755) == 0);
    write_file(data + "/log.txt", "x\n");
    using Shared = VmCommand::Shared;
    VmOptions o{"/x/fleet-vmm", Share::ro};
    auto cmd = [&](std::vector<std::string> argv, const std::string& cwd = "/src", std::vector<std::string> env = {}) {
        return vm_command(o, "applet/" + argv[0], true, argv, env, cwd);
    };
    // A file's folder, a folder, a new name's folder: one share, after the working folder's.
    for (const std::string& arg : {data + "/log.txt", data, data + "/", data + "/new.txt", data + "/./log.txt"}) {
        INFO(arg);
        VmCommand c = cmd({"wc", "-l", arg});
        CHECK(c.shares == std::vector<Shared>{{"/src", "/src"}, {data, data}});
        CHECK(c.args == std::vector<std::string>{"wc", "-l", arg});  // the same path in the guest
        CHECK(c.workdir == "/src");
    }
    CHECK(cmd({"cat", data + "/log.txt", data + "/other"}).shares.size() == 2);  // one folder, once
    // Under the working folder: its share holds it already.
    CHECK(cmd({"cat", data + "/log.txt"}, data).shares == std::vector<Shared>{{data, data}});
    // Not a host path (no such folder), or never shared: the guest's own.
    for (std::string arg : {"/no/such/dir/x", "/", "/proc/cpuinfo", "/sys/kernel", "/-v", "/x:y/z"})
        CHECK(cmd({"cat", arg}).shares == std::vector<Shared>{{"/src", "/src"}});
    // A folder the guest has itself is mounted under /host: the operand follows it.
    VmCommand etc = cmd({"cat", "/etc/hostname", "-n", "/etc/../etc"});
    CHECK(etc.shares == std::vector<Shared>{{"/src", "/src"}, {"/etc", "/host/etc"}});
    CHECK(etc.args == std::vector<std::string>{"cat", "/host/etc/hostname", "-n", "/host/etc"});
    // An operand that climbs out of the working folder is one outside it.
    const std::string in = data + "/in";
    REQUIRE(::mkdir(in.c_str(), 0755) == 0);
    for (std::string arg : {"../log.txt", "..", "../", "../new.txt"}) {
        INFO(arg);
        VmCommand c = cmd({"cat", arg}, in);
        CHECK(c.shares == std::vector<Shared>{{in, in}, {data, data}});
        CHECK(c.args == std::vector<std::string>{"cat", arg});  // it leads there in the guest as it is
    }
    CHECK(cmd({"cat", "../in/x", "..x", "./.."}, in).shares == std::vector<Shared>{{in, in}});
    // ... and is rewritten where its folder is mounted elsewhere than its text leads.
    if (is_folder_here("/etc/ssh")) {
        VmCommand up = cmd({"cat", "../hostname", "sshd_config"}, "/etc/ssh");
        CHECK(up.shares == std::vector<Shared>{{"/etc/ssh", "/etc/ssh"}, {"/etc", "/host/etc"}});
        CHECK(up.args == std::vector<std::string>{"cat", "/host/etc/hostname", "sshd_config"});
    }
    // FSH_SHARE=no, a runtime program, a router on another host (no cwd): nothing.
    CHECK(cmd({"cat", data + "/log.txt"}, "/src", {"FSH_SHARE=no"}).shares.empty());
    CHECK(vm_command(o, "runtime/cat", false, {"cat", data + "/log.txt"}, {}, "/src").shares.empty());
    CHECK(cmd({"cat", data + "/log.txt"}, "").shares.empty());
    // In a folder that cannot be shared, the operands still are; no working folder then.
    VmCommand root = cmd({"cat", data + "/log.txt"}, "/");
    CHECK(root.shares == std::vector<Shared>{{data, data}});
    CHECK(root.workdir.empty());
    // At most FLEET_MAX_SHARES (8) folders, the working folder's first.
    std::vector<std::string> many{"cat"};
    for (int i = 0; i < 10; ++i) {
        std::string d = tmp.path() + "/d" + std::to_string(i);
        REQUIRE(::mkdir(d.c_str(), 0755) == 0);
        many.push_back(d + "/f");
    }
    VmCommand capped = cmd(many);
    REQUIRE(capped.shares.size() == 8);
    CHECK(capped.shares.front().host == "/src");
    CHECK(capped.shares.back().host == tmp.path() + "/d6");
    // The launcher's argv: every share, then the working folder; read-write as asked.
    CHECK(vm_launch_argv(o, cmd({"cp", "a", data + "/b"}, "/src", {"FSH_SHARE=rw"}), false) ==
          std::vector<std::string>{"/x/fleet-vmm", "run", "--share", "/src:/src:rw", "--share",
                                   data + ":" + data + ":rw", "-w", "/src", "linux", "cp", "a", data + "/b"});
    // Through the router: one <filesystem> each.
    auto xml = stage_xml(etc, "s-0", false);
    REQUIRE(xml.has_value());
    auto def = fleet::router::parse_domain_xml(*xml);
    REQUIRE(def.has_value());
    CHECK(def->filesystems ==
          std::vector<fleet::router::Filesystem>{{"/src", "/src", true}, {"/etc", "/host/etc", true}});
}

TEST_CASE("a Linux command in a folder that cannot be shared: noted once per folder, across forks")
{
    VmOptions o{"/x/fleet-vmm", Share::ro};
    CHECK(vm_command(o, "applet/ls", true, {"ls"}, {}, "/").unshared == "/");
    CHECK(vm_command(o, "applet/ls", true, {"ls"}, {}, "/proc/1").unshared == "/proc/1");
    CHECK(vm_command(o, "applet/ls", true, {"ls"}, {}, "/src").unshared.empty());
    CHECK(vm_command(o, "applet/ls", true, {"ls"}, {"FSH_SHARE=no"}, "/").unshared.empty());  // asked for none
    CHECK(vm_command(o, "runtime/cat", false, {"cat"}, {}, "/").unshared.empty());            // no folder wanted
    CHECK(vm_command(o, "applet/ls", true, {"ls"}, {}, "").unshared.empty());  // a router on another host

    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    int saved = ::dup(2);
    ::dup2(fds[1], 2);
    {
        UnsharedNote note;
        VmCommand root = vm_command(o, "applet/ls", true, {"ls"}, {}, "/");
        VmCommand proc = vm_command(o, "applet/ls", true, {"ls"}, {}, "/proc");
        pid_t child = ::fork();
        if (child == 0) {  // a pipeline stage
            note(root);
            ::_exit(0);
        }
        int status = 0;
        ::waitpid(child, &status, 0);
        note(root);  // told already, by the stage
        note(proc);
        note(proc);
    }
    ::dup2(saved, 2);
    ::close(saved);
    ::close(fds[1]);
    std::string err;
    char buf[512];
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) err.append(buf, static_cast<std::size_t>(n));
    ::close(fds[0]);
    CHECK(err ==
          "fsh: note: / is not shared into VMs; Linux commands here see the guest's own files\n"
          "fsh: note: /proc is not shared into VMs; Linux commands here see the guest's own files\n");
}

TEST_CASE("folders the guest needs itself go under /host; those --share cannot name are not shared")
{
    CHECK(shareable_folder("/home/me/src"));
    CHECK(shareable_folder("/tmp"));
    CHECK(shareable_folder("/usr/share/doc"));
    CHECK(shareable_folder("/binaries"));
    CHECK(shareable_folder("/dev/shm/work"));
    CHECK(shareable_folder("/home/me/My Project, v2"));
    for (const char* dir :
         {"/", "/usr", "/bin", "/usr/bin", "/dev", "/proc/1", "/sys/x", "/etc", "/a:b", "relative", ""}) {
        INFO(dir);
        CHECK_FALSE(shareable_folder(dir));
    }
    // The working folder: at its own path, a folder of the guest's under /host, or nowhere.
    CHECK(share_point("/home/me/src") == "/home/me/src");
    CHECK(share_point("/etc/apt") == "/etc/apt");
    for (auto [dir, at] : {std::pair{"/etc", "/host/etc"},
                           {"/usr", "/host/usr"},
                           {"/usr/bin", "/host/usr/bin"},
                           {"/root", "/host/root"},
                           {"/run", "/host/run"}}) {
        INFO(dir);
        CHECK(share_point(dir) == at);
    }
    for (const char* dir : {"/", "/proc", "/proc/1", "/sys/x", "/dev", "/a:b", "relative", ""}) {
        INFO(dir);
        CHECK(share_point(dir).empty());
    }
    CHECK(share_point("/dev/shm/work") == "/dev/shm/work");
    CHECK(vm_launch_argv({"/x/fleet-vmm", Share::ro}, "applet/ls", true, {"ls"}, {}, "/etc") ==
          std::vector<std::string>{"/x/fleet-vmm", "run", "--share", "/etc:/host/etc:ro", "-w", "/host/etc", "linux",
                                   "ls"});
    CHECK(vm_launch_argv({"/x/fleet-vmm", Share::ro}, "applet/ls", true, {"ls"}, {}, "/") ==
          std::vector<std::string>{"/x/fleet-vmm", "run", "linux", "ls"});
    CHECK(host_only_variable("PATH"));
    CHECK(host_only_variable("FLEET_IMAGES"));
    CHECK_FALSE(host_only_variable("LC_ALL"));
    CHECK_FALSE(host_only_variable("PATHS"));
}

TEST_CASE("the runner starts the launcher with the command's words and reports a missing one")
{
    TempDir dir;
    // A stand-in launcher that writes its argv, one per line, to a file.
    std::string launcher = dir / "fake-vmm";
    write_file(launcher, "#!/bin/sh\nfor a; do printf '%s\\n' \"$a\"; done > \"$OUT\"\nexit 7\n");
    ::chmod(launcher.c_str(), 0755);
    TempDir catalog_dir;
    write_catalog(catalog_dir);
    VmCatalog catalog({catalog_dir.path()});
    VmRunner runner(catalog, VmOptions{launcher, Share::no});
    CommandSpec spec;
    spec.program = "runtime/wc";
    spec.argv = {"wc", "-l"};
    spec.env = {"OUT=" + (dir / "argv"), "PATH=/usr/bin:/bin"};
    auto pid = runner.start(spec);
    REQUIRE(pid);
    int status = 0;
    REQUIRE(::waitpid(*pid, &status, 0) == *pid);
    CHECK(WEXITSTATUS(status) == 7);
    CHECK(fleet::test::read_file(dir / "argv") == "run\n-e\nOUT=" + (dir / "argv") + "\nwc\n-l\n");

    CommandSpec bad = spec;
    bad.env.push_back("FSH_SHARE=maybe");
    auto refused = runner.start(bad);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().message == "wc: FSH_SHARE: 'maybe' is not ro, rw or no");

    VmRunner missing(catalog, VmOptions{"", Share::ro});
    auto none = missing.start(spec);
    REQUIRE_FALSE(none);
    CHECK(none.error().message.find("$FLEET_VMM") != std::string::npos);
}
