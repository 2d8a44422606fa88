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

namespace {

// One conversion: %[flags][width][.precision][length]conv.
struct Spec {
    bool left = false, zero = false, plus = false, space = false, alt = false;
    int width = 0, prec = -1;
    int lng = 0;  // 0 int, 1 long, 2 long long, -1 short, -2 char
    char conv = '\0';
};

// What a conversion prints: sign or base prefix, then the body.
struct Field {
    const char* body;
    size_t len;
    const char* prefix;
};

int number(const char*& fmt, va_list* ap)
{
    if (*fmt == '*') {
        fmt++;
        return va_arg(*ap, int);
    }
    int n = 0;
    while (*fmt >= '0' && *fmt <= '9') n = n * 10 + (*fmt++ - '0');
    return n;
}

// Reads the conversion after a '%'; `fmt` ends past it.
Spec parse_spec(const char*& fmt, va_list* ap)
{
    Spec sp;
    for (;; fmt++) {
        if (*fmt == '-')
            sp.left = true;
        else if (*fmt == '0')
            sp.zero = true;
        else if (*fmt == '+')
            sp.plus = true;
        else if (*fmt == ' ')
            sp.space = true;
        else if (*fmt == '#')
            sp.alt = true;
        else
            break;
    }
    sp.width = number(fmt, ap);
    if (sp.width < 0) sp.left = true, sp.width = -sp.width;
    if (*fmt == '.') {
        fmt++;
        sp.prec = number(fmt, ap);
    }
    for (;; fmt++) {
        if (*fmt == 'l')
            sp.lng++;
        else if (*fmt == 'h')
            sp.lng--;
        else if (*fmt == 'z' || *fmt == 't' || *fmt == 'j')
            sp.lng = 1;
        else
            break;
    }
    sp.conv = *fmt ? *fmt++ : '\0';
    return sp;
}

// d i u x X o p: the argument's digits into the end of `tmp`.
Field integer(Spec& sp, va_list* ap, char (&tmp)[72])
{
    uint64_t v;
    const char* prefix = "";
    char conv = sp.conv;
    unsigned base = conv == 'x' || conv == 'X' || conv == 'p' ? 16 : conv == 'o' ? 8 : 10;
    if (conv == 'p') {
        v = reinterpret_cast<uintptr_t>(va_arg(*ap, void*));
        prefix = "0x";
    } else if (conv == 'd' || conv == 'i') {
        int64_t sv = sp.lng >= 2 ? va_arg(*ap, long long) : sp.lng == 1 ? va_arg(*ap, long) : va_arg(*ap, int);
        if (sp.lng == -1) sv = static_cast<short>(sv);
        if (sp.lng <= -2) sv = static_cast<signed char>(sv);
        bool neg = sv < 0;
        v = neg ? 0 - static_cast<uint64_t>(sv) : static_cast<uint64_t>(sv);
        prefix = neg ? "-" : sp.plus ? "+" : sp.space ? " " : "";
    } else {
        v = sp.lng >= 2   ? va_arg(*ap, unsigned long long)
            : sp.lng == 1 ? va_arg(*ap, unsigned long)
                          : va_arg(*ap, unsigned);
        if (sp.lng == -1) v = static_cast<unsigned short>(v);
        if (sp.lng <= -2) v = static_cast<unsigned char>(v);
        if (sp.alt && v && base == 16) prefix = conv == 'X' ? "0X" : "0x";
        if (sp.alt && base == 8) prefix = "0";
    }
    const char* digits = conv == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
    char* e = tmp + sizeof tmp;
    char* p = e;
    while (v) {
        *--p = digits[v % base];
        v /= base;
    }
    if (sp.prec < 0 && p == e) *--p = '0';
    while (sp.prec >= 0 && e - p < sp.prec && p > tmp) *--p = '0';
    if (conv == 'o' && sp.alt && *p == '0') prefix = "";  // "%#o" of 0 is "0", as in C
    if (sp.prec >= 0) sp.zero = false;
    return {p, static_cast<size_t>(e - p), prefix};
}

void emit_field(Sink* s, const Spec& sp, const Field& f)
{
    size_t plen = strlen(f.prefix);
    int fill = sp.width - static_cast<int>(f.len + plen);
    bool zero = sp.zero && sp.conv != 's' && sp.conv != 'c';
    if (!sp.left && !zero) pad(s, ' ', fill);
    emit(s, f.prefix, plen);
    if (!sp.left && zero) pad(s, '0', fill);
    emit(s, f.body, f.len);
    if (sp.left) pad(s, ' ', fill);
}

}  // namespace

void format(Sink* s, const char* fmt, va_list ap)
{
    va_list args;
    va_copy(args, ap);
    while (*fmt) {
        const char* lit = fmt;
        while (*fmt && *fmt != '%') fmt++;
        if (fmt > lit) emit(s, lit, static_cast<size_t>(fmt - lit));
        if (!*fmt) break;
        fmt++;
        Spec sp = parse_spec(fmt, &args);
        char tmp[72];
        Field f{tmp, 0, ""};
        switch (sp.conv) {
            case 'c':
                tmp[0] = static_cast<char>(va_arg(args, int));
                f.len = 1;
                break;
            case 's':
                f.body = va_arg(args, const char*);
                if (!f.body) f.body = "(null)";
                while (f.body[f.len] && (sp.prec < 0 || f.len < static_cast<size_t>(sp.prec))) f.len++;
                break;
            case 'd':
            case 'i':
            case 'u':
            case 'x':
            case 'X':
            case 'o':
            case 'p':
                f = integer(sp, &args, tmp);
                break;
            default:  // "%%", or an unknown conversion printed as written
                emit(s, "%", 1);
                if (sp.conv && sp.conv != '%') emit(s, &sp.conv, 1);
                continue;
        }
        emit_field(s, sp, f);
    }
    va_end(args);
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
