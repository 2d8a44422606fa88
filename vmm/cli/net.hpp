// fleet-vmm — --net: a VM interface on a bridge.
//
// On the running router's bridge (the default when a router runs with
// --bridge), the router makes the tap: fleet-vmm asks over the router's
// local socket (FLEET_NET_ATTACH, docs/fleet-protocol.md) and gets the
// tap's fd back with its MAC and leased address. The VM is then in the
// router's firewall under its name, like a domain, for as long as its tap
// lives; no CAP_NET_ADMIN is needed, only the router's read-write socket.
// On any other existing bridge (the daemonless case) fleet-vmm makes the
// tap itself through netfilter/'s links (needs CAP_NET_ADMIN): no
// firewall, no address unless --ip.
#pragma once

#include <fleet/base/error.hpp>
#include <fleet/vmm/spec.hpp>

#include <boost/program_options.hpp>

#include <string>

namespace fleet::cli {

struct NetFlags {
    std::string bridge;     // --net BRIDGE|none; "": the running router's bridge, else none
    std::string ipv4;       // --ip A.B.C.D/P
    std::string gateway;    // --gateway A.B.C.D
    bool outbound = false;  // --outbound: reach outside through the router (masquerade)
};

void add_net_options(boost::program_options::options_description& d, NetFlags& f);

// With --net BRIDGE: a tap on BRIDGE for spec.name (MAC derived from the
// name), its fd in spec.nets. The fd stays open in this process (and the
// supervisor it becomes): the tap is not persistent, so it goes away when
// the VM's processes end, however they end. Without --net: the bridge
// named by <runtime_dir>/router.json of a running router, if any; none
// otherwise (and with --net none). The router's bridge: through the
// router, as above.
Result<> attach_net(const NetFlags& f, const std::string& runtime_dir, vmm::VmSpec& spec);

// The bridge of the router running for this runtime folder ("" if none).
std::string router_bridge(const std::string& runtime_dir);

}  // namespace fleet::cli
