// fleet shell — `fg [%JOB]`: continue a job in the foreground and wait for it.
#include "builtins.hpp"

#include <signal.h>

namespace fleet::shell {

int builtin_fg(Shell& sh, Args& args)
{
    if (!sh.job_control()) return usage_error(sh, args, "no job control", 1);
    Job* job = sh.find_job(args.size() > 1 ? args[1] : "%%");
    if (!job) return usage_error(sh, args, (args.size() > 1 ? args[1] : std::string("current")) + ": no such job", 1);
    out(job->text + "\n");
    for (auto& p : job->procs) p.stopped = false;
    // The terminal first, as bash does: a job that sets it up again when
    // continued (a VM's launcher making it raw) must find itself in front.
    sh.give_terminal(job->pgid);
    ::kill(-job->pgid, SIGCONT);
    return sh.wait_job(*job);
}

}  // namespace fleet::shell
