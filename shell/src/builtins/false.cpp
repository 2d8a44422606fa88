// fleet shell — `false`.
#include "builtins.hpp"

namespace fleet::shell {

int builtin_false_(Shell&, Args&)
{
    return 1;
}

}  // namespace fleet::shell
