// fleet netfilter — MACs and tap names derived from a domain's UUID.
#include <fleet/netfilter/identity.hpp>

#include <cctype>
#include <cstdint>

namespace fleet::netfilter {

namespace {

std::uint64_t fnv1a(std::string_view text)
{
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (const char c : text) {
        h ^= static_cast<std::uint8_t>(c);
        h *= 0x100000001b3ull;
    }
    return h;
}

std::uint64_t finalise(std::uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

bool uuid_shape(std::string_view uuid)
{
    if (uuid.size() != 36) return false;
    for (std::size_t i = 0; i < uuid.size(); ++i) {
        const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? uuid[i] != '-' : !std::isxdigit(static_cast<unsigned char>(uuid[i]))) return false;
    }
    return true;
}

}  // namespace

Result<Mac> derive_mac(std::string_view uuid, unsigned index)
{
    if (!uuid_shape(uuid)) return fail("'" + std::string(uuid) + "' is not a UUID");
    std::string key;
    for (const char c : uuid) key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    key += "/" + std::to_string(index);
    const std::uint64_t h = finalise(fnv1a(key));
    Mac mac;
    mac.bytes[0] = mac_first_octet;
    for (int i = 1; i < 6; ++i) mac.bytes[i] = static_cast<std::uint8_t>(h >> (8 * (i - 1)));
    return mac;
}

Mac derive_name_mac(std::string_view name, unsigned index)
{
    const std::uint64_t h = finalise(fnv1a("vm/" + std::string(name) + "/" + std::to_string(index)));
    Mac mac;
    mac.bytes[0] = mac_first_octet;
    for (int i = 1; i < 6; ++i) mac.bytes[i] = static_cast<std::uint8_t>(h >> (8 * (i - 1)));
    return mac;
}

Mac derive_bridge_mac(std::string_view name)
{
    const std::uint64_t h = finalise(fnv1a("bridge/" + std::string(name)));
    Mac mac;
    mac.bytes[0] = mac_first_octet;
    for (int i = 1; i < 6; ++i) mac.bytes[i] = static_cast<std::uint8_t>(h >> (8 * (i - 1)));
    return mac;
}

std::string tap_name(const Mac& mac)
{
    static constexpr char digits[] = "0123456789abcdef";
    std::string name = "fl";
    for (int i = 1; i < 6; ++i) {
        name += digits[mac.bytes[i] >> 4];
        name += digits[mac.bytes[i] & 15];
    }
    return name;
}

bool valid_ifname(std::string_view name)
{
    if (name.empty() || name.size() > 15 || name == "." || name == "..") return false;
    for (const char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                        c == '.' || c == '-';
        if (!ok) return false;
    }
    return true;
}

}  // namespace fleet::netfilter
