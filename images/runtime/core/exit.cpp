// fleet runtime: the ways out. exit (ctl "exit N", isa-debug-exit), panic,
// power-off through ACPI S5 (isa-debug-exit without ACPI), and the power
// button's default action.
#include "hw.hpp"

namespace rt {

namespace {

constexpr uint16_t debug_exit_port = FLEET_DEBUG_EXIT_PORT;
constexpr uintptr_t ged_sleep_ctl = FLEET_GED_SLEEP_CTL;
constexpr uint8_t ged_s5 = FLEET_GED_S5;

PowerHandler power_handler;
bool exiting;

void say_status(const char* word, int status)
{
    char line[32];
    int n = rt::snprintf(line, sizeof line, "%s %d\n", word, status);  // FLEET_CTL_EXIT
    if (!vs::ready() || !vs::ctl_write(line, static_cast<size_t>(n))) hw::com1_write(line, static_cast<size_t>(n));
}

}  // namespace

namespace hw {

[[noreturn]] void halt_forever()
{
    for (;;) __asm__ volatile("cli; hlt");
}

[[noreturn]] void debug_exit(int status)
{
    hw::outl(debug_exit_port, static_cast<uint32_t>(status));
    halt_forever();
}

}  // namespace hw

void exit(int status)
{
    status &= 0xff;
    hw::cli();
    if (!exiting) {
        exiting = true;
        if (vs::ready()) vs::flush_all(true);
    }
    say_status(FLEET_CTL_EXIT, status);
    hw::debug_exit(status);
}

void panic(const char* fmt, ...)
{
    hw::cli();
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    console("%s: panic: %s\n", RT_PROGRAM, msg);
    if (!exiting && vs::ready()) {
        exiting = true;
        dprintf(err, "%s: panic: %s\n", RT_PROGRAM, msg);
        vs::flush_all(true);
    }
    say_status(FLEET_CTL_EXIT, 255);
    hw::debug_exit(255);
}

void on_power_button(PowerHandler h)
{
    power_handler = h;
}

void power_off(int status)
{
    hw::cli();
    if (!exiting && vs::ready()) {
        exiting = true;
        vs::flush_all(true);
    }
    say_status(FLEET_CTL_EXIT, status & 0xff);
    hw::w8(ged_sleep_ctl, ged_s5);  // QEMU: guest shutdown, exit 0
    // Still here: no ACPI (power=ctl), the write went nowhere. The status
    // is on ctl already; isa-debug-exit ends QEMU.
    hw::debug_exit(status & 0xff);
}

namespace hw {
void check_power()
{
    if (exiting) return;  // a press or a signal during exit changes nothing
    check_signals();
    if (!power_pressed) return;
    power_pressed = false;
    if (power_handler) {
        power_handler();
        return;
    }
    console("%s: power button, powering off\n", RT_PROGRAM);
    power_off(143);
}
}  // namespace hw

}  // namespace rt
