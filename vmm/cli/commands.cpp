// fleet-vmm — the command table, and the commands that start VMs: run, start,
// cmdline (the others: control_cmds.cpp, query_cmds.cpp, pool_cmd.cpp).
#include "commands.hpp"
#include "cli.hpp"
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
#include <poll.h>
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

SupervisorOptions supervisor_options(const Context& ctx, const LaunchFlags& f, VmSpec spec, const Image& image,
                                     const std::string& ref)
{
    SupervisorOptions o;
    o.spec = std::move(spec);
    o.launch.qemu = ctx.qemu;
    o.image = image.entry_file.empty() ? ref : image.name;
    o.stop_deadline = std::chrono::milliseconds(static_cast<long>(f.stop_timeout * 1000));
    return o;
}

// run and start alike: the spec from the command line, the runtime folder,
// the VM's name claimed, the supervisor's options.
Result<std::pair<Store, SupervisorOptions>> prepare_launch(const Context& ctx, const LaunchFlags& f, const Parsed& p,
                                                           bool paused)
{
    auto spec = build_spec(ctx, f, p.positional);
    if (!spec) return std::unexpected(spec.error());
    spec->first.start_paused = paused;
    if (auto n = attach_net(f.net, ctx.runtime_dir, spec->first); !n) return std::unexpected(n.error());
    auto store = open_store(ctx);
    if (!store) return std::unexpected(store.error());
    if (auto c = store->create(spec->first.name); !c) return std::unexpected(c.error());
    auto o = supervisor_options(ctx, f, std::move(spec->first), spec->second, p.positional[0]);
    return std::pair{std::move(*store), std::move(o)};
}

}  // namespace

int cmd_run(const Context& ctx, const Args& args)
{
    LaunchFlags f;
    po::options_description d("Options");
    add_launch_options(d, f);
    add_net_options(d, f.net);
    d.add_options()("keep", "keep the VM's record after it ends (default: remove it)")(
        "no-stdin", "do not forward standard input to the guest")(
        "tty,t", "give the program a terminal (Linux images; default: when stdin and stdout are one)")(
        "no-tty,T", "give the program no terminal, even on one")(
        "no-pool", "boot a VM even when a warm pool of the image has one waiting ('fleet-vmm pool')")(
        "verbose,v", "say on stderr which accelerator runs the VM, and why");
    int status = 0;
    auto p = parse("run", args, d, "[OPTIONS] IMAGE [ARGS...]", status, true);
    if (!p) return status;
    if (p->vm.count("tty") && p->vm.count("no-tty")) return report("--tty and --no-tty exclude each other");
    f.tty = p->vm.count("tty")                                 ? LaunchFlags::Tty::always
            : p->vm.count("no-tty") || p->vm.count("no-stdin") ? LaunchFlags::Tty::never
                                                               : LaunchFlags::Tty::automatic;
    auto prepared = prepare_launch(ctx, f, *p, false);
    if (!prepared) return report(prepared.error());
    auto& [store, o] = *prepared;
    o.auto_remove = !p->vm.count("keep");
    o.forward_stdin = !p->vm.count("no-stdin");
    bool verbose = p->vm.count("verbose") > 0;
    if (!p->vm.count("no-pool"))
        if (auto warm = run_from_pool(ctx, o, verbose)) return *warm;
    if (verbose) std::fprintf(stderr, "fleet-vmm: %s runs under %s\n", o.spec.name.c_str(), accel_note_.c_str());
    return supervise(store, std::move(o));
}

