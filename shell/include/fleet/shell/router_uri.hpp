// fleet shell — libvirt-style URIs naming a fleet-router (FLEET_URI,
// fsh --connect, `router URI`).
//
//   qemu+unix:///system?socket=/run/fleet/libvirt-sock   a unix socket (read-write)
//   qemu:///system                                      this host's router: <runtime>/libvirt-sock
//   qemu+tcp://host[:16509]/system                       plain TCP (the router serves it read-only)
//   qemu+tls://host[:16514]/system[?pkipath=DIR&no_verify=1]   TLS with a client certificate
//
// The driver is `qemu` (what virsh sends; the router answers to it);
// `fleet` is taken as a synonym. Query parameters are percent-decoded;
// unknown ones are refused, as is a URI that names a host for a unix
// socket or a socket for a network transport. The parser reads untrusted
// text (the environment, scripts): every error is one line, never a crash
// (shell/fuzz/uri_fuzzer.cpp).
#pragma once

#include <fleet/base/error.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace fleet::shell {

enum class RouterTransport { unix_socket, tcp, tls };

struct RouterUri {
    std::string driver = "qemu";
    RouterTransport transport = RouterTransport::unix_socket;
    std::string host;        // tcp, tls: a name or an address (IPv6 without brackets)
    std::uint16_t port = 0;  // tcp, tls: 0 = the default (16509, 16514)
    std::string path = "/system";
    std::string socket;      // unix: the socket's path; empty = the local router's
    std::string pkipath;     // tls: the folder of cacert.pem, clientcert.pem, clientkey.pem
    bool no_verify = false;  // tls: do not check the server's certificate
    bool operator==(const RouterUri&) const = default;

    // The port to connect to: port, or the transport's default.
    [[nodiscard]] std::uint16_t effective_port() const;
    // The name CONNECT_OPEN sends: transport, host and port removed ("qemu:///system").
    [[nodiscard]] std::string open_name() const;
};

// Parses text; the error says what is wrong ("bad router URI 'x': ...").
Result<RouterUri> parse_router_uri(std::string_view text);

// The canonical text of u (parse_router_uri gives u back).
std::string format_router_uri(const RouterUri& u);

// Text with every byte outside [A-Za-z0-9-._~/] as %XX (for a socket path
// in a URI).
std::string percent_encode(std::string_view text);

}  // namespace fleet::shell
