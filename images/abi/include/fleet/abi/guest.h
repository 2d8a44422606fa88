/* fleet — the guest ABI: what the launcher and every guest agree on.
 *
 * One freestanding C header (no libc: only <stdint.h>), included as
 * <fleet/abi/guest.h> by the launcher (C++, vmm/), the tiny guest
 * (images/hello, C, -m32), the unikernel runtime (images/runtime, C++) and
 * the Linux init (images/linux/init.c). Nothing of the contract is written
 * anywhere else; images/README.md describes it in prose. In the spirit of
 * Solo5's include/hvt_abi.h: a version number, then every name, address
 * and limit the two sides share.
 *
 * Change it only together with both sides, and raise FLEET_ABI_VERSION when
 * a guest built against the old header would misbehave.
 */
#ifndef FLEET_ABI_GUEST_H
#define FLEET_ABI_GUEST_H

#include <stdint.h>

#define FLEET_ABI_VERSION                                                                \
    7 /* 2: argv, environment and working folder in the exec block; 3: its host trailer; \
       4: the shares' mount points in it, 5: the network interfaces too, not on the      \
       kernel command line; 6: a terminal for the program (FLEET_EXEC_F_TTY);            \
       7: rehearsals (FLEET_EXEC_F_REHEARSE) */

/* ---- stdio=virtio: one virtio-serial device, four named ports -------------
 * The launcher adds `virtio-serial-device,max_ports=FLEET_VSERIAL_MAX_PORTS`
 * and one `virtserialport,name=NAME,nr=NR` per channel. Guests find a port
 * by its name, never by its number; the launcher uses the numbers to find
 * the virtqueues (FLEET_VSERIAL_TXQ). */
#define FLEET_PORT_STDIN  "fleet.stdin"
#define FLEET_PORT_STDOUT "fleet.stdout"
#define FLEET_PORT_STDERR "fleet.stderr"
#define FLEET_PORT_CTL    "fleet.ctl"

enum fleet_port {
    FLEET_PORT_NR_STDIN = 1,
    FLEET_PORT_NR_STDOUT = 2,
    FLEET_PORT_NR_STDERR = 3,
    FLEET_PORT_NR_CTL = 4,
};
#define FLEET_VSERIAL_MAX_PORTS 5 /* port 0 (the console port) stays unused */

/* A domain given a hypervisor channel (<fleet:hypervisor>, docs/hypervisor.md)
 * gets more ports on the same device (max_ports grows with them): the libvirt
 * RPC protocol, served by fleet-router and scoped to the domain's own
 * children. Absent otherwise; guests that do not look for it are unchanged. */
#define FLEET_PORT_HYPERVISOR    "org.fleet.hypervisor"
#define FLEET_PORT_NR_HYPERVISOR 5
/* A channel is FLEET_HYPERVISOR_PORTS ports, each one libvirt connection of
 * the router: FLEET_PORT_HYPERVISOR (nr 5), then FLEET_PORT_HYPERVISOR ".1"
 * (nr 6) and so on, so that programs in the guest can be connected at the
 * same time. A guest with one client uses the first only. */
#define FLEET_HYPERVISOR_PORTS 4
/* With it, the kernel command line says FLEET_CMDLINE_HYPERVISOR, so that a
 * guest knows to wait for the port (ports appear one by one), and a Linux
 * guest's init serves it to the guest's programs as a unix socket at
 * FLEET_HYPERVISOR_SOCKET: libvirt's own clients connect there with
 * qemu+unix:///system?socket=/run/fleet/hypervisor. */
#define FLEET_CMDLINE_HYPERVISOR "fleet.hypervisor=1"
#define FLEET_HYPERVISOR_SOCKET  "/run/fleet/hypervisor"

/* A multiport virtio-serial device's queues: port 0 has 0 (receive) and 1
 * (transmit), the control queues are 2 and 3, port N >= 1 has 2N+2
 * (host -> guest) and 2N+3 (guest -> host). Macros, so that C++ can use
 * them in constant expressions. */
#define FLEET_VSERIAL_CTRL_RXQ     2
#define FLEET_VSERIAL_CTRL_TXQ     3
#define FLEET_VSERIAL_RXQ(port_nr) ((port_nr) == 0 ? 0 : 2 * (port_nr) + 2)
#define FLEET_VSERIAL_TXQ(port_nr) ((port_nr) == 0 ? 1 : 2 * (port_nr) + 3)

/* ---- stdio=isa: 16550 UARTs, polled ----------------------------------------
 * COM1 carries stdout (and stdin), COM2 stderr, the third UART the ctl
 * lines. Write: wait for LSR bit THRE, then write THR. */
