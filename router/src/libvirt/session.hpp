// fleet-router — what the libvirt mapping remembers about one client: who
// it is, the connection opened (read-only or not) and its event
// registrations. The transport's Connection carries one.
#pragma once

#include <fleet/router/domain.hpp>
#include <fleet/router/principal.hpp>

#include <fleet/base/fd.hpp>
#include <fleet/wire/types.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

namespace fleet::router::libvirt {

struct Session {
    Principal caller = Principal::anonymous();  // set by the transport (SO_PEERCRED, the TLS certificate)
    bool read_only_listener = false;            // the socket serves reads only: a read-write open is refused
    std::size_t max_callbacks = 256;            // event registrations allowed (ClientLimits)

    bool open = false;       // CONNECT_OPEN succeeded
    bool read_only = false;  // ... with VIR_CONNECT_RO (or on a read-only listener)

    struct Registration {
        std::int32_t event_id;
        std::optional<Uuid> dom;  // empty: every domain
    };
    std::map<std::int32_t, Registration> callbacks;  // callback id -> registration
    std::set<std::int32_t> old_style;                // event ids (the old registration form)
    std::int32_t next_callback = 1;

    // fleet's runs (FLEET_DOMAIN_RUN, run_procs.cpp), at most max_runs.
    // A finished run keeps its ends (3 fds) until the client opens them: a
    // few per connection bound what a client can make the router hold.
    static constexpr std::size_t max_runs = 4;
    struct Run {
        std::vector<wire::NonnullDomain> refs;   // the stages' domains, in order (name "" until started)
        std::vector<std::optional<int>> status;  // each stage's, once it ended
        std::vector<bool> reported;              // its EXITED event was sent
        bool replied = false;                    // the RUN reply went out
        Fd stdio[3];                             // the router's ends (stdin's write end, stdout's and
                                                 // stderr's read ends) until OPEN_STDIO takes them
    };
    std::vector<std::shared_ptr<Run>> runs;
};

}  // namespace fleet::router::libvirt
