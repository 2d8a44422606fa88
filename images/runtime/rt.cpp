// fleet runtime core: boot (PVH start info, memory map, arguments),
// interrupts (IDT, LAPIC, IOAPIC, ACPI GED power button, LAPIC timer), heap,
// formatted output, exit and power-off.  See README.md.
#include "hw.hpp"

#ifndef RT_PROGRAM
#define RT_PROGRAM "program"
#endif

extern "C" char rt_vector_stubs[];  // entry.S: 256 stubs, 16 bytes apart

namespace rt {
namespace {

// ---- hardware constants (QEMU 7.2 microvm, acpi=on) -------------------------
constexpr uint16_t com1 = 0x3f8;  // the runtime's console (not a fleet channel)
constexpr uint16_t debug_exit_port = FLEET_DEBUG_EXIT_PORT;
constexpr uintptr_t ged_esel = FLEET_GED_ESEL, ged_sleep_ctl = FLEET_GED_SLEEP_CTL;
constexpr uint32_t ged_pwr_down_evt = FLEET_GED_PWR_DOWN_EVT;
constexpr uint8_t ged_s5 = FLEET_GED_S5;
constexpr unsigned ged_gsi = FLEET_GED_GSI;
constexpr uintptr_t ioapic1 = 0xfec00000, ioapic2 = 0xfec10000;
constexpr uintptr_t lapic = 0xfee00000;
constexpr uint32_t lapic_id = 0x20, lapic_eoi_reg = 0xb0, lapic_svr = 0xf0, lapic_lvt_timer = 0x320,
                   lapic_timer_init = 0x380, lapic_timer_cur = 0x390, lapic_timer_div = 0x3e0;
constexpr uint32_t hvm_start_magic = 0x336ec578;

struct HvmStartInfo {  // xen/include/public/arch-x86/hvm/start_info.h
    uint32_t magic, version, flags, nr_modules;
    uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
    uint32_t memmap_entries, reserved;
};
struct HvmMemmapEntry {
    uint64_t addr, size;
    uint32_t type, reserved;
};

// ---- console (COM1, polled) -----------------------------------------------------
void com1_put(char c)
{
    while (!(hw::inb(com1 + 5) & 0x20)) {
    }
    hw::outb(com1, static_cast<uint8_t>(c));
}
void com1_write(const char* s, size_t n)
{
    for (size_t i = 0; i < n; i++) com1_put(s[i]);
}

// ---- formatting -------------------------------------------------------------------
struct Sink {
    void (*emit)(Sink*, const char*, size_t);
    char* buf;  // snprintf
    size_t cap, len;
    int fd;
    size_t total;
};

void emit_buf(Sink* s, const char* p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s->len + 1 < s->cap) s->buf[s->len] = p[i];
        s->len++;
    }
}
void emit_fd(Sink* s, const char* p, size_t n) { rt::write(s->fd, p, n); }
void emit_console(Sink*, const char* p, size_t n) { com1_write(p, n); }

void emit(Sink* s, const char* p, size_t n)
{
    s->total += n;
    s->emit(s, p, n);
}
void pad(Sink* s, char c, int n)
{
    char block[32];
    memset(block, c, sizeof block);
    while (n > 0) {
        int k = n < 32 ? n : 32;
        emit(s, block, static_cast<size_t>(k));
        n -= k;
    }
}

