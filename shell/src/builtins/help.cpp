// fleet shell — `help [NAME]`: the builtins, or one builtin's usage.
#include "builtins.hpp"

#include <cstdio>

namespace fleet::shell {

int builtin_help(Shell& sh, Args& args)
{
    if (args.size() > 1) {
        const Builtin* b = find_builtin(args[1]);
        if (!b) return usage_error(sh, args, args[1] + ": not a builtin", 1);
        out(std::string(b->usage) + "\n    " + b->summary + "\n");
        return 0;
    }
    out("fsh builtins (help NAME for one):\n");
    for (const auto& b : all_builtins()) {
        char line[160];
        std::snprintf(line, sizeof line, "  %-34s %s\n", b.usage, b.summary);
        out(line);
    }
    out("Other commands run as host programs only with --host-commands (FSH_RUNNER=host);\n"
        "running them as VMs through fleet-router comes next.\n");
    return 0;
}

}  // namespace fleet::shell
