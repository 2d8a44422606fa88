// fleet-router — the daemon's options: flags, environment, defaults
// (DESIGN.md), resolved.
#pragma once

#include <chrono>
#include <expected>
#include <string>

namespace fleet::router {

struct Options {
    std::string runtime_dir;  // resolved
    std::string state_dir;    // resolved
    std::string images;       // catalog folders flag (colon-separated), may be empty
    std::string socket_path;  // empty: none
    std::string tcp_host = "127.0.0.1";
    int tcp_port = 16509;  // -1: no TCP listener
    bool allow_remote = false;
    bool mdns = true;
    std::string mdns_name;  // default "fleet on HOSTNAME"
    bool autostart = true;
    std::string qemu = "qemu-system-x86_64";
    std::chrono::milliseconds stop_deadline{10000};
    bool verbose = false;
    // The fleet bridge (router/include/fleet/router/network.hpp): "" = none.
    std::string bridge;
    std::string bridge_ipv4 = "10.77.0.1/24";
    std::string bridge_ipv6 = "fd66:6c65:6574::1/64";
};

// The options, or the status to exit with now: 0 after --help or
// --version, 1 after a one-line error on stderr.
std::expected<Options, int> parse_options(int argc, char** argv);

// "fleet-router: MESSAGE" on stderr; returns 1.
int fail_with(const std::string& message);

}  // namespace fleet::router
