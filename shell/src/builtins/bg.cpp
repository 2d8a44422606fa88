// fleet shell — `bg [%JOB]`: continue a stopped job in the background.
#include "builtins.hpp"

#include <signal.h>

namespace fleet::shell {

int builtin_bg(Shell& sh, Args& args)
{
    if (!sh.job_control()) return usage_error(sh, args, "no job control", 1);
    Job* job = sh.find_job(args.size() > 1 ? args[1] : "%%");
    if (!job) return usage_error(sh, args, (args.size() > 1 ? args[1] : std::string("current")) + ": no such job", 1);
    for (auto& p : job->procs) p.stopped = false;
    ::kill(-job->pgid, SIGCONT);
    out("[" + std::to_string(job->id) + "] " + job->text + " &\n");
    return 0;
}

}  // namespace fleet::shell
