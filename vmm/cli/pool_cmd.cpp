// fleet-vmm pool — start, list and stop warm pools (see pool.hpp).
#include "launch.hpp"
#include "pool.hpp"

#include <fleet/base/file.hpp>
#include <fleet/base/process.hpp>
#include <fleet/vmm/detached.hpp>
#include <fleet/vmm/pool.hpp>
#include <fleet/vmm/pool_daemon.hpp>

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>

namespace po = boost::program_options;
namespace fs = std::filesystem;
using nlohmann::json;

namespace fleet::cli {

using namespace fleet::vmm;

namespace {

constexpr const char* pool_usage =
    "COMMAND ...\n\n"
    "Commands:\n"
    "  start [OPTIONS] IMAGE   keep -n VMs of IMAGE booted, waiting for a program\n"
    "  ls [--json]             the pools: size, idle VMs, how they boot, their QEMUs' memory\n"
    "                          (RSS, and PSS: shared pages split among the processes sharing them)\n"
    "  stop IMAGE...           end a pool's waiting VMs (VMs running a program go on)\n\n"
    "'fleet-vmm run IMAGE ARGS' takes a waiting VM of IMAGE's pool when its options fit\n"
    "(same memory, vCPUs and accelerator; no --share, --net or -w), else boots one;\n"
    "'run --no-pool' always boots one. Each VM runs one program and is then gone.\n"
    "A Linux image with a snapshot has its pool's VMs restored from it (a fraction of a\n"
    "boot's CPU and memory); --snapshot and --no-snapshot choose.";

// Fork the daemon (its own session, nobody's child but init's) and wait
// for its word: all `size` VMs waiting, or why not.
int start_daemon(const Store& store, PoolDaemon d)
{
    std::string image = d.image, dir = d.dir;
    auto started = start_pool_daemon(store, std::move(d), DetachOptions{.orphan = true, .in_child = {}});
    if (!started) return report(started.error());
    auto ready = parse_ready_line(read_ready_line(started->ready), "");  // "": it ended without a word
    if (ready) return 0;
    if (!ready.error().message.empty()) return report("pool '" + image + "': " + ready.error().message);
    return report("pool '" + image + "' failed to start (see " + dir + "/pool.log)");
}

int pool_start(const Context& ctx, const Args& args)
{
    LaunchFlags f;
    unsigned size = 2;
    bool no_rehearsal = false;
    const char* accel = std::getenv("FLEET_ACCEL");
    po::options_description d("Options");
    d.add_options()("size,n", po::value(&size)->default_value(2), "VMs kept waiting (1 to 64)")(
        "memory,m", po::value(&f.memory), "guest memory, e.g. 64M (default: the image's)")(
        "cpus", po::value(&f.cpus)->default_value(1), "vCPUs")(
        "accel", po::value(&f.accel)->default_value(accel && *accel ? accel : "auto"),
        "auto, kvm or tcg (FLEET_ACCEL)")(
        "boot-timeout", po::value<double>()->notifier([&f](double v) { f.boot_timeout = v; }),
        "seconds a VM has to boot to its waiting point (default: the image's, else 10)")(
        "stop-timeout", po::value(&f.stop_timeout)->default_value(10, "10"),
        "seconds a stop of a claimed VM waits for its power-off before killing it")(
        "snapshot", po::bool_switch(&f.snapshot),
        "restore each VM from a saved boot of the image, made on first use (default: the image's "
        "snapshot=)")("no-snapshot", po::bool_switch(&f.no_snapshot), "boot each VM cold")(
        "no-rehearsal", po::bool_switch(&no_rehearsal),
        "under TCG, let a Linux VM wait without first rehearsing a start on /dev/null (for "
        "comparisons: a rehearsed VM's claim finds its start's code translated)");
    int status = 0;
    auto p = parse("pool start", args, d, "[OPTIONS] IMAGE", status);
    if (!p) return status;
    if (p->positional.size() != 1) return report("pool start takes one image (arguments come with each run)");
    if (size < 1 || size > 64) return report("--size must be 1 to 64");
    auto spec = build_spec(ctx, f, p->positional);
    if (!spec) return report(spec.error());
    auto& [s, image] = *spec;
    settle_pool_boot(s, f.snapshot ? PoolBoot::snapshot : f.no_snapshot ? PoolBoot::cold : PoolBoot::automatic);
    if (image.entry_file.empty())
        return report("pool start: '" + p->positional[0] + "' is not a catalog image a pool can hold");
    auto store = open_store(ctx);
    if (!store) return report(store.error());
    if (auto r = ensure_private_dir(pool_root(ctx.runtime_dir)); !r) return report(r.error());
    std::string dir = pool_dir(ctx.runtime_dir, image.name);
    if (auto r = ensure_private_dir(dir); !r) return report(r.error());
    PoolDaemon pd{dir, image.name, size, {}, -1};
    pd.base.spec = std::move(s);
    pd.base.spec.args.clear();
    pd.base.launch.qemu = ctx.qemu;
    pd.base.launch.rehearse = !no_rehearsal;
    pd.base.image = image.name;
    pd.base.stop_deadline = std::chrono::milliseconds(static_cast<long>(f.stop_timeout * 1000));
    int rc = start_daemon(*store, std::move(pd));
    if (rc == 0) std::printf("%s: %u waiting\n", image.name.c_str(), size);
    return rc;
}

// The waiting VMs' QEMUs' memory, in KiB: RSS, which counts QEMU's
// program and libraries once in each, and PSS, which shares them out (what
// the pool costs the host; 0 where /proc does not let us read it).
struct IdleMemory {
    std::uint64_t rss_kib = 0, pss_kib = 0;
};
IdleMemory idle_memory(const std::string& dir, const std::vector<std::string>& idle)
{
    IdleMemory m;
    for (const auto& slot : idle)
        if (auto s = read_slot(dir, slot); s && process_alive(s->pid, s->pid_start)) {
            m.rss_kib += proc_info(s->pid).value_or(ProcInfo{}).rss_kib;
            m.pss_kib += proc_pss_kib(s->pid).value_or(0);
        }
    return m;
}

// "79M (39M each)"
std::string mib_total_and_each(std::uint64_t kib, std::size_t n)
{
    std::string s = std::to_string(kib / 1024) + "M";
    if (n > 0) s += " (" + std::to_string(kib / n / 1024) + "M each)";
    return s;
}

int pool_ls(const Context& ctx, const Args& args)
{
    po::options_description d("Options");
    d.add_options()("json", "print JSON");
    int status = 0;
    auto p = parse("pool ls", args, d, "[--json]", status);
    if (!p) return status;
    json arr = json::array();
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(pool_root(ctx.runtime_dir), ec)) {
        std::string dir = e.path().string();
        auto alive = pool_alive(dir, true);  // a dead daemon's leftovers are cleared here
        if (!alive || !*alive) continue;
        auto info = read_pool_info(dir);
        if (!info) continue;
        auto idle = idle_slots(dir);
        IdleMemory m = idle_memory(dir, idle);
        std::size_t n = idle.size();
        arr.push_back({{"image", info->image},
                       {"size", info->size},
                       {"idle", n},
                       {"memory_mib", info->memory_mib},
                       {"accel", info->accel},
                       {"boot", info->boot},
                       {"rss_kib", m.rss_kib},
                       {"rss_kib_per_vm", n == 0 ? 0 : m.rss_kib / n},
                       {"pss_kib", m.pss_kib},
                       {"pss_kib_per_vm", n == 0 ? 0 : m.pss_kib / n},
                       {"pid", info->pid}});
    }
    if (p->vm.count("json")) {
        std::printf("%s\n", arr.dump(2).c_str());
        return 0;
    }
    std::printf("%-16s %-5s %-5s %-7s %-5s %-8s %-15s %-15s %s\n", "IMAGE", "SIZE", "IDLE", "MEMORY", "ACCEL", "BOOT",
                "RSS", "PSS", "PID");
    for (const auto& j : arr) {
        auto n = j["idle"].get<std::size_t>();
        std::printf("%-16s %-5u %-5zu %-7s %-5s %-8s %-15s %-15s %d\n", j["image"].get<std::string>().c_str(),
                    j["size"].get<unsigned>(), n, (std::to_string(j["memory_mib"].get<std::uint64_t>()) + "M").c_str(),
                    j["accel"].get<std::string>().c_str(), j["boot"].get<std::string>().c_str(),
                    mib_total_and_each(j["rss_kib"].get<std::uint64_t>(), n).c_str(),
                    mib_total_and_each(j["pss_kib"].get<std::uint64_t>(), n).c_str(), j["pid"].get<int>());
    }
    return 0;
}

Result<> stop_one(const Context& ctx, const std::string& image)
{
    std::string dir = pool_dir(ctx.runtime_dir, image);
    auto alive = pool_alive(dir, true);
    if (!alive) return std::unexpected(alive.error());
    auto info = *alive ? read_pool_info(dir) : Result<PoolInfo>(fail(""));
    if (!*alive || !info) return fail("no pool for '" + image + "' (see 'fleet-vmm pool ls')");
    auto pidfd = pin_process(info->pid, info->pid_start);  // every signal through it, never by pid
    auto owner = proc_info(info->pid);
    if (!pidfd || !owner || owner->uid != ::geteuid())
        return fail("pool '" + image + "': its daemon (pid " + std::to_string(info->pid) + ") is gone or not yours");
    if (int e = end_pool_daemon(pidfd->get(), dir, std::chrono::seconds(10)); e != 0 && e != ESRCH)
        return fail("cannot signal the pool daemon of '" + image + "'", e);
    return {};
}

int pool_stop(const Context& ctx, const Args& args)
{
    po::options_description d("Options");
    int status = 0;
    auto p = parse("pool stop", args, d, "IMAGE...", status);
    if (!p) return status;
    if (p->positional.empty()) return report("pool stop needs at least one image");
    int rc = 0;
    for (const auto& image : p->positional) {
        if (auto s = stop_one(ctx, image); !s)
            rc = report(s.error());
        else
            std::printf("%s\n", image.c_str());
    }
    return rc;
}

}  // namespace

int cmd_pool(const Context& ctx, const Args& args)
{
    if (args.empty()) return report("pool needs a command: start, ls, stop (see 'fleet-vmm pool --help')");
    if (args[0] == "--help" || args[0] == "-h") {
        std::cout << "Usage: fleet-vmm pool " << pool_usage << "\n";
        return 0;
    }
    Args rest(args.begin() + 1, args.end());
    if (args[0] == "start") return pool_start(ctx, rest);
    if (args[0] == "ls") return pool_ls(ctx, rest);
    if (args[0] == "stop") return pool_stop(ctx, rest);
    return report("unknown pool command '" + args[0] + "' (start, ls, stop; see 'fleet-vmm pool --help')");
}

}  // namespace fleet::cli
