// fleet shell — compound commands: { }, ( ), if, while/until, for, case.
#include "exec_internal.hpp"

#include <fleet/shell/expand.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

namespace fleet::shell {
namespace {

// Evaluate a condition list: set -e does not apply inside.
int condition(Shell& sh, const List& list)
{
    ++sh.condition_depth;
    int status = sh.execute(list);
    --sh.condition_depth;
    return status;
}

// After a loop body: true if the loop must stop (break, return, or an
// outer loop's continue).
bool loop_should_stop(Shell& sh)
{
    if (sh.flow == Flow::break_loop) {
        if (--sh.flow_count <= 0) sh.flow = Flow::none;
        return true;
    }
    if (sh.flow == Flow::continue_loop) {
        if (--sh.flow_count > 0) return true;
        sh.flow = Flow::none;
        return false;
    }
    return sh.flow == Flow::return_function;
}

struct LoopScope {
    Shell& sh;
    explicit LoopScope(Shell& s) : sh(s) { ++sh.loop_depth; }
    ~LoopScope() { --sh.loop_depth; }
    LoopScope(const LoopScope&) = delete;
    LoopScope& operator=(const LoopScope&) = delete;
};

int run(Shell& sh, const IfClause& c)
{
    for (const auto& branch : c.branches) {
        if (condition(sh, branch.condition) == 0) return sh.execute(branch.body);
        if (sh.flow != Flow::none) return sh.last_status;
    }
    return c.else_body ? sh.execute(*c.else_body) : 0;
}

int run(Shell& sh, const LoopClause& c)
{
    LoopScope scope(sh);
    int status = 0;
    for (;;) {
        int cond = condition(sh, c.condition);
        if (sh.flow != Flow::none) {
            if (loop_should_stop(sh)) break;
            continue;
        }
        if ((cond == 0) == c.until) break;
        status = sh.execute(c.body);
        if (loop_should_stop(sh)) break;
    }
    return status;
}

int run(Shell& sh, const ForClause& c)
{
    std::vector<std::string> items = c.has_in ? expand_fields(sh, c.words) : sh.positional;
    LoopScope scope(sh);
    int status = 0;
    for (const auto& item : items) {
        if (!sh.set(c.name, item)) return 1;
        status = sh.execute(c.body);
        if (loop_should_stop(sh)) break;
    }
    return status;
}

int run(Shell& sh, const CaseClause& c)
{
    std::string subject = expand_text(sh, c.subject.parts);
    for (const auto& item : c.items) {
        for (const auto& pattern : item.patterns) {
            if (pattern_match(expand_pattern(sh, pattern.parts), subject)) return sh.execute(item.body);
        }
    }
    return 0;
}

int run_subshell(Shell& sh, const Subshell& s)
{
    pid_t pid = sh.fork_child(-1, true, false);
    if (pid == 0) ::_exit(sh.run_forked([&] { return sh.execute(s.body); }));
    if (pid < 0) return 1;
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) return 1;
    }
    return status_of(status);
}

}  // namespace

int execute_compound(Shell& sh, const Command& command)
{
    SavedFds saved;
    if (!apply_redirects(sh, command.redirects, &saved)) return 2;
    const CommandNode& node = command.node;
    if (const auto* g = std::get_if<BraceGroup>(&node)) return sh.execute(g->body);
    if (const auto* s = std::get_if<Subshell>(&node)) return run_subshell(sh, *s);
    if (const auto* c = std::get_if<IfClause>(&node)) return run(sh, *c);
    if (const auto* c = std::get_if<LoopClause>(&node)) return run(sh, *c);
    if (const auto* c = std::get_if<ForClause>(&node)) return run(sh, *c);
    if (const auto* c = std::get_if<CaseClause>(&node)) return run(sh, *c);
    return 0;
}

}  // namespace fleet::shell
