// fleet shell — `exit [N]`: end the shell (after its EXIT trap).
#include "builtins.hpp"

namespace fleet::shell {

int builtin_exit(Shell& sh, Args& args)
{
    int status = sh.last_status;
    if (args.size() > 1) {
        auto n = parse_number(args[1]);
        if (!n) return usage_error(sh, args, "illegal number: " + args[1], 2);
        status = static_cast<int>(*n & 0xff);
    }
    throw ShellExit{status};
}

}  // namespace fleet::shell
