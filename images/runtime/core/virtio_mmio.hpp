// fleet runtime: a virtio-mmio transport (legacy v1 and modern v2) and its
// split virtqueues, as QEMU 7.2's microvm places them: slot i at
// 0xfeb00000 + 512*i, GSI 24+i with the second IOAPIC (acpi=on,
// ioapic2=auto), else 16+i. Device drivers (vserial.cpp) sit on top; this
// file knows nothing of any one device.
#pragma once

#include "hw.hpp"

namespace rt::vio {

enum : uint32_t {
    r_magic = 0x000,
    r_version = 0x004,
    r_device_id = 0x008,
    r_dev_features = 0x010,
    r_dev_features_sel = 0x014,
    r_drv_features = 0x020,
    r_drv_features_sel = 0x024,
    r_guest_page_size = 0x028,
    r_queue_sel = 0x030,
    r_queue_num_max = 0x034,
    r_queue_num = 0x038,
    r_queue_align = 0x03c,
    r_queue_pfn = 0x040,
    r_queue_ready = 0x044,
    r_queue_notify = 0x050,
    r_int_status = 0x060,
    r_int_ack = 0x064,
    r_status = 0x070,
    r_desc_lo = 0x080,
    r_desc_hi = 0x084,
    r_avail_lo = 0x090,
    r_avail_hi = 0x094,
    r_used_lo = 0x0a0,
    r_used_hi = 0x0a4,
    r_config = 0x100,
};
enum : uint32_t { st_ack = 1, st_driver = 2, st_driver_ok = 4, st_features_ok = 8 };
constexpr uint32_t device_console = 3;
constexpr uint16_t desc_f_write = 2;

struct Desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags, next;
};
struct UsedElem {
    uint32_t id, len;
};

// One split virtqueue: the driver posts buffers by id and takes used ones.
struct Queue {
    uint16_t index = 0, num = 0;
    Desc* desc = nullptr;
    volatile uint16_t* avail = nullptr;  // flags, idx, ring[num]
    volatile uint16_t* used = nullptr;   // flags, idx, then UsedElem ring[num]
    uint16_t avail_idx = 0, last_used = 0;

    bool ok() const { return desc != nullptr; }
    void post(uint16_t id, void* buf, uint32_t len, uint16_t flags)
    {
        desc[id] = Desc{reinterpret_cast<uintptr_t>(buf), len, flags, 0};
        avail[2 + avail_idx % num] = id;
        hw::barrier();
        avail_idx++;
        avail[1] = avail_idx;
        hw::barrier();
    }
    bool has_used() const { return used[1] != last_used; }
    UsedElem take()
    {
        hw::barrier();
        auto* ring = reinterpret_cast<volatile UsedElem*>(const_cast<uint16_t*>(used) + 2);
        volatile UsedElem& e = ring[last_used % num];
        UsedElem r{e.id, e.len};
        last_used++;
        return r;
    }
};

// One device's transport; base 0 = none found.
struct Device {
    uintptr_t base = 0;
    int slot = -1;
    uint32_t version = 0;

    // The first device of this id among the MMIO slots; false if none.
    bool find(uint32_t device_id);
    // Reset, acknowledge and agree on the feature bits `want` (word 0),
    // which the device must all offer, plus VERSION_1 on a modern transport.
    bool negotiate(uint32_t want);
    // Allocate, zero and register queue `index` with up to `want` entries.
    bool setup_queue(Queue& q, uint16_t index, uint16_t want) const;
    void driver_ok() const { hw::w32(base + r_status, hw::r32(base + r_status) | st_driver_ok); }
    void notify(const Queue& q) const { hw::w32(base + r_queue_notify, q.index); }
    uint32_t config32(uint32_t off) const { return hw::r32(base + r_config + off); }
    // Acknowledge the interrupt (the device raised it for used buffers or a
    // configuration change; the drivers poll their queues either way).
    void ack_irq() const;
    // The GSI this slot's interrupt arrives on.
    unsigned gsi() const;
};

}  // namespace rt::vio
