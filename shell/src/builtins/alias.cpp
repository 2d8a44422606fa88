// fleet shell — `alias [NAME[=VALUE]...]` and `unalias [-a] NAME...`. An
// alias takes effect for commands parsed after the one that defines it
// (a script is parsed a complete command at a time), as in sh, inside
// their $( ) and ` ` too (the grammar substitutes it: parser.cpp).
#include "builtins.hpp"

namespace fleet::shell {
namespace {

// NAME='VALUE', quoted so that the shell reads it back (dash's way).
std::string quoted(const std::string& name, const std::string& value)
{
    return name + "=" + single_quoted(value, "'\"'\"'") + "\n";
}

bool alias_name(std::string_view name)
{
    if (name.empty()) return false;
    for (char c : name)
        if (c <= ' ' || c == '=' || c == '/' || c == '\'' || c == '"' || c == '\\' || c == '$' || c == '`' ||
            std::string_view(";&|<>()").find(c) != std::string_view::npos)
            return false;
    return true;
}

}  // namespace

int builtin_alias(Shell& sh, Args& args)
{
    if (args.size() == 1) {
        for (const auto& [name, value] : sh.aliases) out(quoted(name, value));
        return 0;
    }
    int status = 0;
    for (std::size_t i = 1; i < args.size(); ++i) {
        const std::string& a = args[i];
        auto eq = a.find('=');
        if (eq == std::string::npos) {
            auto it = sh.aliases.find(a);
            if (it == sh.aliases.end()) {
                sh.error("alias: " + a + " not found");
                status = 1;
            } else {
                out(quoted(it->first, it->second));
            }
            continue;
        }
        std::string name = a.substr(0, eq);
        if (!alias_name(name)) {
            sh.error("alias: " + name + ": not a name an alias can have");
            status = 1;
            continue;
        }
        if (sh.aliases.size() >= 10000 && !sh.aliases.contains(name)) {
            sh.error("alias: " + name + ": too many aliases");
            status = 1;
            continue;
        }
        sh.aliases[name] = a.substr(eq + 1);
    }
    return status;
}

int builtin_unalias(Shell& sh, Args& args)
{
    if (args.size() == 2 && args[1] == "-a") {
        sh.aliases.clear();
        return 0;
    }
    if (args.size() < 2) return usage_error(sh, args, "usage: unalias [-a] NAME...");
    int status = 0;
    for (std::size_t i = 1; i < args.size(); ++i) {
        if (sh.aliases.erase(args[i]) == 0) {
            sh.error("unalias: " + args[i] + " not found");
            status = 1;
        }
    }
    return status;
}

}  // namespace fleet::shell