void format(Sink* s, const char* fmt, va_list ap)
{
    while (*fmt) {
        const char* lit = fmt;
        while (*fmt && *fmt != '%') fmt++;
        if (fmt > lit) emit(s, lit, static_cast<size_t>(fmt - lit));
        if (!*fmt) break;
        fmt++;
        bool left = false, zero = false, plus = false, space = false, alt = false;
        for (;; fmt++) {
            if (*fmt == '-') left = true;
            else if (*fmt == '0') zero = true;
            else if (*fmt == '+') plus = true;
            else if (*fmt == ' ') space = true;
            else if (*fmt == '#') alt = true;
            else break;
        }
        int width = 0, prec = -1;
        if (*fmt == '*') {
            width = va_arg(ap, int);
            if (width < 0) left = true, width = -width;
            fmt++;
        } else {
            while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
        }
        if (*fmt == '.') {
            fmt++;
            prec = 0;
            if (*fmt == '*') {
                prec = va_arg(ap, int);
                fmt++;
            } else {
                while (*fmt >= '0' && *fmt <= '9') prec = prec * 10 + (*fmt++ - '0');
            }
        }
        int lng = 0;  // 0 int, 1 long, 2 long long, -1 short, -2 char
        for (;; fmt++) {
            if (*fmt == 'l') lng++;
            else if (*fmt == 'h') lng--;
            else if (*fmt == 'z' || *fmt == 't' || *fmt == 'j') lng = 1;
            else break;
        }
        char conv = *fmt ? *fmt++ : '\0';
        char tmp[72];
        const char* body = tmp;
        size_t blen = 0;
        const char* prefix = "";
        switch (conv) {
        case '%':
            emit(s, "%", 1);
            continue;
        case 'c':
            tmp[0] = static_cast<char>(va_arg(ap, int));
            blen = 1;
            break;
        case 's': {
            body = va_arg(ap, const char*);
            if (!body) body = "(null)";
            blen = 0;
            while (body[blen] && (prec < 0 || blen < static_cast<size_t>(prec))) blen++;
            break;
        }
        case 'd':
        case 'i':
        case 'u':
        case 'x':
        case 'X':
        case 'o':
        case 'p': {
            uint64_t v;
            bool neg = false;
            unsigned base = conv == 'x' || conv == 'X' || conv == 'p' ? 16 : conv == 'o' ? 8 : 10;
            if (conv == 'p') {
                v = reinterpret_cast<uintptr_t>(va_arg(ap, void*));
                prefix = "0x";
            } else if (conv == 'd' || conv == 'i') {
                int64_t sv = lng >= 2 ? va_arg(ap, long long) : lng == 1 ? va_arg(ap, long) : va_arg(ap, int);
                if (lng == -1) sv = static_cast<short>(sv);
                if (lng <= -2) sv = static_cast<signed char>(sv);
                neg = sv < 0;
                v = neg ? 0 - static_cast<uint64_t>(sv) : static_cast<uint64_t>(sv);
                prefix = neg ? "-" : plus ? "+" : space ? " " : "";
            } else {
                v = lng >= 2 ? va_arg(ap, unsigned long long) : lng == 1 ? va_arg(ap, unsigned long)
                                                                        : va_arg(ap, unsigned);
                if (lng == -1) v = static_cast<unsigned short>(v);
                if (lng <= -2) v = static_cast<unsigned char>(v);
                if (alt && v && base == 16) prefix = conv == 'X' ? "0X" : "0x";
                if (alt && base == 8) prefix = "0";
            }
            const char* digits = conv == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
            char* e = tmp + sizeof tmp;
            char* p = e;
            while (v) {
                *--p = digits[v % base];
                v /= base;
            }
            if (prec < 0 && p == e) *--p = '0';
            while (prec >= 0 && e - p < prec && p > tmp) *--p = '0';
            body = p;
            blen = static_cast<size_t>(e - p);
            if (prec >= 0) zero = false;
            break;
        }
        default:
            emit(s, "%", 1);
            if (conv) emit(s, &conv, 1);
            continue;
        }
        size_t plen = strlen(prefix);
        int fill = width - static_cast<int>(blen + plen);
        if (conv == 's' || conv == 'c') zero = false;
        if (!left && !zero) pad(s, ' ', fill);
        emit(s, prefix, plen);
        if (!left && zero) pad(s, '0', fill);
        emit(s, body, blen);
        if (left) pad(s, ' ', fill);
    }
}

// ---- interrupts ----------------------------------------------------------------------
struct IdtEntry {
    uint16_t off0, sel;
    uint8_t ist, type;
    uint16_t off1;
    uint32_t off2, zero;
};
IdtEntry idt[256];
volatile bool timer_fired;
PowerHandler power_handler;
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

