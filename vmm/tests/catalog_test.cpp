// The image catalog: entry files, resolving a reference, the folders searched.
#include <algorithm>
#include <fleet/test/support.hpp>

#include <fleet/vmm/catalog.hpp>

#include <stdlib.h>
#include <unistd.h>

#include <optional>
#include <string>

using namespace fleet::vmm;
using fleet::test::contains;
using fleet::test::TempDir;
using fleet::test::write_file;

namespace {

// Sets (or unsets) an environment variable for one scope.
class EnvVar {
public:
    EnvVar(const char* name, const char* value) : name_(name)
    {
        if (const char* old = std::getenv(name)) old_ = old;
        if (value)
            ::setenv(name, value, 1);
        else
            ::unsetenv(name);
    }
    ~EnvVar()
    {
        if (old_)
            ::setenv(name_, old_->c_str(), 1);
        else
            ::unsetenv(name_);
    }
    EnvVar(const EnvVar&) = delete;
    EnvVar& operator=(const EnvVar&) = delete;

private:
    const char* name_;
    std::optional<std::string> old_;
};

// A catalog folder with one kernel file in it.
struct Catalog {
    TempDir dir;
    Catalog()
    {
        write_file(dir / "k/guest.elf", "not really an ELF; the catalog only checks it exists");
        write_file(dir / "initrd.cpio", "070701");
    }
    std::string entry(const std::string& name, const std::string& text)
    {
        std::string path = dir / (name + ".image");
        write_file(path, text);
        return path;
    }
};

}  // namespace

TEST_CASE("catalog: parse an entry file", "[catalog]")
{
    Catalog c;
    std::string path = c.entry("web",
                               "# fleet image catalog entry\n"
                               "\n"
                               "name=web\n"
                               "kernel=k/guest.elf\n"
                               "  initrd = initrd.cpio  \r\n"
                               "cmdline=console=ttyS0 quiet\n"
                               "memory=1G\n"
                               "stdio=isa\n"
                               "kind=linux\n"
                               "boot-timeout=1.5\n"
                               "description=a web server = fast\n");
    auto img = load_image_entry(path);
    REQUIRE(img);
    CHECK(img->name == "web");
    CHECK(img->kernel == c.dir / "k/guest.elf");  // relative to the entry's folder
    CHECK(img->initrd == c.dir / "initrd.cpio");
    CHECK(img->cmdline == "console=ttyS0 quiet");  // the first '=' splits
    CHECK(img->memory_mib == 1024);
    CHECK(img->stdio == StdioKind::isa);
    CHECK(img->kind == "linux");
    REQUIRE(img->boot_timeout);
    CHECK(*img->boot_timeout == std::chrono::milliseconds(1500));
    CHECK(img->description == "a web server = fast");
    CHECK(img->entry_file == path);
}

