// fleet shell — the executor: a shell's state and the walk over the tree.
//
// A Shell holds variables, positional parameters, functions, options,
// traps and jobs, and runs programs (the parser's trees) in that state.
// Builtins run inside it; every other command goes to the CommandRunner
// after the CommandResolver has named it. The language errors a shell
// reports (a bad substitution, an unset parameter under set -u) are
// printed to fd 2 as "fsh: ..." and end a non-interactive shell, as in sh.
#pragma once

#include <fleet/shell/ast.hpp>
#include <fleet/shell/runner.hpp>

#include <sys/types.h>
#include <termios.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fleet::shell {

class RouterSession;

struct Variable {
    std::string value;
    bool exported = false;
    bool readonly = false;
};

struct Options {
    bool errexit = false;   // -e
    bool nounset = false;   // -u
    bool xtrace = false;    // -x
    bool noglob = false;    // -f
    bool noexec = false;    // -n
    bool pipefail = false;  // -o pipefail
    bool monitor = false;   // -m: job control (on in an interactive shell on a terminal)
};

enum class Flow { none, break_loop, continue_loop, return_function };

// A process of a job and what became of it.
struct JobProcess {
    pid_t pid = -1;
    int status = 0;  // as sh reports it: exit code, 128+signal
    bool done = false;
    bool stopped = false;
};

struct Job {
    int id = 0;
    pid_t pgid = -1;  // -1: no group of its own (job control off)
    std::string text;
    std::vector<JobProcess> procs;
    bool pipefail = false;
    bool reported = false;  // its end was announced (or it was waited for)

    [[nodiscard]] bool done() const;
    [[nodiscard]] bool stopped() const;
    [[nodiscard]] int status() const;  // the last process's, or pipefail's
};

// Thrown inside the executor to end the shell (exit, set -e, fatal errors);
// caught by run_main and in forked children. Never leaves the library.
struct ShellExit {
    int status;
};
// Thrown in an interactive shell for an error that ends the command line
// but not the shell.
struct ShellAbort {
    int status;
};

class Shell {
public:
    struct Settings {
        CommandRunner* runner = nullptr;       // required
        CommandResolver* resolver = nullptr;   // required
        CommandRunner* host_runner = nullptr;  // for `host CMD`; defaults to runner
        RouterSession* routers = nullptr;      // `ps -a`, `routers`, `router`; nullptr: no router support
        std::string runtime_dir;               // the local launcher's (`ps`); empty: vmm's default
        std::string arg0 = "fsh";
        std::vector<std::string> args;
        bool interactive = false;
    };
    explicit Shell(Settings settings);
    ~Shell();
    Shell(const Shell&) = delete;
    Shell& operator=(const Shell&) = delete;

    // Parse and run text one complete command at a time, as `.` and eval
    // do; a syntax error is reported as "fsh: NAME:LINE:COL: syntax error: ..."
    // and gives status 2 (and ends a non-interactive shell).
    int run_text(std::string_view text, std::string_view name);
    // The shell's whole life for a script or -c: run it, then the EXIT
    // trap; returns the shell's exit status.
    int run_main(std::string_view text, std::string_view name);
    // The EXIT trap (once), then the status to exit with.
    int finish(int status);

    // Interactive use: take the terminal (own process group, job control,
    // SIGINT caught); run one entered text; nullopt: keep going, else the
    // shell ends with that status. Ctrl-C since the last call: true.
    void start_interactive();
    std::optional<int> run_interactive(std::string_view text);
    static bool interrupted();
    static bool interrupt_pending();  // as interrupted(), without taking it
    [[nodiscard]] static std::vector<std::string> builtin_names();

    // --- the executor (exec*.cpp) ---
    int execute(const List& list);
    int execute_and_or(const AndOr& and_or);
    int execute_pipeline(const Pipeline& pipeline);
    int execute_command(const Command& command);
    int execute_async(const AndOr& and_or);
    int run_pipeline(const Pipeline& p);  // execute_pipeline without `time`
    int execute_simple(const Command& command, const SimpleCommand& simple);
    int execute_external(const std::vector<std::string>& words, const std::vector<std::string>& env);
    // $PATH, or /usr/bin:/bin when unset.
    std::string search_path() const;
    // What the resolver makes of a command name with search_path();
    // nullopt: not found.
    std::optional<std::string> resolve(const std::string& name);
    // "NAME: command not found" with the resolver's note; 127.
    int not_found(const std::string& name);
    // A pipeline's VM command the runner may join with its neighbours: a
    // simple command without redirections whose name is literal and is
    // neither a builtin nor a function but resolves (checked before any
    // expansion: the expansion happens in the joined child).
    bool joinable(const Command& command);
    // Consecutive joinable commands as one run (in a forked child).
    int execute_joined(const std::vector<const Command*>& commands);
    int run_forked(const std::function<int()>& body);  // in a forked child: its exit status
    int call_function(const FunctionDef& fn, const std::vector<std::string>& args);
    std::string command_substitution(const Program& program);

