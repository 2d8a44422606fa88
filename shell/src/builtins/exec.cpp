// fleet shell — `exec [CMD [ARG...]]`: alone, its redirections stay (the
// executor applies them for good); with a command, the shell runs it and
// ends with its status (the runner starts commands; nothing replaces fsh's
// own process image).
#include "builtins.hpp"

namespace fleet::shell {

int builtin_exec(Shell& sh, Args& args)
{
    if (args.size() == 1) return 0;
    std::vector<std::string> words(args.begin() + 1, args.end());
    throw ShellExit{sh.execute_external(words, sh.environment())};
}

}  // namespace fleet::shell
