// fleet shell — variables, special parameters, and the shell's construction.
#include <fleet/shell/shell.hpp>

#include <unistd.h>

#include <cctype>

extern char** environ;

namespace fleet::shell {

Shell::Shell(Settings s) : settings(std::move(s)), shell_pid(::getpid())
{
    if (!settings.host_runner) settings.host_runner = settings.runner;
    arg0 = settings.arg0;
    positional = settings.args;
    interactive = settings.interactive;
    source_name = settings.arg0;
    for (char** e = environ; e && *e; ++e) {
        std::string entry = *e;
        auto eq = entry.find('=');
        if (eq == std::string::npos || eq == 0) continue;
        vars[entry.substr(0, eq)] = Variable{entry.substr(eq + 1), true, false};
    }
    vars["IFS"] = Variable{" \t\n", false, false};
    if (!vars.contains("PS1")) vars["PS1"] = Variable{"fsh$ ", false, false};
    if (!vars.contains("PS2")) vars["PS2"] = Variable{"> ", false, false};
    if (!vars.contains("PS4")) vars["PS4"] = Variable{"+ ", false, false};
    vars["PPID"] = Variable{std::to_string(::getppid()), false, false};
    vars["OPTIND"] = Variable{"1", false, false};
    char cwd[4096];
    if (::getcwd(cwd, sizeof cwd)) vars["PWD"] = Variable{cwd, true, false};
}

Shell::~Shell() = default;

std::optional<std::string> Shell::get(const std::string& name) const
{
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second.value;
}

bool Shell::set(const std::string& name, std::string value)
{
    Variable& v = vars[name];
    if (v.readonly) {
        error(name + ": is read only");
        return false;
    }
    v.value = std::move(value);
    if (name == "OPTIND") getopts_state = {};  // the script says where getopts goes on
    return true;
}

bool Shell::unset(const std::string& name)
{
    auto it = vars.find(name);
    if (it == vars.end()) return true;
    if (it->second.readonly) {
        error(name + ": is read only");
        return false;
    }
    vars.erase(it);
    if (name == "OPTIND") getopts_state = {};
    return true;
}

void Shell::export_var(const std::string& name)
{
    vars[name].exported = true;
}

std::vector<std::string> Shell::environment() const
{
    std::vector<std::string> env;
    for (const auto& [name, v] : vars) {
        if (v.exported) env.push_back(name + "=" + v.value);
    }
    return env;
}

std::string Shell::ifs() const
{
    auto v = get("IFS");
    return v ? *v : " \t\n";
}

std::string Shell::option_letters() const
{
    std::string s;
    if (options.errexit) s += 'e';
    if (options.noglob) s += 'f';
    if (interactive) s += 'i';
    if (options.monitor) s += 'm';
    if (options.noexec) s += 'n';
    if (options.nounset) s += 'u';
    if (options.xtrace) s += 'x';
    return s;
}

std::optional<std::string> Shell::special_param(const std::string& name) const
{
    if (name == "?") return std::to_string(last_status);
    if (name == "$") return std::to_string(shell_pid);
    if (name == "!") return last_async > 0 ? std::optional(std::to_string(last_async)) : std::nullopt;
    if (name == "#") return std::to_string(positional.size());
    if (name == "-") return option_letters();
    if (name == "0") return arg0;
    if (!name.empty() && std::isdigit(static_cast<unsigned char>(name[0]))) {
        std::size_t n = name.size() > 9 ? SIZE_MAX : std::stoul(name);
        if (n >= 1 && n <= positional.size()) return positional[n - 1];
        return std::nullopt;
    }
    return get(name);
}

void Shell::local(const std::string& name)
{
    if (local_frames.empty()) return;
    auto& frame = local_frames.back();
    if (frame.contains(name)) return;
    auto it = vars.find(name);
    frame[name] = it == vars.end() ? std::nullopt : std::optional(it->second);
}

void Shell::error(const std::string& message) const
{
    std::string line = "fsh: " + message + "\n";
    ssize_t n = ::write(2, line.data(), line.size());
    (void)n;
}

void Shell::fatal(const std::string& message, int status)
{
    error(message);
    last_status = status;
    if (!interactive || subshell) throw ShellExit{status};
    throw ShellAbort{status};
}

std::string single_quoted(std::string_view text, std::string_view quote_escape)
{
    std::string q = "'";
    for (char c : text) {
        if (c == '\'')
            q += quote_escape;
        else
            q += c;
    }
    return q + "'";
}

}  // namespace fleet::shell
