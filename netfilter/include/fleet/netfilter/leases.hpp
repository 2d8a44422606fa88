// fleet netfilter — addresses for VM interfaces from the bridge's subnets,
// kept in a lease file so a restarted router gives every VM the address it
// had.
//
// An interface is known by its MAC (derived from its domain's UUID). Its
// IPv4 address is the lowest free one in the subnet (never the network,
// broadcast or bridge address); its IPv6 address is the IPv6 subnet with
// the same host number (10.77.0.5 -> fd66:6c65:6574::5), so the two read
// alike. The file, `<state>/leases`, one lease a line:
//     # fleet leases: MAC IPv4 IPv6|- NAME
//     0e:12:34:56:78:9a 10.77.0.2 fd66:6c65:6574::2 web
// is replaced atomically on every change (fleet::replace_file, synced).
#pragma once

#include <fleet/base/error.hpp>
#include <fleet/base/fd.hpp>
#include <fleet/netfilter/address.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fleet::netfilter {

struct Lease {
    Mac mac;
    Ipv4 ipv4;
    std::optional<Ipv6> ipv6;
    std::string name;  // the VM, for people reading the file
    bool operator==(const Lease&) const = default;
};

// The leases in memory. Pure.
class Leases {
public:
    // The IPv6 subnet, if any, must have at least as many host bits as the IPv4 one.
    static Result<Leases> make(const Subnet4& ipv4, const std::optional<Subnet6>& ipv6);
    // A lease file's text; leases outside the subnets are dropped (the
    // subnets changed: those VMs get new addresses). `source` names it in errors.
    Result<> parse(std::string_view text, std::string_view source);
    [[nodiscard]] std::string format() const;

    // The lease of this MAC, made if it has none (the name is updated).
    Result<Lease> allocate(const Mac& mac, std::string_view name);
    bool release(const Mac& mac);
    [[nodiscard]] const Lease* find(const Mac& mac) const;
    [[nodiscard]] const std::vector<Lease>& all() const { return leases_; }

private:
    Subnet4 ipv4_;
    std::optional<Subnet6> ipv6_;
    std::vector<Lease> leases_;  // sorted by address
    Leases(const Subnet4& ipv4, const std::optional<Subnet6>& ipv6) : ipv4_(ipv4), ipv6_(ipv6) {}
    [[nodiscard]] bool in_subnet(const Lease& lease) const;
    [[nodiscard]] Ipv6 ipv6_for(std::uint32_t host) const;
};

// The lease file of a state folder, held under an exclusive lock
// (`leases.lock`, flock) for the object's life: one writer at a time.
class LeaseFile {
public:
    static Result<LeaseFile> open(const std::string& dir, const Subnet4& ipv4, const std::optional<Subnet6>& ipv6);
    Result<Lease> allocate(const Mac& mac, std::string_view name);
    Result<> release(const Mac& mac);
    [[nodiscard]] const Leases& leases() const { return leases_; }

private:
    std::string dir_;
    Fd lock_;
    Leases leases_;
    LeaseFile(std::string dir, Fd lock, Leases leases)
        : dir_(std::move(dir)), lock_(std::move(lock)), leases_(std::move(leases))
    {
    }
    Result<> save();
};

}  // namespace fleet::netfilter