#define FLEET_ISA_STDOUT_PORT 0x3f8 /* COM1: -serial */
#define FLEET_ISA_STDERR_PORT 0x2f8 /* COM2 */
#define FLEET_ISA_STDERR_IRQ  3
#define FLEET_ISA_CTL_PORT    0x3e8
#define FLEET_ISA_CTL_IRQ     6
#define FLEET_UART_THR        0 /* transmit holding register (offset) */
#define FLEET_UART_LSR        5 /* line status register (offset) */
#define FLEET_UART_LSR_THRE   0x20

/* The ctl UART's clock (QEMU's isa-serial baudbase): 1000 x the standard
 * 1.8432 MHz / 16, so that its receive FIFO's timeout, 4 character times,
 * is 4 x 87 ns at divisor 1: a guest can keep the FIFO at 14 bytes and
 * still take a short line's interrupt at once. */
#define FLEET_ISA_CTL_BAUDBASE 115200000

/* ---- every guest: the fast way out -----------------------------------------
 * isa-debug-exit: a 32-bit `outl(N, port)` ends QEMU at once with status
 * (N << 1) | 1; the launcher takes the real status from the ctl line. */
#define FLEET_DEBUG_EXIT_PORT 0xf4
#define FLEET_DEBUG_EXIT_SIZE 4

/* ---- the power button: QEMU 7.2 microvm's ACPI Generic Event Device ------
 * (include/hw/i386/microvm.h, include/hw/acpi/generic_event_device.h). The
 * event selector is a 32-bit register cleared by reading it; the GED's
 * interrupt is pulsed (edge, active high). Writing FLEET_GED_S5 to the
 * 8-bit sleep control register powers off (a guest shutdown). */
#define FLEET_GED_ESEL         0xfea00000u
#define FLEET_GED_SLEEP_CTL    0xfea00200u
#define FLEET_GED_PWR_DOWN_EVT 0x2u
#define FLEET_GED_GSI          9
#define FLEET_GED_S5           (0x20 | (5 << 2)) /* SLP_EN | SLP_TYP_S5 << 2 */

/* ---- ctl: guest -> host ASCII lines; host -> guest the exec block, then lines
 * Guest -> host: "waiting\n" when it starts to read its exec block (a host
 * that has not written it yet writes it then); "ready\n" once it has it
 * and the program starts; "exit N\n" (N = 0..255, decimal; 128 + S for a
 * program ended by signal S) just before it ends.
 * Host -> guest: the exec block (below), at once at launch; then lines:
 * "drained\n" (see FLEET_CMDLINE_DRAIN), "signal S\n" (deliver signal S,
 * Linux numbering, to the program: Linux init kill()s it; the runtime calls
 * the program's handler or exits 128 + S; hello exits 128 + S) and
 * "winsize ROWS COLS\n" (the program's terminal has a new size, both
 * 1..FLEET_TTY_MAX; a guest that gave the program no terminal ignores it)
 * and, for a guest whose image says power=ctl (QEMU then has no ACPI),
 * "power\n": the power button, pressed (a guest powers off with
 * isa-debug-exit where S5 is not there).
 * A line is at most FLEET_CTL_LINE_MAX bytes; a longer one is cut. */
#define FLEET_CTL_WAITING     "waiting"
#define FLEET_CTL_READY       "ready"
#define FLEET_CTL_EXIT        "exit" /* followed by one space and the status */
#define FLEET_CTL_DRAINED     "drained"
#define FLEET_CTL_SIGNAL      "signal"  /* followed by one space and the number */
#define FLEET_CTL_WINSIZE     "winsize" /* followed by " ROWS COLS" */
#define FLEET_CTL_POWER       "power"   /* power=ctl images: the power button */
#define FLEET_SIGNAL_MAX      64
#define FLEET_CTL_LINE_MAX    256
#define FLEET_EXIT_STATUS_MAX 255

/* ---- the kernel command line ------------------------------------------------
 * FLEET_CMDLINE_DRAIN: after "exit N" the guest waits for the host's
 * "drained" line (at most FLEET_DRAIN_WAIT_MS) before it ends the VM; the
 * launcher sends it once QEMU has handed over all of stdout and stderr. */
#define FLEET_CMDLINE_DRAIN "fleet.drain=1"
#define FLEET_DRAIN_WAIT_MS 30000
#define FLEET_CMDLINE_MAX   2048 /* bytes, as Linux on x86 takes it */

