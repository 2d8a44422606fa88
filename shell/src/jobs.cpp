// fleet shell — jobs: the processes of each pipeline, waiting for them,
// process groups and the terminal (job control), and forked subshells.
#include "exec_internal.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace fleet::shell {
namespace {

void record(Shell& sh, pid_t pid, int wait_status)
{
    for (auto& job : sh.jobs) {
        for (auto& p : job->procs) {
            if (p.pid != pid) continue;
            if (WIFSTOPPED(wait_status)) {
                p.stopped = true;
            } else if (WIFCONTINUED(wait_status)) {
                p.stopped = false;
            } else {
                p.done = true;
                p.stopped = false;
                p.status = status_of(wait_status);
            }
            return;
        }
    }
}

}  // namespace

bool Job::done() const
{
    return std::all_of(procs.begin(), procs.end(), [](const JobProcess& p) { return p.done; });
}

bool Job::stopped() const
{
    bool any = false;
    for (const auto& p : procs) {
        if (!p.done && !p.stopped) return false;
        any = any || p.stopped;
    }
    return any;
}

int Job::status() const
{
    if (procs.empty()) return 0;
    if (pipefail) {
        for (auto it = procs.rbegin(); it != procs.rend(); ++it) {
            if (it->status != 0) return it->status;
        }
        return 0;
    }
    return procs.back().status;
}

Job& Shell::add_job(std::string text, pid_t pgid)
{
    int id = 1;
    for (const auto& j : jobs) id = std::max(id, j->id + 1);
    auto job = std::make_unique<Job>();
    job->id = id;
    job->pgid = pgid;
    job->text = std::move(text);
    jobs.push_back(std::move(job));
    return *jobs.back();
}

void Shell::forget_job(int id)
{
    std::erase_if(jobs, [id](const auto& j) { return j->id == id; });
}

Job* Shell::find_job(const std::string& spec)
{
    if (jobs.empty()) return nullptr;
    if (spec.empty() || spec == "%" || spec == "%%" || spec == "%+") return jobs.back().get();
    if (spec == "%-") return jobs.size() > 1 ? jobs[jobs.size() - 2].get() : nullptr;
    std::string s = spec[0] == '%' ? spec.substr(1) : spec;
    bool number = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
    for (auto& j : jobs) {
        if (spec[0] == '%' && number && s.size() < 9 && j->id == std::stoi(s)) return j.get();
        if (spec[0] != '%' && number && s.size() < 12) {
            for (const auto& p : j->procs) {
                if (p.pid == std::stol(s)) return j.get();
            }
        }
        if (spec[0] == '%' && !number && j->text.starts_with(s)) return j.get();
    }
    return nullptr;
}

void Shell::reap(bool block)
{
    for (;;) {
        int st = 0;
        pid_t pid = ::waitpid(-1, &st, (block ? 0 : WNOHANG) | WUNTRACED | WCONTINUED);
        if (pid < 0 && errno == EINTR) continue;
        if (pid <= 0) return;
        record(*this, pid, st);
        if (block) return;
    }
}

int Shell::wait_job(Job& job)
{
    bool control = job_control() && job.pgid > 0;
    if (control) give_terminal(job.pgid);
    while (!job.done() && !job.stopped()) {
        int st = 0;
        pid_t pid = ::waitpid(-1, &st, control ? WUNTRACED : 0);
        if (pid < 0 && errno == EINTR) continue;
        if (pid < 0) {
            for (auto& p : job.procs) p.done = true;  // ECHILD: nobody left to wait for
            break;
        }
        record(*this, pid, st);
    }
    if (control) {
        take_terminal();
        keep_terminal_modes(job.stopped() || job.status() > 128);
    }
    int id = job.id;
    if (job.stopped()) {
        job.reported = false;
        write_all(2, "\n[" + std::to_string(id) + "]+  Stopped                 " + job.text + "\n");
        return 128 + SIGTSTP;
    }
    int status = job.status();
    if (interactive && !subshell && status == 128 + SIGINT) write_all(2, "\n");
    forget_job(id);
    return status;
}

void Shell::notify_jobs()
{
    reap(false);
    for (auto it = jobs.begin(); it != jobs.end();) {
        Job& j = **it;
        if (j.done()) {
            // "Done", "Done(3)", or how a signal ended it ("Terminated").
            int st = j.status();
            std::string how = st == 0 ? "Done" : "Done(" + std::to_string(st) + ")";
            if (st > 128 && st < 128 + 65) how = ::strsignal(st - 128);
            how.resize(std::max<std::size_t>(how.size(), 24), ' ');
            write_all(2, "[" + std::to_string(j.id) + "]+  " + how + j.text + "\n");
            it = jobs.erase(it);
        } else {
            ++it;
        }
    }
}

pid_t Shell::fork_child(pid_t pgid, bool foreground, bool async)
{
    bool control = job_control() && pgid >= 0;
    pid_t pid = ::fork();
    if (pid < 0) {
        error("fork: cannot start a subshell");
        return -1;
    }
    if (pid == 0) {
        prepare_child(control ? pgid : -1, interactive, async && !control, control && foreground ? tty_fd : -1);
        subshell = true;
        options.monitor = false;
        jobs.clear();
        reset_traps_for_subshell();
        if (tty_fd >= 0) ::close(tty_fd);
        tty_fd = -1;
        return 0;
    }
    if (control) ::setpgid(pid, pgid == 0 ? pid : pgid);
    return pid;
}

void Shell::give_terminal(pid_t pgid)
{
    if (tty_fd >= 0) ::tcsetpgrp(tty_fd, pgid);
}

void Shell::take_terminal()
{
    if (tty_fd >= 0) ::tcsetpgrp(tty_fd, shell_pgid);
}

void Shell::keep_terminal_modes(bool put_back)
{
    if (tty_fd < 0) return;
    if (put_back && tty_modes) {
        ::tcsetattr(tty_fd, TCSADRAIN, &*tty_modes);
    } else if (termios t{}; !put_back && ::tcgetattr(tty_fd, &t) == 0) {
        tty_modes = t;
    }
}

}  // namespace fleet::shell
