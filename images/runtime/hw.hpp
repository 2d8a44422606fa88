// fleet runtime internals: hardware access and the pieces shared between
// the core/ files (boot, irq, timer, exit, printf, vserial).
#pragma once

#include "rt.hpp"

#include <fleet/abi/guest.h>

namespace rt::hw {

inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port));
}
inline void outl(uint16_t port, uint32_t v)
{
    __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port));
}
inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
inline uint32_t r32(uintptr_t a)
{
    return *reinterpret_cast<volatile uint32_t*>(a);
}
inline void w32(uintptr_t a, uint32_t v)
{
    *reinterpret_cast<volatile uint32_t*>(a) = v;
}
inline uint8_t r8(uintptr_t a)
{
    return *reinterpret_cast<volatile uint8_t*>(a);
}
inline void w8(uintptr_t a, uint8_t v)
{
    *reinterpret_cast<volatile uint8_t*>(a) = v;
}
inline void barrier()
{
    __asm__ volatile("" ::: "memory");
}
inline void cli()
{
    __asm__ volatile("cli" ::: "memory");
}
inline void sti()
{
    __asm__ volatile("sti" ::: "memory");
}
// sti;hlt is atomic (sti's one-instruction shadow): an interrupt that is
// already pending wakes the hlt at once instead of slipping in before it.
inline void sti_hlt()
{
    __asm__ volatile("sti; hlt" ::: "memory");
}

// The local APIC (0xfee00000) and its registers.
inline constexpr uintptr_t lapic = 0xfee00000;
inline constexpr uint32_t lapic_id = 0x20, lapic_eoi_reg = 0xb0, lapic_svr = 0xf0, lapic_lvt_timer = 0x320,
                          lapic_timer_init = 0x380, lapic_timer_cur = 0x390, lapic_timer_div = 0x3e0;

// Interrupt vectors.
inline constexpr int vec_ged = 0x30, vec_virtio = 0x31, vec_timer = 0x32, vec_spurious = 0xff;

// Routes a GSI to `vector` on this CPU (IOAPIC at 0xfec00000, or the second
// one at 0xfec10000 for GSIs 24..47).  level: level-triggered, active high.
void route_gsi(unsigned gsi, int vector, bool level);
void lapic_eoi();
bool have_ioapic2();
void irq_init();                   // IDT, LAPIC, the GED route; interrupts stay off
void poll_ged();                   // reads (and so clears) the GED selector: a press sets power_pressed
extern volatile bool timer_fired;  // the LAPIC timer's interrupt (timer.cpp)

// COM1, the runtime's console: polled, unbuffered (printf.cpp).
void com1_write(const char* s, size_t n);

// The way out (exit.cpp): isa-debug-exit with the status, or halt.
[[noreturn]] void debug_exit(int status);
[[noreturn]] void halt_forever();

// Waits (sti;hlt) until cond() holds, checking it with interrupts off.  Also
// runs the runtime's housekeeping: control messages, power button.
template <class F>
void wait_until(F cond);

// Power button: set by the GED interrupt, acted upon by check_power(),
// which also delivers the signals the host sent on ctl (exec.cpp).
extern volatile bool power_pressed;
// The GSI QEMU's command line gives the virtio-mmio slot at `base` (a
// machine without ACPI); 0 if it gives none.
unsigned cmdline_virtio_gsi(uintptr_t base);
void check_power();
void check_signals();

}  // namespace rt::hw

// vserial.cpp
namespace rt::vs {
bool init();                              // finds the device and the four fleet.* ports
void irq();                               // from the interrupt handler: acknowledge
void poll();                              // control messages (port open/close)
bool ready();                             // init succeeded
bool ctl_write(const char* s, size_t n);  // synchronous, for ready/exit
// Host -> guest on ctl: the count, 0 when the host closed it, -1 when
// nothing is there and !wait.
long ctl_read(void* buf, size_t n, bool wait);
void flush_all(bool wait);
}  // namespace rt::vs

namespace rt::hw {
template <class F>
void wait_until(F cond)
{
    for (;;) {
        vs::poll();
        check_power();
        cli();
        if (cond()) return;  // interrupts stay off while the program runs
        sti_hlt();
        cli();
    }
}
}  // namespace rt::hw
