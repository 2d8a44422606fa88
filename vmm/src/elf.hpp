// fleet — does a file look like a kernel QEMU microvm can boot through PVH?
#pragma once

#include <fleet/base/error.hpp>

#include <string>

namespace fleet::vmm {

// The file must be a readable ELF (32- or 64-bit, little-endian, x86) with a
// Xen PVH entry note (owner "Xen", type XEN_ELFNOTE_PHYS32_ENTRY = 18).
Result<> check_pvh_kernel(const std::string& path);

}  // namespace fleet::vmm
