// fleet shell — `kill [-s SIG | -SIG] PID|%JOB...`, `kill -l`.
#include "builtins.hpp"

#include "exec_internal.hpp"

#include <signal.h>

#include <cerrno>
#include <cstring>

namespace fleet::shell {

int builtin_kill(Shell& sh, Args& args)
{
    int sig = SIGTERM;
    std::size_t i = 1;
    if (i < args.size() && args[i] == "-l") {
        for (int s = 1; s < 32; ++s) out(signal_name(s) + (s % 8 == 0 ? "\n" : " "));
        out("\n");
        return 0;
    }
    if (i < args.size() && args[i] == "-s" && i + 1 < args.size()) {
        sig = signal_number(args[i + 1]);
        i += 2;
    } else if (i < args.size() && args[i].size() > 1 && args[i][0] == '-' && args[i] != "--") {
        sig = signal_number(args[i].substr(1));
        ++i;
    }
    if (sig < 0) return usage_error(sh, args, "bad signal " + args[i - 1]);
    if (i < args.size() && args[i] == "--") ++i;
    if (i == args.size()) return usage_error(sh, args, "usage: kill [-s SIG | -SIG] PID|%JOB...");
    int status = 0;
    for (; i < args.size(); ++i) {
        pid_t target;
        if (args[i][0] == '%') {
            Job* job = sh.find_job(args[i]);
            if (!job) {
                status = usage_error(sh, args, args[i] + ": no such job", 1);
                continue;
            }
            target = job->pgid > 0 ? -job->pgid : job->procs.front().pid;
            if (job->pgid <= 0) {
                for (const auto& p : job->procs) ::kill(p.pid, sig);
                continue;
            }
            if (sig == SIGTERM || sig == SIGHUP || sig == SIGKILL) ::kill(target, SIGCONT);
        } else {
            auto n = parse_number(args[i]);
            if (!n) {
                status = usage_error(sh, args, args[i] + ": arguments must be process or job IDs", 1);
                continue;
            }
            target = static_cast<pid_t>(*n);
        }
        if (::kill(target, sig) != 0) status = usage_error(sh, args, args[i] + ": " + std::strerror(errno), 1);
    }
    return status;
}

}  // namespace fleet::shell
