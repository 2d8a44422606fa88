// fleet Linux guest init: network interfaces (see net.h). Plain ioctls, no
// netlink: an IPv4 address, its netmask and broadcast, a default route.
#define _GNU_SOURCE
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <fleet/abi/guest.h>

static char error[256];

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

// The name of the interface with this MAC, into `name` (IFNAMSIZ).
static bool find_by_mac(int sock, const unsigned char mac[6], char* name)
{
    struct if_nameindex* list = if_nameindex();
    if (!list) return false;
    bool found = false;
    for (struct if_nameindex* i = list; i->if_index != 0 && !found; ++i) {
        struct ifreq r = {0};
        snprintf(r.ifr_name, IFNAMSIZ, "%s", i->if_name);
        if (ioctl(sock, SIOCGIFHWADDR, &r) == 0 && memcmp(r.ifr_hwaddr.sa_data, mac, 6) == 0) {
            snprintf(name, IFNAMSIZ, "%s", i->if_name);
            found = true;
        }
    }
    if_freenameindex(list);
    return found;
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

// "MAC[,A.B.C.D/P[,GW]]"
static const char* configure_one(int sock, const char* spec, int wait_ms)
{
    unsigned m[6];
    int off = 0;
    if (sscanf(spec, "%2x:%2x:%2x:%2x:%2x:%2x%n", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5], &off) != 6 || off != 17)
        return snprintf(error, sizeof error, "network: bad MAC in '%s'", spec), error;
    unsigned char mac[6];
    for (int i = 0; i < 6; ++i) mac[i] = (unsigned char)m[i];
    char name[IFNAMSIZ] = "";
    for (int waited = 0; !find_by_mac(sock, mac, name); waited += 10) {
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

bool nets_wanted(char* const* words, int nwords)
{
    for (int i = 0; i < nwords; ++i)
        if (strncmp(words[i], FLEET_CMDLINE_NET, strlen(FLEET_CMDLINE_NET)) == 0) return true;
    return false;
}

const char* configure_nets(char* const* words, int nwords, int wait_ms)
{
    if (!nets_wanted(words, nwords)) return NULL;
    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0) return failed("socket", "");
    const char* e = set_up(sock, "lo");
    for (int i = 0; i < nwords && !e; ++i) {
        int idx, off = 0;
        if (sscanf(words[i], FLEET_CMDLINE_NET "%d=%n", &idx, &off) == 1 && off > 0 && idx >= 0 && idx < FLEET_MAX_NETS)
            e = configure_one(sock, words[i] + off, wait_ms);
    }
    close(sock);
    return e;
}
