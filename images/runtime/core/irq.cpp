// fleet runtime: interrupts. The IDT (entry.S's stubs), the LAPIC, both
// IOAPICs, the GED (power button) route, and the one dispatcher.
#include "hw.hpp"

extern "C" char rt_vector_stubs[];  // entry.S: 256 stubs, 16 bytes apart

namespace rt::hw {

volatile bool timer_fired;
volatile bool power_pressed;

namespace {

constexpr uintptr_t ioapic1 = 0xfec00000, ioapic2 = 0xfec10000;
constexpr uintptr_t ged_esel = FLEET_GED_ESEL;
constexpr uint32_t ged_pwr_down_evt = FLEET_GED_PWR_DOWN_EVT;
constexpr unsigned ged_gsi = FLEET_GED_GSI;

struct IdtEntry {
    uint16_t off0, sel;
    uint8_t ist, type;
    uint16_t off1;
    uint32_t off2, zero;
};
IdtEntry idt[256];
bool ioapic2_present;

void ioapic_write(uintptr_t base, uint32_t reg, uint32_t v)
{
    hw::w32(base, reg);
    hw::w32(base + 0x10, v);
}
uint32_t ioapic_read(uintptr_t base, uint32_t reg)
{
    hw::w32(base, reg);
    return hw::r32(base + 0x10);
}

}  // namespace

void poll_ged()
{
    if (r32(ged_esel) & ged_pwr_down_evt) power_pressed = true;  // reading clears it
}

void irq_init()
{
    for (int v = 0; v < 256; v++) {
        uintptr_t h = reinterpret_cast<uintptr_t>(rt_vector_stubs + 16 * v);
        idt[v] = IdtEntry{static_cast<uint16_t>(h),       0x18, 0, 0x8e, static_cast<uint16_t>(h >> 16),
                          static_cast<uint32_t>(h >> 32), 0};
    }
    struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } d = {sizeof idt - 1, reinterpret_cast<uintptr_t>(idt)};
    __asm__ volatile("lidt %0" ::"m"(d));

    w32(lapic + lapic_svr, 0x100 | vec_spurious);       // software enable
    w32(lapic + lapic_lvt_timer, 0x10000 | vec_timer);  // masked until used
    // A second IOAPIC answers its version register (0x..0020); nothing there reads 0.
    ioapic2_present = (ioapic_read(ioapic2, 1) & 0xff) != 0 && ioapic_read(ioapic2, 1) != 0xffffffffu;
    route_gsi(ged_gsi, vec_ged, false);
}

void lapic_eoi()
{
    w32(lapic + lapic_eoi_reg, 0);
}
bool have_ioapic2()
{
    return ioapic2_present;
}

void route_gsi(unsigned gsi, int vector, bool level)
{
    uintptr_t base = ioapic1;
    unsigned pin = gsi;
    if (gsi >= 24) base = ioapic2, pin = gsi - 24;
    uint32_t apic_id = r32(lapic + lapic_id) >> 24;
    // Fixed delivery, physical destination, active high; bit 15 = level.
    ioapic_write(base, 0x10 + 2 * pin + 1, apic_id << 24);
    ioapic_write(base, 0x10 + 2 * pin, static_cast<uint32_t>(vector) | (level ? 0x8000u : 0u));
}

}  // namespace rt::hw

extern "C" {

// Interrupts and exceptions (entry.S: rt_vector_stubs -> interrupt_common).
void rt_interrupt(uint64_t vector, uint64_t* frame)
{
    using namespace rt;
    using namespace rt::hw;
    if (vector < 32) {
        // frame: [error code,] rip, cs, rflags, rsp, ss
        bool has_err = vector == 8 || (vector >= 10 && vector <= 14) || vector == 17 || vector == 21;
        uint64_t rip = frame[has_err ? 1 : 0];
        uint64_t cr2;
        __asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
        rt::panic("cpu exception %lu at rip %#lx (cr2 %#lx, error %#lx)", static_cast<unsigned long>(vector),
                  static_cast<unsigned long>(rip), static_cast<unsigned long>(cr2),
                  static_cast<unsigned long>(has_err ? frame[0] : 0));
    }
    switch (vector) {
        case vec_ged:
            poll_ged();
            lapic_eoi();
            break;
        case vec_virtio:
            vs::irq();
            lapic_eoi();
            break;
        case vec_timer:
            timer_fired = true;
            lapic_eoi();
            break;
        case vec_spurious:
            break;  // no EOI
        default:
            lapic_eoi();
            break;
    }
}

}  // extern "C"
