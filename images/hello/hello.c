/* hello: a tiny freestanding PVH guest for fleet (stdio=isa contract, see
 * images/README.md).  Prints "hello" and its arguments, exits with the
 * status given by exit=N, or with "hold" waits for the ACPI power button;
 * "hang" stays silent forever without becoming ready (a test aid). */
#include <stddef.h>
#include <stdint.h>

#include <fleet/abi/guest.h>

/* ---- hardware constants (QEMU 7.2 microvm, acpi=on) ---------------------- */
#define COM1 FLEET_ISA_STDOUT_PORT
#define COM2 FLEET_ISA_STDERR_PORT
#define CTL  FLEET_ISA_CTL_PORT

#define IOAPIC_BASE      0xfec00000u /* IOREGSEL at +0, IOWIN at +0x10 */
#define LAPIC_BASE       0xfee00000u
#define LAPIC_ID         0x020
#define LAPIC_EOI        0x0b0
#define LAPIC_SVR        0x0f0
#define LAPIC_LVT_TIMER  0x320
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_DIV  0x3e0

#define VEC_GED      0x30
#define VEC_SPURIOUS 0xff

#define HVM_START_MAGIC 0x336ec578u

struct hvm_start_info { /* xen/include/public/arch-x86/hvm/start_info.h */
    uint32_t magic, version, flags, nr_modules;
    uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
    uint32_t memmap_entries, reserved;
};

/* ---- port and MMIO access ------------------------------------------------ */
static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port));
}
static inline void outw(uint16_t port, uint16_t v)
{
    __asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port));
}
static inline void outl(uint16_t port, uint32_t v)
{
    __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port));
}
static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline uint32_t mmio_r32(uint32_t a)
{
    return *(volatile uint32_t*)a;
}
static inline void mmio_w32(uint32_t a, uint32_t v)
{
    *(volatile uint32_t*)a = v;
}
static inline void mmio_w8(uint32_t a, uint8_t v)
{
    *(volatile uint8_t*)a = v;
}

/* ---- serial output --------------------------------------------------------- */
static void put(uint16_t port, char c)
{
    while (!(inb(port + FLEET_UART_LSR) & FLEET_UART_LSR_THRE))
        ;
    outb(port, (uint8_t)c);
}

static void puts_(uint16_t port, const char* s)
{
    while (*s) put(port, *s++);
}