void poll_ged()
{
    if (hw::r32(ged_esel) & ged_pwr_down_evt) hw::power_pressed = true;  // reading clears it
}

void irq_init()
{
    for (int v = 0; v < 256; v++) {
        uintptr_t h = reinterpret_cast<uintptr_t>(rt_vector_stubs + 16 * v);
        idt[v] = IdtEntry{static_cast<uint16_t>(h), 0x18, 0, 0x8e, static_cast<uint16_t>(h >> 16),
                          static_cast<uint32_t>(h >> 32), 0};
    }
    struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } d = {sizeof idt - 1, reinterpret_cast<uintptr_t>(idt)};
    __asm__ volatile("lidt %0" ::"m"(d));

    hw::w32(lapic + lapic_svr, 0x100 | hw::vec_spurious);  // software enable
    hw::w32(lapic + lapic_lvt_timer, 0x10000 | hw::vec_timer);  // masked until used
    // A second IOAPIC answers its version register (0x..0020); nothing there reads 0.
    ioapic2_present = (ioapic_read(ioapic2, 1) & 0xff) != 0 && ioapic_read(ioapic2, 1) != 0xffffffffu;
    hw::route_gsi(ged_gsi, hw::vec_ged, false);
}

// ---- heap: address-ordered first-fit free list with coalescing ---------------------------
struct Block {
    size_t size;  // bytes including this header; multiple of 16
    Block* next;  // free list only
};
constexpr size_t hdr = 16;
Block* free_list;
size_t ram_bytes;

void free_block(Block* b)
{
    Block* prev = nullptr;
    Block* cur = free_list;
    while (cur && cur < b) {
        prev = cur;
        cur = cur->next;
    }
    b->next = cur;
    if (prev) prev->next = b;
    else free_list = b;
    if (cur && reinterpret_cast<char*>(b) + b->size == reinterpret_cast<char*>(cur)) {
        b->size += cur->size;
        b->next = cur->next;
    }
    if (prev && reinterpret_cast<char*>(prev) + prev->size == reinterpret_cast<char*>(b)) {
        prev->size += b->size;
        prev->next = b->next;
    }
}

void heap_add(uint64_t start, uint64_t end)
{
    start = (start + 15) & ~uint64_t(15);
    end &= ~uint64_t(15);
    if (end > 0x100000000ull) end = 0x100000000ull;  // identity map covers 4 GiB
    if (end <= start + 4096) return;
    Block* b = reinterpret_cast<Block*>(static_cast<uintptr_t>(start));
    b->size = static_cast<size_t>(end - start);
    free_block(b);
}

// ---- arguments ------------------------------------------------------------------------------
char cmdline_copy[4096];
constexpr int max_args = 256;
char* argv_store[max_args + 1];

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

int split_args(const char* src)
{
    int argc = 0;
    argv_store[argc++] = const_cast<char*>(RT_PROGRAM);
    if (src) {
        size_t n = 0;
        while (src[n] && n + 1 < sizeof cmdline_copy) {
            cmdline_copy[n] = src[n];
            n++;
        }
        cmdline_copy[n] = 0;
    }
    char* p = cmdline_copy;
    while (*p && argc < max_args) {
        while (is_space(*p)) *p++ = 0;
        if (!*p) break;
        argv_store[argc++] = p;
        while (*p && !is_space(*p)) p++;
    }
    argv_store[argc] = nullptr;
    return argc;
}

// ---- termination ------------------------------------------------------------------------------
[[noreturn]] void halt_forever()
{
    for (;;) __asm__ volatile("cli; hlt");
}

[[noreturn]] void debug_exit(int status)
{
    hw::outl(debug_exit_port, static_cast<uint32_t>(status));
    halt_forever();
}

void say_status(const char* word, int status)
{
    char line[32];
    int n = rt::snprintf(line, sizeof line, "%s %d\n", word, status);  // FLEET_CTL_EXIT
    if (!vs::ready() || !vs::ctl_write(line, static_cast<size_t>(n))) com1_write(line, static_cast<size_t>(n));
}

