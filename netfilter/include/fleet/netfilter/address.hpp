// fleet netfilter — link-layer and IP addresses, and subnets: parsed from
// and printed as the text people and nft use. Pure: no I/O.
#pragma once

#include <fleet/base/error.hpp>

#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

namespace fleet::netfilter {

struct Mac {
    std::array<std::uint8_t, 6> bytes{};
    auto operator<=>(const Mac&) const = default;
};

struct Ipv4 {
    std::uint32_t value = 0;  // host byte order: 10.0.0.1 is 0x0a000001
    auto operator<=>(const Ipv4&) const = default;
};

struct Ipv6 {
    std::array<std::uint8_t, 16> bytes{};  // network byte order
    auto operator<=>(const Ipv6&) const = default;
};

// A subnet written as the host's own address in it: "10.77.0.1/24" is the
// subnet 10.77.0.0/24 in which the bridge has 10.77.0.1.
struct Subnet4 {
    Ipv4 address;
    int prefix = 24;
    auto operator<=>(const Subnet4&) const = default;
};

struct Subnet6 {
    Ipv6 address;
    int prefix = 64;
    auto operator<=>(const Subnet6&) const = default;
};

// "0e:12:34:56:78:9a" (either case in, lower case out).
Result<Mac> parse_mac(std::string_view text);
std::string format(const Mac& mac);

Result<Ipv4> parse_ipv4(std::string_view text);
std::string format(const Ipv4& address);

Result<Ipv6> parse_ipv6(std::string_view text);
std::string format(const Ipv6& address);  // RFC 5952 form (inet_ntop)

// "A/N": a host address and its prefix length. IPv4 prefixes 8..30, IPv6
// 64..120: a subnet must leave room for the host and a few VMs.
Result<Subnet4> parse_subnet4(std::string_view text);
Result<Subnet6> parse_subnet6(std::string_view text);
std::string format(const Subnet4& subnet);
std::string format(const Subnet6& subnet);

// The fe80::/64 address a Linux guest gives itself from its MAC (modified
// EUI-64, RFC 4291 appendix A).
Ipv6 link_local(const Mac& mac);

// The 128-bit address as nft writes a raw integer: "0x" and 32 hex digits.
std::string format_hex(const Ipv6& address);

}  // namespace fleet::netfilter
