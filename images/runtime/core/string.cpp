// fleet runtime: memory and string functions (the C ones the compiler may
// call, and rt::strcmp and friends), and the C++ support a freestanding
// program needs.
#include "rt.hpp"

namespace rt {

int strcmp(const char* a, const char* b)
{
    while (*a && *a == *b) a++, b++;
    return static_cast<unsigned char>(*a) - static_cast<unsigned char>(*b);
}

int strncmp(const char* a, const char* b, size_t n)
{
    for (; n; n--, a++, b++) {
        if (*a != *b) return static_cast<unsigned char>(*a) - static_cast<unsigned char>(*b);
        if (!*a) return 0;
    }
    return 0;
}

bool parse_u64(const char* s, uint64_t* out)
{
    if (!s || !*s) return false;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return false;
        unsigned d = static_cast<unsigned>(*s - '0');
        if (v > (~uint64_t(0) - d) / 10) return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

}  // namespace rt

// ---- C entry points ---------------------------------------------------------------------------------
// Plain word loops: under TCG they beat `rep movs`, and gcc must not turn
// them back into calls (-fno-tree-loop-distribute-patterns).
extern "C" {

void* memcpy(void* d, const void* s, size_t n)
{
    auto* dp = static_cast<unsigned char*>(d);
    auto* sp = static_cast<const unsigned char*>(s);
    while (n >= 32) {
        uint64_t a, b, c, e;
        __builtin_memcpy(&a, sp, 8);  // expands to a plain load (no call)
        __builtin_memcpy(&b, sp + 8, 8);
        __builtin_memcpy(&c, sp + 16, 8);
        __builtin_memcpy(&e, sp + 24, 8);
        __builtin_memcpy(dp, &a, 8);
        __builtin_memcpy(dp + 8, &b, 8);
        __builtin_memcpy(dp + 16, &c, 8);
        __builtin_memcpy(dp + 24, &e, 8);
        dp += 32, sp += 32, n -= 32;
    }
    while (n >= 8) {
        uint64_t a;
        __builtin_memcpy(&a, sp, 8);
        __builtin_memcpy(dp, &a, 8);
        dp += 8, sp += 8, n -= 8;
    }
    while (n--) *dp++ = *sp++;
    return d;
}

void* memmove(void* d, const void* s, size_t n)
{
    auto* dp = static_cast<unsigned char*>(d);
    auto* sp = static_cast<const unsigned char*>(s);
    if (dp <= sp || dp >= sp + n) return memcpy(d, s, n);
    while (n--) dp[n] = sp[n];
    return d;
}

void* memset(void* d, int c, size_t n)
{
    auto* dp = static_cast<unsigned char*>(d);
    uint64_t w = 0x0101010101010101ull * static_cast<unsigned char>(c);
    while (n >= 8) {
        __builtin_memcpy(dp, &w, 8);
        dp += 8, n -= 8;
    }
    while (n--) *dp++ = static_cast<unsigned char>(c);
    return d;
}

int memcmp(const void* a, const void* b, size_t n)
{
    auto* x = static_cast<const unsigned char*>(a);
    auto* y = static_cast<const unsigned char*>(b);
    for (; n; n--, x++, y++)
        if (*x != *y) return *x - *y;
    return 0;
}

size_t strlen(const char* s)
{
    size_t n = 0;
    while (s[n]) n++;
    return n;
}

// C++ support: no exceptions, no atexit.
void __cxa_pure_virtual()
{
    rt::panic("pure virtual call");
}
void* __dso_handle;
int __cxa_atexit(void (*)(void*), void*, void*)
{
    return 0;
}

}  // extern "C"
