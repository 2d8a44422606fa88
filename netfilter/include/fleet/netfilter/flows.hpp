// fleet netfilter — the kernel's connection tracking entries of an
// address, forgotten when the address goes back to the pool.
//
// The firewall lets the packets of an established flow through
// (`ct state established,related accept`). An address that a VM gave up
// and another VM gets next would inherit the first VM's live entries: the
// new VM could send what the policy refuses it, as the old one's replies
// or continuations. So when a lease is released, every entry whose
// original or reply direction has the address at either end goes, in
// the namespace the caller is in (ctnetlink, through libnl-nf).
#pragma once

#include <fleet/base/error.hpp>
#include <fleet/netfilter/address.hpp>

#include <cstddef>
#include <vector>

namespace fleet::netfilter {

// Delete the conntrack entries to or from any of these addresses; how
// many went. One walk of the kernel's table, whose cost grows with the
// table's size (a few ms at 262144 buckets), not with the addresses'
// count. No conntrack in the kernel (module not loaded, nothing tracked
// yet) is zero entries, not an error.
Result<std::size_t> forget_flows(const std::vector<Ipv4>& ipv4, const std::vector<Ipv6>& ipv6);

}  // namespace fleet::netfilter
