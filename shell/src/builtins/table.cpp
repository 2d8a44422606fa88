// fleet shell — the builtin table: name, function, kind, usage, summary.
#include "builtins.hpp"

#include "exec_internal.hpp"

#include <array>

namespace fleet::shell {
namespace {

// Sorted by name; `help` prints it in this order.
constexpr auto table = std::to_array<Builtin>({
    {".", builtin_dot, true, ". FILE [ARG...]", "run FILE's commands in this shell"},
    {":", builtin_colon, true, ": [ARG...]", "do nothing, successfully"},
    {"[", builtin_test, false, "[ EXPR ]", "evaluate a condition (as test)"},
    {"alias", builtin_alias, false, "alias [NAME[=VALUE]...]", "define or show aliases"},
    {"bg", builtin_bg, false, "bg [%JOB]", "resume a stopped job in the background"},
    {"break", builtin_break_, true, "break [N]", "leave the innermost N loops"},
    {"cd", builtin_cd, false, "cd [DIR|-]", "change the working folder"},
    {"command", builtin_command, false, "command [-v|-V] NAME [ARG...]",
     "run NAME skipping functions; -v, -V: say how it would run"},
    {"continue", builtin_continue_, true, "continue [N]", "next iteration of the Nth loop"},
    {"echo", builtin_echo, false, "echo [-n] [ARG...]", "print the arguments (with \\n-style escapes)"},
    {"eval", builtin_eval, true, "eval [ARG...]", "run the arguments as shell text"},
    {"exec", builtin_exec, true, "exec [CMD [ARG...]]", "keep redirections, or replace the shell by CMD"},
    {"exit", builtin_exit, true, "exit [N]", "leave the shell"},
    {"export", builtin_export_, true, "export [-p] NAME[=VALUE]...", "pass variables to commands"},
    {"false", builtin_false_, false, "false", "fail"},
    {"fg", builtin_fg, false, "fg [%JOB]", "bring a job to the foreground"},
    {"getopts", builtin_getopts, false, "getopts OPTSTRING NAME [ARG...]", "the next option of the arguments"},
    {"hash", builtin_hash, false, "hash [-r] [NAME...]", "check that names resolve (fsh keeps no cache)"},
    {"help", builtin_help, false, "help [NAME]", "list builtins, or describe one"},
    {"host", builtin_host, false, "host CMD [ARG...]", "run a host program (not a VM)"},
    {"images", builtin_images, false, "images", "list the images and Linux applets commands run as"},
    {"jobs", builtin_jobs, false, "jobs [-l]", "list jobs"},
    {"kill", builtin_kill, false, "kill [-s SIG | -SIG] PID|%JOB...", "signal processes or jobs"},
    {"local", builtin_local, false, "local NAME[=VALUE]...", "function-local variables"},
    {"printf", builtin_printf, false, "printf FORMAT [ARG...]", "formatted output"},
    {"ps", builtin_ps, false, "ps [-a]", "VMs of the jobs; -a: every VM (the router's, else the launcher's)"},
    {"pwd", builtin_pwd, false, "pwd", "print the working folder"},
    {"read", builtin_read, false, "read [-r] [-p PROMPT] NAME...", "read a line into variables"},
    {"readonly", builtin_readonly, true, "readonly NAME[=VALUE]...", "make variables unchangeable"},
    {"return", builtin_return_, true, "return [N]", "leave a function"},
    {"router", builtin_router, false, "router [NAME|URI]", "the router in use, or switch to another"},
    {"routers", builtin_routers, false, "routers", "list the fleet-routers found (here, FLEET_URI, mDNS)"},
    {"set", builtin_set, true, "set [-euxfn] [-o OPT] [--] [ARG...]", "options and positional parameters"},
    {"shift", builtin_shift, true, "shift [N]", "drop positional parameters"},
    {"source", builtin_dot, true, "source FILE [ARG...]", "as . (bash's name for it)"},
    {"test", builtin_test, false, "test EXPR", "evaluate a condition"},
    {"trap", builtin_trap, true, "trap [ACTION SIGNAL...]", "run ACTION on EXIT or a signal"},
    {"times", builtin_times, true, "times", "user and system time of fsh and its children"},
    {"true", builtin_true_, false, "true", "succeed"},
    {"type", builtin_type, false, "type NAME...", "say how each name would run (builtin, function, VM, ...)"},
    {"ulimit", builtin_ulimit, false, "ulimit [-H|-S] [-a|-tfdscmlpnvwr] [LIMIT]", "resource limits"},
    {"umask", builtin_umask, false, "umask [-S] [MASK]", "the file mode mask of files fsh creates"},
    {"unalias", builtin_unalias, false, "unalias [-a] NAME...", "remove aliases"},
    {"unset", builtin_unset, true, "unset [-fv] NAME...", "remove variables or functions"},
    {"wait", builtin_wait, false, "wait [PID|%JOB...]", "wait for background jobs"},
});

}  // namespace

const Builtin* find_builtin(std::string_view name)
{
    for (const auto& b : table) {
        if (name == b.name) return &b;
    }
    return nullptr;
}

std::span<const Builtin> all_builtins()
{
    return table;
}

void out(std::string_view text)
{
    write_all(1, text);
}

int usage_error(Shell& sh, const Args& args, const std::string& message, int status)
{
    sh.error(args[0] + ": " + message);
    return status;
}

std::optional<long> parse_number(const std::string& s)
{
    if (s.empty() || s.size() > 18) return std::nullopt;
    std::size_t i = s[0] == '-' || s[0] == '+' ? 1 : 0;
    if (i == s.size()) return std::nullopt;
    for (std::size_t k = i; k < s.size(); ++k) {
        if (s[k] < '0' || s[k] > '9') return std::nullopt;
    }
    return std::stol(s);
}

}  // namespace fleet::shell
