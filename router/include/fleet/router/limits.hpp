// fleet-router — the bounds on what clients may make the router hold, and
// on what domains may ask of the host. Defaults follow libvirtd's where it
// has one (libvirtd.conf: max_clients, max_anonymous_clients,
// max_client_requests); every one is a flag and a line of the config file
// (fleet-router --help; docs/SECURITY.md says why each exists).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace fleet::router {

// The transport's: per client, and all clients together.
struct ClientLimits {
    std::size_t max_clients = 5000;                     // connections in all (administrators get 16 more)
    std::size_t max_clients_per_user = 200;             // per uid, per certificate DN, and for plain TCP in all
    std::size_t max_anonymous_clients = 20;             // TLS connections still in their handshake
    std::size_t max_requests = 5;                       // calls read but not yet answered, per client
    std::size_t max_streams = 16;                       // console streams per client
    std::size_t max_callbacks = 256;                    // event registrations per client
    std::size_t output_pause = 1u << 20;                // replies not taken: stop reading the client's calls
    std::size_t max_output = 32u << 20;                 // ... and this many (events pile up): drop the client
    std::chrono::seconds partial_timeout{30};           // a packet (or TLS handshake) begun and not finished
    std::chrono::seconds idle_timeout{600};             // nothing sent, nothing pending; 0: never
    std::size_t max_packet = (4u << 20) + (64u << 10);  // the largest call fleet serves: a 4 MiB XML string
    std::size_t input_budget = 64u << 20;               // partial packets held, all clients together
};

// The registry's: per owner (Principal), and the host's.
struct Quotas {
    std::size_t max_definitions = 4096;  // persistent definitions in all
    std::size_t user_domains = 128;      // defined or transient, per owner
    std::size_t user_running = 32;       // running at once, per owner
    std::uint64_t user_memory_mib = 0;   // guest memory of the owner's running domains; 0: half the budget
    unsigned user_vcpus = 0;             // vCPUs of the owner's running domains; 0: 4 x the host's CPUs
    std::uint64_t host_memory_mib = 0;   // guest memory of every running domain; 0: the host's RAM - 512 MiB
    unsigned domain_vcpus = 0;           // vCPUs of one domain; 0: the host's CPUs

    // The zeros filled in from this host.
    [[nodiscard]] Quotas resolved() const;
};

}  // namespace fleet::router
