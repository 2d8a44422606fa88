// fleet-router — the announcement (announce.hpp): router/mdns's publisher,
// when built.
#include "transport/listeners.hpp"

#include <fleet/router/announce.hpp>

#if FLEET_HAVE_MDNS
#include <fleet/router/mdns.hpp>
#endif

#include <unistd.h>

namespace fleet::router {

namespace {

class MdnsAnnouncement final : public Announcement {
public:
#if FLEET_HAVE_MDNS
    std::unique_ptr<MdnsPublisher> publisher;
#endif
};

}  // namespace

std::unique_ptr<Announcement> announce_reachable(Loop& loop, std::string name, const std::string& tls_host,
                                                 int tls_port, const Log& log)
{
    if (tls_port <= 0) {
        log.info("mdns: nothing to announce (only a TLS listener is: --listen-tls)");
        return nullptr;
    }
    if (transport::is_loopback(tls_host)) {
        log.info("mdns: TLS listens on " + tls_host + " only, which no other host reaches; nothing to announce");
        return nullptr;
    }
    const int port = tls_port;
    auto a = std::make_unique<MdnsAnnouncement>();
#if FLEET_HAVE_MDNS
    if (name.empty()) {
        char host[256] = {};
        ::gethostname(host, sizeof host - 1);
        name = std::string("fleet on ") + host;
    }
    MdnsService s;
    s.name = name;
    s.port = static_cast<std::uint16_t>(port);
    s.txt = {"impl=fleet", std::string("version=") + FLEET_VERSION, "path=/system", "transport=tls"};
    a->publisher = MdnsPublisher::start(loop, std::move(s), [log](const std::string& line) { log.info(line); });
#else
    (void)loop;
    (void)name;
    (void)port;
    log.info("mdns: built without avahi-client; not announcing");
#endif
    return a;
}

}  // namespace fleet::router