bool exiting;

}  // namespace

// ---- public API ---------------------------------------------------------------------------------
int vsnprintf(char* buf, size_t n, const char* fmt, va_list ap)
{
    Sink s{emit_buf, buf, n, 0, -1, 0};
    format(&s, fmt, ap);
    if (n) buf[s.len < n ? s.len : n - 1] = 0;
    return static_cast<int>(s.total);
}

int snprintf(char* buf, size_t n, const char* fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vsnprintf(buf, n, fmt, ap);
    va_end(ap);
    return r;
}

int vdprintf(int fd, const char* fmt, va_list ap)
{
    Sink s{emit_fd, nullptr, 0, 0, fd, 0};
    format(&s, fmt, ap);
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
    Sink s{emit_console, nullptr, 0, 0, -1, 0};
    format(&s, fmt, ap);
    va_end(ap);
}

const char* program_name() { return RT_PROGRAM; }

void exit(int status)
{
    status &= 0xff;
    hw::cli();
    if (!exiting) {
        exiting = true;
        if (vs::ready()) vs::flush_all(true);
    }
    say_status(FLEET_CTL_EXIT, status);
    debug_exit(status);
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
    debug_exit(255);
}

void on_power_button(PowerHandler h) { power_handler = h; }

void power_off(int status)
{
    hw::cli();
    if (!exiting && vs::ready()) {
        exiting = true;
        vs::flush_all(true);
    }
    say_status(FLEET_CTL_EXIT, status & 0xff);
    hw::w8(ged_sleep_ctl, ged_s5);  // QEMU: guest shutdown, exit 0
    halt_forever();
}

void sleep_ns(uint64_t ns)
{
    // LAPIC timer, divide by 16: 62.5 MHz (QEMU's APIC bus clock is 1 GHz).
    while (ns > 0) {
        uint64_t chunk = ns > 60'000'000'000ull ? 60'000'000'000ull : ns;
        uint64_t ticks = chunk / 16;
        if (ticks == 0) ticks = 1;
        vs::flush_all(false);
        timer_fired = false;
        hw::w32(lapic + lapic_timer_div, 0x3);  // divide by 16
        hw::w32(lapic + lapic_lvt_timer, hw::vec_timer);  // one-shot, unmasked
        hw::w32(lapic + lapic_timer_init, static_cast<uint32_t>(ticks));
        hw::wait_until([] { return timer_fired; });
        ns -= chunk;
    }
    hw::w32(lapic + lapic_lvt_timer, 0x10000 | hw::vec_timer);
}

void* malloc(size_t n)
{
    size_t need = ((n + 15) & ~size_t(15)) + hdr;
    if (n > (size_t(1) << 40)) return nullptr;
    Block* prev = nullptr;
    for (Block* b = free_list; b; prev = b, b = b->next) {
        if (b->size < need) continue;
        if (b->size - need >= 64) {  // split: hand out the front
            Block* rest = reinterpret_cast<Block*>(reinterpret_cast<char*>(b) + need);
            rest->size = b->size - need;
            rest->next = b->next;
            b->size = need;
            if (prev) prev->next = rest;
            else free_list = rest;
        } else if (prev) {
            prev->next = b->next;
        } else {
            free_list = b->next;
        }
        return reinterpret_cast<char*>(b) + hdr;
    }
    return nullptr;
}

void free(void* p)
{
    if (p) free_block(reinterpret_cast<Block*>(static_cast<char*>(p) - hdr));
}

void* calloc(size_t count, size_t size)
{
    if (size && count > static_cast<size_t>(-1) / size) return nullptr;
    void* p = malloc(count * size);
    if (p) memset(p, 0, count * size);
    return p;
}

void* realloc(void* p, size_t n)
{
    if (!p) return malloc(n);
    Block* b = reinterpret_cast<Block*>(static_cast<char*>(p) - hdr);
    if (b->size - hdr >= n) return p;
    void* q = malloc(n);
    if (!q) return nullptr;
    memcpy(q, p, b->size - hdr);
    free(p);
    return q;
}

