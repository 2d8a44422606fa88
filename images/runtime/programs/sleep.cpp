// sleep: waits for the sum of its arguments, each a number of seconds
// (may be fractional) with an optional suffix s, m, h or d, like GNU sleep.
#include "rt.hpp"

namespace {

// "1.5m" -> nanoseconds; false if malformed.
bool parse_duration(const char* s, uint64_t* ns)
{
    uint64_t whole = 0, frac = 0, frac_scale = 1;
    bool digits = false;
    for (; *s >= '0' && *s <= '9'; s++, digits = true) {
        if (whole > 1'000'000'000'000ull) return false;
        whole = whole * 10 + static_cast<uint64_t>(*s - '0');
    }
    if (*s == '.') {
        for (s++; *s >= '0' && *s <= '9'; s++, digits = true)
            if (frac_scale < 1'000'000'000ull) frac = frac * 10 + static_cast<uint64_t>(*s - '0'), frac_scale *= 10;
    }
    if (!digits) return false;
    uint64_t mul = 1;
    if (*s == 's')
        mul = 1, s++;
    else if (*s == 'm')
        mul = 60, s++;
    else if (*s == 'h')
        mul = 3600, s++;
    else if (*s == 'd')
        mul = 86400, s++;
    if (*s) return false;
    *ns = (whole * 1'000'000'000ull + frac * (1'000'000'000ull / frac_scale)) * mul;
    return true;
}

}  // namespace

int main(int argc, char** argv)
{
    if (argc < 2) {
        rt::eprintf("sleep: missing operand\nTry 'sleep --help' for more information.\n");
        return 1;
    }
    uint64_t total = 0;
    for (int i = 1; i < argc; i++) {
        uint64_t ns;
        if (!parse_duration(argv[i], &ns)) {
            rt::eprintf("sleep: invalid time interval '%s'\nTry 'sleep --help' for more information.\n", argv[i]);
            return 1;
        }
        total += ns;
    }
    rt::sleep_ns(total);
    return 0;
}
