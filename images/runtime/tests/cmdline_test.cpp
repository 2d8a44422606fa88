// The command-line words QEMU writes for a machine without ACPI, on the host.
#include "core/cmdline.hpp"

#include <catch2/catch.hpp>

using rt::virtio_gsi_from_cmdline;

TEST_CASE("cmdline: a virtio-mmio slot's GSI from QEMU's words", "[cmdline]")
{
    // What QEMU 7.2's microvm appends with acpi=off: one word per slot in use.
    const char* line =
        "fleet.drain=1 console=ttyS0 virtio_mmio.device=512@0xfeb00e00:12 virtio_mmio.device=512@0xfeb00c00:11";
    CHECK(virtio_gsi_from_cmdline(line, 0xfeb00e00) == 12);
    CHECK(virtio_gsi_from_cmdline(line, 0xfeb00c00) == 11);
    CHECK(virtio_gsi_from_cmdline(line, 0xfeb00000) == 0);  // no word for that slot
    CHECK(virtio_gsi_from_cmdline("virtio_mmio.device=512@0xfeb00000:5", 0xfeb00000) == 5);
    CHECK(virtio_gsi_from_cmdline("", 0xfeb00000) == 0);
    CHECK(virtio_gsi_from_cmdline(nullptr, 0xfeb00000) == 0);
}

TEST_CASE("cmdline: a malformed or lookalike word gives no GSI", "[cmdline]")
{
    for (const char* line : {
             "xvirtio_mmio.device=512@0xfeb00000:5",           // not at a word's start
             "virtio_mmio.device=512@feb00000:5",              // no 0x
             "virtio_mmio.device=512@0x:5",                    // no address
             "virtio_mmio.device=512@0xfeb00000",              // no GSI
             "virtio_mmio.device=512@0xfeb00000:",             // an empty GSI
             "virtio_mmio.device=512@0xfeb00000:5x",           // junk after it
             "virtio_mmio.device=512@0xFEB00000:5",            // QEMU writes lower case
             "virtio_mmio.device=512 @0xfeb00000:5",           // split
             "virtio_mmio.device=512@0x1feb00000:5",           // another address
             "virtio_mmio.device=512@0xffffffffffffffffff:5",  // too long for 64 bits
         }) {
        INFO(line);
        CHECK(virtio_gsi_from_cmdline(line, 0xfeb00000) == 0);
    }
}
