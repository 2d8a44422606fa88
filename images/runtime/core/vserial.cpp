// fleet runtime: the stdio channels over virtio-serial (multiport) on the
// virtio-mmio transport of virtio_mmio.hpp.  See README.md for the protocol.
#include "virtio_mmio.hpp"

namespace rt::vs {
namespace {

using vio::desc_f_write;
using vio::Queue;
using vio::UsedElem;

constexpr uint32_t f_multiport = 1u << 1;  // VIRTIO_CONSOLE_F_MULTIPORT

// virtio_console_control events
enum : uint16_t {
    ev_device_ready = 0,
    ev_port_add = 1,
    ev_port_remove = 2,
    ev_port_ready = 3,
    ev_console_port = 4,
    ev_resize = 5,
    ev_port_open = 6,
    ev_port_name = 7,
};
struct Control {
    uint32_t id;
    uint16_t event, value;
};

vio::Device dev;
uint32_t nports;
constexpr uint32_t max_ports = 16;

struct Port {
    char name[32];
    bool added, named, host_open;
    Queue rx, tx;
};
Port ports[max_ports];
Queue ctrl_rx, ctrl_tx;

void notify(const Queue& q)
{
    dev.notify(q);
}

// ---- control queues ---------------------------------------------------------------------
constexpr int ctrl_rx_bufs = 32, ctrl_buf_size = 128, ctrl_tx_bufs = 16;
char* ctrl_rx_mem;
char* ctrl_tx_mem;
uint16_t ctrl_tx_free[ctrl_tx_bufs];
int ctrl_tx_nfree;

void ctrl_reclaim()
{
    while (ctrl_tx.has_used()) ctrl_tx_free[ctrl_tx_nfree++] = static_cast<uint16_t>(ctrl_tx.take().id);
}

void ctrl_send(uint32_t id, uint16_t event, uint16_t value)
{
    ctrl_reclaim();
    while (ctrl_tx_nfree == 0) {  // QEMU answers control messages inside the notify
        __asm__ volatile("pause");
        ctrl_reclaim();
    }
    uint16_t slot = ctrl_tx_free[--ctrl_tx_nfree];
    auto* msg = reinterpret_cast<Control*>(ctrl_tx_mem + slot * ctrl_buf_size);
    *msg = Control{id, event, value};
    ctrl_tx.post(slot, msg, sizeof *msg, 0);
    notify(ctrl_tx);
}

void handle_control(const char* buf, uint32_t len)
{
    if (len < sizeof(Control)) return;
    Control c;
    memcpy(&c, buf, sizeof c);
    if (c.id >= nports) return;
    Port& p = ports[c.id];
    switch (c.event) {
        case ev_port_add:
            p.added = true;
            ctrl_send(c.id, ev_port_ready, 1);
            break;
        case ev_port_remove:
            p.added = false;
            p.host_open = false;
            break;
        case ev_port_name: {
            uint32_t n = len - sizeof(Control);
            if (n >= sizeof p.name) n = sizeof p.name - 1;
            memcpy(p.name, buf + sizeof(Control), n);
            p.name[n] = 0;
            p.named = true;
            break;
        }
        case ev_port_open:
            p.host_open = c.value != 0;
            break;
        default:
            break;
    }
}

// ---- roles ------------------------------------------------------------------------------------
// role_hyp: the hypervisor channel (docs/hypervisor.md), only in a domain
// given one; both directions, the runtime's fd 4 (rt::hypervisor).
enum Role { role_stdin, role_stdout, role_stderr, role_ctl, role_hyp, n_roles };
const char* const role_names[n_roles] = {FLEET_PORT_STDIN, FLEET_PORT_STDOUT, FLEET_PORT_STDERR, FLEET_PORT_CTL,
                                         FLEET_PORT_HYPERVISOR};
int role_port[n_roles] = {-1, -1, -1, -1, -1};

// stdin: receive buffers.  QEMU hands the guest at most 4 KiB per chardev
// read, each into one buffer, so many 4 KiB buffers keep the pipe full.
// ctl receives the exec block (up to 256 KiB) and then short lines.
constexpr int rx_bufs = 64, ctl_rx_bufs = 16, hyp_rx_bufs = 32, rx_buf_size = 4096, rx_kick_batch = 8;
struct Rx {
    int role;
    char* mem = nullptr;
    bool have = false;
    uint32_t id = 0, len = 0, off = 0;
    int unkicked = 0;
};
Rx rx_in{role_stdin}, rx_ctl{role_ctl}, rx_hyp{role_hyp};

// Output channels: a few large transmit buffers each.
struct Tx {
    int port = -1;
    char* mem = nullptr;
    uint32_t size = 0;
    uint16_t nbufs = 0, nfree = 0;
    uint16_t free_ids[16];
    int cur = -1;
    uint32_t fill = 0;
};
Tx tx[n_roles];  // role_stdin unused

Port* port_of(int role)
{
    return role_port[role] >= 0 ? &ports[role_port[role]] : nullptr;
}

void tx_reclaim(Tx& t)
{
    Queue& q = ports[t.port].tx;
    while (q.has_used()) t.free_ids[t.nfree++] = static_cast<uint16_t>(q.take().id);
}

void tx_submit(Tx& t)
{
    if (t.cur < 0) return;
    if (t.fill == 0) {  // nothing written: keep the buffer
        t.free_ids[t.nfree++] = static_cast<uint16_t>(t.cur);
        t.cur = -1;
        return;
    }
    Queue& q = ports[t.port].tx;
    q.post(static_cast<uint16_t>(t.cur), t.mem + static_cast<size_t>(t.cur) * t.size, t.fill, 0);
    notify(q);
    t.cur = -1;
    t.fill = 0;
}

void rx_kick(Rx& r)
{
    if (r.unkicked) {
        notify(ports[role_port[r.role]].rx);
        r.unkicked = 0;
    }
}

bool rx_setup(Rx& r, int nbufs)
{
    Port* p = port_of(r.role);
    if (!p || !p->rx.ok()) return false;
    int n = nbufs < p->rx.num ? nbufs : p->rx.num;
    r.mem = static_cast<char*>(rt::aligned_alloc(4096, static_cast<size_t>(n) * rx_buf_size));
    if (!r.mem) rt::panic("out of memory for %s buffers", role_names[r.role]);
    for (int i = 0; i < n; i++)
        p->rx.post(static_cast<uint16_t>(i), r.mem + i * rx_buf_size, rx_buf_size, desc_f_write);
    notify(p->rx);
    return true;
}

// Up to n bytes from a receive port: the count, 0 at its end (the host
// closed it and nothing is left), -1 when nothing is there and !wait.
long rx_read(Rx& r, void* buf, size_t n, bool wait)
{
    Port* p = port_of(r.role);
    if (!p) return 0;
    Queue& q = p->rx;
    for (;;) {
        if (!r.have && q.has_used()) {
            UsedElem e = q.take();
            r.id = e.id;
            r.len = e.len;
            r.off = 0;
            r.have = true;
        }
        if (r.have) {
            uint32_t k = r.len - r.off;
            if (k > n) k = static_cast<uint32_t>(n);
            memcpy(buf, r.mem + r.id * rx_buf_size + r.off, k);
            r.off += k;
            if (r.off >= r.len) {  // give the buffer back
                r.have = false;
                q.post(static_cast<uint16_t>(r.id), r.mem + r.id * rx_buf_size, rx_buf_size, desc_f_write);
                if (++r.unkicked >= rx_kick_batch) rx_kick(r);
            }
            if (k) return k;
            continue;
        }
        // Nothing buffered.  The device pushes all data before it reports the
        // host's close, so "closed and still nothing used" is end of file.
        vs::poll();
        if (!p->host_open) {
            hw::barrier();
            if (!q.has_used()) return 0;
            continue;
        }
        rx_kick(r);
        if (!wait) return -1;
        flush_all(false);  // like a tty: output goes out before we block
        hw::wait_until([&] { return q.has_used() || !p->host_open || ctrl_rx.has_used(); });
    }
}

Tx* tx_for_fd(int fd)
{
    if (fd == 1) return &tx[role_stdout];
    if (fd == 2) return &tx[role_stderr];
    if (fd == 3) return &tx[role_ctl];  // internal
    if (fd == rt::hypervisor) return &tx[role_hyp];
    return nullptr;
}

Rx* rx_for_fd(int fd)
{
    if (fd == rt::in) return &rx_in;
    if (fd == rt::hypervisor) return &rx_hyp;
    return nullptr;
}

// A read of r would not block: bytes are there, or its end (closed, or no
// such port).
bool rx_ready(Rx& r)
{
    Port* p = port_of(r.role);
    return !p || r.have || p->rx.has_used() || !p->host_open;
}

// A write of t.size bytes would not block: a whole buffer is free (with
// what the current one still takes, that is enough), or the write fails at
// once (closed; or no such port: then it discards).
bool tx_ready(Tx& t)
{
    if (t.port < 0) return true;
    tx_reclaim(t);
    return t.nfree > 0 || !ports[t.port].host_open;
}

void tx_init(Role role, uint16_t nbufs, uint32_t size)
{
    Tx& t = tx[role];
    t.port = role_port[role];
    if (t.port < 0 || !ports[t.port].tx.ok()) {
        t.port = -1;
        return;
    }
    if (nbufs > ports[t.port].tx.num) nbufs = ports[t.port].tx.num;
    t.mem = static_cast<char*>(rt::aligned_alloc(4096, static_cast<size_t>(nbufs) * size));
    if (!t.mem) rt::panic("out of memory for %s buffers", role_names[role]);
    t.size = size;
    t.nbufs = t.nfree = nbufs;
    for (uint16_t i = 0; i < nbufs; i++) t.free_ids[i] = static_cast<uint16_t>(nbufs - 1 - i);
}

bool initialized;

}  // namespace

// ---- interface to rt.cpp ------------------------------------------------------------------------
bool ready()
{
    return initialized;
}

void irq()
{
    dev.ack_irq();
}

void poll()
{
    if (!dev.base || !ctrl_rx.ok()) return;
    bool reposted = false;
    while (ctrl_rx.has_used()) {
        UsedElem e = ctrl_rx.take();
        if (e.id >= ctrl_rx_bufs) continue;
        char* buf = ctrl_rx_mem + e.id * ctrl_buf_size;
        handle_control(buf, e.len);
        ctrl_rx.post(static_cast<uint16_t>(e.id), buf, ctrl_buf_size, desc_f_write);
        reposted = true;
    }
    if (reposted) notify(ctrl_rx);
}

namespace {

// The virtio-console device with MULTIPORT, and its port count.
bool negotiate()
{
    if (!dev.find(vio::device_console) || !dev.negotiate(f_multiport)) return false;
    nports = dev.config32(4);  // virtio_console_config.max_nr_ports
    if (nports > max_ports) nports = max_ports;
    return nports != 0;
}

// Every port's queues and the control queues, then the control buffers.
bool setup_queues()
{
    // Queues: port 0 = 0/1, control = 2/3, port n >= 1 = 2n+2 / 2n+3.
    if (!dev.setup_queue(ctrl_rx, FLEET_VSERIAL_CTRL_RXQ, 32) || !dev.setup_queue(ctrl_tx, FLEET_VSERIAL_CTRL_TXQ, 32))
        return false;
    for (uint32_t p = 0; p < nports; p++) {
        int n = static_cast<int>(p);
        dev.setup_queue(ports[p].rx, static_cast<uint16_t>(FLEET_VSERIAL_RXQ(n)), 128);
        dev.setup_queue(ports[p].tx, static_cast<uint16_t>(FLEET_VSERIAL_TXQ(n)), 128);
    }
    dev.driver_ok();

    ctrl_rx_mem = static_cast<char*>(rt::malloc(ctrl_rx_bufs * ctrl_buf_size));
    ctrl_tx_mem = static_cast<char*>(rt::malloc(ctrl_tx_bufs * ctrl_buf_size));
    if (!ctrl_rx_mem || !ctrl_tx_mem) rt::panic("out of memory for control buffers");
    int nrx = ctrl_rx_bufs < ctrl_rx.num ? ctrl_rx_bufs : ctrl_rx.num;
    for (int i = 0; i < nrx; i++)
        ctrl_rx.post(static_cast<uint16_t>(i), ctrl_rx_mem + i * ctrl_buf_size, ctrl_buf_size, desc_f_write);
    notify(ctrl_rx);
    ctrl_tx_nfree = ctrl_tx_bufs < ctrl_tx.num ? ctrl_tx_bufs : ctrl_tx.num;
    for (int i = 0; i < ctrl_tx_nfree; i++) ctrl_tx_free[i] = static_cast<uint16_t>(i);
    return true;
}

// DEVICE_READY -> PORT_ADD each; PORT_READY -> PORT_NAME (+ PORT_OPEN if
// the host side is connected). QEMU answers inside the notify, so a few
// rounds of polling see it all. False without a ctl port.
bool discover_ports()
{
    ctrl_send(0, ev_device_ready, 1);
    for (int round = 0; round < 64; round++) {
        poll();
        bool all = true;
        for (uint32_t p = 0; p < nports; p++)
            if (ports[p].added && !ports[p].named) all = false;
        if (all && round > 2) break;
    }
    for (uint32_t p = 0; p < nports; p++)
        for (int r = 0; r < n_roles; r++)
            if (ports[p].named && strcmp(ports[p].name, role_names[r]) == 0) role_port[r] = static_cast<int>(p);
    return role_port[role_ctl] >= 0;
}

}  // namespace

bool init()
{
    if (!negotiate() || !setup_queues()) return false;
    hw::route_gsi(dev.gsi(), hw::vec_virtio, true);
    if (!discover_ports()) return false;

    // Open our side first: QEMU only takes notice of new receive buffers
    // (and polls the host socket again) for a port the guest has opened.
    for (int r = 0; r < n_roles; r++)
        if (role_port[r] >= 0) ctrl_send(static_cast<uint32_t>(role_port[r]), ev_port_open, 1);

    // Receive buffers: stdin, and ctl (the exec block, then signal lines).
    if (!rx_setup(rx_in, rx_bufs)) role_port[role_stdin] = -1;
    rx_setup(rx_ctl, ctl_rx_bufs);
    if (role_port[role_hyp] >= 0 && !rx_setup(rx_hyp, hyp_rx_bufs)) role_port[role_hyp] = -1;
    tx_init(role_stdout, 8, 64 * 1024);
    tx_init(role_stderr, 4, 16 * 1024);
    tx_init(role_ctl, 4, 256);
    tx_init(role_hyp, 4, 64 * 1024);
    initialized = true;
#ifdef RT_DEBUG
    rt::console("vs: transport %d v%u nports %u roles %d %d %d %d open %d %d %d %d\n", dev.slot, dev.version, nports,
                role_port[0], role_port[1], role_port[2], role_port[3], ports[1].host_open, ports[2].host_open,
                ports[3].host_open, ports[4].host_open);
#endif
    return true;
}

void flush_all(bool wait)
{
    for (int fd = 1; fd <= rt::hypervisor; fd++) rt::flush(fd, wait);
}

long ctl_read(void* buf, size_t n, bool wait)
{
    if (!initialized) return 0;
    return rx_read(rx_ctl, buf, n, wait);
}

bool ctl_write(const char* s, size_t n)
{
    if (!initialized || tx[role_ctl].port < 0) return false;
    if (rt::write(3, s, n) < 0) return false;
    return rt::flush(3, true) == 0;
}

}  // namespace rt::vs

