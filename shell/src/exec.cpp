// fleet shell — the executor: lists, and-or lists, pipelines, background jobs.
#include "exec_internal.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <utility>

namespace fleet::shell {
namespace {

// set -e does not look at a compound command's own status (its commands
// were checked one by one), except a subshell's: as dash.
bool errexit_applies(const Pipeline& p)
{
    if (p.bang || p.commands.size() != 1) return !p.bang;
    const auto& node = p.commands[0]->node;
    return std::holds_alternative<SimpleCommand>(node) || std::holds_alternative<Subshell>(node);
}

}  // namespace

bool write_all(int fd, std::string_view text)
{
    while (!text.empty()) {
        ssize_t n = ::write(fd, text.data(), text.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        text.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

int status_of(int wait_status)
{
    if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
    if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
    if (WIFSTOPPED(wait_status)) return 128 + WSTOPSIG(wait_status);
    return 1;
}

int Shell::execute(const List& list)
{
    int status = 0;
    for (const auto& item : list.items) {
        if (flow != Flow::none) break;
        status = item.async ? execute_async(item.and_or) : execute_and_or(item.and_or);
        last_status = status;
        run_pending_traps();
    }
    return status;
}

int Shell::execute_and_or(const AndOr& and_or)
{
    int status = last_status;
    bool ran_last = false;
    for (std::size_t i = 0; i < and_or.pipelines.size(); ++i) {
        if (i > 0) {
            bool is_and = and_or.ops[i - 1] == AndOrOp::and_if;
            if ((is_and && status != 0) || (!is_and && status == 0)) continue;
        }
        const Pipeline& p = and_or.pipelines[i];
        bool last = i + 1 == and_or.pipelines.size();
        bool condition = !last || p.bang;
        if (condition) ++condition_depth;
        status = execute_pipeline(p);
        if (condition) --condition_depth;
        last_status = status;
        ran_last = last;
        if (flow != Flow::none) return status;
    }
    if (options.errexit && condition_depth == 0 && status != 0 && ran_last &&
        errexit_applies(and_or.pipelines.back())) {
        throw ShellExit{status};
    }
    return status;
}

namespace {

// The clock and the CPU times `time` reports: this shell's own and its
// waited-for children's (a VM command's launcher, and its QEMU with it).
struct Times {
    std::chrono::steady_clock::time_point real;
    double user = 0, sys = 0;
    static Times now()
    {
        Times t{std::chrono::steady_clock::now()};
        for (int who : {RUSAGE_SELF, RUSAGE_CHILDREN}) {
            struct rusage ru {};
            ::getrusage(who, &ru);
            t.user += static_cast<double>(ru.ru_utime.tv_sec) + static_cast<double>(ru.ru_utime.tv_usec) / 1e6;
            t.sys += static_cast<double>(ru.ru_stime.tv_sec) + static_cast<double>(ru.ru_stime.tv_usec) / 1e6;
        }
        return t;
    }
};

// bash's formats: "\nreal\t0m0.012s" ..., and with -p POSIX's "real 0.01".
std::string format_times(const Times& start, const Times& end, Timed how)
{
    const double real = std::chrono::duration<double>(end.real - start.real).count();
    const std::pair<const char*, double> rows[] = {
        {"real", real}, {"user", end.user - start.user}, {"sys", end.sys - start.sys}};
    std::string out = how == Timed::posix ? "" : "\n";
    char buf[64];
    for (auto [name, secs] : rows) {
        secs = std::max(secs, 0.0);
        if (how == Timed::posix) {
            std::snprintf(buf, sizeof buf, "%s %.2f\n", name, secs);
        } else {
            auto ms = static_cast<long long>(secs * 1000 + 0.5);
            std::snprintf(buf, sizeof buf, "%s\t%lldm%lld.%03llds\n", name, ms / 60000, ms / 1000 % 60, ms % 1000);
        }
        out += buf;
    }
    return out;
}

}  // namespace

int Shell::execute_pipeline(const Pipeline& p)
{
    if (p.timed == Timed::no) return run_pipeline(p);
    const Times start = Times::now();
    int status = p.commands.empty() ? 0 : run_pipeline(p);
    write_all(2, format_times(start, Times::now(), p.timed));
    return status;
}

int Shell::run_pipeline(const Pipeline& p)
{
    int status = 0;
    if (p.commands.size() == 1) {
        status = execute_command(*p.commands[0]);
    } else {
        // Consecutive VM commands a router joins itself are one child and
        // one run: their bytes never pass through fsh (router_run.hpp).
        std::vector<std::vector<const Command*>> groups;
        // Joined with the one before: both joinable, and neither redirects
        // the pipe between them.
        std::vector<bool> joins_previous(p.commands.size(), false);
        bool any = false;
        bool prev_joinable = false;
        for (std::size_t i = 0; i < p.commands.size(); ++i) {
            bool j = joinable(*p.commands[i]);
            joins_previous[i] =
                i > 0 && j && prev_joinable && !redirects_fd(*p.commands[i - 1], 1) && !redirects_fd(*p.commands[i], 0);
            any = any || joins_previous[i];
            prev_joinable = j;
        }
        bool joining = any && settings.runner->can_join();
        for (std::size_t i = 0; i < p.commands.size(); ++i) {
            if (joining && joins_previous[i])
                groups.back().push_back(p.commands[i].get());
            else
                groups.push_back({p.commands[i].get()});
        }
        Job& job = add_job(describe(p), -1);
        job.pipefail = options.pipefail;
        pid_t pgid = job_control() ? 0 : -1;
        int prev_read = -1;
        for (std::size_t i = 0; i < groups.size(); ++i) {
            int fds[2] = {-1, -1};
            if (i + 1 < groups.size() && ::pipe2(fds, O_CLOEXEC) != 0) fatal("pipe: cannot create");
            const auto& group = groups[i];
            pid_t pid = fork_child(pgid, true, false);
            if (pid == 0) {
                if (prev_read >= 0) ::dup2(prev_read, 0);
                if (fds[1] >= 0) ::dup2(fds[1], 1);
                for (int fd : {prev_read, fds[0], fds[1]}) {
                    if (fd >= 0) ::close(fd);
                }
                if (group.size() > 1) ::_exit(run_forked([&] { return execute_joined(group); }));
                ::_exit(run_forked([&] { return execute_command(*group.front()); }));
            }
            if (pid > 0) {
                if (pgid == 0) pgid = job.pgid = pid;
                job.procs.push_back(JobProcess{pid});
            }
            for (int fd : {prev_read, fds[1]}) {
                if (fd >= 0) ::close(fd);
            }
            prev_read = fds[0];
        }
        status = wait_job(job);
    }
    if (p.bang) status = status == 0 ? 1 : 0;
    return status;
}

int Shell::execute_async(const AndOr& and_or)
{
    pid_t pid = fork_child(job_control() ? 0 : -1, false, true);
    if (pid == 0) ::_exit(run_forked([&] { return execute_and_or(and_or); }));
    if (pid < 0) return 1;
    Job& job = add_job(describe(and_or), job_control() ? pid : -1);
    job.procs.push_back(JobProcess{pid});
    last_async = pid;
    if (interactive && !subshell) {
        write_all(2, "[" + std::to_string(job.id) + "] " + std::to_string(pid) + "\n");
    }
    return 0;
}

int Shell::run_forked(const std::function<int()>& body)
{
    int status;
    try {
        status = body();
    } catch (const ShellExit& e) {
        status = e.status;
    } catch (const ShellAbort& e) {
        status = e.status;
    }
    return finish(status);
}

int Shell::execute_command(const Command& command)
{
    if (const auto* simple = std::get_if<SimpleCommand>(&command.node)) return execute_simple(command, *simple);
    if (const auto* fn = std::get_if<FunctionDef>(&command.node)) {
        functions[fn->name] = std::make_shared<const FunctionDef>(*fn);
        return 0;
    }
    return execute_compound(*this, command);
}

std::string describe(const Pipeline& pipeline)
{
    std::string text = pipeline.timed == Timed::posix ? "time -p " : pipeline.timed == Timed::yes ? "time " : "";
    if (pipeline.bang) text += "! ";
    for (std::size_t i = 0; i < pipeline.commands.size(); ++i) {
        if (i > 0) text += " | ";
        const Command& c = *pipeline.commands[i];
        if (const auto* s = std::get_if<SimpleCommand>(&c.node)) {
            std::string words;
            for (const auto& w : s->words) words += (words.empty() ? "" : " ") + w.raw;
            text += words.empty() ? "(assignment)" : words;
        } else {
            text += "(compound command)";
        }
    }
    return text;
}

std::string describe(const AndOr& and_or)
{
    std::string text;
    for (std::size_t i = 0; i < and_or.pipelines.size(); ++i) {
        if (i > 0) text += and_or.ops[i - 1] == AndOrOp::and_if ? " && " : " || ";
        text += describe(and_or.pipelines[i]);
    }
    return text;
}

}  // namespace fleet::shell
