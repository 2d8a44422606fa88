// The runtime's printf engine against the C library's, on the host.
#include "rt.hpp"

#include <catch2/catch.hpp>

#include <climits>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <string>

namespace {

template <class... A>
std::string ours(const char* fmt, A... a)
{
    char buf[256];
    int n = rt::snprintf(buf, sizeof buf, fmt, a...);
    REQUIRE(n >= 0);
    return std::string(buf, static_cast<std::size_t>(n) < sizeof buf ? static_cast<std::size_t>(n) : sizeof buf - 1);
}

template <class... A>
std::string libc(const char* fmt, A... a)
{
    char buf[256];
    int n = std::snprintf(buf, sizeof buf, fmt, a...);
    return std::string(buf, static_cast<std::size_t>(n) < sizeof buf ? static_cast<std::size_t>(n) : sizeof buf - 1);
}

// No format checking here: for formats the compiler would refuse.
std::string unchecked(const char* fmt, ...)
{
    char buf[64];
    va_list ap;
    va_start(ap, fmt);
    rt::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return buf;
}

#define SAME(...) CHECK(ours(__VA_ARGS__) == libc(__VA_ARGS__))

}  // namespace

TEST_CASE("integers match the C library", "[format]")
{
    SAME("%d %i %u", 0, -1, 42u);
    SAME("%d", INT_MIN);
    SAME("%ld", LONG_MIN);
    SAME("%lld %llu", LLONG_MIN, ULLONG_MAX);
    SAME("%x %X %o", 0xbeefu, 0xbeefu, 8u);
    SAME("%#x %#X %#o %#x %#o", 255u, 255u, 8u, 0u, 0u);
    SAME("%hhd %hhu %hd %hu", 300, 300, 70000, 70000);
    SAME("%zu %td %jd", static_cast<std::size_t>(7), static_cast<std::ptrdiff_t>(-7), static_cast<std::intmax_t>(9));
    SAME("%+d %+d % d % d", 5, -5, 5, -5);
}

TEST_CASE("width, precision and flags match the C library", "[format]")
{
    SAME("[%5d] [%-5d] [%05d] [%-05d]", 42, 42, 42, 42);
    SAME("[%05d] [%+05d] [% 05d]", -42, 42, 42);
    SAME("[%.3d] [%.0d] [%5.3d] [%05.3d]", 7, 0, 7, 7);
    SAME("[%*d] [%-*d] [%*d]", 6, 1, 6, 1, -6, 1);
    SAME("[%.*d]", 4, 3);
    SAME("[%#08x] [%08X]", 0x1fu, 0x1fu);
}

TEST_CASE("strings, characters and pointers match the C library", "[format]")
{
    SAME("[%s] [%10s] [%-10s] [%.2s] [%5.1s]", "abc", "abc", "abc", "abc", "abc");
    SAME("[%c] [%3c] [%-3c]", 'x', 'y', 'z');
    SAME("100%% [%s]", "");
    SAME("%p", reinterpret_cast<void*>(0x1234));
    CHECK(ours("%s", static_cast<const char*>(nullptr)) == "(null)");
}

TEST_CASE("snprintf truncates, terminates and counts like C", "[format]")
{
    char buf[8];
    CHECK(rt::snprintf(buf, sizeof buf, "%s", "0123456789") == 10);
    CHECK(std::string(buf) == "0123456");
    CHECK(rt::snprintf(buf, 1, "abc") == 3);
    CHECK(buf[0] == '\0');
    CHECK(rt::snprintf(nullptr, 0, "%d", 12345) == 5);
    CHECK(rt::snprintf(buf, sizeof buf, "%40d", 1) == 40);
    CHECK(std::string(buf) == "       ");
}

TEST_CASE("an unknown conversion is printed as it stands", "[format]")
{
    CHECK(unchecked("a%qb") == "a%qb");
    CHECK(unchecked("end%") == "end%");
}
