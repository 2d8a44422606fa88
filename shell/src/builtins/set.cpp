// fleet shell — `set`: options (-e -u -x -f -n -m, -o NAME) and positional parameters.
#include "builtins.hpp"

#include <array>

namespace fleet::shell {
namespace {

struct OptionName {
    char letter;
    const char* name;
    bool Options::*field;
};
constexpr std::array<OptionName, 7> option_names = {{
    {'e', "errexit", &Options::errexit},
    {'u', "nounset", &Options::nounset},
    {'x', "xtrace", &Options::xtrace},
    {'f', "noglob", &Options::noglob},
    {'n', "noexec", &Options::noexec},
    {'m', "monitor", &Options::monitor},
    {'\0', "pipefail", &Options::pipefail},
}};

bool set_letter(Shell& sh, char letter, bool on)
{
    for (const auto& o : option_names) {
        if (o.letter == letter && letter != '\0') {
            sh.options.*o.field = on;
            return true;
        }
    }
    return false;
}

bool set_named(Shell& sh, const std::string& name, bool on)
{
    for (const auto& o : option_names) {
        if (name == o.name) {
            sh.options.*o.field = on;
            return true;
        }
    }
    return false;
}

void print_options(const Shell& sh)
{
    for (const auto& o : option_names) {
        out(std::string(o.name) + (sh.options.*o.field ? "\ton\n" : "\toff\n"));
    }
}

void print_variables(const Shell& sh)
{
    for (const auto& [name, v] : sh.vars) {
        out(name + "=" + single_quoted(v.value) + "\n");
    }
}

}  // namespace

int builtin_set(Shell& sh, Args& args)
{
    if (args.size() == 1) {
        print_variables(sh);
        return 0;
    }
    std::size_t i = 1;
    bool set_positional = false;
    for (; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--") {
            set_positional = true;
            ++i;
            break;
        }
        if (a.size() < 2 || (a[0] != '-' && a[0] != '+')) break;
        bool on = a[0] == '-';
        if (a.substr(1) == "o") {
            if (i + 1 == args.size()) {
                print_options(sh);
                return 0;
            }
            if (!set_named(sh, args[++i], on)) return usage_error(sh, args, "illegal option -o " + args[i]);
            continue;
        }
        for (std::size_t k = 1; k < a.size(); ++k) {
            if (!set_letter(sh, a[k], on)) return usage_error(sh, args, std::string("illegal option -") + a[k]);
        }
    }
    if (set_positional || i < args.size()) {
        sh.positional.assign(args.begin() + static_cast<long>(i), args.end());
        sh.getopts_state.restart = true;
    }
    return 0;
}

}  // namespace fleet::shell