namespace rt {

bool host_closed(int fd)
{
    vs::poll();
    int role = fd == 0                ? vs::role_stdin
               : fd == 1              ? vs::role_stdout
               : fd == 2              ? vs::role_stderr
               : fd == rt::hypervisor ? vs::role_hyp
                                      : -1;
    if (role < 0) return true;
    vs::Port* p = vs::port_of(role);
    return !p || !p->host_open;
}

long read(int fd, void* buf, size_t n)
{
    vs::Rx* r = vs::rx_for_fd(fd);
    if (!r) return -1;
    if (n == 0) return 0;
    hw::check_power();
    return vs::rx_read(*r, buf, n, true);
}

bool has_port(int fd)
{
    vs::Rx* r = vs::rx_for_fd(fd);
    if (r) return vs::port_of(r->role) != nullptr;
    vs::Tx* t = vs::tx_for_fd(fd);
    return t && t->port >= 0;
}

int poll(PollFd* fds, int n, bool wait)
{
    using namespace vs;
    auto scan = [&] {
        int ready = 0;
        for (int i = 0; i < n; i++) {
            fds[i].revents = 0;
            Rx* r = (fds[i].events & poll_in) ? rx_for_fd(fds[i].fd) : nullptr;
            Tx* t = (fds[i].events & poll_out) ? tx_for_fd(fds[i].fd) : nullptr;
            if (r && rx_ready(*r)) fds[i].revents |= poll_in;
            if (t && tx_ready(*t)) fds[i].revents |= poll_out;
            if (fds[i].revents) ready++;
        }
        return ready;
    };
    hw::check_power();
    vs::poll();
    int ready = scan();
    if (ready || !wait) return ready;
    // Before blocking: hand out what is buffered (like a tty) and give the
    // receive buffers back, so that the other side can go on.
    flush_all(false);
    for (int i = 0; i < n; i++)
        if (Rx* r = (fds[i].events & poll_in) ? rx_for_fd(fds[i].fd) : nullptr; r && port_of(r->role)) rx_kick(*r);
    hw::wait_until([&] { return (ready = scan()) > 0; });
    return ready;
}

long write(int fd, const void* buf, size_t n)
{
    using namespace vs;
    Tx* t = tx_for_fd(fd);
    if (!t) return -1;
    if (!vs::initialized || t->port < 0) return static_cast<long>(n);  // no such port: discard
    if (fd != 3) hw::check_power();
    Port& p = ports[t->port];
    const char* s = static_cast<const char*>(buf);
    size_t left = n;
    while (left) {
        if (t->cur < 0) {
            // Take in control messages first: a host that closed the port
            // (PORT_OPEN 0) must end the write even while buffers flow,
            // since QEMU then discards what we send and returns buffers.
            vs::poll();
            tx_reclaim(*t);
            if (t->nfree == 0) {
                hw::wait_until([&] {
                    vs::poll();
                    tx_reclaim(*t);
                    return t->nfree > 0 || !p.host_open;
                });
                if (t->nfree == 0) return -1;
            }
            if (!p.host_open && fd != 3) return -1;
            t->cur = t->free_ids[--t->nfree];
            t->fill = 0;
        }
        uint32_t k = t->size - t->fill;
        if (k > left) k = static_cast<uint32_t>(left);
        memcpy(t->mem + static_cast<size_t>(t->cur) * t->size + t->fill, s, k);
        t->fill += k;
        s += k;
        left -= k;
        if (t->fill == t->size) tx_submit(*t);
    }
    return static_cast<long>(n);
}

int flush(int fd, bool wait)
{
    using namespace vs;
    Tx* t = tx_for_fd(fd);
    if (!t || !vs::initialized || t->port < 0) return 0;
    tx_submit(*t);
    if (wait) {
        Port& p = ports[t->port];
        hw::wait_until([&] {
            tx_reclaim(*t);
            return t->nfree == t->nbufs || !p.host_open;
        });
    }
    return ports[t->port].host_open ? 0 : -1;
}

}  // namespace rt
