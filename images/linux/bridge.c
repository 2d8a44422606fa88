/* fleet Linux init: the hypervisor channel as a unix socket (bridge.h).
 *
 * One client per port: each of the channel's ports is one byte stream, one
 * libvirt connection of the router, so a client takes a free port for as
 * long as it is connected, and one more than there are ports waits in the
 * listen queue until a port is free. Bytes are relayed both ways through bounded buffers with
 * poll(2): neither side blocks the other (the router stops reading a
 * client whose output it cannot hand on, and then that output must still
 * be read). The relay keeps the libvirt framing in view (packet length
 * words) so that a client that dies in the middle of a packet cannot leave
 * the router's session half-way: its header is only passed on whole, a
 * cut body is completed with zeros, and then the bridge itself sends
 * CONNECT_CLOSE and drops everything up to its reply. The router resets
 * the channel's session on that close and ends its runs (docs/hypervisor.md),
 * so the next client on that port starts clean. A port is opened at its
 * first client and kept (QEMU 7.2 does not poll the host socket again for
 * a port the guest reopens): until then a program may open the device
 * itself. */
#define _GNU_SOURCE
#include "bridge.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <fleet/abi/guest.h>

#define REMOTE_PROGRAM 0x20008086u
#define HEADER         28
#define MAX_PACKET     (4u + 33554432u) /* libvirt's VIR_NET_MESSAGE_MAX, with the length word */
#define BUF            (64 * 1024)
#define CLOSE_SERIAL   0x7ffffff0u
#define DRAIN_MS       5000

struct framer {
    unsigned char hdr[HEADER];
    size_t have;      /* header bytes so far */
    uint64_t body;    /* body bytes still to come */
    bool close_reply; /* the packet in progress is the reply to our close */
};

struct buf {
    unsigned char data[BUF];
    size_t len;
};

