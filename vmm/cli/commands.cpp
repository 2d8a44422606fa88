// fleet-vmm — the commands (see cli.hpp for the table's shape).
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

int report(const Error& e)
{
    return report(e.what());
}

int report(const std::string& message)
{
    std::fprintf(stderr, "fleet-vmm: %s\n", message.c_str());
    return exit_failure;
}

// Shared with pool_cmd.cpp (launch.hpp): options, specs.

std::int64_t now_ms()
{
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::optional<Parsed> parse(const char* cmd, const Args& args, po::options_description& desc, const char* usage,
                            int& status, bool positional_rest)
{
    desc.add_options()("help,h", "show this help");
    Parsed p;
    Args opts;
    // Options stop at the first positional word when the rest belongs to
    // the guest (run IMAGE ARGS...), or at "--".
    std::size_t i = 0;
    for (; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--") {
            ++i;
            break;
        }
        if (a.size() < 2 || a[0] != '-') {
            if (positional_rest) break;
            p.positional.push_back(a);
            continue;
        }
        opts.push_back(a);
        // Boost names long options without dashes and short ones with one.
        std::string key = a.starts_with("--") ? a.substr(2) : a.substr(0, 2);
        if (a.find('=') != std::string::npos || (!a.starts_with("--") && a.size() > 2)) continue;
        const po::option_description* d = desc.find_nothrow(key, false);
        if (d && d->semantic()->max_tokens() > 0 && i + 1 < args.size()) opts.push_back(args[++i]);
    }
    for (; i < args.size(); ++i) p.positional.push_back(args[i]);
    try {
        po::store(po::command_line_parser(opts).options(desc).run(), p.vm);
        po::notify(p.vm);
    } catch (const po::error& e) {
        status = report(std::string(e.what()) + " (see 'fleet-vmm " + cmd + " --help')");
        return std::nullopt;
    }
    if (p.vm.count("help")) {
        std::cout << "Usage: fleet-vmm " << cmd << " " << usage << "\n\n" << desc << "\n";
        status = 0;
        return std::nullopt;
    }
    return p;
}

Result<Store> open_store(const Context& ctx)
{
    return Store::open(ctx.runtime_dir);
}

// ---- run / start / cmdline: building a spec from the command line ----

void add_launch_options(po::options_description& d, LaunchFlags& f)
{
    const char* accel = std::getenv("FLEET_ACCEL");
    d.add_options()("name,n", po::value(&f.name), "VM name (default: IMAGE-xxxx)")(
        "memory,m", po::value(&f.memory), "guest memory, e.g. 64M or 1G (default: the image's)")(
        "cpus", po::value(&f.cpus)->default_value(1), "vCPUs")(
        "accel", po::value(&f.accel)->default_value(accel && *accel ? accel : "auto"),
        "auto, kvm or tcg (FLEET_ACCEL)")("initrd", po::value(&f.initrd), "initial ramdisk")(
        "share", po::value(&f.shares)->composing(),
        "share a host folder: HOST[:GUEST][:ro|:rw] (read-only by default; Linux images)")(
        "env,e", po::value(&f.env)->composing(),
        "set a variable in the program's environment: NAME=VALUE (NAME alone: the host's value)")(
        "env-file", po::value(&f.env_files)->composing(),
        "read NAME=VALUE lines from a file (blank lines and # comments are skipped)")(
        "workdir,w", po::value(&f.workdir), "the program's working folder, on a --share (Linux images)")(
        "boot-timeout", po::value<double>()->notifier([&f](double v) { f.boot_timeout = v; }),
        "seconds the guest has to become ready (default: the image's, else 10)")(
        "stop-timeout", po::value(&f.stop_timeout)->default_value(10, "10"),
        "seconds a stop waits for the guest to power off before killing it")(
        "snapshot", po::bool_switch(&f.snapshot),
        "start from a saved boot of the image, made on first use (default: the image's snapshot=)")(
        "no-snapshot", po::bool_switch(&f.no_snapshot), "boot the image cold");
}

std::string random_suffix()
{
    std::random_device rd;
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04x", static_cast<unsigned>(rd() & 0xffff));
    return buf;
}

// What build_spec chose for acceleration and why, for --verbose and start.
std::string accel_note_;

