// fleet shell — `trap [ACTION SIGNAL...]`: ACTION runs on EXIT (0) or the
// signal; '' ignores it, - restores the default; alone, lists the traps.
#include "builtins.hpp"

#include "exec_internal.hpp"

namespace fleet::shell {

int builtin_trap(Shell& sh, Args& args)
{
    if (args.size() == 1) {
        for (const auto& [sig, action] : sh.traps) {
            out("trap -- " + single_quoted(action) + " " + signal_name(sig) + "\n");
        }
        return 0;
    }
    std::size_t i = 1;
    if (args[i] == "--") ++i;
    if (i >= args.size()) return 0;
    // `trap N...` with a number first resets those signals.
    bool reset = args[i] == "-" || (signal_number(args[i]) >= 0 && !args[i].empty() &&
                                    std::isdigit(static_cast<unsigned char>(args[i][0])));
    std::optional<std::string> action;
    if (!reset || args[i] == "-") {
        if (args[i] != "-") action = args[i];
        ++i;
    }
    int status = 0;
    for (; i < args.size(); ++i) {
        int sig = signal_number(args[i]);
        if (sig < 0 || sig == 9 || sig == 19) {
            status = usage_error(sh, args, args[i] + ": bad trap", 1);
            continue;
        }
        sh.set_trap(sig, action);
    }
    return status;
}

}  // namespace fleet::shell
