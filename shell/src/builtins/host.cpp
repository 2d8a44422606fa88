// fleet shell — `host CMD [ARG...]`: run a host program, found on $PATH,
// whatever the shell's resolver would make of the name.
#include "builtins.hpp"

#include "exec_internal.hpp"

#include <cerrno>
#include <cstring>

namespace fleet::shell {

int builtin_host(Shell& sh, Args& args)
{
    if (args.size() < 2) return usage_error(sh, args, "usage: host CMD [ARG...]");
    std::vector<std::string> words(args.begin() + 1, args.end());
    HostResolver resolver;
    auto program = resolver.resolve(words[0], sh.search_path());
    if (!program) {
        sh.error(words[0] + ": host command not found");
        return 127;
    }
    CommandSpec spec;
    spec.program = *program;
    spec.argv = words;
    spec.env = sh.environment();
    spec.process_group = sh.job_control() ? 0 : -1;
    spec.default_signals = sh.interactive;
    spec.terminal_fd = sh.job_control() ? sh.tty_fd : -1;
    Job& job = sh.add_job(args[1], -1);
    auto pid = sh.settings.host_runner->start(spec);
    if (!pid) {
        sh.forget_job(job.id);
        int e = pid.error().sys_errno;
        sh.error(pid.error().message + ": " + std::strerror(e));
        return e == ENOENT ? 127 : 126;
    }
    if (sh.job_control()) job.pgid = *pid;
    job.procs.push_back(JobProcess{*pid});
    return sh.wait_job(job);
}

}  // namespace fleet::shell
