// fleet-router — the announcement: router/mdns's publisher, when built.
#pragma once

#include "router.hpp"

#include <memory>

#if FLEET_HAVE_MDNS
#include <fleet/router/mdns.hpp>
#endif

#include <unistd.h>

namespace fleet::router {

class MdnsGlue {
public:
    static std::unique_ptr<MdnsGlue> start(Router& router, int port)
    {
        auto g = std::make_unique<MdnsGlue>();
#if FLEET_HAVE_MDNS
        MdnsService s;
        std::string name = router.options().mdns_name;
        if (name.empty()) {
            char host[256] = {};
            ::gethostname(host, sizeof host - 1);
            name = std::string("fleet on ") + host;
        }
        s.name = name;
        s.port = static_cast<std::uint16_t>(port);
        s.txt = {"impl=fleet", std::string("version=") + FLEET_VERSION, "path=/system", "transport=tcp"};
        g->publisher_ = MdnsPublisher::start(router.loop(), std::move(s), [&router](const std::string& line) { router.log(line); });
#else
        (void)port;
        router.log("mdns: built without avahi-client; not announcing");
#endif
        return g;
    }

private:
#if FLEET_HAVE_MDNS
    std::unique_ptr<MdnsPublisher> publisher_;
#endif
};

}  // namespace fleet::router
