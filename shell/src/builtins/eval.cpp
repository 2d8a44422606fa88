// fleet shell — `eval [ARG...]`: the arguments, joined by spaces, run as shell text.
#include "builtins.hpp"

namespace fleet::shell {

int builtin_eval(Shell& sh, Args& args)
{
    std::string text;
    for (std::size_t i = 1; i < args.size(); ++i) text += (i > 1 ? " " : "") + args[i];
    sh.last_status = 0;
    return sh.run_text(text, "eval");
}

}  // namespace fleet::shell