TEST_CASE("catalog: defaults, and the name from the file name", "[catalog]")
{
    Catalog c;
    std::string path = c.entry("minimal", "kernel=" + (c.dir / "k/guest.elf") + "\n");
    auto img = load_image_entry(path);
    REQUIRE(img);
    CHECK(img->name == "minimal");
    CHECK(img->kernel == c.dir / "k/guest.elf");  // absolute paths stay as they are
    CHECK(img->initrd.empty());
    CHECK(img->cmdline.empty());
    CHECK(img->memory_mib == 64);
    CHECK(img->stdio == StdioKind::isa);
    CHECK(img->kind == "tiny");
    CHECK_FALSE(img->boot_timeout);

    // stdio=virtio, and kind and boot-timeout in their other forms.
    path = c.entry("linuxy", "kernel=k/guest.elf\nstdio=virtio\nkind=runtime\nboot-timeout=30\n");
    img = load_image_entry(path);
    REQUIRE(img);
    CHECK(img->stdio == StdioKind::virtio);
    CHECK(img->kind == "runtime");
    CHECK(img->boot_timeout == std::chrono::milliseconds(30000));
    path = c.entry("fast", "kernel=k/guest.elf\nboot-timeout=0.001\nkind=tiny\n");
    img = load_image_entry(path);
    REQUIRE(img);
    CHECK(img->boot_timeout == std::chrono::milliseconds(1));
    CHECK(img->kind == "tiny");
    CHECK_FALSE(img->exec_fw_cfg);  // ctl unless the entry says otherwise
    path = c.entry("fwcfg", "kernel=k/guest.elf\nexec=fw_cfg\n");
    img = load_image_entry(path);
    REQUIRE(img);
    CHECK(img->exec_fw_cfg);
    CHECK(load_image_entry(c.entry("ctl", "kernel=k/guest.elf\nexec=ctl\n"))->exec_fw_cfg == false);
    // power=: ACPI's button unless the entry says ctl; the spec follows.
    CHECK_FALSE(img->power_ctl);
    auto ctl_power = load_image_entry(c.entry("ctlpower", "kernel=k/guest.elf\npower=ctl\n"));
    REQUIRE(ctl_power);
    CHECK(ctl_power->power_ctl);
    CHECK(spec_from_image(*ctl_power).power_ctl);
    CHECK_FALSE(load_image_entry(c.entry("acpipower", "kernel=k/guest.elf\npower=acpi\n"))->power_ctl);
    // options=: unset (any words), empty (none), or the specs.
    CHECK_FALSE(img->options);
    img = load_image_entry(c.entry("noargs", "kernel=k/guest.elf\noptions=\n"));
    REQUIRE(img);
    CHECK(img->options == std::vector<std::string>{});
    img = load_image_entry(c.entry("head", "kernel=k/guest.elf\noptions=-n:  -c: -# --lines -\n"));
    REQUIRE(img);
    CHECK(img->options == std::vector<std::string>{"-n:", "-c:", "-#", "--lines", "-"});
}

TEST_CASE("catalog: entry errors name the file and line", "[catalog]")
{
    Catalog c;
    struct Case {
        std::string text;
        std::string message;
    };
    for (const auto& [text, message] : {
             Case{"kernel=k/guest.elf\n# fine\ncolour=blue\n", ":3: unknown key 'colour'"},
             Case{"kernel=k/guest.elf\njust words\n", ":2: expected key=value"},
             Case{"\n\nmemory=lots\nkernel=k/guest.elf\n", ":3: bad memory size 'lots'"},
             Case{"memory=1M\nkernel=k/guest.elf\n", ":1: memory size '1M' out of range"},
             Case{"kernel=k/guest.elf\nstdio=serial\n", ":2: unknown stdio kind 'serial'"},
             Case{"kernel=k/guest.elf\nkind=huge\n", ":2: unknown kind 'huge'"},
             Case{"kernel=k/guest.elf\nexec=cmdline\n", ":2: bad exec 'cmdline' (ctl or fw_cfg)"},
             Case{"kernel=k/guest.elf\npower=button\n", ":2: bad power 'button' (acpi or ctl)"},
             Case{"kernel=k/guest.elf\noptions=-n file\n", ":2: bad option 'file'"},
             Case{"kernel=k/guest.elf\nboot-timeout=0\n", ":2: bad boot-timeout '0'"},
             Case{"kernel=k/guest.elf\nboot-timeout=-1\n", ":2: bad boot-timeout"},
             Case{"kernel=k/guest.elf\nboot-timeout=10s\n", ":2: bad boot-timeout"},
             Case{"kernel=k/guest.elf\nboot-timeout=\n", ":2: bad boot-timeout"},
             Case{"kernel=k/guest.elf\nboot-timeout=nan\n", ":2: bad boot-timeout"},
             Case{"kernel=k/guest.elf\nboot-timeout=inf\n", ":2: bad boot-timeout"},
             Case{"kernel=k/guest.elf\nboot-timeout=86401\n", ":2: bad boot-timeout"},
             Case{"kernel=k/guest.elf\nboot-timeout=1e300\n", ":2: bad boot-timeout"},
             Case{"name=x\n", "names no kernel"},
             Case{"", "names no kernel"},
             Case{"kernel=k/missing.elf\n", "kernel '" + (c.dir / "k/missing.elf") + "' not found"},
             Case{"kernel=k\n", "not found"},  // a folder is not a kernel
             Case{"kernel=k/guest.elf\ninitrd=nope.cpio\n", "initrd '" + (c.dir / "nope.cpio") + "' not found"},
         }) {
        std::string path = c.entry("bad", text);
        INFO("entry:\n" << text);
        auto img = load_image_entry(path);
        REQUIRE_FALSE(img);
        CHECK(contains(img.error().message, message));
        CHECK(contains(img.error().message, path));
    }
    auto missing = load_image_entry(c.dir / "absent.image");
    REQUIRE_FALSE(missing);
    CHECK(contains(missing.error().message, "cannot be read"));
}

