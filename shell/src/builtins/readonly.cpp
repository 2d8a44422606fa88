// fleet shell — `readonly NAME[=VALUE]...`, `readonly -p`.
#include "builtins.hpp"

namespace fleet::shell {

int declare_names(Shell& sh, Args& args, bool exported);

int builtin_readonly(Shell& sh, Args& args)
{
    return declare_names(sh, args, false);
}

}  // namespace fleet::shell
