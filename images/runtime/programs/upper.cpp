// upper: stdin to stdout with a-z mapped to A-Z (like `tr a-z A-Z`).
#include "rt.hpp"

int main(int argc, char** argv)
{
    if (argc > 1) {
        rt::eprintf("upper: extra operand '%s'\n", argv[1]);
        return 1;
    }
    static char buf[64 * 1024];
    for (;;) {
        long n = rt::read(rt::in, buf, sizeof buf);
        if (n <= 0) return n == 0 ? 0 : 1;
        // Eight bytes at a time: set bit 5 off exactly in the bytes 'a'..'z'.
        long i = 0;
        for (; i + 8 <= n; i += 8) {
            uint64_t w;
            memcpy(&w, buf + i, 8);
            constexpr uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
            uint64_t low7 = w & ~high;                         // bytes without their top bit
            uint64_t ge_a = (low7 + (0x80 - 'a') * ones);      // top bit: low7 >= 'a'
            uint64_t gt_z = (low7 + (0x80 - 'z' - 1) * ones);  // top bit: low7 > 'z'
            uint64_t is_lower = ge_a & ~gt_z & ~w & high;      // and the byte itself < 0x80
            w &= ~(is_lower >> 2);                             // 0x80 >> 2 = 0x20
            memcpy(buf + i, &w, 8);
        }
        for (; i < n; i++)
            if (buf[i] >= 'a' && buf[i] <= 'z') buf[i] = static_cast<char>(buf[i] - 32);
        if (rt::write(rt::out, buf, static_cast<size_t>(n)) < 0) return 141;
    }
}