TEST_CASE("catalog: resolve by name, by .image path, by bare kernel path", "[catalog]")
{
    Catalog c;
    c.entry("web", "kernel=k/guest.elf\nmemory=32M\n");
    write_file(c.dir / "nested/nested.image", "kernel=../k/guest.elf\n");
    TempDir second;
    write_file(second / "web.image", "kernel=" + (c.dir / "k/guest.elf") + "\nmemory=128M\n");
    write_file(second / "other.image", "kernel=" + (c.dir / "k/guest.elf") + "\n");

    SECTION("by name: the first folder wins")
    {
        auto img = resolve_image("web", {c.dir.path(), second.path()});
        REQUIRE(img);
        CHECK(img->memory_mib == 32);
        CHECK(img->kernel == c.dir / "k/guest.elf");
        auto other = resolve_image("other", {c.dir.path(), second.path()});
        REQUIRE(other);
        CHECK(other->entry_file == second / "other.image");
        auto swapped = resolve_image("web", {second.path(), c.dir.path()});
        REQUIRE(swapped);
        CHECK(swapped->memory_mib == 128);
    }
    SECTION("by name, one folder down")
    {
        auto img = resolve_image("nested", {c.dir.path()});
        REQUIRE(img);
        CHECK(img->entry_file == c.dir / "nested/nested.image");
        // kernel= is relative to the entry's own folder.
        CHECK(img->kernel == c.dir / "nested/../k/guest.elf");
        // Any folder one level down, not only one named after the image;
        // the top level first, then the folders in name order.
        write_file(c.dir / "runtime/cat.image", "kernel=../k/guest.elf\nkind=runtime\n");
        write_file(c.dir / "b-later/cat.image", "kernel=../k/guest.elf\nkind=linux\n");
        auto cat = resolve_image("cat", {c.dir.path()});
        REQUIRE(cat);
        CHECK(cat->kind == "linux");
        CHECK(cat->entry_file == c.dir / "b-later/cat.image");
        write_file(c.dir / "cat.image", "kernel=k/guest.elf\n");
        cat = resolve_image("cat", {c.dir.path()});
        REQUIRE(cat);
        CHECK(cat->entry_file == c.dir / "cat.image");
        // Two levels down is too deep.
        write_file(c.dir / "x/y/deep.image", "kernel=" + (c.dir / "k/guest.elf") + "\n");
        CHECK_FALSE(resolve_image("deep", {c.dir.path()}));
    }
    SECTION("by .image path: relative to the entry's folder")
    {
        auto img = resolve_image(second / "web.image", {});
        REQUIRE(img);
        CHECK(img->memory_mib == 128);
        write_file(second / "sub/rel.image", "kernel=guest.elf\n");
        write_file(second / "sub/guest.elf", "x");
        auto rel = resolve_image(second / "sub/rel.image", {c.dir.path()});
        REQUIRE(rel);
        CHECK(rel->name == "rel");
        CHECK(rel->kernel == second / "sub/guest.elf");
    }
    SECTION("by bare kernel path")
    {
        auto img = resolve_image(c.dir / "k/guest.elf", {second.path()});
        REQUIRE(img);
        CHECK(img->name == "guest");
        CHECK(img->kernel == c.dir / "k/guest.elf");
        CHECK(img->entry_file.empty());
        CHECK(img->memory_mib == 64);
        CHECK(img->cmdline.empty());
    }
    SECTION("a path that does not exist")
    {
        auto img = resolve_image(c.dir / "k/nope.elf", {c.dir.path()});
        REQUIRE_FALSE(img);
        CHECK(contains(img.error().message, "not found"));
    }
    SECTION("an empty reference")
    {
        auto img = resolve_image("", {c.dir.path()});
        REQUIRE_FALSE(img);
        CHECK(contains(img.error().message, "no image"));
    }
    SECTION("an unknown name lists the folders searched")
    {
        auto img = resolve_image("ghost", {c.dir.path(), second.path()});
        REQUIRE_FALSE(img);
        CHECK(contains(img.error().message, "image 'ghost' not found"));
        CHECK(contains(img.error().message, "looked in " + c.dir.path() + ", " + second.path()));
        CHECK(contains(img.error().message, "FLEET_IMAGES"));
    }
    SECTION("a broken entry is an error, not a fall-through")
    {
        c.entry("broken", "kernel=k/guest.elf\nbogus=1\n");
        write_file(second / "broken.image", "kernel=" + (c.dir / "k/guest.elf") + "\n");
        auto img = resolve_image("broken", {c.dir.path(), second.path()});
        REQUIRE_FALSE(img);
        CHECK(contains(img.error().message, "unknown key 'bogus'"));
    }
}