// One -e or env-file entry into `env`: NAME=VALUE, or NAME alone for the
// host's value (skipped when the host has none).
Result<> add_env(std::vector<std::string>& env, const std::string& entry, const std::string& where)
{
    if (entry.find('=') == std::string::npos) {
        if (entry.empty()) return fail(where + ": an empty variable name");
        if (const char* v = std::getenv(entry.c_str())) env.push_back(entry + "=" + v);
        return {};
    }
    if (auto v = validate_env(entry); !v) return fail(where + ": " + v.error().what());
    env.push_back(entry);
    return {};
}

Result<std::vector<std::string>> build_env(const LaunchFlags& f)
{
    std::vector<std::string> env;
    for (const auto& path : f.env_files) {
        std::ifstream in(path);
        if (!in) return fail_errno("cannot read env file '" + path + "'");
        std::string line;
        for (int n = 1; std::getline(in, line); ++n) {
            if (!line.empty() && line.back() == '\r') line.pop_back();
            auto first = line.find_first_not_of(" \t");
            if (first == std::string::npos || line[first] == '#') continue;
            if (auto r = add_env(env, line, path + ":" + std::to_string(n)); !r) return std::unexpected(r.error());
        }
    }
    for (const auto& e : f.env)
        if (auto r = add_env(env, e, "-e"); !r) return std::unexpected(r.error());
    return env;
}

// "tcg", "tcg (KVM is not usable ...)", "kvm* (-cpu host,-arch-capabilities;
// -cpu host fails here: ...; probed in 180 ms)"
std::string accel_note(Accel requested, const AccelChoice& c)
{
    std::string label = accel_label(to_string(c.accel), c.cpu);
    if (requested == Accel::tcg) return label;
    if (c.accel == Accel::tcg) return label + " (" + c.why + ")";
    std::string when =
        c.probed_now ? "probed in " + std::to_string(c.probe_time.count()) + " ms" : "remembered from an earlier probe";
    return label + " (-cpu " + c.cpu + "; " + c.why + "; " + when + ")";
}

Result<std::pair<VmSpec, Image>> build_spec(const Context& ctx, const LaunchFlags& f, const Args& positional)
{
    if (positional.empty()) return fail("no image given (a catalog name like 'hello', or a kernel path)");
    auto image = resolve_image(positional[0], catalog_dirs(ctx.images));
    if (!image) return std::unexpected(image.error());
    VmSpec spec = spec_from_image(*image);
    spec.name = f.name.empty() ? image->name + "-" + random_suffix() : f.name;
    if (auto n = validate_name(spec.name); !n) return std::unexpected(n.error());
    if (!f.initrd.empty()) spec.initrd = f.initrd;
    spec.args.insert(spec.args.end(), positional.begin() + 1, positional.end());
    auto env = build_env(f);
    if (!env) return std::unexpected(env.error());
    spec.env = std::move(*env);
    spec.workdir = f.workdir;
    if (!f.memory.empty()) {
        auto mib = parse_memory(f.memory);
        if (!mib) return std::unexpected(mib.error());
        spec.memory_mib = *mib;
    }
    spec.vcpus = f.cpus;
    auto accel = parse_accel(f.accel);
    if (!accel) return std::unexpected(accel.error());
    for (const auto& text : f.shares) {
        auto share = parse_share(text);
        if (!share) return std::unexpected(share.error());
        spec.shares.push_back(std::move(*share));
    }
    if (f.snapshot && f.no_snapshot) return fail("--snapshot and --no-snapshot exclude each other");
    if (f.snapshot || f.no_snapshot) spec.snapshot = f.snapshot;
    if (f.boot_timeout) {
        if (!(*f.boot_timeout > 0) || *f.boot_timeout > 86400)
            return fail("--boot-timeout must be 0 < seconds <= 86400");
        spec.boot_timeout = std::chrono::milliseconds(static_cast<long>(*f.boot_timeout * 1000));
    }
    if (auto v = validate(spec); !v) return std::unexpected(v.error());
    if (auto b = exec_block(spec); !b) return std::unexpected(b.error());
    // Settle auto here, once, so the VM and the user hear the same answer.
    AccelContext actx{ctx.qemu, ctx.runtime_dir, catalog_dirs(ctx.images)};
    auto chosen = resolve_accel(*accel, spec, guest_kind(image->kind), actx);
    if (!chosen) return std::unexpected(chosen.error());
    accel_note_ = accel_note(*accel, *chosen);
    spec.accel = chosen->accel;
    spec.cpu = chosen->cpu;
    return std::pair{std::move(spec), std::move(*image)};
}

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