    // --- variables and parameters (vars.cpp) ---
    [[nodiscard]] std::optional<std::string> get(const std::string& name) const;
    bool set(const std::string& name, std::string value);  // false (and a message) if readonly
    bool unset(const std::string& name);
    void export_var(const std::string& name);
    [[nodiscard]] std::vector<std::string> environment() const;
    [[nodiscard]] std::optional<std::string> special_param(const std::string& name) const;
    [[nodiscard]] std::string ifs() const;
    void local(const std::string& name);  // inside a function: restore the old value on return
    [[nodiscard]] std::string option_letters() const;

    // --- jobs (jobs.cpp) ---
    Job& add_job(std::string text, pid_t pgid);
    int wait_job(Job& job);  // foreground: until it ends or stops
    void reap(bool block);   // collect ended children into their jobs
    void notify_jobs();      // report finished background jobs (interactive)
    Job* find_job(const std::string& spec);
    void forget_job(int id);
    pid_t fork_child(pid_t pgid, bool foreground, bool async);  // a subshell; -1 on failure
    void give_terminal(pid_t pgid);
    void take_terminal();
    void keep_terminal_modes(bool put_back);
    [[nodiscard]] bool job_control() const { return options.monitor && tty_fd >= 0; }

    // --- traps and signals (trap.cpp) ---
    void run_pending_traps();
    void set_trap(int signal, std::optional<std::string> action);
    void reset_traps_for_subshell();

    // Diagnostics to fd 2, "fsh: " prefixed (the script name and line when known).
    void error(const std::string& message) const;
    [[noreturn]] void fatal(const std::string& message, int status = 2);

    // --- state ---
    Settings settings;
    Options options;
    std::map<std::string, Variable> vars;
    std::vector<std::string> positional;
    std::string arg0;
    std::map<std::string, std::shared_ptr<const FunctionDef>> functions;
    Aliases aliases;                   // alias NAME=VALUE: substituted as later commands are parsed
    std::map<int, std::string> traps;  // signal (0 = EXIT) -> action
    std::vector<std::unique_ptr<Job>> jobs;
    int last_status = 0;
    pid_t last_async = 0;
    pid_t shell_pid;  // $$: the main shell's, also in subshells
    bool interactive = false;
    bool subshell = false;  // a forked child: exits, never returns to a prompt
    int function_depth = 0;
    int loop_depth = 0;
    Flow flow = Flow::none;
    int flow_count = 0;       // break/continue N
    int condition_depth = 0;  // inside if/while conditions, && || operands, ! : set -e does not apply
    int tty_fd = -1;
    // The terminal's modes as the shell keeps them: put back when a job
    // stops or a signal ends it (it may have left the terminal raw, as a
    // killed launcher of a VM with a terminal does); taken again when a
    // job ends normally, so `stty` changes stay.
    std::optional<termios> tty_modes;
    pid_t shell_pgid = 0;
    bool exit_trap_ran = false;
    std::string source_name = "fsh";  // for messages
    int eval_depth = 0;
    long substitution_count = 0;  // command substitutions run so far
    std::vector<std::map<std::string, std::optional<Variable>>> local_frames;
    struct GetoptsState {
        std::size_t pos = 0;     // the next option's place in the word before OPTIND; 0: a new word
        std::string optind_set;  // the OPTIND getopts last set: another value starts over
        // set -- replaced the arguments: the next getopts starts at the
        // first one (as dash does). Setting or unsetting OPTIND clears
        // this whole state: getopts then starts where OPTIND says.
        bool restart = false;
    } getopts_state;
};

// text in single quotes, as the shell reads it back (set, export -p, trap,
// alias): each ' inside written as quote_escape; dash's alias lists
// write it '"'"'.
std::string single_quoted(std::string_view text, std::string_view quote_escape = "'\\''");

}  // namespace fleet::shell