int cmd_start(const Context& ctx, const Args& args)
{
    LaunchFlags f;
    po::options_description d("Options");
    add_launch_options(d, f);
    add_net_options(d, f.net);
    d.add_options()("rm", "remove the VM's record when it ends")(
        "interactive,i", "keep the guest's stdin open for 'fleet-vmm console' (default: it reads end-of-file)")(
        "tty,t",
        "give the program a terminal (Linux images; implies -i): 'fleet-vmm console' attaches to it at its own size")(
        "verbose,v", "say on stderr which accelerator runs the VM, and why (always, on a terminal)")(
        "paused", "create the VM paused; 'fleet-vmm resume NAME' starts it");
    int status = 0;
    auto p = parse("start", args, d, "[OPTIONS] IMAGE [ARGS...]", status, true);
    if (!p) return status;
    f.tty = p->vm.count("tty") ? LaunchFlags::Tty::always : LaunchFlags::Tty::never;
    auto prepared = prepare_launch(ctx, f, *p, p->vm.count("paused") > 0);
    if (!prepared) return report(prepared.error());
    auto& [store_value, o] = *prepared;
    const Store* store = &store_value;
    std::string name = o.spec.name;
    o.auto_remove = p->vm.count("rm") > 0;
    o.detached = true;
    o.forward_stdin = p->vm.count("interactive") > 0 || o.spec.tty;
    if (o.spec.tty) o.spec.tty->stderr_too = true;  // a console shows all of it

    // The supervisor tells us on a pipe when the guest is ready or failed.
    auto started = start_detached(*store, std::move(o), DetachOptions{.orphan = true, .in_child = {}});
    if (!started) return report(started.error());
    auto ready = parse_ready_line(read_ready_line(started->ready),
                                  "VM '" + name + "' failed to start (see " + store->path(name, "vmm.log") + ")");
    if (!ready) return report(ready.error());
    std::printf("%s\n", name.c_str());
    if (::isatty(2) || p->vm.count("verbose"))
        std::fprintf(stderr, "fleet-vmm: %s runs under %s\n", name.c_str(), accel_note_.c_str());
    return 0;
}

int cmd_cmdline(const Context& ctx, const Args& args)
{
    LaunchFlags f;
    po::options_description d("Options");
    add_launch_options(d, f);
    int status = 0;
    auto p = parse("cmdline", args, d, "[OPTIONS] IMAGE [ARGS...]", status, true);
    if (!p) return status;
    auto spec = build_spec(ctx, f, p->positional);
    if (!spec) return report(spec.error());
    auto qemu = find_program(ctx.qemu);
    // The same machine as fleet-vmm runs, with the guest's stdout on QEMU's
    // stdout, its stderr on QEMU's stderr and no monitor: the raw baseline.
    Wiring w;
    w.out = "stdio";
    w.err = "file,path=/dev/stderr";
    // No launcher will write the exec block on ctl: it rides on the kernel
    // command line instead (<fleet/abi/guest.h>, FLEET_CMDLINE_EXEC).
    auto block = exec_block(spec->first);
    if (!block) return report(block.error());
    w.exec_on_cmdline = percent_encode(*block);
    std::size_t len =
        kernel_cmdline(spec->first).size() + 1 + std::strlen(FLEET_CMDLINE_EXEC) + w.exec_on_cmdline.size();
    if (len > FLEET_CMDLINE_MAX)
        return report("the arguments do not fit on a raw command line (" + std::to_string(len) + " bytes, at most " +
                      std::to_string(FLEET_CMDLINE_MAX) + "); 'fleet-vmm run' has no such limit");
    std::printf("%s\n", shell_join(qemu_argv(qemu ? *qemu : ctx.qemu, spec->first, spec->first.accel, w)).c_str());
    return 0;
}

const std::vector<Command>& commands()
{
    static const std::vector<Command> table = {
        {"run", "[OPTIONS] IMAGE [ARGS...]", "boot a VM in the foreground; exit with its program's status", cmd_run},
        {"start", "[OPTIONS] IMAGE [ARGS...]", "boot a VM in the background and print its name", cmd_start},
        {"ls", "[--json]", "list VMs (also: ps)", cmd_ls},
        {"stop", "[-t SECONDS] NAME...", "press the power button; kill after the timeout", cmd_stop},
        {"kill", "[-s SIGNAL] NAME...", "kill VMs at once, or deliver a signal to their program", cmd_kill},
        {"pause", "NAME...", "pause VMs", cmd_pause},
        {"resume", "NAME...", "resume paused VMs (or start ones created --paused)", cmd_resume},
        {"console", "NAME", "attach the terminal to a background VM (Ctrl-] detaches)", cmd_console},
        {"logs", "[-f] NAME", "print what a background VM's program printed", cmd_logs},
        {"wait", "NAME...", "wait for VMs to end; exit with the last one's status", cmd_wait},
        {"rm", "[-f] NAME...", "remove ended VMs (-f: kill running ones first)", cmd_rm},
        {"inspect", "NAME", "print a VM's record as JSON", cmd_inspect},
        {"images", "", "list the image catalog", cmd_images},
        {"cmdline", "[OPTIONS] IMAGE [ARGS...]", "print the raw QEMU command line for an image", cmd_cmdline},
        {"pool", "start|ls|stop ...", "keep VMs of an image booted for 'run' to take (a warm pool)", cmd_pool},
    };
    return table;
}

}  // namespace fleet::cli
