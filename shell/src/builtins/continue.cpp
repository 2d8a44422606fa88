// fleet shell — `continue [N]`.
#include "builtins.hpp"

namespace fleet::shell {

int loop_control(Shell& sh, Args& args, Flow flow);

int builtin_continue_(Shell& sh, Args& args)
{
    return loop_control(sh, args, Flow::continue_loop);
}

}  // namespace fleet::shell