static void put_dec(uint16_t port, unsigned v)
{
    char buf[12];
    int n = 0;
    do {
        buf[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) put(port, buf[--n]);
}

/* ---- termination ----------------------------------------------------------- */
static __attribute__((noreturn)) void halt_forever(void)
{
    for (;;) __asm__ volatile("cli; hlt");
}

static __attribute__((noreturn)) void do_exit(unsigned status)
{
    puts_(CTL, FLEET_CTL_EXIT " ");
    put_dec(CTL, status);
    put(CTL, '\n');
    outl(FLEET_DEBUG_EXIT_PORT, status); /* QEMU exits here */
    halt_forever();
}

/* ACPI S5 through the GED sleep control register: a guest shutdown. */
static __attribute__((noreturn)) void power_off(void)
{
    __asm__ volatile("cli");
    puts_(COM2, "hello: power button, powering off\n");
    puts_(CTL, FLEET_CTL_EXIT " 0\n");
    mmio_w8(FLEET_GED_SLEEP_CTL, FLEET_GED_S5);
    halt_forever();
}

/* ---- interrupts ------------------------------------------------------------ */
struct idt_entry {
    uint16_t off_lo, sel;
    uint8_t zero, type;
    uint16_t off_hi;
} __attribute__((packed));
static struct idt_entry idt[256];
static volatile int power_button;

extern char fault_stubs[], ged_stub[], spurious_stub[];

static void set_gate(int vec, void* handler)
{
    uint32_t h = (uint32_t)handler;
    idt[vec] = (struct idt_entry){(uint16_t)h, 0x08, 0, 0x8e, (uint16_t)(h >> 16)};
}

/* Reading the selector clears it, so every read must be acted on. */
static void poll_ged(void)
{
    if (mmio_r32(FLEET_GED_ESEL) & FLEET_GED_PWR_DOWN_EVT) power_button = 1;
}

static void poll_ctl(void);
static volatile int pending_signal;
static volatile int reading_block; /* ctl's bytes are the exec block's, not lines */
static __attribute__((noreturn)) void die_of_signal(int sig);

/* The one interrupt handler: the GED (power button) and the ctl UART's
 * received data (a "signal N" line) share its vector. */
void hello_ged_irq(void)
{
    poll_ged();
    if (!reading_block) poll_ctl();
    mmio_w32(LAPIC_BASE + LAPIC_EOI, 0);
}

__attribute__((noreturn)) void hello_fault(uint32_t vec)
{
    puts_(COM2, "hello: cpu exception ");
    put_dec(COM2, vec);
    put(COM2, '\n');
    do_exit(255);
}

static void ioapic_write(uint32_t reg, uint32_t v)
{
    mmio_w32(IOAPIC_BASE, reg);
    mmio_w32(IOAPIC_BASE + 0x10, v);
}

/* IDT, LAPIC and the IOAPIC route GSI 9 -> VEC_GED; interrupts stay off. */
static void irq_init(void)
{
    for (int v = 0; v < 32; v++) set_gate(v, fault_stubs + 8 * v);
    set_gate(VEC_GED, ged_stub);
    set_gate(VEC_SPURIOUS, spurious_stub);
    struct {
        uint16_t limit;
        uint32_t base;
    } __attribute__((packed)) d = {sizeof idt - 1, (uint32_t)idt};
    __asm__ volatile("lidt %0" ::"m"(d));

    mmio_w32(LAPIC_BASE + LAPIC_SVR, 0x100 | VEC_SPURIOUS); /* software enable */
    uint32_t apic_id = mmio_r32(LAPIC_BASE + LAPIC_ID) >> 24;
    /* Redirection entry: fixed, physical destination, active high, edge. */
    ioapic_write(0x10 + 2 * FLEET_GED_GSI + 1, apic_id << 24);
    ioapic_write(0x10 + 2 * FLEET_GED_GSI, VEC_GED);
    ioapic_write(0x10 + 2 * FLEET_ISA_CTL_IRQ + 1, apic_id << 24);
    ioapic_write(0x10 + 2 * FLEET_ISA_CTL_IRQ, VEC_GED);
    outb(CTL + 1, 0x01); /* IER: received data */
}

/* Sleep until the power button; sti;hlt is atomic (sti's shadow), so an
 * interrupt cannot slip in between the check and the halt. */
static __attribute__((noreturn)) void hold(void)
{
    for (;;) {
        __asm__ volatile("cli" ::: "memory");
        poll_ctl(); /* a line that came before the interrupt was on */
        if (pending_signal) die_of_signal(pending_signal);
        if (power_button) power_off();
        __asm__ volatile("sti; hlt" ::: "memory");
    }
}

/* ---- arguments --------------------------------------------------------------- */
static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int word_eq(const char* w, size_t n, const char* s)
{
    size_t i = 0;
    for (; i < n && s[i]; i++)
        if (w[i] != s[i]) return 0;
    return i == n && !s[i];
}

/* "N" with 0 <= N <= 255, digits only -> N, else -1. */
static int parse_status(const char* s, size_t n)
{
    unsigned v = 0;
    if (n == 0) return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (unsigned)(s[i] - '0');
        if (v > 255) return -1;
    }
    return (int)v;
}

static int status, want_hold, want_hang;
static const char* bad_word;
static size_t bad_len;

static int scan_word(const char* w, size_t n)
{
    if (word_eq(w, n, "hold")) {
        want_hold = 1;
    } else if (word_eq(w, n, "hang")) {
        want_hang = 1;
    } else if (n >= 5 && word_eq(w, 5, "exit=")) {
        int v = parse_status(w + 5, n - 5);
        if (v < 0) {
            bad_word = w + 5;
            bad_len = n - 5;
            return 0;
        }
        status = v;
    }
    return 1;
}

static int print_word(const char* w, size_t n)
{
    put(COM1, ' ');
    for (size_t i = 0; i < n; i++) put(COM1, w[i]);
    return 1;
}

/* ---- the exec block (<fleet/abi/guest.h>) ------------------------------------
 * From the kernel command line when a raw QEMU line carries it
 * (fleet.exec=%XX...), else from the ctl UART: the launcher wrote it into
 * ctl's socket before QEMU started. */
static char block[sizeof(struct fleet_exec_header) + FLEET_EXEC_MAX_SIZE + FLEET_EXEC_TTY_SIZE + FLEET_EXEC_HOST_SIZE];
static struct fleet_exec_header hdr;
static const char* strings;

static __attribute__((noreturn)) void bad_block(const char* why)
{
    puts_(COM2, "hello: bad exec block: ");
    puts_(COM2, why);
    put(COM2, '\n');
    do_exit(FLEET_EXIT_BAD_EXEC);
}

static uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

