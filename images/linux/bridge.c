/* fleet Linux init: the hypervisor channel as a unix socket (bridge.h).
 *
 * One client at a time: the channel is one byte stream, one libvirt
 * connection, so a second client waits in the listen queue until the
 * first is done. Bytes are relayed both ways through bounded buffers with
 * poll(2): neither side blocks the other (the router stops reading a
 * client whose output it cannot hand on, and then that output must still
 * be read). The relay keeps the libvirt framing in view (packet length
 * words) so that a client that dies in the middle of a packet cannot leave
 * the router's session half-way: its header is only passed on whole, a
 * cut body is completed with zeros, and then the bridge itself sends
 * CONNECT_CLOSE and drops everything up to its reply. The router resets
 * the channel's session on that close and ends its runs (docs/hypervisor.md),
 * so the next client starts clean. The port is opened at the first client
 * and kept: until then a program may open the device itself. */
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

/* Writes all of n bytes to a blocking fd. */
static bool write_all_fd(int fd, const void* p, size_t n)
{
    const char* s = p;
    while (n) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        s += w;
        n -= (size_t)w;
    }
    return true;
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
        f->body = be32(f->hdr) - (be32(f->hdr) >= HEADER ? HEADER : be32(f->hdr));
        f->close_reply = be32(f->hdr + 4) == REMOTE_PROGRAM && be32(f->hdr + 16) == 1 /* reply */ &&
                         be32(f->hdr + 20) == CLOSE_SERIAL;
        if (!f->body && f->close_reply) done = true;
    }
    return done;
}

/* One client's session on the port. */
static void session(int client, int port)
{
    struct framer cf = {0}, rf = {0};
    static struct buf to_port, to_client;
    to_port.len = to_client.len = 0;
    for (;;) {
        flush_held_header(&cf, &to_port);
        size_t want = client_want(&cf, &to_port);
        struct pollfd p[2] = {
            {.fd = client, .events = (short)((want ? POLLIN : 0) | (to_client.len ? POLLOUT : 0))},
            {.fd = port, .events = (short)((to_client.len < BUF ? POLLIN : 0) | (to_port.len ? POLLOUT : 0))},
        };
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (p[0].revents & (POLLERR | POLLNVAL)) break;
        if (want && (p[0].revents & (POLLIN | POLLHUP))) {
            unsigned char in[BUF];
            ssize_t n = read(client, in, want);
            if (n <= 0) {
                if (n < 0 && errno == EINTR) continue;
                break;
            }
            if (!take_client(&cf, in, (size_t)n, &to_port)) {
                errno = EPROTO;
                note("a client sent a packet length no packet has; dropping it");
                cf.have = 0; /* nothing of that header went out */
                break;
            }
        }
        if ((p[1].revents & POLLOUT) && to_port.len) {
            ssize_t w = write(port, to_port.data, to_port.len);
            if (w > 0) {
                memmove(to_port.data, to_port.data + w, to_port.len - (size_t)w);
                to_port.len -= (size_t)w;
            }
        }
        if (p[1].revents & POLLIN) {
            ssize_t n = read(port, to_client.data + to_client.len, BUF - to_client.len);
            if (n > 0) {
                watch_router(&rf, to_client.data + to_client.len, (size_t)n);
                to_client.len += (size_t)n;
            }
        }
        if ((p[0].revents & POLLOUT) && to_client.len) {
            ssize_t w = write(client, to_client.data, to_client.len);
            if (w < 0 && errno != EAGAIN && errno != EINTR) break;
            if (w > 0) {
                memmove(to_client.data, to_client.data + w, to_client.len - (size_t)w);
                to_client.len -= (size_t)w;
            }
        }
    }

    /* The client is gone: finish its packet, close its session, and drop
     * what the router still sends up to the close's reply. */
    if (!write_all_fd(port, to_port.data, to_port.len)) return;
    static const unsigned char zeros[BUF];
    while (cf.body) {
        size_t k = cf.body < sizeof zeros ? (size_t)cf.body : sizeof zeros;
        if (!write_all_fd(port, zeros, k)) return;
        cf.body -= k;
    }
    unsigned char close_call[HEADER];
    put32(close_call, HEADER);
    put32(close_call + 4, REMOTE_PROGRAM);
    put32(close_call + 8, 1);  /* version */
    put32(close_call + 12, 2); /* REMOTE_PROC_CONNECT_CLOSE */
    put32(close_call + 16, 0); /* call */
    put32(close_call + 20, CLOSE_SERIAL);
    put32(close_call + 24, 0); /* ok */
    if (!write_all_fd(port, close_call, sizeof close_call)) return;
    long long deadline = mono_ms() + DRAIN_MS;
    for (;;) {
        long long left = deadline - mono_ms();
        if (left <= 0) return;
        struct pollfd p = {.fd = port, .events = POLLIN};
        if (poll(&p, 1, (int)left) <= 0) continue;
        unsigned char in[BUF];
        ssize_t n = read(port, in, sizeof in);
        if (n <= 0) return;
        if (watch_router(&rf, in, (size_t)n)) return;
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

static void serve(int s, const char* dev)
{
    int port = -1;
    for (;;) {
        int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0) continue;
        /* Opened at the first client and kept: QEMU 7.2 takes no notice of
         * a port the guest opens again (it polls the host socket only after
         * some other event), so a reply would wait in the socket. */
        if (port < 0) port = open(dev, O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (port < 0)
            note("cannot open the channel's port (is a program using the device itself?)");
        else
            session(c, port);
        close(c);
    }
}

pid_t hypervisor_bridge_start(const char* dev, const int* close_fds, int n)
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
    serve(s, dev);
    _exit(0);
}
