// fleet shell — `break [N]`.
#include "builtins.hpp"

namespace fleet::shell {

// Shared with continue: N loops out, at most as many as there are.
int loop_control(Shell& sh, Args& args, Flow flow)
{
    long n = 1;
    if (args.size() > 1) {
        auto v = parse_number(args[1]);
        if (!v || *v < 1) return usage_error(sh, args, "illegal number: " + args[1]);
        n = *v;
    }
    if (sh.loop_depth == 0) return 0;
    sh.flow = flow;
    sh.flow_count = static_cast<int>(std::min<long>(n, sh.loop_depth));
    return 0;
}

int builtin_break_(Shell& sh, Args& args)
{
    return loop_control(sh, args, Flow::break_loop);
}

}  // namespace fleet::shell
