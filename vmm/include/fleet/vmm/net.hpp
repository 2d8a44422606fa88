// fleet — a VM's network interfaces as the launcher sees them: checks, the
// exec block's strings that tell the guest its address, and QEMU's
// arguments. The links themselves (bridge, taps, addresses) are made by
// netfilter/ for the router and for `fleet-vmm --net`; this layer only
// passes an open tap to QEMU.
#pragma once

#include <fleet/base/error.hpp>
#include <fleet/vmm/spec.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace fleet::vmm {

// The fd number tap i has in QEMU's process (after the guest channels).
inline constexpr int child_tap_fd_base = 10;

// A MAC "xx:xx:xx:xx:xx:xx" (lower-case hex), unicast.
bool valid_mac(std::string_view mac);
// "A.B.C.D/P" with P 1..32 (prefix required), or "A.B.C.D" if !with_prefix.
bool valid_ipv4(std::string_view text, bool with_prefix);

// Interface `index`'s MAC in the boot a snapshot saves
// (FLEET_NET_SNAPSHOT_MAC, <fleet/abi/guest.h>): the guest sets its own.
std::string snapshot_mac(std::size_t index);

// Every interface usable: an open fd, a MAC, well-formed addresses, at most
// FLEET_MAX_NETS, no MAC twice, none of the snapshots' MACs. Interface N of
// a snapshot's boot (MAC snapshot_mac(N)) has no tap instead.
Result<> validate_nets(const std::vector<NetInterface>& nets);

// "MAC[,IPV4/P[,GW]]": the interface's string in the exec block.
std::string net_exec_string(const NetInterface& n);

// -netdev tap,id=fleet-netN,fd=F -device virtio-net-device,netdev=...,mac=...
// for each interface, F = child_tap_fd_base + N; for a snapshot's boot
// (no tap) -netdev hubport,id=fleet-netN,hubid=N instead.
std::vector<std::string> net_qemu_args(const std::vector<NetInterface>& nets);

}  // namespace fleet::vmm
