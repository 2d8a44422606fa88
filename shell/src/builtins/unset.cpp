// fleet shell — `unset [-fv] NAME...`.
#include "builtins.hpp"

namespace fleet::shell {

int builtin_unset(Shell& sh, Args& args)
{
    bool functions = false;
    std::size_t i = 1;
    for (; i < args.size() && args[i].size() > 1 && args[i][0] == '-'; ++i) {
        if (args[i] == "-f") {
            functions = true;
        } else if (args[i] == "-v") {
            functions = false;
        } else if (args[i] == "--") {
            ++i;
            break;
        } else {
            return usage_error(sh, args, "bad option " + args[i]);
        }
    }
    int status = 0;
    for (; i < args.size(); ++i) {
        if (functions) {
            sh.functions.erase(args[i]);
        } else if (!sh.unset(args[i])) {
            status = 1;
        }
    }
    return status;
}

}  // namespace fleet::shell
