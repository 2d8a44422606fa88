// fleet shell — `. FILE [ARG...]`: FILE's commands in this shell.
#include "builtins.hpp"

#include <fstream>
#include <sstream>

namespace fleet::shell {

int builtin_dot(Shell& sh, Args& args)
{
    if (args.size() < 2) return usage_error(sh, args, "usage: . FILE [ARG...]");
    std::string path = args[1];
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        sh.error(args[0] + ": " + path + ": cannot open");
        if (!sh.interactive) throw ShellExit{2};
        return 2;
    }
    std::stringstream text;
    text << in.rdbuf();
    std::string body = text.str();
    bool own_args = args.size() > 2;
    std::vector<std::string> saved;
    if (own_args) {
        saved = sh.positional;
        sh.positional.assign(args.begin() + 2, args.end());
    }
    sh.last_status = 0;
    int status = sh.run_text(body, path);
    if (sh.flow == Flow::return_function && sh.function_depth == 0) sh.flow = Flow::none;
    if (own_args) sh.positional = saved;
    return status;
}

}  // namespace fleet::shell