/* ---- network interfaces -----------------------------------------------------
 * Interface N is a virtio-net device; what the guest does with it comes in
 * the exec block (below), as "MAC[,IPV4/PREFIX[,GATEWAY]]" (MAC in
 * lower-case hex with colons): the guest finds the interface with that MAC,
 * gives it that IPv4 address and default route if given, and brings it and
 * lo up. Not on the kernel command line, for the shares' reason below.
 *
 * A snapshot (a saved boot that later VMs start from) is made with
 * interface N's MAC set to FLEET_NET_SNAPSHOT_MAC "N" (so one snapshot
 * serves every MAC) and on no network; a guest that finds no interface
 * with the MAC it was given looks for that one, and sets the MAC it was
 * given on it before it brings it up. The launcher gives no VM a MAC that
 * starts with FLEET_NET_SNAPSHOT_MAC. Guests without a network stack (the
 * runtime, hello) ignore the interfaces. */
#define FLEET_NET_SNAPSHOT_MAC "02:66:6c:00:00:0" /* "fl", locally administered; then N */
#define FLEET_MAX_NETS         4

/* ---- shared folders ---------------------------------------------------------
 * Share N is a virtio-9p device with mount tag FLEET_SHARE_TAG "N"; where
 * the guest mounts it comes in the exec block (below), as "PATH" (read-only)
 * or "PATH" FLEET_SHARE_RW, PATH absolute. Not on the kernel command line:
 * a guest restored from a snapshot has the command line of the boot that
 * was saved, and one snapshot serves any mount points (the devices are
 * the same; QEMU's folder behind each is not in the saved state). */
#define FLEET_SHARE_TAG  "fleet-share"
#define FLEET_SHARE_RW   ":rw"
#define FLEET_MAX_SHARES 8

/* ---- the exec block: argv, environment, working folder, shares, nets -------
 * The host writes it on ctl (host -> guest) before anything else, once; the
 * guest reads it before its program starts. Little-endian:
 *
 *   struct fleet_exec_header (32 bytes), then `size` bytes of strings, each
 *   ending in a NUL: `argc` arguments, `envc` "NAME=VALUE" variables, the
 *   working folder ("" = the guest's default), then `sharec` mount points
 *   (shares 0, 1, ...: "PATH" or "PATH:rw", above), then `netc` network
 *   interfaces (interfaces 0, 1, ...: "MAC[,IPV4/PREFIX[,GATEWAY]]", above).
 *
 * On ctl the host writes FLEET_EXEC_PREAMBLE first; a guest skips bytes
 * until the magic, at most FLEET_EXEC_SKIP_MAX of them (an isa guest may
 * lose two: the byte its UART held when it turns the FIFO on, which QEMU
 * clears then, and one its wake-up read of the receive register takes).
 *
 * The arguments are the words after the image (the catalog entry's args=,
 * then the user's): Linux init runs the first, the runtime and hello get
 * them as argv[1..]. Any byte but NUL. A guest that gets a block it cannot
 * use (bad magic or version, over the limits, strings that do not match
 * the counts, the channel closing before the end) says why on stderr and
 * exits 125 (FLEET_EXIT_BAD_EXEC).
 *
 * An image whose catalog entry says `exec=fw_cfg` gets it at a cold start
 * as QEMU's fw_cfg file FLEET_FWCFG_EXEC instead (`-fw_cfg name=...,file=`
 * on a sealed in-memory copy, so it is in no process's argv), whole, with
 * its host trailer, and nothing on ctl: such a guest looks there first
 * (QEMU's fw_cfg I/O ports, FLEET_FWCFG_*; the DMA interface when it has
 * one). A warm pool's VM boots without the file and is given the block on
 * ctl as always, so a guest that finds no such file reads ctl.
 *
 * `fleet-vmm cmdline` (a raw QEMU command line, no launcher to write the
 * block) puts it on the kernel command line instead, percent-encoded
 * (FLEET_CMDLINE_EXEC "%XX..."); a guest whose command line has it reads
 * the block from there and not from ctl.
 *
 * With FLEET_EXEC_F_HOST in `flags`, the last FLEET_EXEC_HOST_SIZE bytes of
 * the `size` bytes are not strings but a struct fleet_exec_host: fresh
 * random bytes and the host's clock at the time the block was written. A
 * guest restored from a snapshot shares its RNG state and its clock with
 * every other restore of it; Linux init mixes the seed into the kernel's
 * RNG, reseeds it and sets the clock from it before the program starts.
 * The launcher sends it on ctl; a block on the command line has none.
 *
 * With FLEET_EXEC_F_TTY in `flags`, the program runs on a terminal: the
 * FLEET_EXEC_TTY_SIZE bytes before the host trailer (or at the end) are a
 * struct fleet_exec_tty. Linux init opens a pseudo-terminal of that size,
 * makes it the program's controlling terminal and its stdin and stdout
 * (and stderr with FLEET_TTY_STDERR), and relays fleet.stdin to it and it
 * to fleet.stdout; the host's terminal is raw, so keys such as Ctrl-C
 * reach the guest's line discipline. The runtime and hello have no
 * terminal: the launcher sends them no such block.
 *
 * With FLEET_EXEC_F_REHEARSE in `flags`, the block is a rehearsal, not the
 * program's: Linux init applies its host trailer, runs its argv[0] with
 * its arguments and environment as it would a program, but on /dev/null
 * and saying nothing on ctl, waits for it to end, then says "waiting"
 * again and reads the next block. A rehearsal has no shares, interfaces
 * or terminal, and never comes on the command line. Under TCG a warm
 * pool sends one to each of its Linux VMs before it counts the VM as
 * waiting, so that the code paths of a start are translated before a
 * claim takes it (a restored guest's translation cache is empty). The
 * launcher sends rehearsals to no other guest. */
