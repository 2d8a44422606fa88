// echo: prints its arguments like GNU coreutils' /bin/echo: separated by
// one space, then a newline.  Leading option words made only of n, e and E
// work as in GNU: -n (no newline), -e (backslash escapes), -E (none).
#include "rt.hpp"

namespace {

bool option_word(const char* a)
{
    if (a[0] != '-' || !a[1]) return false;
    for (const char* p = a + 1; *p; p++)
        if (*p != 'n' && *p != 'e' && *p != 'E') return false;
    return true;
}

int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Writes s with GNU echo -e escapes; false after \c (stop all output).
bool put_escaped(const char* s)
{
    while (*s) {
        char c = *s++;
        if (c != '\\' || !*s) {
            rt::write(rt::out, &c, 1);
            continue;
        }
        c = *s++;
        switch (c) {
            case 'a':
                c = '\a';
                break;
            case 'b':
                c = '\b';
                break;
            case 'c':
                return false;
            case 'e':
                c = '\x1b';
                break;
            case 'f':
                c = '\f';
                break;
            case 'n':
                c = '\n';
                break;
            case 'r':
                c = '\r';
                break;
            case 't':
                c = '\t';
                break;
            case 'v':
                c = '\v';
                break;
            case '\\':
                c = '\\';
                break;
            case 'x': {
                int v = hexval(*s);
                if (v < 0) {  // not an escape: print it as is
                    rt::write(rt::out, "\\x", 2);
                    continue;
                }
                s++;
                int w = hexval(*s);
                if (w >= 0) v = v * 16 + w, s++;
                c = static_cast<char>(v);
                break;
            }
            case '0': {
                int v = 0;
                for (int i = 0; i < 3 && *s >= '0' && *s <= '7'; i++) v = v * 8 + (*s++ - '0');
                c = static_cast<char>(v);
                break;
            }
            default:
                rt::write(rt::out, "\\", 1);
                break;
        }
        rt::write(rt::out, &c, 1);
    }
    return true;
}

}  // namespace

int main(int argc, char** argv)
{
    bool newline = true, escapes = false;
    int i = 1;
    for (; i < argc && option_word(argv[i]); i++)
        for (const char* p = argv[i] + 1; *p; p++) {
            if (*p == 'n')
                newline = false;
            else if (*p == 'e')
                escapes = true;
            else
                escapes = false;
        }
    for (int first = i; i < argc; i++) {
        if (i > first) rt::write(rt::out, " ", 1);
        if (escapes) {
            if (!put_escaped(argv[i])) return 0;
        } else {
            rt::write(rt::out, argv[i], strlen(argv[i]));
        }
    }
    if (newline) rt::write(rt::out, "\n", 1);
    return 0;
}
