// fleet-vmm — the commands that act on a running VM: stop, kill, pause, resume, wait, rm, console.
#include "cli.hpp"
#include "commands.hpp"
#include "launch.hpp"
#include "net.hpp"
#include "pool.hpp"

#include <fleet/vmm/accel.hpp>
#include <fleet/vmm/catalog.hpp>
#include <fleet/vmm/cmdline.hpp>
#include <fleet/vmm/detached.hpp>
#include <fleet/vmm/exec.hpp>

#include <fleet/abi/guest.h>
#include <fleet/base/process.hpp>
#include <fleet/vmm/qmp.hpp>
#include <fleet/vmm/supervisor.hpp>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <random>
#include <set>

namespace po = boost::program_options;
using nlohmann::json;

namespace fleet::cli {

using namespace fleet::vmm;

namespace {

// Wait (up to timeout_ms; -1: for ever) until a process known by pid and
// start time has ended: true at once if it is already gone.
bool wait_exit(pid_t pid, std::uint64_t start, int timeout_ms)
{
    auto fd = pin_process(pid, start);
    return !fd || wait_ended(fd->get(), timeout_ms);
}

// The running VM's record, or an error saying it is not running.
Result<VmRecord> running(const Store& store, const std::string& name)
{
    auto r = store.inspect(name);
    if (!r) return r;
    if (r->ended()) return fail("VM '" + name + "' is not running (" + state_word(*r) + ")");
    return r;
}

// The record's supervisor, pinned (base pin_process), if it is a live
// supervisor of ours: our uid, the start time the record says (a reused
// pid differs), and a fleet program (fleet-vmm, fleet-router's
// supervisors, fsh). A forged or stale record never gets another process
// signalled: every signal goes through the pidfd checked here.
Result<Fd> supervisor_of(const VmRecord& r)
{
    auto refuse = [&r](const std::string& why) {
        return fail("VM '" + r.name + "': its record names pid " + std::to_string(r.supervisor_pid) + ", " + why +
                    "; not signalling it");
    };
    auto pinned = pin_process(r.supervisor_pid, r.supervisor_start);
    if (!pinned) return refuse("which is gone");
    auto owner = proc_info(r.supervisor_pid);
    if (!owner || owner->uid != ::geteuid()) return refuse("which is not yours");
    char exe[4096];
    ssize_t n = ::readlink(("/proc/" + std::to_string(r.supervisor_pid) + "/exe").c_str(), exe, sizeof exe - 1);
    std::string path(exe, n > 0 ? static_cast<std::size_t>(n) : 0);
    if (path.ends_with(" (deleted)")) path.resize(path.size() - 10);
    std::string base = path.substr(path.rfind('/') + 1);
    if (base != "fleet-vmm" && base != "fleet-router" && base != "fsh")
        return refuse("which is not a fleet supervisor");
    // Still the process pinned (the checks read /proc by pid).
    if (!process_alive(r.supervisor_pid, r.supervisor_start)) return refuse("which is gone");
    return pinned;
}

// Ask the supervisor to stop (SIGTERM with the deadline) or kill (SIGUSR1)
// the VM, and wait until it has recorded the end.
Result<VmRecord> end_vm(const Store& store, const VmRecord& r, bool kill, int deadline_ms)
{
    // A record names the pid to signal: it must be our own supervisor, not
    // any process a damaged or planted record points at.
    auto sup = supervisor_of(r);
    if (!sup) {
        if (process_alive(r.supervisor_pid, r.supervisor_start)) return std::unexpected(sup.error());
        return store.inspect(r.name);  // gone: the store settles the record
    }
    if (int e = queue_signal(sup->get(), kill ? SIGUSR1 : SIGTERM, deadline_ms); e != 0 && e != ESRCH)
        return fail("cannot signal the supervisor of VM '" + r.name + "'", e);
    if (!wait_ended(sup->get(), deadline_ms + 5000)) {
        // The supervisor did not manage: take the VM down directly.
        if (auto qemu = pin_process(r.pid, r.pid_start)) send_signal(qemu->get(), SIGKILL);
        send_signal(sup->get(), SIGKILL);
        wait_ended(sup->get(), 5000);
    }
    if (r.auto_remove) {
        VmRecord gone = r;
        gone.state = VmState::exited;
        gone.exit_reason = kill ? ExitReason::killed : ExitReason::host_stop;
        return gone;
    }
    return store.inspect(r.name);
}

// Ask the supervisor to deliver `sig` to the VM's program (it returns at
// once; the VM ends when the program does).
Result<> signal_program(const VmRecord& r, int sig)
{
    if (r.ended()) return fail("VM '" + r.name + "' is not running (" + state_word(r) + ")");
    auto sup = supervisor_of(r);
    if (!sup) return std::unexpected(sup.error());
    if (int e =
            queue_signal(sup->get(), program_signal_request, program_signal_value(sig, std::chrono::milliseconds(0)));
        e != 0)
        return fail("cannot signal the supervisor of VM '" + r.name + "'", e);
    return {};
}

int end_command(const Context& ctx, const Args& args, bool kill)
{
    double timeout = 10;
    std::string sig_name;
    po::options_description d("Options");
    if (!kill)
        d.add_options()("timeout,t", po::value(&timeout)->default_value(10, "10"),
                        "seconds to wait for the guest to power off before killing it");
    else
        d.add_options()("signal,s", po::value(&sig_name),
                        "deliver this signal (TERM, INT, HUP, KILL, ... or a number) to the program in the VM "
                        "instead of killing the VM");
    int status = 0;
    const char* cmd = kill ? "kill" : "stop";
    auto p = parse(cmd, args, d, kill ? "[-s SIGNAL] NAME..." : "[-t SECONDS] NAME...", status);
    if (!p) return status;
    if (p->positional.empty()) return report(std::string(cmd) + " needs at least one VM name");
    if (!(timeout >= 0) || timeout > 86400) return report("--timeout must be 0 to 86400 seconds");
    std::optional<int> sig;
    if (!sig_name.empty() && !(sig = parse_signal(sig_name)))
        return report("unknown signal '" + sig_name + "' (a name like TERM or a number 1 to 64)");
    auto store = open_store(ctx);
    if (!store) return report(store.error());
    int rc = 0;
    for (const auto& name : p->positional) {
        auto r = store->inspect(name);
        if (!r) {
            rc = report(r.error());
            continue;
        }
        if (sig) {
            auto sent = signal_program(*r, *sig);
            if (!sent)
                rc = report(sent.error());
            else
                std::printf("%s\n", name.c_str());
            continue;
        }
        if (r->ended()) {
            std::printf("%s\n", name.c_str());  // already down: nothing to do
            continue;
        }
        auto done = end_vm(*store, *r, kill, static_cast<int>(timeout * 1000));
        if (!done)
            rc = report(done.error());
        else
            std::printf("%s\n", name.c_str());
    }
    return rc;
}

int monitor_command(const Context& ctx, const Args& args, const char* cmd, const char* qmp_command)
{
    po::options_description d("Options");
    int status = 0;
    auto p = parse(cmd, args, d, "NAME...", status);
    if (!p) return status;
    if (p->positional.empty()) return report(std::string(cmd) + " needs at least one VM name");
    auto store = open_store(ctx);
    if (!store) return report(store.error());
    int rc = 0;
    for (const auto& name : p->positional) {
        auto r = running(*store, name);
        if (!r) {
            rc = report(r.error());
            continue;
        }
        auto reply = qmp_call(store->path(name, "qmp.sock"), qmp_command, json(), std::chrono::seconds(5));
        if (!reply)
            rc = report("VM '" + name + "': " + reply.error().what());
        else
            std::printf("%s\n", name.c_str());
    }
    return rc;
}

}  // namespace

int cmd_stop(const Context& ctx, const Args& args)
{
    return end_command(ctx, args, false);
}
int cmd_kill(const Context& ctx, const Args& args)
{
    return end_command(ctx, args, true);
}

int cmd_pause(const Context& ctx, const Args& args)
{
    return monitor_command(ctx, args, "pause", "stop");
}
int cmd_resume(const Context& ctx, const Args& args)
{
    return monitor_command(ctx, args, "resume", "cont");
}

int cmd_wait(const Context& ctx, const Args& args)
{
    po::options_description d("Options");
    int status = 0;
    auto p = parse("wait", args, d, "NAME...", status);
    if (!p) return status;
    if (p->positional.empty()) return report("wait needs at least one VM name");
    auto store = open_store(ctx);
    if (!store) return report(store.error());
    int rc = 0;
    for (const auto& name : p->positional) {
        auto r = store->inspect(name);
        if (!r) return report(r.error());
        if (!r->ended()) {
            wait_exit(r->supervisor_pid, r->supervisor_start, -1);
            if (r->auto_remove) {
                auto after = store->inspect(name);
                if (!after) return report("VM '" + name + "' ended and was removed (--rm); its status is gone");
                r = after;
            } else {
                r = store->inspect(name);
                if (!r) return report(r.error());
            }
        }
        rc = r->exit_status;
    }
    return rc;
}

int cmd_rm(const Context& ctx, const Args& args)
{
    po::options_description d("Options");
    d.add_options()("force,f", "kill the VM first if it is running");
    int status = 0;
    auto p = parse("rm", args, d, "[-f] NAME...", status);
    if (!p) return status;
    if (p->positional.empty()) return report("rm needs at least one VM name");
    auto store = open_store(ctx);
    if (!store) return report(store.error());
    int rc = 0;
    for (const auto& name : p->positional) {
        auto r = store->inspect(name);
        if (!r) {
            // A folder without a record is a claim whose process died.
            if (validate_name(name) && ::access(store->dir(name).c_str(), F_OK) == 0) {
                (void)store->remove(name);
                std::printf("%s\n", name.c_str());
                continue;
            }
            rc = report(r.error());
            continue;
        }
        if (!r->ended()) {
            if (!p->vm.count("force")) {
                rc = report("VM '" + name + "' is " + std::string(to_string(r->state)) +
                            "; stop it first, or use 'fleet-vmm rm -f'");
                continue;
            }
            auto done = end_vm(*store, *r, true, 0);
            if (!done) {
                rc = report(done.error());
                continue;
            }
        }
        if (auto rm = store->remove(name); !rm)
            rc = report(rm.error());
        else
            std::printf("%s\n", name.c_str());
    }
    return rc;
}

int cmd_console(const Context& ctx, const Args& args)
{
    po::options_description d("Options");
    int status = 0;
    auto p = parse("console", args, d, "NAME", status);
    if (!p) return status;
    if (p->positional.size() != 1) return report("console takes one VM name");
    auto store = open_store(ctx);
    if (!store) return report(store.error());
    const std::string& name = p->positional[0];
    auto r = running(*store, name);
    if (!r) return report(r.error());
    if (!r->detached)
        return report("VM '" + name + "' runs in the foreground of 'fleet-vmm run'; its console is there");
    // Its supervisor, for the terminal's size: the pidfd is of the process
    // the record names only if it is still the one started then.
    Fd supervisor;
    if (r->tty)
        if (auto fd = open_pidfd(r->supervisor_pid); fd && process_alive(r->supervisor_pid, r->supervisor_start))
            supervisor = std::move(*fd);
    auto a = attach_console(store->path(name, "console.sock"), name, std::move(supervisor));
    if (!a) return report(a.error());
    return 0;
}

}  // namespace fleet::cli
