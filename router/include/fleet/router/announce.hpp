// fleet-router — the mDNS announcement of the TCP listener (_libvirt._tcp,
// with a TXT record that says it is fleet), through router/mdns when fleet
// was built with avahi-client; otherwise it says so and announces nothing.
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

// name: the instance name; empty: "fleet on HOSTNAME".
std::unique_ptr<Announcement> announce(Loop& loop, std::string name, int port, const Log& log);

}  // namespace fleet::router
