// fleet shell — the RouterRunner: commands as router domains when a router
// will run them, else daemonless (router_run.hpp).
#include <fleet/shell/router_run.hpp>

#include <fleet/abi/guest.h>  // FLEET_HYPERVISOR_SOCKET

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

namespace fleet::shell {

Result<std::optional<RouterUri>> RouterRunner::target()
{
    // A chosen router: the session's connection says whether fsh may write;
    // one that cannot run commands is an error, not a reason to go elsewhere.
    if (routers_.chosen()) {
        auto c = routers_.client();
        if (!c) return fail("cannot reach the router: " + c.error().message);
        if ((*c)->read_only() || !routers_.current())
            return fail(
                "the router in use gives fsh read-only access: commands cannot run there "
                "(fsh --no-router runs them without one)");
        auto u = parse_router_uri(routers_.current()->uri);
        if (!u) return std::unexpected(u.error());
        // Inside a guest, the hypervisor channel's socket serves as many
        // connections at once as the channel has ports
        // (images/linux/bridge.c): keep none idle there.
        if (u->transport == RouterTransport::unix_socket && u->socket == FLEET_HYPERVISOR_SOCKET) routers_.drop();
        return std::optional(*u);
    }
    // This host's router, if fsh may start domains there.
    auto local = connect_local_router(runtime_dir_, std::chrono::milliseconds(2000));
    if (!local || local->client->read_only()) return std::optional<RouterUri>();
    return std::optional(local->uri);
}

bool RouterRunner::can_join()
{
    auto t = target();
    return t && *t;
}

VmCommand RouterRunner::command_of(const CommandSpec& spec, bool remote)
{
    char buf[PATH_MAX];
    // No folder to share with a router on another host: it cannot see this one.
    std::string cwd = !remote && ::getcwd(buf, sizeof buf) ? buf : "";
    std::string program = program_for(catalog_, spec.program, spec.argv);
    VmCommand command = vm_command(options_, program, linux_program(catalog_, program), spec.argv, spec.env, cwd);
    note_unshared_(command);
    return command;
}

// Unique on this host while the process lives: its pid and a count.
std::string RouterRunner::next_prefix()
{
    return "fsh-" + std::to_string(::getpid()) + "-" + std::to_string(runs_++);
}

Result<pid_t> RouterRunner::start(const CommandSpec& spec)
{
    auto found = target();
    if (!found) {
        std::string name = spec.argv.empty() ? spec.program : spec.argv[0];
        return std::unexpected(Error{name + ": " + found.error().message, ECONNREFUSED});
    }
    if (!*found) return fallback_.start(spec);
    const RouterUri* uri = &**found;
    VmCommand command = command_of(spec, uri->transport != RouterTransport::unix_socket);
    bool takes_terminal = spec.process_group == 0 && spec.terminal_fd >= 0;
    RunOptions o;
    o.forward_stdin = takes_terminal || !background_on_terminal(0);
    const pid_t parent = ::getpid();
    std::fflush(nullptr);
    pid_t pid = ::fork();
    if (pid < 0) return fail("fork", errno);
    if (pid > 0) return pid;
    // The stand-in: the job member that runs the command's domain.
    prepare_child(spec.process_group, spec.default_signals, spec.ignore_interrupt, spec.terminal_fd);
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // no run outlives the fsh that waits for it
    if (::getppid() != parent) ::_exit(128 + SIGTERM);
    o.name_prefix = next_prefix();
    o.terminal = true;  // if it is Linux and fsh's terminal is its fds 0 and 1, in the foreground (run_stages)
    ::_exit(run_stages(*uri, runtime_dir_, {command}, o));
}

int RouterRunner::run_joined(const std::vector<CommandSpec>& specs, bool pipefail)
{
    auto found = target();
    if (!found || !*found) {
        std::string text =
            "fsh: " + (found ? std::string("no router to run the pipeline on") : found.error().message) + "\n";
        ssize_t n = ::write(2, text.data(), text.size());
        (void)n;
        return 125;
    }
    const RouterUri* uri = &**found;
    // This is a forked pipeline stage: no run outlives the fsh waiting for
    // it (a background job's subshell killed by `kill %n`, fsh ending).
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    bool remote = uri->transport != RouterTransport::unix_socket;
    std::vector<VmCommand> commands;
    for (const auto& s : specs) commands.push_back(command_of(s, remote));
    RunOptions o;
    o.pipefail = pipefail;
    o.forward_stdin = !background_on_terminal(0);
    o.name_prefix = next_prefix();
    return run_stages(*uri, runtime_dir_, commands, o);
}

}  // namespace fleet::shell
