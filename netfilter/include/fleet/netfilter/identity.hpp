// fleet netfilter — the names and MACs fleet gives a VM's interfaces,
// derived from what never changes about a VM: its domain UUID. Pure.
#pragma once

#include <fleet/base/error.hpp>
#include <fleet/netfilter/address.hpp>

#include <string>
#include <string_view>

namespace fleet::netfilter {

// The first octet of every derived MAC: unicast, locally administered
// (bit 1 set, bit 0 clear), so it never clashes with a vendor's MAC.
inline constexpr std::uint8_t mac_first_octet = 0x0e;

// A stable MAC for interface `index` of the domain with this UUID (any
// case, with dashes): 0e: and 40 bits of a 64-bit hash (FNV-1a, then the
// splitmix64 finaliser) of "<uuid in lower case>/<index>". The same UUID
// and index give the same MAC on every host and after every restart.
Result<Mac> derive_mac(std::string_view uuid, unsigned index);

// A stable MAC for interface `index` of a VM known only by its name
// (fleet-vmm --net, no domain UUID): the same hash of "vm/<name>/<index>".
Mac derive_name_mac(std::string_view name, unsigned index);

// A stable MAC for fleet's bridge of this name (the same hash of
// "bridge/<name>"): a bridge otherwise takes its lowest port's MAC, which
// changes as VMs come and go and breaks the VMs' neighbour caches.
Mac derive_bridge_mac(std::string_view name);

// The tap name for an interface with this MAC: "fl" and the MAC's last
// five octets in hex ("fl123456789a", 12 characters; IFNAMSIZ allows 15).
// Names with fleet's prefix are how a restarted router recognises taps,
// together with their ifalias (links.hpp).
std::string tap_name(const Mac& mac);

// True if `name` is an interface name fleet makes or accepts: 1..15 bytes
// (IFNAMSIZ) of [A-Za-z0-9_.-], not "." or "..". Linux allows more, but
// these names go into nft scripts and ifaliases unquoted.
bool valid_ifname(std::string_view name);

}  // namespace fleet::netfilter
