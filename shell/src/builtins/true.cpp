// fleet shell — `true`.
#include "builtins.hpp"

namespace fleet::shell {

int builtin_true_(Shell&, Args&)
{
    return 0;
}

}  // namespace fleet::shell
