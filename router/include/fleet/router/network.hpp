// fleet-router — the fleet bridge, one tap per domain interface, address
// leases and the firewall between fleet VMs, over netfilter/.
//
// Off unless configured (`fleet-router --bridge NAME`). At start the router
// creates (or adopts its own) bridge with the configured subnets, opens the
// lease file `<state>/leases` and loads the policy `<state>/policy` (none:
// deny between VMs) into fleet's nft tables. A domain's start asks for its
// taps (attach): each gets the interface's MAC, a leased address, the
// firewall's set elements; the tap fds go to the VM's supervisor and on to
// QEMU, and the router closes its copies, so a tap lives exactly as long as
// its QEMU. A domain's end takes its elements out (detach). Leases stay:
// a domain keeps its address across restarts of the VM and of the router.
// A domain name has one lease: a start under another MAC (a transient
// domain created again, a changed definition) releases the old one.
//
// A domain's <fleet:groups> are its groups in the policy (group:NAME), its
// <fleet:net outbound='yes'/> its outbound access (masquerade; off unless
// given). The router stopping calls remove_if_unused: the bridge and
// fleet's tables go when no tap is left on the bridge (no VM, the router's
// or fleet-vmm's, uses it), and stay for the running VMs and the next
// router otherwise. A router killed with -9 leaves them; the next one
// adopts the bridge and replaces the tables.
//
// A VM fleet-vmm runs itself joins too (attach_vm, FLEET_NET_ATTACH): the
// router makes its tap (MAC derived from the VM's name, a lease by name),
// marks it `fleet:tap:vmm:NAME[:outbound][ by OWNER]` (VmTapMark), puts it
// in the firewall as NAME and hands the fd over; it closes its own copy.
// The VM is in the firewall while its tap lives: sweep() (every second)
// takes out those whose tap has gone and releases their leases (a name is
// cheap: a user cycling through names must not use up the subnet), and a
// restarted router adopts the marked taps it finds on the bridge. A released lease
// is freed only once the kernel's tracked flows of its addresses are
// deleted (the sweep does it for all in one walk): no VM inherits
// another's established flows. VM names and domain names are one namespace here:
// neither may take a name the other holds.
#pragma once

#include <fleet/base/error.hpp>
#include <fleet/base/fd.hpp>
#include <fleet/router/domain.hpp>
#include <fleet/router/domain_error.hpp>
#include <fleet/router/launcher.hpp>
#include <fleet/router/log.hpp>
#include <fleet/vmm/spec.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fleet::router {

struct NetworkOptions {
    std::string bridge;  // "": no network (domains with <interface> are refused)
    std::string ipv4 = "10.77.0.1/24";
    std::string ipv6 = "fd66:6c65:6574::1/64";  // or "none"
    std::string state_dir;                      // leases and the policy file live here
};

// What the router writes on a fleet-vmm VM's tap (its ifalias after
// "fleet:tap:"): "vmm:NAME[:outbound][ by OWNER]", OWNER the attaching
// user's Principal::record() ("uid 1000"; none for an administrator), so
// that a restarted router adopting the tap counts it for that user again.
struct VmTapMark {
    std::string name;
    bool outbound = false;
    std::string owner;
    bool operator==(const VmTapMark&) const = default;
};
std::string vm_tap_mark(const VmTapMark& mark);
// nullopt: not a fleet-vmm VM's mark (a domain's tap), or a damaged one.
std::optional<VmTapMark> parse_vm_tap_mark(std::string_view text);

class Network {
public:
    static Result<std::unique_ptr<Network>> open(const NetworkOptions& options, Log log);
    ~Network();

    // Taps, leases and firewall elements for every interface of `def`.
    // An interface of type 'bridge' must name the fleet bridge; one of type
    // 'network' may name any network (fleet has one). Nothing is left
    // behind on failure.
    DomainResult<std::vector<Tap>> attach(const DomainDef& def);
    // The domain ended: its firewall elements go (its taps went with QEMU).
    void detach(const std::string& name);
    // A domain an earlier router started: its elements again, from its
    // leases (its taps are there, held by its QEMU).
    void adopt(const DomainDef& def);
    // A tap for a VM its caller runs (fleet-vmm --net): in the firewall as
    // `name` while the tap lives. `owner` (Principal::record()) counts
    // against the per-owner limit ("" : none, an administrator), and it is
    // on the tap's mark, so it still counts after a router restart.
    DomainResult<Tap> attach_vm(const std::string& name, bool outbound, const std::string& owner);
    // Take out the VMs of attach_vm whose tap has gone (how many), and
    // free the released leases once their tracked flows are deleted.
    std::size_t sweep();
    // At most this many VMs of attach_vm, and this many per owner.
    static constexpr std::size_t max_vms = 1024;
    static constexpr std::size_t max_vms_per_owner = 64;
    // Read `<state>/policy` again (the daemon's SIGHUP); a bad file changes nothing.
    Result<> reload_policy();
    // The router stops: fleet's tables and the bridge are removed if no
    // tap fleet made is a port of the bridge. True if they were removed.
    Result<bool> remove_if_unused();

    [[nodiscard]] std::vector<InterfaceAddress> addresses(const std::string& name) const;
    [[nodiscard]] const std::string& bridge() const;
    // What it was opened with: the bridge and its subnets.
    [[nodiscard]] const NetworkOptions& options() const;

private:
    struct Impl;
    explicit Network(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace fleet::router
