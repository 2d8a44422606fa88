// fleet-router — the mDNS announcement (_libvirt._tcp, with a TXT record
// that says it is fleet and which transport the port speaks), through
// router/mdns when fleet was built with avahi-client; otherwise it says so
// and announces nothing.
//
// Only what another host can reach and what authenticates its clients is
// announced: the TLS listener on an address beyond loopback. Nothing else
// (the unix sockets, read-only plain TCP, TLS on loopback only) is.
#pragma once

#include <fleet/base/loop.hpp>
#include <fleet/router/log.hpp>

#include <memory>
#include <string>

namespace fleet::router {

class Announcement {
public:
    virtual ~Announcement() = default;  // withdraws it
};

// name: the instance name; empty: "fleet on HOSTNAME". The TLS listener's
// address and port (-1: none); nullptr, and a line saying why, when there
// is nothing to announce.
std::unique_ptr<Announcement> announce_reachable(Loop& loop, std::string name, const std::string& tls_host,
                                                 int tls_port, const Log& log);

}  // namespace fleet::router
