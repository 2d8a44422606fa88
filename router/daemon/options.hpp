// fleet-router — the daemon's options: flags, the config file, environment,
// defaults (DESIGN.md), resolved.
//
// The config file (--config; default /etc/fleet/router.conf as root, else
// $XDG_CONFIG_HOME/fleet/router.conf, read if it exists) takes the same
// names as the long flags, one `name = value` per line, `#` comments; a
// flag given on the command line wins over the file.
#pragma once

#include <fleet/router/limits.hpp>
#include <fleet/router/pools.hpp>
#include <fleet/router/server.hpp>

#include <boost/program_options.hpp>

#include <chrono>
#include <cstddef>
#include <expected>
#include <string>
#include <vector>

namespace fleet::router {

struct Options {
    std::string runtime_dir;      // resolved
    std::string state_dir;        // resolved
    std::string images;           // catalog folders flag (colon-separated), may be empty
    std::string config_file;      // the file read; empty: none
    std::string group = "fleet";  // may use the read-write socket of a root router; empty: none
    ServerOptions server;         // sockets, TCP, TLS, client limits
    Quotas quotas;                // unresolved: zeros are the host's defaults
    bool mdns = true;
    std::string mdns_name;  // default "fleet on HOSTNAME"
    bool autostart = true;
    std::string qemu = "qemu-system-x86_64";
    std::chrono::milliseconds stop_deadline{10000};
    std::size_t console_log_max = 2u << 20;  // a guest's console.log rotates past this (virtlogd's max_size)
    unsigned console_log_backups = 3;        // ... keeping this many (virtlogd's max_backups)
    bool verbose = false;
    // The fleet bridge (router/include/fleet/router/network.hpp): "" = none.
    std::string bridge;
    std::string bridge_ipv4 = "10.77.0.1/24";
    std::string bridge_ipv6 = "fd66:6c65:6574::1/64";
    std::vector<PoolSetting> pools;  // warm pools (pools.hpp): none by default
};

// The options, or the status to exit with now: 0 after --help or
// --version, 1 after a one-line error on stderr.
std::expected<Options, int> parse_options(int argc, char** argv);

// "fleet-router: MESSAGE" on stderr; returns 1.
int fail_with(const std::string& message);

// ---- limit_options.cpp: the limits and quotas, as flags and config lines ----

// Raw values as given; apply_limits checks and converts them.
struct LimitValues {
    std::size_t max_clients, max_clients_per_user, max_anonymous_clients, max_client_requests;
    std::size_t max_client_streams, max_client_callbacks;
    std::string max_client_output;
    unsigned partial_packet_timeout, idle_timeout;
    std::size_t max_definitions, user_max_domains, user_max_running;
    std::string user_max_memory, host_memory_budget;
    unsigned user_max_vcpus, max_domain_vcpus;
    std::string console_log_max_size;
    unsigned console_log_backups;
};
void add_limit_options(boost::program_options::options_description& d, LimitValues& v);
std::expected<void, std::string> apply_limits(const LimitValues& v, Options& o);

// "2M", "512K", "1G", "4096" (in `unit` bytes without a suffix).
std::expected<std::uint64_t, std::string> parse_size(const std::string& text, std::uint64_t unit);

}  // namespace fleet::router
