// fleet shell — how a command that is not a builtin or function is run.
//
// The executor never forks a program itself: it asks a CommandResolver
// what a name means and a CommandRunner to start it (ninja's
// CommandRunner idea), so tests can fake both and the VM backend can
// replace them. The HostRunner fork/execs host programs; it serves
// `host CMD` and, with the developer option --host-commands (or
// FSH_RUNNER=host), every command, so the language can be tested against
// other shells. The router runner (router_run.hpp) runs each command as a
// domain of fleet-router, a pipeline's VM commands as one run the router
// joins; the VM runner (vm_runner.hpp) runs each as its own VM through the
// launcher, fleet-vmm, when there is no router.
#pragma once

#include <fleet/base/error.hpp>

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace fleet::shell {

struct CommandSpec {
    std::string program;            // what the resolver answered (for the host runner, a path)
    std::vector<std::string> argv;  // argv[0] as typed
    std::vector<std::string> env;   // NAME=value, exported variables and the command's own assignments
    pid_t process_group = -1;       // -1: stay in the shell's; 0: lead a new one; >0: join that one
    bool default_signals = false;   // reset SIGINT, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU to default
    bool ignore_interrupt = false;  // ignore SIGINT and SIGQUIT (a background job without job control)
    int terminal_fd = -1;           // >=0: a new foreground group takes this terminal
    int parent_death_signal = 0;    // >0: the started process gets it when the process that started it dies
};

// Starts commands with the shell's own fds 0, 1, 2 (and those the script
// opened with exec) as their stdio. Each started command is a local
// process the shell waits for, stops and signals as a job member; a VM
// runner stands a small local process in for each VM (docs/ARCHITECTURE.md).
class CommandRunner {
public:
    virtual ~CommandRunner() = default;
    // The started process's pid, or an error naming the command with the
    // errno of the failed start (ENOENT gives status 127, others 126; none,
    // a command its own settings refuse, 125 with the message alone).
    virtual Result<pid_t> start(const CommandSpec& spec) = 0;
    // Whether consecutive commands of a pipeline can run as one joined run
    // (a router joins their stdio itself: router_run.hpp).
    virtual bool can_join() { return false; }
    // Run them so, here, with this process's fds 0, 1, 2 as the ends;
    // returns the status (the last one's, or with pipefail the rightmost
    // non-zero one).
    virtual int run_joined(const std::vector<CommandSpec>&, bool) { return 126; }
};

// Names to programs. nullopt: command not found (127).
class CommandResolver {
public:
    virtual ~CommandResolver() = default;
    // path is the shell's $PATH.
    virtual std::optional<std::string> resolve(const std::string& name, const std::string& path) = 0;
    // What `images` prints: the commands this resolver offers; nullopt
    // when it has no catalog (host programs).
    virtual std::optional<std::string> listing() { return std::nullopt; }
    // What `type NAME` says after "NAME is " for what resolve() answered:
    // by default the answer itself (a host program's path).
    virtual std::string describe(const std::string& program) { return program; }
    // What "NAME: command not found" adds for a name resolve() does not
    // know ("" by default): a VM resolver names the host program of that
    // name, which `host NAME` would run.
    virtual std::string not_found_note(const std::string&, const std::string&) { return ""; }
};

// fork + exec of host programs.
class HostRunner : public CommandRunner {
public:
    Result<pid_t> start(const CommandSpec& spec) override;
};

// Host programs on $PATH (a name with a slash is itself).
class HostResolver : public CommandResolver {
public:
    std::optional<std::string> resolve(const std::string& name, const std::string& path) override;
};

// No command resolves (unit tests).
class NoResolver : public CommandResolver {
public:
    std::optional<std::string> resolve(const std::string&, const std::string&) override { return std::nullopt; }
};

// The child side of starting anything: its process group and signals.
// terminal_fd >= 0: a new group also becomes the terminal's foreground.
void prepare_child(pid_t process_group, bool default_signals, bool ignore_interrupt, int terminal_fd = -1);

}  // namespace fleet::shell
