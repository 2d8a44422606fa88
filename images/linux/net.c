// fleet Linux guest init: network interfaces (see net.h). Plain ioctls, no
// netlink: an IPv4 address, its netmask and broadcast, a default route.
#define _GNU_SOURCE
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <net/route.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <fleet/abi/guest.h>

static char error[256];

// A fresh guest numbers its interfaces from 1 (lo) up: a few virtio-net
// devices and nothing that comes and goes.
#define MAX_IFINDEX 32

static const char* failed(const char* what, const char* name)
{
    snprintf(error, sizeof error, "network %s: %s: %s", name, what, strerror(errno));
    return error;
}

static void nap(void)
{
    struct timespec ts = {0, 10 * 1000000};
    nanosleep(&ts, NULL);
}

// The name of the interface with this MAC, into `name` (IFNAMSIZ). By
// index with ioctls, not if_nameindex(): its netlink dump is code a guest
// restored from a snapshot has to translate again under TCG (~10 ms).
static bool find_by_mac(int sock, const unsigned char mac[6], char* name)
{
    for (int index = 1; index <= MAX_IFINDEX; ++index) {
        struct ifreq r = {0};
        r.ifr_ifindex = index;
        if (ioctl(sock, SIOCGIFNAME, &r) != 0) continue;
        if (ioctl(sock, SIOCGIFHWADDR, &r) == 0 && memcmp(r.ifr_hwaddr.sa_data, mac, 6) == 0) {
            snprintf(name, IFNAMSIZ, "%s", r.ifr_name);
            return true;
        }
    }
    return false;
}

static struct sockaddr in_addr_of(in_addr_t a)
{
    struct sockaddr s;
    memset(&s, 0, sizeof s);
    struct sockaddr_in* in = (struct sockaddr_in*)&s;
    in->sin_family = AF_INET;
    in->sin_addr.s_addr = a;
    return s;
}

static const char* set_up(int sock, const char* name)
{
    struct ifreq r = {0};
    snprintf(r.ifr_name, IFNAMSIZ, "%s", name);
    if (ioctl(sock, SIOCGIFFLAGS, &r) != 0) return failed("flags", name);
    r.ifr_flags |= IFF_UP;
    if (ioctl(sock, SIOCSIFFLAGS, &r) != 0) return failed("up", name);
    return NULL;
}

// "xx:xx:xx:xx:xx:xx" at the start of s, into mac.
static bool parse_mac(const char* s, unsigned char mac[6])
{
    unsigned m[6];
    int off = 0;
    if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%n", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5], &off) != 6 || off != 17)
        return false;
    for (int i = 0; i < 6; ++i) mac[i] = (unsigned char)m[i];
    return true;
}

// A guest restored from a snapshot has the MAC the snapshot was made with
// (FLEET_NET_SNAPSHOT_MAC "N"); the interface is down, so its MAC can be set.
static const char* set_mac(int sock, const char* name, const unsigned char mac[6])
{
    struct ifreq r = {0};
    snprintf(r.ifr_name, IFNAMSIZ, "%s", name);
    r.ifr_hwaddr.sa_family = ARPHRD_ETHER;
    memcpy(r.ifr_hwaddr.sa_data, mac, 6);
    if (ioctl(sock, SIOCSIFHWADDR, &r) != 0) return failed("MAC", name);
    return NULL;
}

// Interface `index`: "MAC[,A.B.C.D/P[,GW]]"
static const char* configure_one(int sock, int index, const char* spec, int wait_ms)
{
    unsigned char mac[6], saved[6];
    if (!parse_mac(spec, mac) || (spec[17] != 0 && spec[17] != ','))
        return snprintf(error, sizeof error, "network: bad MAC in '%s'", spec), error;
    char saved_text[32];
    snprintf(saved_text, sizeof saved_text, FLEET_NET_SNAPSHOT_MAC "%d", index);
    parse_mac(saved_text, saved);
    char name[IFNAMSIZ] = "";
    for (int waited = 0; !find_by_mac(sock, mac, name); waited += 10) {
        if (find_by_mac(sock, saved, name)) {
            const char* e = set_mac(sock, name, mac);
            if (e) return e;
            break;
        }
        if (waited >= wait_ms)
            return snprintf(error, sizeof error, "network: no interface with MAC %.17s", spec), error;
        nap();
    }
    const char* rest = spec + 17;
    if (*rest == ',') {
        char addr[64] = "", gw[64] = "";
        unsigned prefix = 0;
        if (sscanf(rest + 1, "%63[0-9.]/%u,%63[0-9.]", addr, &prefix, gw) < 2 || prefix < 1 || prefix > 32)
            return snprintf(error, sizeof error, "network: bad address in '%s'", spec), error;
        in_addr_t a = inet_addr(addr), mask = htonl(prefix == 32 ? 0xffffffffu : ~(0xffffffffu >> prefix));
        struct ifreq r = {0};
        snprintf(r.ifr_name, IFNAMSIZ, "%s", name);
        r.ifr_addr = in_addr_of(a);
        if (ioctl(sock, SIOCSIFADDR, &r) != 0) return failed("address", name);
        r.ifr_netmask = in_addr_of(mask);
        if (ioctl(sock, SIOCSIFNETMASK, &r) != 0) return failed("netmask", name);
        r.ifr_broadaddr = in_addr_of(a | ~mask);
        if (ioctl(sock, SIOCSIFBRDADDR, &r) != 0) return failed("broadcast", name);
        const char* e = set_up(sock, name);
        if (e) return e;
        if (*gw) {
            struct rtentry rt;
            memset(&rt, 0, sizeof rt);
            rt.rt_dst = in_addr_of(INADDR_ANY);
            rt.rt_genmask = in_addr_of(INADDR_ANY);
            rt.rt_gateway = in_addr_of(inet_addr(gw));
            rt.rt_flags = RTF_UP | RTF_GATEWAY;
            rt.rt_dev = name;
            if (ioctl(sock, SIOCADDRT, &rt) != 0 && errno != EEXIST) return failed("default route", name);
        }
        return NULL;
    }
    return set_up(sock, name);
}

const char* configure_nets(char* const* nets, int n, int wait_ms)
{
    if (n == 0) return NULL;
    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0) return failed("socket", "");
    const char* e = set_up(sock, "lo");
    for (int i = 0; i < n && !e; ++i) e = configure_one(sock, i, nets[i], wait_ms);
    close(sock);
    return e;
}