int cmd_run(const Context& ctx, const Args& args)
{
    LaunchFlags f;
    po::options_description d("Options");
    add_launch_options(d, f);
    add_net_options(d, f.net);
    d.add_options()("keep", "keep the VM's record after it ends (default: remove it)")(
        "no-stdin", "do not forward standard input to the guest")(
        "no-pool", "boot a VM even when a warm pool of the image has one waiting ('fleet-vmm pool')")(
        "verbose,v", "say on stderr which accelerator runs the VM, and why");
    int status = 0;
    auto p = parse("run", args, d, "[OPTIONS] IMAGE [ARGS...]", status, true);
    if (!p) return status;
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
        "verbose,v", "say on stderr which accelerator runs the VM, and why (always, on a terminal)")(
        "paused", "create the VM paused; 'fleet-vmm resume NAME' starts it");
    int status = 0;
    auto p = parse("start", args, d, "[OPTIONS] IMAGE [ARGS...]", status, true);
    if (!p) return status;
    auto prepared = prepare_launch(ctx, f, *p, p->vm.count("paused") > 0);
    if (!prepared) return report(prepared.error());
    auto& [store_value, o] = *prepared;
    const Store* store = &store_value;
    std::string name = o.spec.name;
    o.auto_remove = p->vm.count("rm") > 0;
    o.detached = true;
    o.forward_stdin = p->vm.count("interactive") > 0;

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

// ---- listing ----

std::string human_duration(std::int64_t ms)
{
    std::int64_t s = ms / 1000;
    if (s < 60) return std::to_string(s) + "s";
    if (s < 3600) return std::to_string(s / 60) + "m" + std::to_string(s % 60) + "s";
    if (s < 86400) return std::to_string(s / 3600) + "h" + std::to_string(s % 3600 / 60) + "m";
    return std::to_string(s / 86400) + "d" + std::to_string(s % 86400 / 3600) + "h";
}

std::string state_word(const VmRecord& r)
{
    if (!r.ended()) return std::string(to_string(r.state));
    if (r.exit_reason == ExitReason::guest_exit || r.exit_reason == ExitReason::guest_poweroff)
        return "exited(" + std::to_string(r.exit_status) + ")";
    return std::string(to_string(r.exit_reason));
}

json record_json(const VmRecord& r, std::int64_t now)
{
    bool live = !r.ended();
    auto info = live ? proc_info(r.pid) : std::nullopt;
    json j = {{"name", r.name},
              {"state", to_string(r.state)},
              {"image", r.image},
              {"accel", to_string(r.accel)},
              {"cpu", r.cpu},
              {"pid", live ? json(r.pid) : json(nullptr)},
              {"supervisor_pid", live ? json(r.supervisor_pid) : json(nullptr)},
              {"memory_mib", r.memory_mib},
              {"vcpus", r.vcpus},
              {"networks", r.networks},
              {"rss_kib", info ? json(info->rss_kib) : json(nullptr)},
              {"started_at_ms", r.started_at_ms},
              {"uptime_ms", live ? json(now - r.started_at_ms) : json(nullptr)}};
    if (!live) {
        j["exit_reason"] = to_string(r.exit_reason);
        j["exit_status"] = r.exit_status;
        j["exit_message"] = r.exit_message;
        j["ended_at_ms"] = r.ended_at_ms;
    }
    return j;
}

