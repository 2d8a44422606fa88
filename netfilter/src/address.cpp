// fleet netfilter — addresses as text.
#include <fleet/netfilter/address.hpp>

#include <arpa/inet.h>

#include <charconv>
#include <cstdio>

namespace fleet::netfilter {

namespace {

int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// "A/N" split, with N in [low, high].
Result<std::pair<std::string_view, int>> split_prefix(std::string_view text, int low, int high)
{
    const auto slash = text.find('/');
    if (slash == std::string_view::npos) return fail("'" + std::string(text) + "' has no /prefix length");
    const std::string_view digits = text.substr(slash + 1);
    int prefix = -1;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (ec != std::errc{} || end != digits.data() + digits.size() || digits.empty() || prefix < low || prefix > high)
        return fail("'" + std::string(text) + "': the prefix length must be " + std::to_string(low) + ".." +
                    std::to_string(high));
    return std::pair{text.substr(0, slash), prefix};
}

}  // namespace

Result<Mac> parse_mac(std::string_view text)
{
    Mac mac;
    if (text.size() != 17) return fail("'" + std::string(text) + "' is not a MAC address (xx:xx:xx:xx:xx:xx)");
    for (std::size_t i = 0; i < 6; ++i) {
        const int hi = hex_digit(text[i * 3]);
        const int lo = hex_digit(text[i * 3 + 1]);
        if (hi < 0 || lo < 0 || (i < 5 && text[i * 3 + 2] != ':'))
            return fail("'" + std::string(text) + "' is not a MAC address (xx:xx:xx:xx:xx:xx)");
        mac.bytes[i] = static_cast<std::uint8_t>(hi * 16 + lo);
    }
    return mac;
}

std::string format(const Mac& mac)
{
    char out[18];
    std::snprintf(out, sizeof out, "%02x:%02x:%02x:%02x:%02x:%02x", mac.bytes[0], mac.bytes[1], mac.bytes[2],
                  mac.bytes[3], mac.bytes[4], mac.bytes[5]);
    return out;
}

Result<Ipv4> parse_ipv4(std::string_view text)
{
    const std::string s(text);
    in_addr a{};
    if (s.size() > 15 || ::inet_pton(AF_INET, s.c_str(), &a) != 1) return fail("'" + s + "' is not an IPv4 address");
    return Ipv4{ntohl(a.s_addr)};
}

std::string format(const Ipv4& address)
{
    const in_addr a{htonl(address.value)};
    char out[INET_ADDRSTRLEN];
    ::inet_ntop(AF_INET, &a, out, sizeof out);
    return out;
}

Result<Ipv6> parse_ipv6(std::string_view text)
{
    const std::string s(text);
    Ipv6 address;
    if (s.size() > 45 || ::inet_pton(AF_INET6, s.c_str(), address.bytes.data()) != 1)
        return fail("'" + s + "' is not an IPv6 address");
    return address;
}

std::string format(const Ipv6& address)
{
    char out[INET6_ADDRSTRLEN];
    ::inet_ntop(AF_INET6, address.bytes.data(), out, sizeof out);
    return out;
}

Result<Subnet4> parse_subnet4(std::string_view text)
{
    auto parts = split_prefix(text, 8, 30);
    if (!parts) return std::unexpected(parts.error());
    auto address = parse_ipv4(parts->first);
    if (!address) return std::unexpected(address.error());
    return Subnet4{*address, parts->second};
}

Result<Subnet6> parse_subnet6(std::string_view text)
{
    auto parts = split_prefix(text, 64, 120);
    if (!parts) return std::unexpected(parts.error());
    auto address = parse_ipv6(parts->first);
    if (!address) return std::unexpected(address.error());
    return Subnet6{*address, parts->second};
}

std::string format(const Subnet4& subnet)
{
    return format(subnet.address) + "/" + std::to_string(subnet.prefix);
}

std::string format(const Subnet6& subnet)
{
    return format(subnet.address) + "/" + std::to_string(subnet.prefix);
}

Ipv6 link_local(const Mac& mac)
{
    Ipv6 a;
    a.bytes[0] = 0xfe;
    a.bytes[1] = 0x80;
    a.bytes[8] = mac.bytes[0] ^ 0x02;  // the universal/local bit, inverted
    a.bytes[9] = mac.bytes[1];
    a.bytes[10] = mac.bytes[2];
    a.bytes[11] = 0xff;
    a.bytes[12] = 0xfe;
    a.bytes[13] = mac.bytes[3];
    a.bytes[14] = mac.bytes[4];
    a.bytes[15] = mac.bytes[5];
    return a;
}

std::string format_hex(const Ipv6& address)
{
    std::string out = "0x";
    static constexpr char digits[] = "0123456789abcdef";
    for (const std::uint8_t b : address.bytes) {
        out += digits[b >> 4];
        out += digits[b & 15];
    }
    return out;
}

}  // namespace fleet::netfilter
