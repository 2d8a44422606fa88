// fleet shell — `command [-p] [-v|-V] NAME [ARG...]`: run NAME skipping
// functions, or say how it would run; and `type NAME...`, which says it
// for each name. The words follow dash's: "NAME is a shell builtin",
// "NAME: not found" (127); a VM command is "NAME is a VM: ..." and
// `command -v` prints its name (there is no path to print).
#include "builtins.hpp"

#include "exec_internal.hpp"
#include "grammar.hpp"

namespace fleet::shell {
namespace {

struct Found {
    std::string terse;     // command -v: a path, else the name
    std::string sentence;  // type, command -V
};

std::optional<Found> look_up(Shell& sh, const std::string& name)
{
    if (is_reserved(name) || name == time_keyword) return Found{name, name + " is a shell keyword"};
    const Builtin* b = find_builtin(name);
    if (b && b->special) return Found{name, name + " is a special shell builtin"};
    if (sh.functions.count(name)) return Found{name, name + " is a shell function"};
    if (b) return Found{name, name + " is a shell builtin"};
    auto program = sh.resolve(name);
    if (!program) return std::nullopt;
    return Found{program->starts_with('/') ? *program : name, name + " is " + sh.settings.resolver->describe(*program)};
}

// type's and command -V's "NAME: not found" goes to stdout, as dash's.
int say(Shell& sh, const std::string& name, bool terse)
{
    auto found = look_up(sh, name);
    if (!found) {
        if (!terse) out(name + ": not found\n");
        return 127;
    }
    out((terse ? found->terse : found->sentence) + "\n");
    return 0;
}

}  // namespace

int builtin_command(Shell& sh, Args& args)
{
    std::size_t i = 1;
    char mode = 0;  // 'v', 'V' or run
    for (; i < args.size() && args[i].size() > 1 && args[i][0] == '-'; ++i) {
        if (args[i] == "--") {
            ++i;
            break;
        }
        for (char c : args[i].substr(1)) {
            if (c == 'v' || c == 'V')
                mode = c;
            else if (c != 'p')  // -p: the default PATH; fsh's commands are found without one
                return usage_error(sh, args, std::string("-") + c + ": unknown option (command [-p] [-v|-V] NAME)");
        }
    }
    if (i >= args.size()) return mode ? usage_error(sh, args, "a name is needed after -" + std::string(1, mode)) : 0;
    if (mode) return say(sh, args[i], mode == 'v');
    std::vector<std::string> words(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
    if (const Builtin* b = find_builtin(words[0])) return b->run(sh, words);
    return sh.execute_external(words, sh.environment());
}

int builtin_type(Shell& sh, Args& args)
{
    int status = 0;
    for (std::size_t i = 1; i < args.size(); ++i)
        if (say(sh, args[i], false) != 0) status = 127;
    return status;
}

}  // namespace fleet::shell