TEST_CASE("catalog: a remote=yes stand-in lists without its files and never boots here", "[catalog]")
{
    Catalog c;
    c.entry("upper", "kernel=upper.elf\nkind=runtime\nstdio=virtio\nremote=yes\n");
    c.entry("gone", "kernel=missing.elf\n");
    auto entry = load_image_entry(c.dir / "upper.image");
    REQUIRE(entry);
    CHECK(entry->remote);
    CHECK(entry->kind == "runtime");
    CHECK_FALSE(load_image_entry(c.dir / "gone.image"));  // an ordinary entry still needs its kernel
    auto listed = list_images({c.dir.path()});
    CHECK(std::any_of(listed.begin(), listed.end(), [](const Image& i) { return i.name == "upper"; }));
    auto booted = resolve_image("upper", {c.dir.path()});
    REQUIRE_FALSE(booted);
    CHECK(booted.error().message.find("stand-in for an image a router boots") != std::string::npos);
    CHECK_FALSE(resolve_image(c.dir / "upper.image", {}));
    c.entry("bad", "kernel=k\nremote=maybe\n");
    CHECK_FALSE(load_image_entry(c.dir / "bad.image"));
}

TEST_CASE("catalog: the real hello entry in the build tree", "[catalog]")
{
    // FLEET_TEST_HELLO_ELF is <build>/images/hello/hello.elf; its catalog
    // folder is two levels up.
    std::string dir = std::filesystem::path(fleet::test::hello_elf()).parent_path().parent_path().string();
    if (!std::filesystem::exists(dir + "/hello.image")) FAIL(dir << "/hello.image is not built (ninja -C build)");
    auto img = resolve_image("hello", {dir});
    REQUIRE(img);
    CHECK(img->name == "hello");
    CHECK(std::filesystem::equivalent(img->kernel, fleet::test::hello_elf()));
    CHECK(img->memory_mib == 16);
    auto all = list_images({dir});
    REQUIRE_FALSE(all.empty());
    CHECK(all[0].name == "hello");
}