void* aligned_alloc(size_t align, size_t n)
{
    if (align <= 16) return malloc(n);
    // Over-allocate, then give the unaligned front back to the free list.
    char* raw = static_cast<char*>(malloc(n + align + 64));
    if (!raw) return nullptr;
    Block* b = reinterpret_cast<Block*>(raw - hdr);
    uintptr_t user = (reinterpret_cast<uintptr_t>(raw) + 64 + align - 1) & ~(uintptr_t(align) - 1);
    Block* nb = reinterpret_cast<Block*>(user - hdr);
    size_t front = reinterpret_cast<uintptr_t>(nb) - reinterpret_cast<uintptr_t>(b);
    nb->size = b->size - front;
    b->size = front;
    free_block(b);
    return reinterpret_cast<void*>(user);
}

size_t heap_free()
{
    size_t n = 0;
    for (Block* b = free_list; b; b = b->next) n += b->size;
    return n;
}

size_t ram_total() { return ram_bytes; }

int strcmp(const char* a, const char* b)
{
    while (*a && *a == *b) a++, b++;
    return static_cast<unsigned char>(*a) - static_cast<unsigned char>(*b);
}

int strncmp(const char* a, const char* b, size_t n)
{
    for (; n; n--, a++, b++) {
        if (*a != *b) return static_cast<unsigned char>(*a) - static_cast<unsigned char>(*b);
        if (!*a) return 0;
    }
    return 0;
}

