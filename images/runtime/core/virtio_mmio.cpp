// fleet runtime: the virtio-mmio transport (virtio_mmio.hpp).
#include "virtio_mmio.hpp"

namespace rt::vio {
namespace {

constexpr uintptr_t mmio_base = 0xfeb00000, mmio_stride = 512;
constexpr int max_slots = 24;
constexpr uint32_t magic_value = 0x74726976;  // "virt"
constexpr uint32_t f_version_1_hi = 1u << 0;  // VIRTIO_F_VERSION_1 (bit 32)

uint32_t lo(const volatile void* p)
{
    return static_cast<uint32_t>(reinterpret_cast<uintptr_t>(p));
}
uint32_t hi(const volatile void* p)
{
    return static_cast<uint32_t>(reinterpret_cast<uintptr_t>(p) >> 32);
}

}  // namespace

bool Device::find(uint32_t device_id)
{
    for (int i = 0; i < max_slots; i++) {
        uintptr_t b = mmio_base + mmio_stride * static_cast<uintptr_t>(i);
        if (hw::r32(b + r_magic) == magic_value && hw::r32(b + r_device_id) == device_id) {
            base = b;
            slot = i;
            break;
        }
    }
    if (!base) return false;
    version = hw::r32(base + r_version);
    return version == 1 || version == 2;
}

bool Device::negotiate(uint32_t want)
{
    hw::w32(base + r_status, 0);  // reset
    hw::w32(base + r_status, st_ack);
    hw::w32(base + r_status, st_ack | st_driver);
    hw::w32(base + r_dev_features_sel, 0);
    if ((hw::r32(base + r_dev_features) & want) != want) return false;
    hw::w32(base + r_drv_features_sel, 0);
    hw::w32(base + r_drv_features, want);
    if (version == 2) {
        hw::w32(base + r_dev_features_sel, 1);
        if (!(hw::r32(base + r_dev_features) & f_version_1_hi)) return false;
        hw::w32(base + r_drv_features_sel, 1);
        hw::w32(base + r_drv_features, f_version_1_hi);
        hw::w32(base + r_status, st_ack | st_driver | st_features_ok);
        if (!(hw::r32(base + r_status) & st_features_ok)) return false;
    } else {
        hw::w32(base + r_guest_page_size, 4096);
    }
    return true;
}

bool Device::setup_queue(Queue& q, uint16_t index, uint16_t want) const
{
    hw::w32(base + r_queue_sel, index);
    uint32_t max = hw::r32(base + r_queue_num_max);
    auto num = static_cast<uint16_t>(max < want ? max : want);
    if (num == 0) return false;
    // One block in the legacy layout (also fine for modern): descriptors,
    // available ring, then the used ring on the next 4 KiB boundary.
    size_t desc_bytes = 16u * num, avail_bytes = 6u + 2u * num;
    size_t used_off = (desc_bytes + avail_bytes + 4095) & ~size_t(4095);
    size_t total = used_off + ((6u + 8u * num + 4095) & ~size_t(4095));
    auto* mem = static_cast<char*>(rt::aligned_alloc(4096, total));
    if (!mem) rt::panic("out of memory for virtqueue %u", index);
    memset(mem, 0, total);
    q.index = index;
    q.num = num;
    q.desc = reinterpret_cast<Desc*>(mem);
    q.avail = reinterpret_cast<volatile uint16_t*>(mem + desc_bytes);
    q.used = reinterpret_cast<volatile uint16_t*>(mem + used_off);
    hw::w32(base + r_queue_num, num);
    if (version == 1) {
        hw::w32(base + r_queue_align, 4096);
        hw::w32(base + r_queue_pfn, static_cast<uint32_t>(reinterpret_cast<uintptr_t>(mem) >> 12));
        return true;
    }
    hw::w32(base + r_desc_lo, lo(q.desc));
    hw::w32(base + r_desc_hi, hi(q.desc));
    hw::w32(base + r_avail_lo, lo(q.avail));
    hw::w32(base + r_avail_hi, hi(q.avail));
    hw::w32(base + r_used_lo, lo(q.used));
    hw::w32(base + r_used_hi, hi(q.used));
    hw::w32(base + r_queue_ready, 1);
    return true;
}

void Device::ack_irq() const
{
    if (!base) return;
    hw::w32(base + r_int_ack, hw::r32(base + r_int_status));
}

unsigned Device::gsi() const
{
    // Without ACPI (power=ctl) QEMU puts the slots on GSI 5 and up of the
    // one IOAPIC and says so on the command line.
    if (unsigned g = hw::cmdline_virtio_gsi(base)) return g;
    return (hw::have_ioapic2() ? 24u : 16u) + static_cast<unsigned>(slot);
}

}  // namespace rt::vio