TEST_CASE("catalog: list_images", "[catalog]")
{
    Catalog c;
    c.entry("zeta", "kernel=k/guest.elf\n");
    c.entry("alpha", "kernel=k/guest.elf\n");
    c.entry("broken", "nonsense\n");  // skipped, not fatal
    write_file(c.dir / "mid/mid.image", "kernel=../k/guest.elf\n");
    write_file(c.dir / "a/b/c/deep.image", "kernel=" + (c.dir / "k/guest.elf") + "\n");  // too deep
    TempDir second;
    write_file(second / "alpha.image", "kernel=" + (c.dir / "k/guest.elf") + "\nmemory=8M\n");
    write_file(second / "beta.image", "kernel=" + (c.dir / "k/guest.elf") + "\n");

    auto imgs = list_images({c.dir.path(), second.path(), c.dir / "missing-folder"});
    std::vector<std::string> names;
    for (const auto& i : imgs) names.push_back(i.name);
    CHECK(names == std::vector<std::string>{"alpha", "mid", "zeta", "beta"});
    CHECK(imgs[0].memory_mib == 64);  // the first folder's alpha
}

TEST_CASE("catalog: catalog_dirs", "[catalog]")
{
    SECTION("a flag wins and is split on ':'")
    {
        EnvVar env("FLEET_IMAGES", "/env/a");
        CHECK(catalog_dirs("/x:/y::/z") == std::vector<std::string>{"/x", "/y", "/z"});
        CHECK(catalog_dirs("/only") == std::vector<std::string>{"/only"});
    }
    SECTION("FLEET_IMAGES, split on ':'")
    {
        EnvVar env("FLEET_IMAGES", "/env/a:/env/b:");
        CHECK(catalog_dirs("") == std::vector<std::string>{"/env/a", "/env/b"});
        EnvVar one("FLEET_IMAGES", ":/env/one");
        CHECK(catalog_dirs("") == std::vector<std::string>{"/env/one"});
    }
    SECTION("the build tree and the installed catalog otherwise")
    {
        EnvVar env("FLEET_IMAGES", nullptr);
        auto dirs = catalog_dirs("");
        REQUIRE(!dirs.empty());
        CHECK(dirs.back() == FLEET_IMAGES_INSTALL_DIR);
        if (std::filesystem::is_directory(FLEET_IMAGES_BUILD_DIR)) {
            REQUIRE(dirs.size() == 2);
            CHECK(dirs.front() == FLEET_IMAGES_BUILD_DIR);
        }
        EnvVar empty("FLEET_IMAGES", "");
        CHECK(catalog_dirs("") == dirs);  // empty counts as unset
    }
}

TEST_CASE("spec_from_image: what an image says, and nothing the caller chooses", "[catalog]")
{
    Image img;
    img.name = std::string(1, 'x');
    img.kernel = "/k.elf";
    img.initrd = "/i.cpio";
    img.cmdline = "quiet";
    img.args = {"sh", "-c"};
    img.memory_mib = 96;
    img.stdio = StdioKind::virtio;
    img.drain = true;
    img.exec_fw_cfg = true;
    img.boot_timeout = std::chrono::milliseconds(7000);
    VmSpec s = spec_from_image(img);
    CHECK(s.exec_fw_cfg);
    CHECK(s.kernel == "/k.elf");
    CHECK(s.initrd == "/i.cpio");
    CHECK(s.extra_cmdline == "quiet");
    CHECK(s.args == std::vector<std::string>{"sh", "-c"});
    CHECK(s.memory_mib == 96);
    CHECK(s.stdio == StdioKind::virtio);
    CHECK(s.drain);
    CHECK(s.boot_timeout == std::chrono::milliseconds(7000));
    CHECK(s.name.empty());
    CHECK(s.env.empty());
    img.boot_timeout.reset();
    CHECK(spec_from_image(img).boot_timeout == VmSpec{}.boot_timeout);
}