int cmd_ls(const Context& ctx, const Args& args)
{
    po::options_description d("Options");
    d.add_options()("json", "print JSON")("running", "only VMs that have not ended")("quiet,q", "only names");
    int status = 0;
    auto p = parse("ls", args, d, "[OPTIONS]", status);
    if (!p) return status;
    if (!p->positional.empty()) return report("ls takes no arguments");
    auto store = open_store(ctx);
    if (!store) return report(store.error());
    auto records = store->list();
    if (!records) return report(records.error());
    std::int64_t now = now_ms();
    std::vector<VmRecord> shown;
    for (auto& r : *records)
        if (!p->vm.count("running") || !r.ended()) shown.push_back(r);
    if (p->vm.count("json")) {
        json arr = json::array();
        for (const auto& r : shown) arr.push_back(record_json(r, now));
        std::printf("%s\n", arr.dump(2, ' ', false, json::error_handler_t::replace).c_str());
        return 0;
    }
    if (p->vm.count("quiet")) {
        for (const auto& r : shown) std::printf("%s\n", r.name.c_str());
        return 0;
    }
    std::printf("%-24s %-12s %-8s %-5s %-14s %-8s %s\n", "NAME", "STATE", "PID", "ACCEL", "MEMORY", "UPTIME", "IMAGE");
    for (const auto& r : shown) {
        bool live = !r.ended();
        auto info = live ? proc_info(r.pid) : std::nullopt;
        std::string mem = (info ? std::to_string(info->rss_kib / 1024) + "M" : std::string("-")) + "/" +
                          std::to_string(r.memory_mib) + "M";
        std::printf("%-24s %-12s %-8s %-5s %-14s %-8s %s\n", r.name.c_str(), state_word(r).c_str(),
                    live ? std::to_string(r.pid).c_str() : "-", accel_label(to_string(r.accel), r.cpu).c_str(),
                    mem.c_str(), live ? human_duration(now - r.started_at_ms).c_str() : "-", r.image.c_str());
    }
    return 0;
}

int cmd_inspect(const Context& ctx, const Args& args)
{
    po::options_description d("Options");
    int status = 0;
    auto p = parse("inspect", args, d, "NAME", status);
    if (!p) return status;
    if (p->positional.size() != 1) return report("inspect takes one VM name");
    auto store = open_store(ctx);
    if (!store) return report(store.error());
    auto r = store->inspect(p->positional[0]);
    if (!r) return report(r.error());
    std::printf("%s\n", record_json(*r, now_ms()).dump(2, ' ', false, json::error_handler_t::replace).c_str());
    return 0;
}

int cmd_images(const Context& ctx, const Args& args)
{
    po::options_description d("Options");
    int status = 0;
    auto p = parse("images", args, d, "", status);
    if (!p) return status;
    auto dirs = catalog_dirs(ctx.images);
    std::printf("%-12s %-7s %s\n", "NAME", "MEMORY", "DESCRIPTION");
    for (const auto& img : list_images(dirs))
        std::printf("%-12s %-7s %s\n", img.name.c_str(), (std::to_string(img.memory_mib) + "M").c_str(),
                    img.description.c_str());
    return 0;
}

// ---- acting on a VM that another process owns ----

// Wait until a process we did not start exits, or the timeout passes
// (negative: no timeout). True if it exited.
bool wait_exit(pid_t pid, std::uint64_t start, int timeout_ms)
{
    auto fd = open_pidfd(pid);
    if (!fd) return true;                         // already gone
    if (!process_alive(pid, start)) return true;  // reused pid, or a zombie
    pollfd p{fd->get(), POLLIN, 0};
    int r;
    do r = ::poll(&p, 1, timeout_ms);
    while (r < 0 && errno == EINTR);
    return r > 0;
}

// The running VM's record, or an error saying it is not running.
Result<VmRecord> running(const Store& store, const std::string& name)
{
    auto r = store.inspect(name);
    if (!r) return r;
    if (r->ended()) return fail("VM '" + name + "' is not running (" + state_word(*r) + ")");
    return r;
}

// Whether the record's supervisor pid is a live supervisor of ours: our
// uid, the start time the record says (a reused pid differs), and a fleet
// program (fleet-vmm, fleet-router's supervisors, fsh). A forged or stale
// record never gets another process signalled.
Result<> check_supervisor(const VmRecord& r)
{
    auto refuse = [&r](const std::string& why) {
        return fail("VM '" + r.name + "': its record names pid " + std::to_string(r.supervisor_pid) + ", " + why +
                    "; not signalling it");
    };
    auto owner = proc_info(r.supervisor_pid);
    if (!owner || !process_alive(r.supervisor_pid, r.supervisor_start)) return refuse("which is gone");
    if (owner->uid != ::geteuid()) return refuse("which is not yours");
    char exe[4096];
    ssize_t n = ::readlink(("/proc/" + std::to_string(r.supervisor_pid) + "/exe").c_str(), exe, sizeof exe - 1);
    std::string path(exe, n > 0 ? static_cast<std::size_t>(n) : 0);
    if (path.ends_with(" (deleted)")) path.resize(path.size() - 10);
    std::string base = path.substr(path.rfind('/') + 1);
    if (base != "fleet-vmm" && base != "fleet-router" && base != "fsh")
        return refuse("which is not a fleet supervisor");
    return {};
}

