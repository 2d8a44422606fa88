// fleet shell — simple commands: expansion, assignments, redirections, and
// the lookup order special builtin -> function -> builtin -> resolver.
#include "builtins/builtins.hpp"
#include "exec_internal.hpp"

#include <fleet/shell/expand.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace fleet::shell {
namespace {

struct Assigned {
    std::string name;
    std::string value;
};

std::vector<Assigned> expand_assignments(Shell& sh, const SimpleCommand& simple)
{
    std::vector<Assigned> out;
    for (const auto& a : simple.assignments) out.push_back({a.name, expand_text(sh, a.value.parts)});
    return out;
}

// set -x: the command as it runs, after PS4.
void trace(Shell& sh, const std::vector<Assigned>& assigned, const std::vector<std::string>& words)
{
    if (!sh.options.xtrace) return;
    std::string line = sh.get("PS4").value_or("+ ");
    bool first = true;
    for (const auto& a : assigned) {
        line += (first ? "" : " ") + a.name + "=" + a.value;
        first = false;
    }
    for (const auto& w : words) {
        line += (first ? "" : " ") + w;
        first = false;
    }
    write_all(2, line + "\n");
}

// Variables set for one builtin or function call, put back afterwards.
class TemporaryVars {
public:
    TemporaryVars(Shell& sh, const std::vector<Assigned>& assigned) : sh_(sh)
    {
        for (const auto& a : assigned) {
            auto it = sh.vars.find(a.name);
            old_.emplace_back(a.name, it == sh.vars.end() ? std::nullopt : std::optional(it->second));
            sh.set(a.name, a.value);
        }
    }
    ~TemporaryVars()
    {
        for (auto it = old_.rbegin(); it != old_.rend(); ++it) {
            if (it->second) {
                sh_.vars[it->first] = *it->second;
            } else {
                sh_.vars.erase(it->first);
            }
        }
    }
    TemporaryVars(const TemporaryVars&) = delete;
    TemporaryVars& operator=(const TemporaryVars&) = delete;

private:
    Shell& sh_;
    std::vector<std::pair<std::string, std::optional<Variable>>> old_;
};

int run_builtin(Shell& sh, const Builtin& b, std::vector<std::string>& words)
{
    return b.run(sh, words);
}

}  // namespace

int Shell::execute_simple(const Command& command, const SimpleCommand& simple)
{
    const long substitutions = substitution_count;  // an assignment-only command takes $( )'s status
    std::vector<std::string> words = expand_fields(*this, simple.words);
    std::vector<Assigned> assigned = expand_assignments(*this, simple);
    trace(*this, assigned, words);
    if (words.empty()) {
        for (const auto& a : assigned) {
            if (!set(a.name, a.value)) {
                if (!interactive) throw ShellExit{1};
                return 1;
            }
        }
        SavedFds saved;
        if (!apply_redirects(*this, command.redirects, &saved)) return 2;
        return substitution_count != substitutions ? last_status : 0;
    }
    // exec's redirections stay: they are what `exec >log` is for.
    SavedFds saved;
    if (!apply_redirects(*this, command.redirects, words[0] == "exec" ? nullptr : &saved)) {
        if (words[0] == "exec" && !interactive) throw ShellExit{2};
        return 2;  // as dash
    }
    const Builtin* builtin = find_builtin(words[0]);
    if (builtin && builtin->special) {
        for (const auto& a : assigned) set(a.name, a.value);
        return run_builtin(*this, *builtin, words);
    }
    if (auto fn = functions.find(words[0]); fn != functions.end()) {
        auto def = fn->second;  // the function may redefine itself
        TemporaryVars temp(*this, assigned);
        return call_function(*def, words);
    }
    if (builtin) {
        TemporaryVars temp(*this, assigned);
        return run_builtin(*this, *builtin, words);
    }
    std::vector<std::string> env = environment();
    for (const auto& a : assigned) env.push_back(a.name + "=" + a.value);
    return execute_external(words, env);
}

std::string Shell::search_path() const
{
    return get("PATH").value_or("/usr/bin:/bin");
}

std::optional<std::string> Shell::resolve(const std::string& name)
{
    return settings.resolver->resolve(name, search_path());
}

