// fleet shell — traps: actions for EXIT and signals, run between commands.
#include "exec_internal.hpp"

#include <fleet/shell/parser.hpp>

#include <signal.h>

#include <array>
#include <cctype>
#include <csignal>

namespace fleet::shell {
namespace {

volatile std::sig_atomic_t pending[NSIG];
volatile std::sig_atomic_t any_pending = 0;
volatile std::sig_atomic_t interrupted = 0;

void on_signal(int sig)
{
    pending[sig] = 1;
    any_pending = 1;
    if (sig == SIGINT) interrupted = 1;
}

void install(int sig, void (*handler)(int))
{
    struct sigaction sa {};
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: a wait or read returns to look at the trap
    ::sigaction(sig, &sa, nullptr);
}

struct SignalName {
    int number;
    const char* name;
};
constexpr std::array<SignalName, 22> names = {{
    {SIGHUP, "HUP"},   {SIGINT, "INT"},   {SIGQUIT, "QUIT"}, {SIGILL, "ILL"},     {SIGTRAP, "TRAP"}, {SIGABRT, "ABRT"},
    {SIGBUS, "BUS"},   {SIGFPE, "FPE"},   {SIGKILL, "KILL"}, {SIGUSR1, "USR1"},   {SIGSEGV, "SEGV"}, {SIGUSR2, "USR2"},
    {SIGPIPE, "PIPE"}, {SIGALRM, "ALRM"}, {SIGTERM, "TERM"}, {SIGCHLD, "CHLD"},   {SIGCONT, "CONT"}, {SIGSTOP, "STOP"},
    {SIGTSTP, "TSTP"}, {SIGTTIN, "TTIN"}, {SIGTTOU, "TTOU"}, {SIGWINCH, "WINCH"},
}};

}  // namespace

int signal_number(const std::string& name)
{
    if (name == "EXIT" || name == "0") return 0;
    if (!name.empty() && name.size() < 4 && std::isdigit(static_cast<unsigned char>(name[0]))) {
        for (char c : name) {
            if (!std::isdigit(static_cast<unsigned char>(c))) return -1;
        }
        int n = std::stoi(name);
        return n < NSIG ? n : -1;
    }
    std::string n = name.starts_with("SIG") ? name.substr(3) : name;
    for (const auto& s : names) {
        if (n == s.name) return s.number;
    }
    return -1;
}

std::string signal_name(int signal)
{
    if (signal == 0) return "EXIT";
    for (const auto& s : names) {
        if (s.number == signal) return s.name;
    }
    return std::to_string(signal);
}

bool take_interrupt()
{
    bool was = interrupted != 0;
    interrupted = 0;
    return was;
}

bool interrupt_seen()
{
    return interrupted != 0;
}

void catch_interrupt()
{
    install(SIGINT, on_signal);
}

void Shell::set_trap(int sig, std::optional<std::string> action)
{
    if (!action) {
        traps.erase(sig);
        if (sig > 0) install(sig, sig == SIGINT && interactive && !subshell ? on_signal : SIG_DFL);
        return;
    }
    traps[sig] = *action;
    if (sig > 0) install(sig, action->empty() ? SIG_IGN : on_signal);
}

void Shell::reset_traps_for_subshell()
{
    for (auto it = traps.begin(); it != traps.end();) {
        if (it->second.empty()) {  // ignored stays ignored
            ++it;
            continue;
        }
        if (it->first > 0) install(it->first, SIG_DFL);
        it = traps.erase(it);
    }
    if (interactive) install(SIGINT, SIG_DFL);
}

void Shell::run_pending_traps()
{
    if (!any_pending) return;
    any_pending = 0;
    for (int sig = 1; sig < NSIG; ++sig) {
        if (!pending[sig]) continue;
        pending[sig] = 0;
        auto it = traps.find(sig);
        if (it == traps.end() || it->second.empty()) continue;
        int saved = last_status;
        std::string action = it->second;
        run_text(action, "trap");
        last_status = saved;
    }
}

int Shell::finish(int status)
{
    auto it = traps.find(0);
    if (exit_trap_ran || it == traps.end()) return status;
    exit_trap_ran = true;
    std::string action = it->second;
    last_status = status;
    flow = Flow::none;
    try {
        run_text(action, "trap");
    } catch (const ShellExit& e) {
        return e.status;
    } catch (const ShellAbort& e) {
        return e.status;
    }
    return status;
}

}  // namespace fleet::shell
