// fleet — disks and rng for a VM (block.hpp).
#include <fleet/vmm/block.hpp>
#include <fleet/vmm/cmdline.hpp>
#include <fleet/vmm/spec.hpp>

#include <sys/stat.h>
#include <unistd.h>

namespace fleet::vmm {

Result<> validate_devices(const VmSpec& spec)
{
    if (spec.disks.size() > max_disks) return fail("at most " + std::to_string(max_disks) + " disks");
    for (const auto& d : spec.disks) {
        if (d.format != "raw" && d.format != "qcow2")
            return fail("disk '" + d.path + "': format '" + d.format + "' is not supported (raw or qcow2)");
        struct stat st {};
        if (::stat(d.path.c_str(), &st) != 0) return fail_errno("disk '" + d.path + "'");
        if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
            return fail("disk '" + d.path + "' is neither a file nor a block device");
        if (::access(d.path.c_str(), d.read_only ? R_OK : R_OK | W_OK) != 0)
            return fail_errno("disk '" + d.path + "' cannot be " + (d.read_only ? "read" : "read and written"));
    }
    if (spec.rng) {
        const std::string& s = spec.rng->source;
        if (s != "/dev/urandom" && s != "/dev/random" && s != "/dev/hwrng")
            return fail("rng source '" + s + "' is not one of /dev/urandom, /dev/random, /dev/hwrng");
        if (::access(s.c_str(), R_OK) != 0) return fail_errno("rng source '" + s + "'");
    }
    return {};
}

std::vector<std::string> device_argv(const VmSpec& spec)
{
    std::vector<std::string> a;
    for (std::size_t i = 0; i < spec.disks.size(); ++i) {
        const auto& d = spec.disks[i];
        const std::string id = "fleet-disk" + std::to_string(i);
        a.insert(a.end(), {"-drive",
                           "file=" + qemu_escape(d.path) + ",format=" + d.format + ",if=none,id=" + id +
                               (d.read_only ? ",read-only=on" : ""),
                           "-device", "virtio-blk-device,drive=" + id});
    }
    if (spec.rng) {
        std::string device = "virtio-rng-device,rng=fleet-rng";
        if (spec.rng->rate_bytes > 0)
            device += ",max-bytes=" + std::to_string(spec.rng->rate_bytes) +
                      ",period=" + std::to_string(spec.rng->rate_period_ms);
        a.insert(a.end(),
                 {"-object", "rng-random,id=fleet-rng,filename=" + qemu_escape(spec.rng->source), "-device", device});
    }
    return a;
}

}  // namespace fleet::vmm
