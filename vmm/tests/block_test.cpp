// Disks and rng: validate_devices, and their part of qemu_argv.
#include <fleet/test/support.hpp>

#include <fleet/vmm/cmdline.hpp>

#include <fstream>
#include <string>
#include <vector>

using namespace fleet::vmm;
using fleet::test::contains;
using fleet::test::TempDir;

namespace {

using Argv = std::vector<std::string>;

VmSpec spec_with_kernel()
{
    VmSpec s;
    s.name = "disks";
    s.kernel = fleet::test::hello_elf();
    return s;
}

Argv values_of(const Argv& a, const std::string& flag)
{
    Argv out;
    for (std::size_t i = 0; i + 1 < a.size(); ++i)
        if (a[i] == flag) out.push_back(a[i + 1]);
    return out;
}

}  // namespace

TEST_CASE("qemu_argv: disks are virtio-blk devices, rng a virtio-rng", "[cmdline][block]")
{
    VmSpec s = spec_with_kernel();
    s.disks = {BlockDevice{"/srv/a,b.qcow2", "qcow2", false}, BlockDevice{"/dev/sdz", "raw", true}};
    s.rng = RngDevice{"/dev/urandom", 1024, 1000};
    Argv a = qemu_argv("qemu", s, Accel::tcg, Wiring{});
    CHECK(values_of(a, "-drive") == Argv{"file=/srv/a,,b.qcow2,format=qcow2,if=none,id=fleet-disk0",
                                         "file=/dev/sdz,format=raw,if=none,id=fleet-disk1,read-only=on"});
    CHECK(values_of(a, "-object") == Argv{"rng-random,id=fleet-rng,filename=/dev/urandom"});
    Argv devices = values_of(a, "-device");
    CHECK(std::find(devices.begin(), devices.end(), "virtio-blk-device,drive=fleet-disk0") != devices.end());
    CHECK(std::find(devices.begin(), devices.end(), "virtio-blk-device,drive=fleet-disk1") != devices.end());
    CHECK(std::find(devices.begin(), devices.end(), "virtio-rng-device,rng=fleet-rng,max-bytes=1024,period=1000") !=
          devices.end());
    s.disks.clear();
    s.rng.reset();
    CHECK(values_of(qemu_argv("qemu", s, Accel::tcg, Wiring{}), "-drive").empty());
}

TEST_CASE("validate: disks must exist and be usable, rng a random device", "[spec][block]")
{
    TempDir tmp;
    std::ofstream(tmp / "disk.raw") << std::string(4096, '\0');
    VmSpec s = spec_with_kernel();
    s.disks = {BlockDevice{tmp / "disk.raw", "raw", false}};
    s.rng = RngDevice{};
    CHECK(validate(s));
    s.disks[0].format = "vmdk";
    CHECK(contains(validate(s).error().what(), "format 'vmdk' is not supported"));
    s.disks[0] = BlockDevice{tmp / "missing.raw", "raw", false};
    CHECK(contains(validate(s).error().what(), "missing.raw"));
    s.disks[0] = BlockDevice{tmp.path(), "raw", false};
    CHECK(contains(validate(s).error().what(), "neither a file nor a block device"));
    s.disks.assign(9, BlockDevice{tmp / "disk.raw", "raw", true});
    CHECK(contains(validate(s).error().what(), "at most 8 disks"));
    s.disks.clear();
    s.rng = RngDevice{"/etc/passwd"};
    CHECK(contains(validate(s).error().what(), "rng source '/etc/passwd'"));
}
