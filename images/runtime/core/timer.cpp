// fleet runtime: sleeping on the LAPIC timer.
#include "hw.hpp"

namespace rt {

void sleep_ns(uint64_t ns)
{
    // LAPIC timer, divide by 16: 62.5 MHz (QEMU's APIC bus clock is 1 GHz).
    while (ns > 0) {
        uint64_t chunk = ns > 60'000'000'000ull ? 60'000'000'000ull : ns;
        uint64_t ticks = chunk / 16;
        if (ticks == 0) ticks = 1;
        vs::flush_all(false);
        hw::timer_fired = false;
        hw::w32(hw::lapic + hw::lapic_timer_div, 0x3);            // divide by 16
        hw::w32(hw::lapic + hw::lapic_lvt_timer, hw::vec_timer);  // one-shot, unmasked
        hw::w32(hw::lapic + hw::lapic_timer_init, static_cast<uint32_t>(ticks));
        hw::wait_until([] { return hw::timer_fired; });
        ns -= chunk;
    }
    hw::w32(hw::lapic + hw::lapic_lvt_timer, 0x10000 | hw::vec_timer);
}

}  // namespace rt
