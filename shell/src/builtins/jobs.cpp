// fleet shell — `jobs`: the background and stopped jobs.
#include "builtins.hpp"

namespace fleet::shell {

int builtin_jobs(Shell& sh, Args& args)
{
    bool pids = args.size() > 1 && args[1] == "-l";
    sh.reap(false);
    for (auto& job : sh.jobs) {
        const char* state = job->done() ? "Done" : job->stopped() ? "Stopped" : "Running";
        std::string line = "[" + std::to_string(job->id) + "]" + (job == sh.jobs.back() ? "+ " : "  ");
        if (pids && !job->procs.empty()) line += std::to_string(job->procs.front().pid) + " ";
        std::string padded = state;
        padded.resize(24, ' ');
        out(line + padded + job->text + "\n");
    }
    std::erase_if(sh.jobs, [](const auto& j) { return j->done(); });
    return 0;
}

}  // namespace fleet::shell
