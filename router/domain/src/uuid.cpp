// fleet — UUIDs as libvirt writes them, and the randomness behind random
// UUIDs and MAC addresses.
#include "parse.hpp"
#include "xml.hpp"

#include <sys/random.h>

#include <cerrno>
#include <random>

namespace fleet::router {

namespace {

int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

void detail::random_bytes(std::uint8_t* out, std::size_t size)
{
    while (size > 0) {
        const ssize_t n = ::getrandom(out, size, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        out += n;
        size -= static_cast<std::size_t>(n);
    }
    if (size == 0) return;
    std::random_device fallback;  // getrandom missing (seccomp, old kernel)
    for (std::size_t i = 0; i < size; ++i) out[i] = static_cast<std::uint8_t>(fallback());
}

std::string format_uuid(const Uuid& uuid)
{
    static constexpr char digits[] = "0123456789abcdef";
    std::string text;
    for (std::size_t i = 0; i < uuid.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) text += '-';
        text += digits[uuid[i] >> 4];
        text += digits[uuid[i] & 0xf];
    }
    return text;
}

Result<Uuid> parse_uuid(const std::string& text)
{
    const bool dashed = text.size() == 36;
    auto bad = [&] { return fail(xml::quote(text) + " is not a UUID (32 hex digits, dashed 8-4-4-4-12 or not)"); };
    if (!dashed && text.size() != 32) return bad();
    Uuid uuid{};
    std::size_t pos = 0;
    for (std::size_t i = 0; i < uuid.size(); ++i) {
        if (dashed && (pos == 8 || pos == 13 || pos == 18 || pos == 23) && text[pos++] != '-') return bad();
        const int high = hex_value(text[pos++]);
        const int low = hex_value(text[pos++]);
        if (high < 0 || low < 0) return bad();
        uuid[i] = static_cast<std::uint8_t>(high << 4 | low);
    }
    return uuid;
}

Uuid random_uuid()
{
    Uuid uuid{};
    detail::random_bytes(uuid.data(), uuid.size());
    uuid[6] = static_cast<std::uint8_t>((uuid[6] & 0x0f) | 0x40);  // version 4
    uuid[8] = static_cast<std::uint8_t>((uuid[8] & 0x3f) | 0x80);  // RFC 4122 variant
    return uuid;
}

}  // namespace fleet::router
