// fleet shell — `:`: nothing, successfully (its arguments are still expanded).
#include "builtins.hpp"

namespace fleet::shell {

int builtin_colon(Shell&, Args&)
{
    return 0;
}

}  // namespace fleet::shell