// Ask the supervisor to stop (SIGTERM with the deadline) or kill (SIGUSR1)
// the VM, and wait until it has recorded the end.
Result<VmRecord> end_vm(const Store& store, const VmRecord& r, bool kill, int deadline_ms)
{
    // A record names the pid to signal: it must be our own supervisor, not
    // any process a damaged or planted record points at.
    if (auto ours = check_supervisor(r); !ours) {
        if (process_alive(r.supervisor_pid, r.supervisor_start)) return std::unexpected(ours.error());
        return store.inspect(r.name);  // gone: the store settles the record
    }
    sigval v{};
    v.sival_int = deadline_ms;
    if (::sigqueue(r.supervisor_pid, kill ? SIGUSR1 : SIGTERM, v) != 0 && errno != ESRCH)
        return fail_errno("cannot signal the supervisor of VM '" + r.name + "'");
    if (!wait_exit(r.supervisor_pid, r.supervisor_start, deadline_ms + 5000)) {
        // The supervisor did not manage: take the VM down directly.
        if (process_alive(r.pid, r.pid_start)) ::kill(r.pid, SIGKILL);
        ::kill(r.supervisor_pid, SIGKILL);
        wait_exit(r.supervisor_pid, r.supervisor_start, 5000);
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
    if (auto ours = check_supervisor(r); !ours) return std::unexpected(ours.error());
    sigval v{};
    v.sival_int = program_signal_value(sig, std::chrono::milliseconds(0));
    if (::sigqueue(r.supervisor_pid, program_signal_request, v) != 0)
        return fail_errno("cannot signal the supervisor of VM '" + r.name + "'");
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

int cmd_stop(const Context& ctx, const Args& args)
{
    return end_command(ctx, args, false);
}
int cmd_kill(const Context& ctx, const Args& args)
{
    return end_command(ctx, args, true);
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
    auto a = attach_console(store->path(name, "console.sock"), name);
    if (!a) return report(a.error());
    return 0;
}

int cmd_logs(const Context& ctx, const Args& args)
{
    po::options_description d("Options");
    d.add_options()("follow,f", "keep printing until the VM ends");
    int status = 0;
    auto p = parse("logs", args, d, "[-f] NAME", status);
    if (!p) return status;
    if (p->positional.size() != 1) return report("logs takes one VM name");
    auto store = open_store(ctx);
    if (!store) return report(store.error());
    const std::string& name = p->positional[0];
    auto r = store->inspect(name);
    if (!r) return report(r.error());
    if (!r->detached) return report("VM '" + name + "' ran in the foreground; its output went to that terminal");
    std::string path = store->path(name, "console.log");
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return report(Error{"cannot read " + path, errno});
    Fd log(fd);
    auto copy = [&] {
        char buf[65536];
        ssize_t n;
        while ((n = ::read(log.get(), buf, sizeof buf)) > 0) std::fwrite(buf, 1, static_cast<std::size_t>(n), stdout);
        std::fflush(stdout);
    };
    copy();
    if (!p->vm.count("follow") || r->ended()) return 0;
    // Follow: wake on every append to the log and on the supervisor's exit.
    Fd in(::inotify_init1(IN_CLOEXEC));
    auto pidfd = open_pidfd(r->supervisor_pid);
    if (!in || !pidfd || ::inotify_add_watch(in.get(), path.c_str(), IN_MODIFY) < 0)
        return report(Error{"cannot follow " + path, errno});
    for (;;) {
        pollfd fds[2] = {{in.get(), POLLIN, 0}, {pidfd->get(), POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0 && errno != EINTR) break;
        if (fds[0].revents) {
            char ev[4096];
            (void)!::read(in.get(), ev, sizeof ev);
        }
        copy();
        if (fds[1].revents) break;
    }
    copy();
    return 0;
}

}  // namespace

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
