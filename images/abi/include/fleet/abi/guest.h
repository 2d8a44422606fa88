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

#define FLEET_ABI_VERSION 1

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

/* A multiport virtio-serial device's queues: port 0 has 0 (receive) and 1
 * (transmit), the control queues are 2 and 3, port N >= 1 has 2N+2
 * (host -> guest) and 2N+3 (guest -> host). Macros, so that C++ can use
 * them in constant expressions. */
#define FLEET_VSERIAL_CTRL_RXQ 2
#define FLEET_VSERIAL_CTRL_TXQ 3
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
#define FLEET_UART_THR 0    /* transmit holding register (offset) */
#define FLEET_UART_LSR 5    /* line status register (offset) */
#define FLEET_UART_LSR_THRE 0x20

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

/* ---- ctl: ASCII lines, guest -> host (and host -> guest) -------------------
 * Guest -> host: "ready\n" once it runs; "exit N\n" (N = 0..255, decimal)
 * just before it ends. Host -> guest: "drained\n" (see FLEET_CMDLINE_DRAIN).
 * A line is at most FLEET_CTL_LINE_MAX bytes; a longer one is cut. */
#define FLEET_CTL_READY   "ready"
#define FLEET_CTL_EXIT    "exit" /* followed by one space and the status */
#define FLEET_CTL_DRAINED "drained"
#define FLEET_CTL_LINE_MAX 256
#define FLEET_EXIT_STATUS_MAX 255

/* ---- the kernel command line ------------------------------------------------
 * FLEET_CMDLINE_SHARE "N=PATH[:rw]": share N (virtio-9p, mount tag
 * FLEET_SHARE_TAG "N") goes on PATH, read-only unless ":rw".
 * FLEET_CMDLINE_DRAIN: after "exit N" the guest waits for the host's
 * "drained" line (at most FLEET_DRAIN_WAIT_MS) before it ends the VM; the
 * launcher sends it once QEMU has handed over all of stdout and stderr. */
#define FLEET_CMDLINE_SHARE  "fleet.share"
#define FLEET_SHARE_TAG      "fleet-share"
#define FLEET_SHARE_RW       ":rw"
#define FLEET_MAX_SHARES     8
#define FLEET_CMDLINE_DRAIN  "fleet.drain=1"
#define FLEET_DRAIN_WAIT_MS  30000
#define FLEET_CMDLINE_MAX    2048 /* bytes, as Linux on x86 takes it */

#endif /* FLEET_ABI_GUEST_H */