/* ctl at divisor 1, 8 data bits, no parity, 1 stop bit: the FIFO's timeout
 * is then 4 x 87 ns with the launcher's clock (FLEET_ISA_CTL_BAUDBASE). */
static void ctl_divisor_1(void)
{
    outb(CTL + 3, 0x80); /* DLAB: the next two writes are the divisor */
    outb(CTL + 0, 1);
    outb(CTL + 1, 0);
    outb(CTL + 3, 0x03);
}

/* ctl's receive FIFO interrupts once it holds `itl` bytes (14, 8, 4 or 1;
 * QEMU offers at most that many per turn of its main loop), or 4
 * character times after its last byte if fewer came. */
static void ctl_set_trigger(uint32_t want)
{
    uint8_t bits = want >= 14 ? 0xc0 : want >= 8 ? 0x80 : want >= 4 ? 0x40 : 0x00;
    outb(CTL + 2, (uint8_t)(0x01 | bits)); /* FIFO stays on, nothing cleared */
}

/* One byte from ctl, `more` of them (at least 1) surely on their way.
 * Once the block has `started`, the rest is already in QEMU's socket, so a
 * long silence means it was cut short. The guest halts until the FIFO
 * fills to what it waits for instead of polling the line status: polling
 * keeps its CPU busy, and where QEMU's main loop shares that CPU it then
 * hands over one byte per time slice. */
static uint8_t ctl_getc(int started, uint32_t more)
{
    uint64_t t0 = rdtsc();
    for (;;) {
        __asm__ volatile("cli" ::: "memory");
        if (inb(CTL + FLEET_UART_LSR) & 1) break;
        if (started && rdtsc() - t0 > (1ull << 35)) /* ~10 s at 3 GHz */
            bad_block("truncated (the channel went quiet)");
        ctl_set_trigger(more);
        if (inb(CTL + FLEET_UART_LSR) & 1) break;
        __asm__ volatile("sti; hlt" ::: "memory");
    }
    return inb(CTL);
}

/* ctl's lines ("signal N"): the FIFO on at trigger level 14, so that QEMU
 * hands a line of up to 14 bytes over in one read and the guest takes one
 * interrupt for it (at 14 bytes, or 4 character times after the last, which
 * the launcher's fast UART clock makes a fraction of a microsecond), not one
 * interrupt and one turn of QEMU's loop per byte. Switching the FIFO on drops
 * a byte the UART holds: done before READY, before which the launcher sends
 * no line (images/README.md); with the FIFO already on (the block came on
 * ctl) it only sets the trigger. */
static void ctl_for_lines(void)
{
    ctl_divisor_1();
    ctl_set_trigger(14); /* FIFO on (0xc1) */
}

/* Halt until the block's first byte is there (a warm pool writes it when a
 * program claims the VM, maybe much later): the UART's receive interrupt
 * wakes the guest, so a waiting guest costs the host no CPU. Interrupts
 * are off again on return. */
static void wait_for_ctl(void)
{
    reading_block = 1;
    irq_init();
    ctl_divisor_1();
    outb(CTL + 1, 0x01); /* IER: received data */
    for (;;) {
        __asm__ volatile("cli" ::: "memory");
        if (inb(CTL + FLEET_UART_LSR) & 1) break;
        __asm__ volatile("sti; hlt" ::: "memory");
    }
}

/* While the block comes in, the LAPIC timer wakes a halted guest twice a
 * second (QEMU's and KVM's APIC timers count 1 GHz before the divider), so
 * that a channel gone quiet mid-block is seen (ctl_getc's deadline). */
static void block_timer(int on)
{
    mmio_w32(LAPIC_BASE + LAPIC_TIMER_DIV, 0x0a);                                 /* divide by 128 */
    mmio_w32(LAPIC_BASE + LAPIC_LVT_TIMER, on ? (1u << 17) | VEC_GED : 1u << 16); /* periodic, or masked */
    mmio_w32(LAPIC_BASE + LAPIC_TIMER_INIT, on ? 500000000u / 128 : 0);
}

static void read_ctl(char* to, uint32_t n, int started)
{
    for (uint32_t i = 0; i < n; i++) to[i] = (char)ctl_getc(started || i > 0, n - i);
}

static const char* find_inline(const char* cmdline)
{
    static const char key[] = FLEET_CMDLINE_EXEC;
    for (const char* p = cmdline; p && *p; p++) {
        if (p == cmdline || is_space(p[-1])) {
            size_t k = 0;
            while (k < sizeof key - 1 && p[k] == key[k]) k++;
            if (k == sizeof key - 1) return p + k;
        }
    }
    return 0;
}

