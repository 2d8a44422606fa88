// fleet — the data devices a VM may have beside its image: virtio-blk
// disks (a raw or qcow2 image file, or a block device) and a virtio-rng
// fed from a host file. Their part of the VmSpec, its checks and its QEMU
// arguments (cmdline.cpp appends them).
#pragma once

#include <fleet/base/error.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fleet::vmm {

struct VmSpec;

// One virtio-blk device (virtio-mmio on microvm). The guest sees the disks
// in the order given.
struct BlockDevice {
    std::string path;            // an image file or a block device
    std::string format = "raw";  // raw or qcow2
    bool read_only = false;
};

// virtio-rng from a host file; rate_bytes per rate_period_ms when set.
struct RngDevice {
    std::string source = "/dev/urandom";
    std::uint32_t rate_bytes = 0;
    std::uint32_t rate_period_ms = 0;
};

inline constexpr std::size_t max_disks = 8;

// The disks exist and can be read (and written unless read-only); the
// formats are known; the rng source is one of the host's random devices.
Result<> validate_devices(const VmSpec& spec);

// -drive/-device and -object/-device arguments for them.
std::vector<std::string> device_argv(const VmSpec& spec);

}  // namespace fleet::vmm
