// fleet runtime: formatted output (see format.hpp).
#include "core/format.hpp"

#include "rt.hpp"

namespace rt::fmt {
namespace {

void emit(Sink* s, const char* p, size_t n)
{
    s->total += n;
    s->emit(s, p, n);
}
void pad(Sink* s, char c, int n)
{
    char block[32];
    memset(block, c, sizeof block);
    while (n > 0) {
        int k = n < 32 ? n : 32;
        emit(s, block, static_cast<size_t>(k));
        n -= k;
    }
}

}  // namespace

void emit_buf(Sink* s, const char* p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s->len + 1 < s->cap) s->buf[s->len] = p[i];
        s->len++;
    }
}

void format(Sink* s, const char* fmt, va_list ap)
{
    while (*fmt) {
        const char* lit = fmt;
        while (*fmt && *fmt != '%') fmt++;
        if (fmt > lit) emit(s, lit, static_cast<size_t>(fmt - lit));
        if (!*fmt) break;
        fmt++;
        bool left = false, zero = false, plus = false, space = false, alt = false;
        for (;; fmt++) {
            if (*fmt == '-')
                left = true;
            else if (*fmt == '0')
                zero = true;
            else if (*fmt == '+')
                plus = true;
            else if (*fmt == ' ')
                space = true;
            else if (*fmt == '#')
                alt = true;
            else
                break;
        }
        int width = 0, prec = -1;
        if (*fmt == '*') {
            width = va_arg(ap, int);
            if (width < 0) left = true, width = -width;
            fmt++;
        } else {
            while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
        }
        if (*fmt == '.') {
            fmt++;
            prec = 0;
            if (*fmt == '*') {
                prec = va_arg(ap, int);
                fmt++;
            } else {
                while (*fmt >= '0' && *fmt <= '9') prec = prec * 10 + (*fmt++ - '0');
            }
        }
        int lng = 0;  // 0 int, 1 long, 2 long long, -1 short, -2 char
        for (;; fmt++) {
            if (*fmt == 'l')
                lng++;
            else if (*fmt == 'h')
                lng--;
            else if (*fmt == 'z' || *fmt == 't' || *fmt == 'j')
                lng = 1;
            else
                break;
        }
        char conv = *fmt ? *fmt++ : '\0';
        char tmp[72];
        const char* body = tmp;
        size_t blen = 0;
        const char* prefix = "";
        switch (conv) {
            case '%':
                emit(s, "%", 1);
                continue;
            case 'c':
                tmp[0] = static_cast<char>(va_arg(ap, int));
                blen = 1;
                break;
            case 's': {
                body = va_arg(ap, const char*);
                if (!body) body = "(null)";
                blen = 0;
                while (body[blen] && (prec < 0 || blen < static_cast<size_t>(prec))) blen++;
                break;
            }
            case 'd':
            case 'i':
            case 'u':
            case 'x':
            case 'X':
            case 'o':
            case 'p': {
                uint64_t v;
                bool neg = false;
                unsigned base = conv == 'x' || conv == 'X' || conv == 'p' ? 16 : conv == 'o' ? 8 : 10;
                if (conv == 'p') {
                    v = reinterpret_cast<uintptr_t>(va_arg(ap, void*));
                    prefix = "0x";
                } else if (conv == 'd' || conv == 'i') {
                    int64_t sv = lng >= 2 ? va_arg(ap, long long) : lng == 1 ? va_arg(ap, long) : va_arg(ap, int);
                    if (lng == -1) sv = static_cast<short>(sv);
                    if (lng <= -2) sv = static_cast<signed char>(sv);
                    neg = sv < 0;
                    v = neg ? 0 - static_cast<uint64_t>(sv) : static_cast<uint64_t>(sv);
                    prefix = neg ? "-" : plus ? "+" : space ? " " : "";
                } else {
                    v = lng >= 2   ? va_arg(ap, unsigned long long)
                        : lng == 1 ? va_arg(ap, unsigned long)
                                   : va_arg(ap, unsigned);
                    if (lng == -1) v = static_cast<unsigned short>(v);
                    if (lng <= -2) v = static_cast<unsigned char>(v);
                    if (alt && v && base == 16) prefix = conv == 'X' ? "0X" : "0x";
                    if (alt && base == 8) prefix = "0";
                }
                const char* digits = conv == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
                char* e = tmp + sizeof tmp;
                char* p = e;
                while (v) {
                    *--p = digits[v % base];
                    v /= base;
                }
                if (prec < 0 && p == e) *--p = '0';
                while (prec >= 0 && e - p < prec && p > tmp) *--p = '0';
                body = p;
                blen = static_cast<size_t>(e - p);
                if (conv == 'o' && alt && body[0] == '0') prefix = "";  // "%#o" of 0 is "0", as in C
                if (prec >= 0) zero = false;
                break;
            }
            default:
                emit(s, "%", 1);
                if (conv) emit(s, &conv, 1);
                continue;
        }
        size_t plen = strlen(prefix);
        int fill = width - static_cast<int>(blen + plen);
        if (conv == 's' || conv == 'c') zero = false;
        if (!left && !zero) pad(s, ' ', fill);
        emit(s, prefix, plen);
        if (!left && zero) pad(s, '0', fill);
        emit(s, body, blen);
        if (left) pad(s, ' ', fill);
    }
}

}  // namespace rt::fmt

namespace rt {

int vsnprintf(char* buf, size_t n, const char* fmt, va_list ap)
{
    fmt::Sink s{fmt::emit_buf, buf, n, 0, -1, 0};
    fmt::format(&s, fmt, ap);
    if (n) buf[s.len < n ? s.len : n - 1] = 0;
    return static_cast<int>(s.total);
}

int snprintf(char* buf, size_t n, const char* fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vsnprintf(buf, n, fmt, ap);
    va_end(ap);
    return r;
}

}  // namespace rt
