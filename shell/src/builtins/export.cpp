// fleet shell — `export NAME[=VALUE]...`, `export -p`.
#include "builtins.hpp"

#include "grammar.hpp"

namespace fleet::shell {

// Shared with readonly: NAME or NAME=VALUE, marked by mark().
int declare_names(Shell& sh, Args& args, bool exported)
{
    std::size_t i = 1;
    if (i < args.size() && args[i] == "-p") {
        for (const auto& [name, v] : sh.vars) {
            if (exported ? v.exported : v.readonly) {
                out(std::string(exported ? "export " : "readonly ") + name + "=" + single_quoted(v.value) + "\n");
            }
        }
        return 0;
    }
    int status = 0;
    for (; i < args.size(); ++i) {
        auto eq = args[i].find('=');
        std::string name = args[i].substr(0, eq);
        if (!is_name(name)) {
            status = usage_error(sh, args, args[i] + ": bad variable name", 1);
            continue;
        }
        if (eq != std::string::npos && !sh.set(name, args[i].substr(eq + 1))) {
            status = 1;
            continue;
        }
        if (exported) {
            sh.export_var(name);
        } else {
            sh.vars[name].readonly = true;
        }
    }
    return status;
}

int builtin_export_(Shell& sh, Args& args)
{
    return declare_names(sh, args, true);
}

}  // namespace fleet::shell
