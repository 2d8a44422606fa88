// fleet runtime: words of the kernel command line QEMU writes. Pure: it
// also compiles for the host, where tests/cmdline_test.cpp checks it.
#include "core/cmdline.hpp"

namespace rt {

namespace {

bool starts_with(const char* s, const char* prefix)
{
    while (*prefix)
        if (*s++ != *prefix++) return false;
    return true;
}

}  // namespace

unsigned virtio_gsi_from_cmdline(const char* cmdline, uintptr_t base)
{
    constexpr char key[] = "virtio_mmio.device=";
    for (const char* p = cmdline; p && *p; p++) {
        if ((p != cmdline && p[-1] != ' ') || !starts_with(p, key)) continue;
        const char* at = p + sizeof key - 1;  // the size, then "@0x" and the address
        while (*at && *at != ' ' && *at != '@') at++;
        if (!starts_with(at, "@0x")) continue;
        uint64_t addr = 0;
        const char* h = at + 3;
        for (; *h && *h != ':' && *h != ' '; h++) {
            int d = *h >= '0' && *h <= '9' ? *h - '0' : *h >= 'a' && *h <= 'f' ? *h - 'a' + 10 : -1;
            if (d < 0 || addr >> 60) break;
            addr = addr << 4 | static_cast<uint64_t>(d);
        }
        if (*h != ':' || h == at + 3 || addr != base) continue;
        unsigned gsi = 0;
        const char* g = h + 1;
        for (; *g >= '0' && *g <= '9' && gsi < 1000; g++) gsi = gsi * 10 + static_cast<unsigned>(*g - '0');
        if (g != h + 1 && (*g == 0 || *g == ' ')) return gsi;
    }
    return 0;
}

}  // namespace rt