static uint32_t be32(const unsigned char* p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(unsigned char* p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static long long mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void note(const char* what)
{
    char line[256];
    int n = snprintf(line, sizeof line, "fleet-init: hypervisor bridge: %s: %s\n", what, strerror(errno));
    if (write(2, line, (size_t)n) < 0) return;
}

/* How many client bytes to read next: the rest of a header (held until
 * whole), or body bytes that fit; 0 while a whole header waits for room. */
static size_t client_want(const struct framer* f, const struct buf* out)
{
    if (f->have == HEADER) return 0;
    if (!f->body) return HEADER - f->have;
    size_t room = BUF - out->len;
    return f->body < room ? (size_t)f->body : room;
}

/* n client bytes (at most client_want) into out: false when the client
 * sent a length no packet can have. */
static bool take_client(struct framer* f, const unsigned char* p, size_t n, struct buf* out)
{
    if (f->body) {
        memcpy(out->data + out->len, p, n);
        out->len += n;
        f->body -= n;
        return true;
    }
    memcpy(f->hdr + f->have, p, n);
    f->have += n;
    if (f->have < HEADER) return true;
    uint32_t len = be32(f->hdr);
    return len >= HEADER && len <= MAX_PACKET;
}

/* A whole header goes out once there is room for it. */
static void flush_held_header(struct framer* f, struct buf* out)
{
    if (f->have == HEADER && BUF - out->len >= HEADER) {
        memcpy(out->data + out->len, f->hdr, HEADER);
        out->len += HEADER;
        f->have = 0;
        f->body = be32(f->hdr) - HEADER;
    }
}

/* Router bytes seen go through the framer; true once the reply to our
 * close has been read whole. */
static bool watch_router(struct framer* f, const unsigned char* p, size_t n)
{
    size_t i = 0;
    bool done = false;
    while (i < n) {
        if (f->body) {
            size_t k = n - i;
            if (k > f->body) k = (size_t)f->body;
            f->body -= k;
            i += k;
            if (!f->body && f->close_reply) done = true;
            continue;
        }
        size_t k = HEADER - f->have;
        if (k > n - i) k = n - i;
        memcpy(f->hdr + f->have, p + i, k);
        f->have += k;
        i += k;
        if (f->have < HEADER) break;
        f->have = 0;
        uint32_t len = be32(f->hdr);
        f->body = len > HEADER ? len - HEADER : 0;
        f->close_reply = be32(f->hdr + 4) == REMOTE_PROGRAM && be32(f->hdr + 16) == 1 /* reply */ &&
                         be32(f->hdr + 20) == CLOSE_SERIAL;
        if (!f->body && f->close_reply) done = true;
    }
    return done;
}

/* One port of the channel: idle, relaying a client, or closing that
 * client's session (the rest of its packet, our CONNECT_CLOSE, and
 * everything the router sends up to the close's reply). */
enum { IDLE, RELAY, CLOSING };
struct slot {
    const char* dev;
    int port, client, state;
    struct framer cf, rf;
    struct buf to_port, to_client;
    uint64_t zeros;    /* of a body the client did not finish */
    bool close_queued; /* our CONNECT_CLOSE, not yet in to_port */
    long long deadline;
};
static struct slot slots[FLEET_HYPERVISOR_PORTS];
static int nslots;

static void start_closing(struct slot* s)
{
    close(s->client);
    s->client = -1;
    s->zeros = s->cf.body; /* a header still held back never went out */
    s->cf = (struct framer){0};
    s->to_client.len = 0;
    s->close_queued = true;
    s->state = CLOSING;
    s->deadline = mono_ms() + DRAIN_MS;
}

static void feed_closing(struct slot* s)
{
    while (s->zeros && s->to_port.len < BUF) {
        size_t k = BUF - s->to_port.len;
        if (k > s->zeros) k = (size_t)s->zeros;
        memset(s->to_port.data + s->to_port.len, 0, k);
        s->to_port.len += k;
        s->zeros -= k;
    }
    if (!s->zeros && s->close_queued && BUF - s->to_port.len >= HEADER) {
        unsigned char* c = s->to_port.data + s->to_port.len;
        put32(c, HEADER);
        put32(c + 4, REMOTE_PROGRAM);
        put32(c + 8, 1);  /* version */
        put32(c + 12, 2); /* REMOTE_PROC_CONNECT_CLOSE */
        put32(c + 16, 0); /* call */
        put32(c + 20, CLOSE_SERIAL);
        put32(c + 24, 0); /* ok */
        s->to_port.len += HEADER;
        s->close_queued = false;
    }
}

/* The port went away (the router dropped the channel): nothing more to do
 * with it until a client asks again. */
static void port_lost(struct slot* s)
{
    if (s->client >= 0) close(s->client);
    close(s->port);
    s->client = s->port = -1;
    s->state = IDLE;
}

static void take(struct slot* s, int client)
{
    if (s->port < 0) s->port = open(s->dev, O_RDWR | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (s->port < 0) {
        note("cannot open the channel's port (is a program using the device itself?)");
        close(client);
        return;
    }
    s->client = client;
    s->state = RELAY;
    s->cf = s->rf = (struct framer){0};
    s->to_port.len = s->to_client.len = 0;
}

/* Moves what is buffered from b to fd (non-blocking): false on an error. */
static bool push(int fd, struct buf* b)
{
    ssize_t w = write(fd, b->data, b->len);
    if (w < 0) return errno == EAGAIN || errno == EINTR;
    memmove(b->data, b->data + w, b->len - (size_t)w);
    b->len -= (size_t)w;
    return true;
}

static void relay(struct slot* s, short crev, short prev)
{
    if (crev & (POLLERR | POLLNVAL)) return start_closing(s);
    size_t want = client_want(&s->cf, &s->to_port);
    if (want && (crev & (POLLIN | POLLHUP))) {
        unsigned char in[BUF];
        ssize_t n = read(s->client, in, want);
        if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) return start_closing(s);
        if (n > 0 && !take_client(&s->cf, in, (size_t)n, &s->to_port)) {
            errno = EPROTO;
            note("a client sent a packet length no packet has; dropping it");
            return start_closing(s); /* nothing of that header went out */
        }
    }
    if ((prev & POLLOUT) && s->to_port.len && !push(s->port, &s->to_port)) return port_lost(s);
    if (prev & POLLIN) {
        ssize_t n = read(s->port, s->to_client.data + s->to_client.len, BUF - s->to_client.len);
        if (n > 0) {
            watch_router(&s->rf, s->to_client.data + s->to_client.len, (size_t)n);
            s->to_client.len += (size_t)n;
        } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
            return port_lost(s);
        }
    }
    if ((crev & POLLOUT) && s->to_client.len && !push(s->client, &s->to_client)) start_closing(s);
}

static void closing(struct slot* s, short prev)
{
    if ((prev & POLLOUT) && s->to_port.len && !push(s->port, &s->to_port)) return port_lost(s);
    if (prev & POLLIN) {
        unsigned char in[BUF];
        ssize_t n = read(s->port, in, sizeof in);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return port_lost(s);
        if (n > 0 && watch_router(&s->rf, in, (size_t)n) && !s->to_port.len && !s->zeros && !s->close_queued)
            s->state = IDLE;
    }
    if (s->state == CLOSING && mono_ms() > s->deadline) {
        errno = ETIMEDOUT;
        note("the router did not answer a closed session's CONNECT_CLOSE");
        port_lost(s); /* its stream is out of step now: open it afresh next time */
    }
}

static void serve(int lsock)
{
    for (;;) {
        struct pollfd p[1 + 2 * FLEET_HYPERVISOR_PORTS];
        bool idle = false;
        int timeout = -1;
        long long now = mono_ms();
        for (int i = 0; i < nslots; i++) {
            struct slot* s = &slots[i];
            p[1 + 2 * i] = (struct pollfd){.fd = -1};
            p[2 + 2 * i] = (struct pollfd){.fd = -1};
            if (s->state == IDLE) idle = true;
            if (s->state == RELAY) {
                flush_held_header(&s->cf, &s->to_port);
                size_t want = client_want(&s->cf, &s->to_port);
                p[1 + 2 * i] = (struct pollfd){
                    .fd = s->client, .events = (short)((want ? POLLIN : 0) | (s->to_client.len ? POLLOUT : 0))};
                p[2 + 2 * i] = (struct pollfd){
                    .fd = s->port,
                    .events = (short)((s->to_client.len < BUF ? POLLIN : 0) | (s->to_port.len ? POLLOUT : 0))};
            } else if (s->state == CLOSING) {
                feed_closing(s);
                p[2 + 2 * i] =
                    (struct pollfd){.fd = s->port, .events = (short)(POLLIN | (s->to_port.len ? POLLOUT : 0))};
                int left = s->deadline > now ? (int)(s->deadline - now) : 0;
                if (timeout < 0 || left < timeout) timeout = left;
            }
        }
        p[0] = (struct pollfd){.fd = idle ? lsock : -1, .events = POLLIN};
        if (poll(p, (nfds_t)(1 + 2 * nslots), timeout) < 0) continue;
        if (p[0].revents & POLLIN) {
            int c = accept4(lsock, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
            for (int i = 0; c >= 0 && i < nslots; i++)
                if (slots[i].state == IDLE) {
                    take(&slots[i], c);
                    c = -1;
                }
            if (c >= 0) close(c);
        }
        for (int i = 0; i < nslots; i++) {
            struct slot* s = &slots[i];
            if (s->state == RELAY && p[1 + 2 * i].fd >= 0)
                relay(s, p[1 + 2 * i].revents, p[2 + 2 * i].revents);
            else if (s->state == CLOSING)
                closing(s, p[2 + 2 * i].revents);
        }
    }
}

static int listen_socket(void)
{
    mkdir("/run", 0755);
    mkdir("/run/fleet", 0755);
    unlink(FLEET_HYPERVISOR_SOCKET);
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    strncpy(a.sun_path, FLEET_HYPERVISOR_SOCKET, sizeof a.sun_path - 1);
    if (s < 0 || bind(s, (struct sockaddr*)&a, sizeof a) < 0 || listen(s, 16) < 0) return -1;
    /* The VM is the unit of trust: every program in it may use its channel. */
    chmod(FLEET_HYPERVISOR_SOCKET, 0666);
    return s;
}

pid_t hypervisor_bridge_start(const char* const* devs, int ndevs, const int* close_fds, int n)
{
    /* Listening before the fork: the socket is there when the program starts. */
    int s = listen_socket();
    if (s < 0) return -1;
    pid_t pid = fork();
    if (pid != 0) {
        close(s);
        return pid;
    }
    for (int i = 0; i < n; i++)
        if (close_fds[i] > 2) close(close_fds[i]);
    nslots = ndevs < FLEET_HYPERVISOR_PORTS ? ndevs : FLEET_HYPERVISOR_PORTS;
    for (int i = 0; i < nslots; i++) slots[i] = (struct slot){.dev = devs[i], .port = -1, .client = -1};
    serve(s);
    _exit(0);
}
