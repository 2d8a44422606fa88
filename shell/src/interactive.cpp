// fleet shell — the interactive shell's terminal: its own process group,
// job control, and Ctrl-C that returns to the prompt.
#include "builtins/builtins.hpp"
#include "exec_internal.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

namespace fleet::shell {

void Shell::start_interactive()
{
    interactive = true;
    catch_interrupt();
    if (!::isatty(0)) return;
    tty_fd = ::fcntl(0, F_DUPFD_CLOEXEC, 10);
    if (tty_fd < 0) return;
    // Wait to be in the foreground, as every job-control shell does.
    while (::tcgetpgrp(tty_fd) != ::getpgrp()) ::kill(-::getpgrp(), SIGTTIN);
    for (int sig : {SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU}) ::signal(sig, SIG_IGN);
    ::setpgid(0, 0);
    shell_pgid = ::getpgrp();
    ::tcsetpgrp(tty_fd, shell_pgid);
    if (termios t{}; ::tcgetattr(tty_fd, &t) == 0) tty_modes = t;
    options.monitor = true;
}

std::optional<int> Shell::run_interactive(std::string_view text)
{
    try {
        run_text(text, "fsh");
    } catch (const ShellAbort& e) {
        last_status = e.status;
    } catch (const ShellExit& e) {
        return finish(e.status);
    }
    flow = Flow::none;
    return std::nullopt;
}

bool Shell::interrupted()
{
    return take_interrupt();
}

std::vector<std::string> Shell::builtin_names()
{
    std::vector<std::string> names;
    for (const auto& b : all_builtins()) names.emplace_back(b.name);
    return names;
}

}  // namespace fleet::shell

namespace fleet::shell {

bool Shell::interrupt_pending()
{
    return interrupt_seen();
}

}  // namespace fleet::shell
