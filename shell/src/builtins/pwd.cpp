// fleet shell — `pwd`: the working folder.
#include "builtins.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace fleet::shell {

int builtin_pwd(Shell& sh, Args& args)
{
    char cwd[4096];
    if (!::getcwd(cwd, sizeof cwd)) return usage_error(sh, args, std::strerror(errno), 1);
    out(std::string(cwd) + "\n");
    return 0;
}

}  // namespace fleet::shell
