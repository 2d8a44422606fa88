// fleet shell — ps, images, routers, router: the builtins that talk to
// fleet-router. fsh has no router connection yet (the VM runner is the
// next step, docs/ARCHITECTURE.md), so they say so and fail.
#include "builtins.hpp"

namespace fleet::shell {

int builtin_router_only(Shell& sh, Args& args)
{
    sh.error(args[0] + ": not connected to a router (fsh runs host commands only for now; see fsh --help)");
    return 1;
}

}  // namespace fleet::shell
