// wc: counts lines, words and bytes of stdin like GNU wc in the C locale
// reading a pipe: `      L       W       B` (each count at least 7 wide, one
// space apart); a single selected count is printed without padding.
// Options: -l -w -c (also -m = bytes in the C locale), combined (-lw) or
// long (--lines --words --bytes --chars).  File arguments are not supported.
#include "rt.hpp"

namespace {

[[noreturn]] void usage_error(const char* fmt, const char* what)
{
    rt::eprintf(fmt, what);
    rt::eprintf("Try 'wc --help' for more information.\n");
    rt::exit(1);
}

}  // namespace

int main(int argc, char** argv)
{
    bool lines = false, words = false, bytes = false, chars = false;
    for (int i = 1; i < argc; i++) {
        const char* a = argv[i];
        if (!rt::strcmp(a, "--lines"))
            lines = true;
        else if (!rt::strcmp(a, "--words"))
            words = true;
        else if (!rt::strcmp(a, "--bytes"))
            bytes = true;
        else if (!rt::strcmp(a, "--chars"))
            chars = true;
        else if (a[0] == '-' && a[1] == '-' && a[2])
            usage_error("wc: unrecognized option '%s'\n", a);
        else if (a[0] == '-' && a[1] && a[1] != '-') {
            for (const char* p = a + 1; *p; p++) {
                if (*p == 'l')
                    lines = true;
                else if (*p == 'w')
                    words = true;
                else if (*p == 'c')
                    bytes = true;
                else if (*p == 'm')
                    chars = true;
                else {
                    char opt[2] = {*p, 0};
                    usage_error("wc: invalid option -- '%s'\n", opt);
                }
            }
        } else {
            rt::eprintf("wc: %s: file arguments are not supported (reads stdin only)\n", a);
            return 1;
        }
    }
    if (!lines && !words && !bytes && !chars) lines = words = bytes = true;

    // C locale: the separators end a word; other printable characters
    // (0x21..0x7e) start or continue one; the rest change nothing.
    static bool sep[256], printable[256];
    for (int c = 0; c < 256; c++) {
        sep[c] = c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
        printable[c] = c > 0x20 && c < 0x7f;
    }
    static unsigned char buf[64 * 1024];
    uint64_t nl = 0, nw = 0, nb = 0;
    bool in_word = false;
    for (;;) {
        long n = rt::read(rt::in, buf, sizeof buf);
        if (n < 0) return 1;
        if (n == 0) break;
        nb += static_cast<uint64_t>(n);
        for (long i = 0; i < n; i++) {
            unsigned char c = buf[i];
            if (c == '\n') nl++;
            if (sep[c]) {
                nw += in_word;
                in_word = false;
            } else if (printable[c]) {
                in_word = true;
            }
        }
    }
    nw += in_word;

    uint64_t shown[4];
    int count = 0;
    if (lines) shown[count++] = nl;
    if (words) shown[count++] = nw;
    if (chars) shown[count++] = nb;
    if (bytes) shown[count++] = nb;
    int width = count == 1 ? 1 : 7;
    for (int i = 0; i < count; i++)
        rt::printf(i ? " %*llu" : "%*llu", width, static_cast<unsigned long long>(shown[i]));
    rt::printf("\n");
    return 0;
}