/* ---- fw_cfg: the block at a cold start of an exec=fw_cfg image ------------
 * QEMU's fw_cfg: a 16-bit selector, an 8-bit data port, and (when its ID
 * says so) DMA, one port write per transfer, done when the write returns.
 * Multi-byte fields of the directory and of the DMA request are big-endian. */
#define FW_CFG_SIGNATURE  0x0000
#define FW_CFG_ID         0x0001
#define FW_CFG_FILE_DIR   0x0019
#define FW_CFG_DMA_READ   0x02u
#define FW_CFG_DMA_SELECT 0x08u

static uint32_t be32(uint32_t v)
{
    return __builtin_bswap32(v);
}

static struct {
    uint32_t control, length, address_hi, address_lo;
} __attribute__((aligned(16))) fw_cfg_req;
static int fw_cfg_dma;

/* n bytes of item `key` (select != 0: from its start; else on from where the
 * last read stopped) into `to`; 0 if QEMU says the transfer failed. */
static int fw_cfg_read(uint16_t key, int select, void* to, uint32_t n)
{
    if (!fw_cfg_dma) {
        if (select) outw(FLEET_FWCFG_PORT_SEL, key);
        for (uint32_t i = 0; i < n; i++) ((uint8_t*)to)[i] = inb(FLEET_FWCFG_PORT_DATA);
        return 1;
    }
    fw_cfg_req.control = be32((select ? (uint32_t)key << 16 | FW_CFG_DMA_SELECT : 0) | FW_CFG_DMA_READ);
    fw_cfg_req.length = be32(n);
    fw_cfg_req.address_hi = 0;
    fw_cfg_req.address_lo = be32((uint32_t)to);
    __asm__ volatile("" ::: "memory");
    outl(FLEET_FWCFG_PORT_DMA, 0);                               /* high half of the request's address */
    outl(FLEET_FWCFG_PORT_DMA + 4, be32((uint32_t)&fw_cfg_req)); /* low half: the transfer */
    __asm__ volatile("" ::: "memory");
    return fw_cfg_req.control == 0;
}

/* The block from fw_cfg file FLEET_FWCFG_EXEC into `block`: its length,
 * 0 if there is no such file (boot without it: the block comes on ctl). */
static uint32_t fw_cfg_block(void)
{
    char sig[4];
    uint32_t id;    /* little-endian, as x86 reads it */
    fw_cfg_dma = 0; /* the data port, until the ID says there is DMA */
    fw_cfg_read(FW_CFG_SIGNATURE, 1, sig, 4);
    if (sig[0] != 'Q' || sig[1] != 'E' || sig[2] != 'M' || sig[3] != 'U') return 0;
    fw_cfg_read(FW_CFG_ID, 1, &id, 4);
    fw_cfg_dma = (id & 2) != 0;
    uint32_t count;
    if (!fw_cfg_read(FW_CFG_FILE_DIR, 1, &count, 4)) return 0;
    count = be32(count);
    static const char want[] = FLEET_FWCFG_EXEC;
    for (uint32_t i = 0; i < count && i < 4096; i++) {
        struct {
            uint32_t size;
            uint16_t select, reserved;
            char name[56];
        } f;
        if (!fw_cfg_read(0, 0, &f, sizeof f)) return 0;
        size_t k = 0;
        while (k < sizeof want && f.name[k] == want[k]) k++;
        if (k < sizeof want) continue;
        uint32_t size = be32(f.size);
        if (size < sizeof hdr || size > sizeof block) bad_block("fw_cfg's file has a bad size");
        if (!fw_cfg_read(__builtin_bswap16(f.select), 1, block, size)) bad_block("fw_cfg would not hand it over");
        return size;
    }
    return 0;
}

