// fleet shell — `local NAME[=VALUE]...`: variables that get their old
// value back when the function returns (dynamic scope, as dash).
#include "builtins.hpp"

#include "grammar.hpp"

namespace fleet::shell {

int builtin_local(Shell& sh, Args& args)
{
    if (sh.function_depth == 0) return usage_error(sh, args, "not in a function", 1);
    for (std::size_t i = 1; i < args.size(); ++i) {
        auto eq = args[i].find('=');
        std::string name = args[i].substr(0, eq);
        if (!is_name(name)) return usage_error(sh, args, args[i] + ": bad variable name", 1);
        sh.local(name);
        if (eq != std::string::npos && !sh.set(name, args[i].substr(eq + 1))) return 1;
    }
    return 0;
}

}  // namespace fleet::shell
