// fleet runtime: printing to the channels (stdout, stderr) and to the
// runtime's own console, COM1 (polled).
#include "core/format.hpp"
#include "hw.hpp"

namespace rt {

namespace {

constexpr uint16_t com1 = 0x3f8;  // the runtime's console (not a fleet channel)

void com1_put(char c)
{
    while (!(hw::inb(com1 + 5) & 0x20)) {
    }
    hw::outb(com1, static_cast<uint8_t>(c));
}

void emit_fd(fmt::Sink* s, const char* p, size_t n)
{
    rt::write(s->fd, p, n);
}
void emit_console(fmt::Sink*, const char* p, size_t n)
{
    hw::com1_write(p, n);
}

}  // namespace

void hw::com1_write(const char* s, size_t n)
{
    for (size_t i = 0; i < n; i++) com1_put(s[i]);
}

int vdprintf(int fd, const char* fmt, va_list ap)
{
    fmt::Sink s{emit_fd, nullptr, 0, 0, fd, 0};
    fmt::format(&s, fmt, ap);
    return static_cast<int>(s.total);
}

int dprintf(int fd, const char* fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vdprintf(fd, fmt, ap);
    va_end(ap);
    return r;
}

int printf(const char* fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vdprintf(out, fmt, ap);
    va_end(ap);
    return r;
}

int eprintf(const char* fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vdprintf(err, fmt, ap);
    va_end(ap);
    return r;
}

void console(const char* fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fmt::Sink s{emit_console, nullptr, 0, 0, -1, 0};
    fmt::format(&s, fmt, ap);
    va_end(ap);
}

}  // namespace rt
