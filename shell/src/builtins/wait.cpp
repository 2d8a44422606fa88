// fleet shell — `wait [PID|%JOB...]`: until those (or all) background jobs end.
#include "builtins.hpp"

#include "exec_internal.hpp"

#include <signal.h>
#include <sys/wait.h>

#include <cerrno>

namespace fleet::shell {
namespace {

// Until the job ends; 128+N if a trapped signal N came first.
int wait_for(Shell& sh, Job& job)
{
    while (!job.done()) {
        int st = 0;
        pid_t pid = ::waitpid(-1, &st, 0);
        if (pid < 0 && errno == EINTR) {
            if (!sh.traps.empty()) return 128 + SIGINT;
            continue;
        }
        if (pid < 0) break;
        for (auto& j : sh.jobs) {
            for (auto& p : j->procs) {
                if (p.pid == pid) {
                    p.done = true;
                    p.status = status_of(st);
                }
            }
        }
    }
    int status = job.status();
    sh.forget_job(job.id);
    return status;
}

}  // namespace

int builtin_wait(Shell& sh, Args& args)
{
    if (args.size() == 1) {
        while (!sh.jobs.empty()) {
            int status = wait_for(sh, *sh.jobs.front());
            if (status > 128 && !sh.traps.empty()) return status;
        }
        return 0;
    }
    int status = 0;
    for (std::size_t i = 1; i < args.size(); ++i) {
        Job* job = sh.find_job(args[i]);
        if (!job) {
            status = 127;
            continue;
        }
        status = wait_for(sh, *job);
    }
    return status;
}

}  // namespace fleet::shell
