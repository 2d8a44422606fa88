// fleet runtime: words of the kernel command line QEMU writes (cmdline.cpp).
#pragma once

#include <stdint.h>

namespace rt {

// Without ACPI (an image's power=ctl) microvm puts its virtio-mmio slots on
// GSI 5 and up and says so on the command line (its auto-kernel-cmdline):
// "virtio_mmio.device=512@0xfeb00e00:12" -> the slot at 0xfeb00e00 is on
// GSI 12. The GSI QEMU gives the slot at `base`; 0 if it gives none.
unsigned virtio_gsi_from_cmdline(const char* cmdline, uintptr_t base);

}  // namespace rt