static void get_block(const char* cmdline)
{
    const char* enc = find_inline(cmdline);
    uint32_t have = 0;
    uint32_t from_fw_cfg = enc ? 0 : fw_cfg_block();
    if (from_fw_cfg) {
        have = from_fw_cfg;
    } else if (enc) {
        while (enc[have] && !is_space(enc[have]) && have < sizeof block) block[have] = enc[have], have++;
        long n = fleet_pct_decode(block, have);
        if (n < (long)sizeof hdr) bad_block("malformed on the command line");
        have = (uint32_t)n;
    } else {
        if (inb(CTL + FLEET_UART_LSR) == 0xff) /* no UART there */
            bad_block("no ctl channel (UART 0x3e8)");
        /* FIFO on (14 bytes per QEMU read, not 1): QEMU drops the byte the
         * UART held, at worst one of the launcher's preamble. Then the magic. */
        ctl_set_trigger(14); /* FIFO on (0xc1), level 14: QEMU offers 14 bytes a read */
        /* A read of the receive register tells QEMU to offer input again
         * (the FIFO switch does not): else it waits for its next wake-up,
         * up to a second. It may take a byte: the preamble's. */
        if (!(inb(CTL + FLEET_UART_LSR) & 1)) (void)inb(CTL);
        puts_(CTL, FLEET_CTL_WAITING "\n");
        wait_for_ctl();
        block_timer(1);
        uint32_t magic = 0, skipped = 0;
        for (;;) {
            magic = (magic >> 8) | ((uint32_t)ctl_getc(0, sizeof hdr) << 24);
            if (magic == FLEET_EXEC_MAGIC) break;
            if (++skipped > FLEET_EXEC_SKIP_MAX + 3) bad_block("bad magic (not an exec block)");
        }
        for (int k = 0; k < 4; k++) block[k] = (char)(magic >> (8 * k));
        read_ctl(block + 4, sizeof hdr - 4, 1);
    }
    for (uint32_t i = 0; i < sizeof hdr; i++) ((char*)&hdr)[i] = block[i];
    const char* why = fleet_exec_check_header(&hdr);
    if (why) bad_block(why);
    if (from_fw_cfg) {
        if (have != sizeof hdr + hdr.size) bad_block("truncated (in fw_cfg)");
    } else if (enc) {
        if (have != sizeof hdr + hdr.size) bad_block("truncated (on the command line)");
    } else {
        read_ctl(block + sizeof hdr, hdr.size, 1);
        block_timer(0);
        reading_block = 0;
    }
    strings = block + sizeof hdr;
    why = fleet_exec_check_strings(&hdr, strings);
    if (why) bad_block(why);
}

/* Calls fn(arg, len) for each argument; 0 stops early. */
static void for_each_arg(int (*fn)(const char*, size_t))
{
    const char* s = strings;
    for (uint32_t i = 0; i < hdr.argc; i++) {
        size_t n = 0;
        while (s[n]) n++;
        if (!fn(s, n)) return;
        s += n + 1;
    }
}

/* ---- ctl from the host after the block: "signal N" lines ------------------- */
/* Ends with 128 + N, saying so on stderr (the console's last words). */
static __attribute__((noreturn)) void die_of_signal(int sig)
{
    puts_(COM2, "hello: signal ");
    put_dec(COM2, (unsigned)sig);
    put(COM2, '\n');
    do_exit(128 + (unsigned)sig);
}

static char ctl_buf[FLEET_CTL_LINE_MAX];
static unsigned ctl_len;

static void poll_ctl(void)
{
    while (inb(CTL + FLEET_UART_LSR) & 1) {
        char c = (char)inb(CTL);
        if (c != '\n') {
            if (ctl_len < sizeof ctl_buf - 1) ctl_buf[ctl_len++] = c;
            continue;
        }
        static const char word[] = FLEET_CTL_SIGNAL " ";
        if (ctl_len > sizeof word - 1 && word_eq(ctl_buf, sizeof word - 1, word)) {
            int v = parse_status(ctl_buf + sizeof word - 1, ctl_len - (sizeof word - 1));
            if (v >= 1 && v <= FLEET_SIGNAL_MAX) pending_signal = v;
        }
        ctl_len = 0;
    }
}

/* ---- main -------------------------------------------------------------------- */
__attribute__((noreturn)) void hello_main(const struct hvm_start_info* si)
{
    const char* cmdline = NULL;
    if (si && si->magic == HVM_START_MAGIC && si->cmdline_paddr && si->cmdline_paddr < 0x100000000ull)
        cmdline = (const char*)(uint32_t)si->cmdline_paddr;
    get_block(cmdline);
    for_each_arg(scan_word);

    /* "hang": never become ready, like a guest stuck in early boot (the
     * launcher's boot timeout must catch it). */
    while (want_hang) __asm__ volatile("cli; hlt");

    ctl_for_lines();
    puts_(CTL, FLEET_CTL_READY "\n");
    irq_init();
    poll_ged(); /* a press that beat irq_init() */

    if (bad_word) {
        puts_(COM2, "hello: bad exit value '");
        for (size_t i = 0; i < bad_len; i++) put(COM2, bad_word[i]);
        puts_(COM2, "'\n");
        do_exit(2);
    }

    puts_(COM1, "hello");
    for_each_arg(print_word);
    put(COM1, '\n');

    if (want_hold) hold();
    poll_ged();
    poll_ctl();
    if (pending_signal) die_of_signal(pending_signal);
    if (power_button) power_off();
    do_exit((unsigned)status);
}
