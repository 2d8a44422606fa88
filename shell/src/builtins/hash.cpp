// fleet shell — `hash [-r] [NAME...]`: fsh looks every name up when it
// runs it (the image catalog; there is no $PATH cache), so there is
// nothing to list or forget; a name given must still resolve.
#include "builtins.hpp"

namespace fleet::shell {

int builtin_hash(Shell& sh, Args& args)
{
    int status = 0;
    for (std::size_t i = 1; i < args.size(); ++i) {
        if (args[i] == "-r") continue;
        if (find_builtin(args[i]) || sh.functions.count(args[i])) continue;
        if (!sh.resolve(args[i])) {
            sh.error("hash: " + args[i] + ": not found");
            status = 1;
        }
    }
    return status;
}

}  // namespace fleet::shell