#define FLEET_FWCFG_EXEC       "opt/fleet/exec"
#define FLEET_FWCFG_PORT_SEL   0x510       /* 16-bit selector */
#define FLEET_FWCFG_PORT_DATA  0x511       /* 8-bit data */
#define FLEET_FWCFG_PORT_DMA   0x514       /* DMA address, big-endian: high half here, low half at +4 starts it */
#define FLEET_EXEC_MAGIC       0x42584c46u /* "FLXB" */
#define FLEET_EXEC_PREAMBLE    "\n\n"
#define FLEET_EXEC_SKIP_MAX    8
#define FLEET_EXEC_MAX_SIZE    (256u * 1024) /* bytes of strings (the host trailer aside) */
#define FLEET_EXEC_MAX_STRINGS 16384u        /* argc + envc */
#define FLEET_EXIT_BAD_EXEC    125
#define FLEET_CMDLINE_EXEC     "fleet.exec="

struct fleet_exec_header {
    uint32_t magic;   /* FLEET_EXEC_MAGIC */
    uint32_t version; /* FLEET_ABI_VERSION */
    uint32_t argc;
    uint32_t envc;
    uint32_t size;   /* bytes of strings that follow */
    uint32_t flags;  /* FLEET_EXEC_F_* */
    uint32_t sharec; /* mount points after the working folder, at most FLEET_MAX_SHARES */
    uint32_t netc;   /* network interfaces after the mount points, at most FLEET_MAX_NETS */
};

#define FLEET_EXEC_F_HOST    1u
#define FLEET_EXEC_SEED_SIZE 32
struct fleet_exec_host {
    uint8_t seed[FLEET_EXEC_SEED_SIZE];
    uint64_t realtime_ns; /* the host's CLOCK_REALTIME, ns since the epoch */
};
#define FLEET_EXEC_HOST_SIZE 40 /* sizeof(struct fleet_exec_host) */

#define FLEET_EXEC_F_TTY 2u
#define FLEET_TTY_STDERR 1u   /* fleet_exec_tty.flags: stderr on the terminal too */
#define FLEET_TTY_MAX    4096 /* rows and columns */
struct fleet_exec_tty {
    uint16_t rows, cols; /* 1..FLEET_TTY_MAX */
    uint32_t flags;      /* FLEET_TTY_* */
};
#define FLEET_EXEC_TTY_SIZE 8 /* sizeof(struct fleet_exec_tty) */

#define FLEET_EXEC_F_REHEARSE 4u

/* The bytes of the trailers: the terminal's, then the host's. */
static inline uint32_t fleet_exec_trailers_size(const struct fleet_exec_header* h)
{
    return ((h->flags & FLEET_EXEC_F_HOST) ? FLEET_EXEC_HOST_SIZE : 0) +
           ((h->flags & FLEET_EXEC_F_TTY) ? FLEET_EXEC_TTY_SIZE : 0);
}

/* The bytes of strings: `size` without the trailers. */
static inline uint32_t fleet_exec_strings_size(const struct fleet_exec_header* h)
{
    return h->size - fleet_exec_trailers_size(h);
}

/* The terminal trailer (FLEET_EXEC_F_TTY) of the strings `s` after a good
 * header, little-endian, read byte by byte (it need not be aligned). */
