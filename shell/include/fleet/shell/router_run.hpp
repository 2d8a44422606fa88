// fleet shell — commands as fleet-router domains.
//
// A pipeline's VM commands are one run (FLEET_DOMAIN_RUN, fleet's
// extension of the libvirt protocol: docs/fleet-protocol.md): the router
// starts one transient domain per stage at once and joins each stage's
// stdout to the next one's stdin itself, so fsh relays no byte between
// VMs; only the run's ends cross to fsh, as FLEET_DOMAIN_OPEN_STDIO
// streams: its stdin from fsh's fd 0, its stdout to fd 1, every stage's
// stderr to fd 2. Each stage's status comes as FLEET_DOMAIN_EVENT_EXITED.
//
// The relay is a local process the job table waits for, stops and signals
// (a "stand-in", as a VM runner's launcher process is): Ctrl-C (SIGINT,
// SIGTERM, SIGHUP) closes its connection, and the router destroys whatever
// of the run still runs, then it dies of that signal; Ctrl-Z suspends the
// run's domains and stops the stand-in, SIGCONT resumes them. A Linux
// command alone in the foreground on fsh's terminal gets a terminal of its
// own in the guest (fleet:terminal): the stand-in relays its terminal raw
// (Ctrl-C is a byte for the guest's terminal, Ctrl-Z still stops the job)
// and tells each new size (SIGWINCH) with FLEET_DOMAIN_RESIZE_TERMINAL.
// Its exit
// status is the last stage's, or with pipefail the rightmost non-zero one;
// 125 with a message when the run could not start or the router was lost.
//
// Which router (RouterRunner): the one chosen (--connect, $FLEET_URI,
// `router NAME`), else this host's (its runtime folder), if fsh may write
// there; else commands run daemonless through fleet-vmm (vm_runner.hpp).
// A router announced over mDNS is used only once chosen.
#pragma once

#include <fleet/router/domain.hpp>
#include <fleet/shell/router_session.hpp>
#include <fleet/shell/router_uri.hpp>
#include <fleet/shell/runner.hpp>
#include <fleet/shell/vm_runner.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace fleet::shell {

// One stage as a domain definition: a transient domain NAME of the
// command's image, its arguments, environment, working folder, share and
// hypervisor channel (an error: FLEET_HYPERVISOR's words are bad). Its
// type: 'kvm' or 'qemu' (TCG) as the command's FLEET_ACCEL says, else
// 'kvm' where the router has KVM (router_kvm: its capabilities say so).
// terminal: the program gets one of this size (fleet:terminal).
Result<std::string> stage_xml(const VmCommand& command, const std::string& name, bool router_kvm,
                              const std::optional<router::DomainTerminal>& terminal = std::nullopt);

struct RunOptions {
    bool pipefail = false;
    bool forward_stdin = true;                        // false: the run's stdin ends at once
    bool terminal = false;                            // one Linux stage in the foreground gets fd 0's terminal
    std::string name_prefix;                          // stage i is NAME_PREFIX-i
    std::chrono::milliseconds timeout{5000};          // connect and each call
    std::chrono::milliseconds start_timeout{120000};  // every stage ready (a Linux boot under TCG)
};

// Run the stages through the router at uri; the exit status as described
// above. Uses fds 0, 1, 2 and the calling process's signal mask.
int run_stages(const RouterUri& uri, const std::string& runtime_dir, const std::vector<VmCommand>& stages,
               const RunOptions& options);

// The shell's status for a run: the last stage's, or with pipefail the
// rightmost non-zero one (pure; unit-tested).
int run_status(const std::vector<int>& statuses, bool pipefail);

class RouterRunner : public CommandRunner {
public:
    // fallback runs commands when no router will (daemonless).
    RouterRunner(VmCatalog& catalog, VmOptions options, RouterSession& routers, std::string runtime_dir,
                 CommandRunner& fallback)
        : catalog_(catalog),
          options_(std::move(options)),
          routers_(routers),
          runtime_dir_(std::move(runtime_dir)),
          fallback_(fallback)
    {
    }
    Result<pid_t> start(const CommandSpec& spec) override;
    bool can_join() override;
    int run_joined(const std::vector<CommandSpec>& specs, bool pipefail) override;

private:
    // The router commands go to, if any (see above); an error for a chosen
    // one that cannot run them.
    Result<std::optional<RouterUri>> target();
    VmCommand command_of(const CommandSpec& spec, bool remote);
    std::string next_prefix();

    VmCatalog& catalog_;
    VmOptions options_;
    RouterSession& routers_;
    std::string runtime_dir_;
    CommandRunner& fallback_;
    UnsharedNote note_unshared_;
    unsigned runs_ = 0;
};

}  // namespace fleet::shell