int Shell::not_found(const std::string& name)
{
    error(name + ": command not found" + settings.resolver->not_found_note(name, search_path()));
    return 127;
}

int Shell::execute_external(const std::vector<std::string>& words, const std::vector<std::string>& env)
{
    auto program = resolve(words[0]);
    if (!program) return not_found(words[0]);
    CommandSpec spec;
    spec.program = *program;
    spec.argv = words;
    spec.env = env;
    spec.process_group = job_control() ? 0 : -1;
    spec.default_signals = interactive;
    spec.terminal_fd = job_control() ? tty_fd : -1;
    Job& job = add_job(words[0], -1);
    auto pid = settings.runner->start(spec);
    if (!pid) {
        forget_job(job.id);
        // No errno: the runner's line says it all, and the command never
        // started (a setting of its own refused it): 125, as a run that
        // cannot start.
        int e = pid.error().sys_errno;
        if (e == 0) {
            error(pid.error().message);
            return 125;
        }
        error(pid.error().message + ": " + (e == ENOENT ? "not found" : std::strerror(e)));
        return e == ENOENT ? 127 : 126;
    }
    if (job_control()) job.pgid = *pid;
    job.procs.push_back(JobProcess{*pid});
    std::string text;
    for (const auto& w : words) text += (text.empty() ? "" : " ") + w;
    job.text = text;
    return wait_job(job);
}

bool redirects_fd(const Command& command, int fd)
{
    return std::any_of(command.redirects.begin(), command.redirects.end(),
                       [fd](const Redirect& r) { return redirected_fd(r) == fd; });
}

bool Shell::joinable(const Command& command)
{
    const auto* simple = std::get_if<SimpleCommand>(&command.node);
    if (!simple || simple->words.empty()) return false;
    // Only the run's ends may be redirected: its stdin and its stdout.
    for (const auto& r : command.redirects)
        if (redirected_fd(r) > 1) return false;
    std::string name;
    for (const auto& part : simple->words[0].parts) {
        if (part.kind != PartKind::literal) return false;
        name += part.text;
    }
    if (name.empty() || find_builtin(name) || functions.count(name)) return false;
    return resolve(name).has_value();
}

int Shell::execute_joined(const std::vector<const Command*>& commands)
{
    std::vector<CommandSpec> specs;
    for (const Command* command : commands) {
        const auto& simple = std::get<SimpleCommand>(command->node);
        std::vector<std::string> words = expand_fields(*this, simple.words);
        std::vector<Assigned> assigned = expand_assignments(*this, simple);
        trace(*this, assigned, words);
        // The first one's stdin, the last one's stdout (the grouping keeps others out).
        if (!apply_redirects(*this, command->redirects, nullptr)) return 2;
        auto program = words.empty() ? std::nullopt : resolve(words[0]);
        if (!program) return not_found(words.empty() ? std::string() : words[0]);
        CommandSpec spec;
        spec.program = *program;
        spec.argv = words;
        spec.env = environment();
        for (const auto& a : assigned) spec.env.push_back(a.name + "=" + a.value);
        specs.push_back(std::move(spec));
    }
    return settings.runner->run_joined(specs, options.pipefail);
}

int Shell::call_function(const FunctionDef& fn, const std::vector<std::string>& args)
{
    if (function_depth >= 500) fatal(fn.name + ": functions nested too deeply");
    std::vector<std::string> saved_positional(args.begin() + 1, args.end());
    std::swap(positional, saved_positional);
    local_frames.emplace_back();
    ++function_depth;
    struct Restore {
        Shell& sh;
        std::vector<std::string>& old;
        ~Restore()
        {
            --sh.function_depth;
            for (auto& [name, value] : sh.local_frames.back()) {
                if (value) {
                    sh.vars[name] = *value;
                } else {
                    sh.vars.erase(name);
                }
            }
            sh.local_frames.pop_back();
            std::swap(sh.positional, old);
        }
    } restore{*this, saved_positional};
    int status = execute_command(*fn.body);
    if (flow == Flow::return_function) {
        flow = Flow::none;
        status = last_status;
    }
    return status;
}

}  // namespace fleet::shell