static inline struct fleet_exec_tty fleet_exec_tty_of(const struct fleet_exec_header* h, const char* s)
{
    const unsigned char* b = (const unsigned char*)s + fleet_exec_strings_size(h);
    struct fleet_exec_tty t;
    t.rows = (uint16_t)(b[0] | b[1] << 8);
    t.cols = (uint16_t)(b[2] | b[3] << 8);
    t.flags = (uint32_t)b[4] | (uint32_t)b[5] << 8 | (uint32_t)b[6] << 16 | (uint32_t)b[7] << 24;
    return t;
}

/* Where the host trailer (FLEET_EXEC_F_HOST) starts in the strings: last. */
static inline uint32_t fleet_exec_host_offset(const struct fleet_exec_header* h)
{
    return h->size - FLEET_EXEC_HOST_SIZE;
}

/* Checks a header; NULL if it is good, else why not. */
static inline const char* fleet_exec_check_header(const struct fleet_exec_header* h)
{
    if (h->magic != FLEET_EXEC_MAGIC) return "bad magic (not an exec block)";
    if (h->version != FLEET_ABI_VERSION) return "unsupported version";
    if (h->flags & ~(FLEET_EXEC_F_HOST | FLEET_EXEC_F_TTY | FLEET_EXEC_F_REHEARSE)) return "unknown flags";
    if (h->size < fleet_exec_trailers_size(h)) return "no room for the trailers";
    if (fleet_exec_strings_size(h) > FLEET_EXEC_MAX_SIZE) return "too large";
    if (h->argc > FLEET_EXEC_MAX_STRINGS || h->envc > FLEET_EXEC_MAX_STRINGS - h->argc) return "too many strings";
    if (h->sharec > FLEET_MAX_SHARES) return "too many shared folders";
    if (h->netc > FLEET_MAX_NETS) return "too many network interfaces";
    if (fleet_exec_strings_size(h) < h->argc + h->envc + 1 + h->sharec + h->netc)
        return "strings do not match the counts";
    return 0;
}

/* Checks the strings after a good header: exactly argc + envc + 1 + sharec
 * + netc NULs, the last byte one of them, every variable has a '=' after a
 * non-empty name, every mount point is an absolute path and no network
 * interface is empty (the guest that uses one parses it). NULL if good,
 * else why not. */
static inline const char* fleet_exec_check_strings(const struct fleet_exec_header* h, const char* s)
{
    uint32_t shares_end = h->argc + h->envc + 1 + h->sharec, want = shares_end + h->netc;
    uint32_t seen = 0, start = 0, size = fleet_exec_strings_size(h);
    if (size == 0 || s[size - 1] != 0) return "strings do not match the counts";
    for (uint32_t i = 0; i < size; i++) {
        if (s[i] != 0) continue;
        if (seen >= h->argc && seen < h->argc + h->envc) {
            uint32_t j = start;
            while (j < i && s[j] != '=') j++;
            if (j == start || j == i) return "a variable is not NAME=VALUE";
        }
        if (seen > h->argc + h->envc && seen < shares_end && s[start] != '/')
            return "a mount point is not an absolute path";
        if (seen >= shares_end && seen < want && i == start) return "a network interface is empty";
        seen++;
        start = i + 1;
    }
    if (seen != want) return "strings do not match the counts";
    if (h->flags & FLEET_EXEC_F_TTY) {
        struct fleet_exec_tty t = fleet_exec_tty_of(h, s);
        if (t.rows < 1 || t.rows > FLEET_TTY_MAX || t.cols < 1 || t.cols > FLEET_TTY_MAX)
            return "a terminal size out of range";
        if (t.flags & ~FLEET_TTY_STDERR) return "unknown terminal flags";
    }
    return 0;
}

/* Decodes percent-encoding in place (FLEET_CMDLINE_EXEC); the length, or
 * -1 if it is malformed. Stops at the end of n bytes. */
static inline long fleet_pct_decode(char* s, unsigned long n)
{
    unsigned long o = 0;
    for (unsigned long i = 0; i < n; i++) {
        if (s[i] != '%') {
            s[o++] = s[i];
            continue;
        }
        if (i + 2 >= n) return -1;
        int v = 0;
        for (int k = 1; k <= 2; k++) {
            char c = s[i + k];
            v <<= 4;
            if (c >= '0' && c <= '9')
                v |= c - '0';
            else if (c >= 'A' && c <= 'F')
                v |= c - 'A' + 10;
            else if (c >= 'a' && c <= 'f')
                v |= c - 'a' + 10;
            else
                return -1;
        }
        s[o++] = (char)v;
        i += 2;
    }
    return (long)o;
}

#endif /* FLEET_ABI_GUEST_H */
