// fleet shell — running program text, and command substitution.
#include "exec_internal.hpp"

#include <fleet/shell/parser.hpp>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

namespace fleet::shell {

int Shell::run_text(std::string_view text, std::string_view name)
{
    if (eval_depth >= 100) fatal(std::string(name) + ": nested too deeply");
    ++eval_depth;
    struct Leave {
        int& depth;
        ~Leave() { --depth; }
    } leave{eval_depth};
    Parser parser(text, &aliases);
    int status = 0;
    for (;;) {
        auto command = parser.next_command();
        if (!command) {
            error(format_parse_error(command.error(), name));
            last_status = 2;
            if (!interactive || subshell) throw ShellExit{2};
            throw ShellAbort{2};
        }
        if (!*command) break;
        if (options.noexec) continue;
        status = execute(**command);
        if (flow != Flow::none) break;
    }
    return status;
}

int Shell::run_main(std::string_view text, std::string_view name)
{
    int status;
    try {
        status = run_text(text, name);
    } catch (const ShellExit& e) {
        status = e.status;
    } catch (const ShellAbort& e) {
        status = e.status;
    }
    return finish(status);
}

std::string Shell::command_substitution(const Program& program)
{
    ++substitution_count;
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) fatal("pipe: cannot create");
    pid_t pid = fork_child(-1, false, false);
    if (pid == 0) {
        ::dup2(fds[1], 1);
        ::close(fds[0]);
        ::close(fds[1]);
        ::_exit(run_forked([&] { return execute(program); }));
    }
    ::close(fds[1]);
    std::string out;
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fds[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fds[0]);
    if (pid > 0) {
        int st = 0;
        while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
        }
        last_status = status_of(st);
    } else {
        last_status = 1;
    }
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
}

}  // namespace fleet::shell
