// fleet shell — `command NAME [ARG...]`: a builtin or command, never a function.
#include "builtins.hpp"

namespace fleet::shell {

int builtin_command(Shell& sh, Args& args)
{
    if (args.size() < 2) return 0;
    std::vector<std::string> words(args.begin() + 1, args.end());
    if (const Builtin* b = find_builtin(words[0])) return b->run(sh, words);
    return sh.execute_external(words, sh.environment());
}

}  // namespace fleet::shell
