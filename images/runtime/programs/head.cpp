// head: the first N lines of stdin (default 10): -n N, -nN, -N, or the
// first N bytes: -c N, -cN.  N may not be negative (GNU's "all but the
// last N" is not supported).
#include "rt.hpp"

namespace {

[[noreturn]] void bad(const char* what, const char* value)
{
    rt::eprintf("head: invalid number of %s: '%s'\n", what, value);
    rt::exit(1);
}

// GNU suffixes: b 512, k/K 1024, m/M 1024^2, g/G 1024^3, kB 1000, MB 1000^2 ...
bool parse_count(const char* s, uint64_t* out)
{
    char digits[32];
    size_t n = 0;
    while (s[n] >= '0' && s[n] <= '9' && n < sizeof digits - 1) digits[n] = s[n], n++;
    if (n == 0) return false;
    digits[n] = 0;
    uint64_t v;
    if (!rt::parse_u64(digits, &v)) return false;
    const char* suf = s + n;
    uint64_t mul = 1;
    if (*suf) {
        static const char units[] = "kmgtpe";
        char u = *suf >= 'A' && *suf <= 'Z' ? static_cast<char>(*suf + 32) : *suf;
        if (u == 'b' && !suf[1]) {
            mul = 512;
        } else {
            int power = 0;
            for (int i = 0; units[i]; i++)
                if (units[i] == u) power = i + 1;
            if (!power) return false;
            uint64_t base = 1024;
            if (suf[1] == 'B' && !suf[2])
                base = 1000;
            else if (suf[1] == 'i' && suf[2] == 'B' && !suf[3])
                base = 1024;
            else if (suf[1])
                return false;
            for (int i = 0; i < power; i++) mul *= base;
        }
    }
    if (mul && v > ~uint64_t(0) / mul)
        v = ~uint64_t(0);  // GNU clamps huge counts
    else
        v *= mul;
    *out = v;
    return true;
}

}  // namespace

int main(int argc, char** argv)
{
    uint64_t count = 10;
    bool by_bytes = false;
    for (int i = 1; i < argc; i++) {
        const char* a = argv[i];
        if ((a[0] == '-' && (a[1] == 'n' || a[1] == 'c'))) {
            by_bytes = a[1] == 'c';
            const char* v = a[2] ? a + 2 : (i + 1 < argc ? argv[++i] : nullptr);
            if (!v) {
                rt::eprintf("head: option requires an argument -- '%c'\n", a[1]);
                rt::eprintf("Try 'head --help' for more information.\n");
                return 1;
            }
            if (!parse_count(v, &count)) bad(by_bytes ? "bytes" : "lines", v);
        } else if (a[0] == '-' && a[1] >= '0' && a[1] <= '9') {
            by_bytes = false;
            if (!parse_count(a + 1, &count)) bad("lines", a + 1);
        } else {
            rt::eprintf("head: %s: file arguments are not supported (reads stdin only)\n", a);
            return 1;
        }
    }
    static char buf[64 * 1024];
    while (count > 0) {
        long n = rt::read(rt::in, buf, sizeof buf);
        if (n <= 0) return n == 0 ? 0 : 1;
        long take = n;
        if (by_bytes) {
            if (static_cast<uint64_t>(n) > count) take = static_cast<long>(count);
            count -= static_cast<uint64_t>(take);
        } else {
            for (long i = 0; i < n; i++)
                if (buf[i] == '\n' && --count == 0) {
                    take = i + 1;
                    break;
                }
        }
        if (rt::write(rt::out, buf, static_cast<size_t>(take)) < 0) return 141;
    }
    return 0;
}
