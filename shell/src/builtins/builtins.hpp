// fleet shell — builtins: commands that run inside fsh, one per file
// (builtins/NAME.cpp) and one table (builtins/table.cpp). Each gets the
// shell and its arguments (args[0] is its name), writes to fds 1 and 2
// (already redirected), and returns its exit status.
#pragma once

#include <fleet/shell/shell.hpp>

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace fleet::shell {

using Args = std::vector<std::string>;
using BuiltinFn = int (*)(Shell& sh, Args& args);

struct Builtin {
    const char* name;
    BuiltinFn run;
    bool special;  // POSIX special builtin: its assignments stay, its errors end a script
    const char* usage;
    const char* summary;
};

const Builtin* find_builtin(std::string_view name);
std::span<const Builtin> all_builtins();

// Output helpers: fd 1, and "fsh: NAME: message" on fd 2 (returns status).
void out(std::string_view text);
int usage_error(Shell& sh, const Args& args, const std::string& message, int status = 2);
// Rows as left-aligned columns, two spaces apart, one line each (ps, routers).
std::string format_columns(const std::vector<std::vector<std::string>>& rows);
// A decimal number; nullopt if s is not one.
std::optional<long> parse_number(const std::string& s);

// echo's and printf %b's escapes (\n, \t, \0NNN, ...); \c sets stop and ends the text.
std::string backslash_escapes(std::string_view s, bool& stop, bool octal_needs_zero);

#define FSH_BUILTIN(name) int builtin_##name(Shell& sh, Args& args)
FSH_BUILTIN(colon);
FSH_BUILTIN(true_);
FSH_BUILTIN(false_);
FSH_BUILTIN(cd);
FSH_BUILTIN(pwd);
FSH_BUILTIN(exit);
FSH_BUILTIN(export_);
FSH_BUILTIN(readonly);
FSH_BUILTIN(unset);
FSH_BUILTIN(set);
FSH_BUILTIN(shift);
FSH_BUILTIN(local);
FSH_BUILTIN(return_);
FSH_BUILTIN(break_);
FSH_BUILTIN(continue_);
FSH_BUILTIN(eval);
FSH_BUILTIN(dot);
FSH_BUILTIN(echo);
FSH_BUILTIN(printf);
FSH_BUILTIN(test);
FSH_BUILTIN(read);
FSH_BUILTIN(images);
FSH_BUILTIN(trap);
FSH_BUILTIN(jobs);
FSH_BUILTIN(fg);
FSH_BUILTIN(bg);
FSH_BUILTIN(wait);
FSH_BUILTIN(kill);
FSH_BUILTIN(ps);
FSH_BUILTIN(router);
FSH_BUILTIN(routers);
FSH_BUILTIN(host);
FSH_BUILTIN(help);
FSH_BUILTIN(exec);
FSH_BUILTIN(command);
FSH_BUILTIN(type);
FSH_BUILTIN(getopts);
FSH_BUILTIN(umask);
FSH_BUILTIN(ulimit);
FSH_BUILTIN(times);
FSH_BUILTIN(hash);
FSH_BUILTIN(alias);
FSH_BUILTIN(unalias);
#undef FSH_BUILTIN

}  // namespace fleet::shell
