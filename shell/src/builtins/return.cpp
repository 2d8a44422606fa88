// fleet shell — `return [N]`: leave the function (or the `.` script).
#include "builtins.hpp"

namespace fleet::shell {

int builtin_return_(Shell& sh, Args& args)
{
    int status = sh.last_status;
    if (args.size() > 1) {
        auto n = parse_number(args[1]);
        if (!n) return usage_error(sh, args, "illegal number: " + args[1]);
        status = static_cast<int>(*n & 0xff);
    }
    sh.flow = Flow::return_function;
    sh.last_status = status;
    return status;
}

}  // namespace fleet::shell