bool parse_u64(const char* s, uint64_t* out)
{
    if (!s || !*s) return false;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return false;
        unsigned d = static_cast<unsigned>(*s - '0');
        if (v > (~uint64_t(0) - d) / 10) return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

// ---- rt::hw ----------------------------------------------------------------------------------------
namespace hw {
volatile bool power_pressed;

void lapic_eoi() { w32(lapic + lapic_eoi_reg, 0); }
bool have_ioapic2() { return ioapic2_present; }

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

void check_power()
{
    if (!power_pressed || exiting) return;  // a press during exit changes nothing
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

// ---- C entry points ---------------------------------------------------------------------------------
// Plain word loops: under TCG they beat `rep movs`, and gcc must not turn
// them back into calls (-fno-tree-loop-distribute-patterns).
extern "C" {

void* memcpy(void* d, const void* s, size_t n)
{
    auto* dp = static_cast<unsigned char*>(d);
    auto* sp = static_cast<const unsigned char*>(s);
    while (n >= 32) {
        uint64_t a, b, c, e;
        __builtin_memcpy(&a, sp, 8);  // expands to a plain load (no call)
        __builtin_memcpy(&b, sp + 8, 8);
        __builtin_memcpy(&c, sp + 16, 8);
        __builtin_memcpy(&e, sp + 24, 8);
        __builtin_memcpy(dp, &a, 8);
        __builtin_memcpy(dp + 8, &b, 8);
        __builtin_memcpy(dp + 16, &c, 8);
        __builtin_memcpy(dp + 24, &e, 8);
        dp += 32, sp += 32, n -= 32;
    }
    while (n >= 8) {
        uint64_t a;
        __builtin_memcpy(&a, sp, 8);
        __builtin_memcpy(dp, &a, 8);
        dp += 8, sp += 8, n -= 8;
    }
    while (n--) *dp++ = *sp++;
    return d;
}

void* memmove(void* d, const void* s, size_t n)
{
    auto* dp = static_cast<unsigned char*>(d);
    auto* sp = static_cast<const unsigned char*>(s);
    if (dp <= sp || dp >= sp + n) return memcpy(d, s, n);
    while (n--) dp[n] = sp[n];
    return d;
}

void* memset(void* d, int c, size_t n)
{
    auto* dp = static_cast<unsigned char*>(d);
    uint64_t w = 0x0101010101010101ull * static_cast<unsigned char>(c);
    while (n >= 8) {
        __builtin_memcpy(dp, &w, 8);
        dp += 8, n -= 8;
    }
    while (n--) *dp++ = static_cast<unsigned char>(c);
    return d;
}

int memcmp(const void* a, const void* b, size_t n)
{
    auto* x = static_cast<const unsigned char*>(a);
    auto* y = static_cast<const unsigned char*>(b);
    for (; n; n--, x++, y++)
        if (*x != *y) return *x - *y;
    return 0;
}

size_t strlen(const char* s)
{
    size_t n = 0;
    while (s[n]) n++;
    return n;
}

// C++ support: no exceptions, no atexit.
void __cxa_pure_virtual() { rt::panic("pure virtual call"); }
void* __dso_handle;
int __cxa_atexit(void (*)(void*), void*, void*) { return 0; }

// Interrupts and exceptions (entry.S: rt_vector_stubs -> interrupt_common).
void rt_interrupt(uint64_t vector, uint64_t* frame)
{
    using namespace rt;
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
    case hw::vec_ged:
        poll_ged();
        hw::lapic_eoi();
        break;
    case hw::vec_virtio:
        vs::irq();
        hw::lapic_eoi();
        break;
    case hw::vec_timer:
        timer_fired = true;
        hw::lapic_eoi();
        break;
    case hw::vec_spurious:
        break;  // no EOI
    default:
        hw::lapic_eoi();
        break;
    }
}

// Called from entry.S in 64-bit mode with the PVH start info.
[[noreturn]] void rt_boot(uint32_t start_info)
{
    using namespace rt;
    const auto* si = reinterpret_cast<const HvmStartInfo*>(static_cast<uintptr_t>(start_info));
    bool pvh = si && si->magic == hvm_start_magic;

    // Arguments first: the command line may sit where the heap will go.
    const char* cmdline = nullptr;
    if (pvh && si->cmdline_paddr && si->cmdline_paddr < 0x100000000ull)
        cmdline = reinterpret_cast<const char*>(static_cast<uintptr_t>(si->cmdline_paddr));
    int argc = split_args(cmdline);

    // Memory map: the heap is the largest RAM region, above the image.
    extern char __image_end[];
    uint64_t image_end = reinterpret_cast<uintptr_t>(__image_end);
    uint64_t best_start = 0, best_end = 0;
    if (pvh && si->version >= 1 && si->memmap_paddr && si->memmap_entries) {
        const auto* mm = reinterpret_cast<const HvmMemmapEntry*>(static_cast<uintptr_t>(si->memmap_paddr));
        for (uint32_t i = 0; i < si->memmap_entries && i < 128; i++) {
            if (mm[i].type != 1) continue;
            ram_bytes += mm[i].size;
            uint64_t s = mm[i].addr, e = mm[i].addr + mm[i].size;
            if (s < image_end) s = image_end;
            if (e > 0x100000000ull) e = 0x100000000ull;
            if (e > s && e - s > best_end - best_start) best_start = s, best_end = e;
        }
    }
    if (best_end <= best_start) {  // no map: assume the 16 MiB minimum
        best_start = image_end;
        best_end = 16u << 20;
        ram_bytes = best_end;
    }
    // The start info, memory map and command line were copied or are below
    // the image (QEMU puts them in low memory); keep the first page of the
    // region anyway in case they follow the image.
    heap_add(best_start + 4096, best_end);

    extern void (*__init_array_start[])();
    extern void (*__init_array_end[])();
    for (auto* f = __init_array_start; f != __init_array_end; ++f) (*f)();

    irq_init();
    if (!vs::init()) {
        console("%s: no virtio-serial device with ports %s/%s/%s/%s\n", RT_PROGRAM, FLEET_PORT_STDIN,
                FLEET_PORT_STDOUT, FLEET_PORT_STDERR, FLEET_PORT_CTL);
        debug_exit(125);
    }
    vs::ctl_write(FLEET_CTL_READY "\n", sizeof(FLEET_CTL_READY "\n") - 1);
    poll_ged();  // a press that came before the GED route was set
    hw::check_power();
    rt::exit(main(argc, argv_store));
}

}  // extern "C"
