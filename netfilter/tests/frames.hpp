// Ethernet frames for a test that plays the VM behind a tap: an ICMP echo
// request in, echo replies recognised out. Each frame on a tap fd made by
// fleet starts with a virtio-net header (IFF_VNET_HDR), 10 zero bytes here.
#pragma once

#include <fleet/netfilter/address.hpp>

#include <cstdint>
#include <vector>

namespace fleet::netfilter::test {

inline constexpr std::size_t vnet_header = 10;

inline std::uint16_t checksum(const std::uint8_t* data, std::size_t size)
{
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i + 1 < size; i += 2) sum += (data[i] << 8) | data[i + 1];
    if (size & 1) sum += data[size - 1] << 8;
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<std::uint16_t>(~sum);
}

inline void put16(std::vector<std::uint8_t>& f, std::size_t at, std::uint16_t v)
{
    f[at] = static_cast<std::uint8_t>(v >> 8);
    f[at + 1] = static_cast<std::uint8_t>(v);
}

inline void put32(std::vector<std::uint8_t>& f, std::size_t at, std::uint32_t v)
{
    put16(f, at, static_cast<std::uint16_t>(v >> 16));
    put16(f, at + 2, static_cast<std::uint16_t>(v));
}

// vnet header + Ethernet + IPv4 + ICMP echo request, id `id`.
inline std::vector<std::uint8_t> echo_request(const Mac& src_mac, const Mac& dst_mac, Ipv4 src, Ipv4 dst,
                                              std::uint16_t id)
{
    std::vector<std::uint8_t> f(vnet_header + 14 + 20 + 16, 0);
    std::size_t e = vnet_header;
    for (int i = 0; i < 6; ++i) {
        f[e + i] = dst_mac.bytes[i];
        f[e + 6 + i] = src_mac.bytes[i];
    }
    put16(f, e + 12, 0x0800);
    const std::size_t ip = e + 14;
    f[ip] = 0x45;
    put16(f, ip + 2, 20 + 16);
    f[ip + 8] = 64;  // TTL
    f[ip + 9] = 1;   // ICMP
    put32(f, ip + 12, src.value);
    put32(f, ip + 16, dst.value);
    put16(f, ip + 10, checksum(&f[ip], 20));
    const std::size_t icmp = ip + 20;
    f[icmp] = 8;  // echo request
    put16(f, icmp + 4, id);
    put16(f, icmp + 6, 1);
    put16(f, icmp + 2, checksum(&f[icmp], 16));
    return f;
}

// Is this frame (as read from the tap, with its vnet header) an ICMP echo
// reply with this id, to this address?
inline bool is_echo_reply(const std::vector<std::uint8_t>& f, Ipv4 to, std::uint16_t id)
{
    const std::size_t ip = vnet_header + 14;
    if (f.size() < ip + 28 || f[vnet_header + 12] != 0x08 || f[vnet_header + 13] != 0x00) return false;
    const std::size_t icmp = ip + (f[ip] & 15) * 4;
    const std::uint32_t dst = (f[ip + 16] << 24) | (f[ip + 17] << 16) | (f[ip + 18] << 8) | f[ip + 19];
    return f[ip + 9] == 1 && dst == to.value && f.size() >= icmp + 8 && f[icmp] == 0 &&
           ((f[icmp + 4] << 8) | f[icmp + 5]) == id;
}

}  // namespace fleet::netfilter::test
