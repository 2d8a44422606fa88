// fleet shell — ps, routers, router: the builtins that talk to
// fleet-router. fsh runs its VMs through the local launcher and has no
// router connection yet (docs/ARCHITECTURE.md), so they say so and fail.
#include "builtins.hpp"

namespace fleet::shell {

int builtin_router_only(Shell& sh, Args& args)
{
    sh.error(args[0] +
             ": not connected to a router (fsh starts its VMs with the local launcher for now; see fsh --help)");
    return 1;
}

}  // namespace fleet::shell
