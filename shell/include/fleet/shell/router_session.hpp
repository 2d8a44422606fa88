// fleet shell — which fleet-router fsh talks to: finding routers, choosing
// one, and the connection to it (used by `routers`, `router`, `ps`, the
// prompt, and the router runner's choice of router: router_run.hpp).
//
// Where routers are found, in the order fsh prefers them when none was
// chosen (`router NAME|URI` chooses):
//   1. fsh --connect URI
//   2. $FLEET_URI
//   3. this host's router: <runtime>/router.json (the folder fleet-vmm and
//      fleet-router use: FLEET_RUNTIME_DIR, /run/fleet as root, else
//      $XDG_RUNTIME_DIR/fleet), if its socket accepts a connection
//   4. routers announced over mDNS: `_libvirt._tcp` services whose TXT
//      record says impl=fleet (what fleet-router publishes)
// An explicit URI (1, 2) that is bad or unreachable is an error, not a
// reason to pick another router. The connection is made on first use and
// kept; a call that fails drops it, so the next use connects again.
#pragma once

#include <fleet/base/error.hpp>
#include <fleet/shell/router_client.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace fleet::shell {

struct RouterEntry {
    std::string name;    // "local", the mDNS instance name, or the URI's host
    std::string uri;     // libvirt-style (router_uri.hpp)
    std::string source;  // "--connect", "FLEET_URI", "runtime folder DIR", "mDNS"
    bool operator==(const RouterEntry&) const = default;
};

// The router of this host's runtime folder, if its socket takes a connection.
std::optional<RouterEntry> local_router(const std::string& runtime_dir);

// That router, connected (and opened): its URI and the client; nullopt if
// there is none or it does not answer.
struct LocalRouter {
    RouterUri uri;
    std::unique_ptr<RouterClient> client;
};
std::optional<LocalRouter> connect_local_router(const std::string& runtime_dir, std::chrono::milliseconds timeout);

// Fleet routers announced over mDNS (avahi-client; the browse ends when the
// daemon has said all it knows, or at the timeout). An error says why there
// was no browsing (no avahi-daemon, fsh built without avahi-client).
Result<std::vector<RouterEntry>> browse_fleet_routers(std::chrono::milliseconds timeout);

// The entry for a resolved announcement: qemu+TRANSPORT://ADDRESS:PORT/PATH
// from the TXT strings ("transport=tls", "path=/system"); nullopt unless
// the TXT says impl=fleet.
std::optional<RouterEntry> entry_from_announcement(const std::string& name, const std::string& address, int port,
                                                   const std::vector<std::string>& txt);

class RouterSession {
public:
    struct Config {
        std::optional<std::string> connect_uri;  // fsh --connect
        std::optional<std::string> env_uri;      // $FLEET_URI
        std::string runtime_dir;
        bool mdns = true;
        std::chrono::milliseconds browse{1500};
        std::chrono::milliseconds timeout{5000};  // connect and each call
    };
    explicit RouterSession(Config config) : config_(std::move(config)) {}

    // Every router found now, in preference order; notes get a line for
    // each place that could not be looked at (mDNS unavailable, ...).
    std::vector<RouterEntry> discover(std::vector<std::string>& notes) const;
    // The connected client, connecting first if needed.
    Result<RouterClient*> client();
    // Switch to a router by its name (as `routers` lists it) or by URI;
    // the old connection stays in use if the new one fails.
    Result<> use(const std::string& name_or_uri);
    // The router in use (connected), if any.
    [[nodiscard]] const std::optional<RouterEntry>& current() const { return current_; }
    // A router was chosen: by --connect, FLEET_URI or `router`.
    [[nodiscard]] bool chosen() const { return current_ || config_.connect_uri || config_.env_uri; }
    // A failed call: forget the connection (the next use connects again).
    void drop();
    // "no fleet-router found ...; point fsh at one: ..." (one line).
    [[nodiscard]] std::string none_message() const;

private:
    Result<> connect_to(const RouterEntry& entry);
    Config config_;
    std::optional<RouterEntry> current_;
    std::unique_ptr<RouterClient> client_;
};

}  // namespace fleet::shell
