// fleet-net — the inventory file: the VMs on the bridge, one a line, for
// the CLI (the router builds its inventory from its domains instead).
//
//     # NAME key=value ...
//     web port=vweb mac=0e:00:00:00:00:01 ipv4=10.77.0.2 ipv6=fd66:6c65:6574::2 groups=front,public outbound=yes
#pragma once

#include <fleet/base/error.hpp>
#include <fleet/netfilter/inventory.hpp>

#include <string>
#include <string_view>

namespace fleet::netfilter::cli {

Result<Inventory> parse_inventory(std::string_view text, std::string_view source);
Result<Inventory> read_inventory(const std::string& path);
Result<std::string> read_text(const std::string& path, std::size_t limit);

}  // namespace fleet::netfilter::cli
