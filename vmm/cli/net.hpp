// fleet-vmm — --net: a VM interface on an existing bridge, for the
// daemonless case. The tap is made through netfilter/'s links (the same
// code the router uses), marked as fleet's, and handed to QEMU as an fd.
#pragma once

#include <fleet/base/error.hpp>
#include <fleet/vmm/spec.hpp>

#include <boost/program_options.hpp>

#include <string>

namespace fleet::cli {

struct NetFlags {
    std::string bridge;   // --net BRIDGE|none; "": the running router's bridge, else none
    std::string ipv4;     // --ip A.B.C.D/P
    std::string gateway;  // --gateway A.B.C.D
};

void add_net_options(boost::program_options::options_description& d, NetFlags& f);

// With --net BRIDGE: a tap on BRIDGE for spec.name (MAC derived from the
// name), its fd in spec.nets. The fd stays open in this process (and the
// supervisor it becomes): the tap is not persistent, so it goes away when
// the VM's processes end, however they end. Without --net: the bridge
// named by <runtime_dir>/router.json of a running router, if any; none
// otherwise (and with --net none).
Result<> attach_net(const NetFlags& f, const std::string& runtime_dir, vmm::VmSpec& spec);

// The bridge of the router running for this runtime folder ("" if none).
std::string router_bridge(const std::string& runtime_dir);

}  // namespace fleet::cli
