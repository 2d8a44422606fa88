// fleet-vmm — the commands that read: ls, inspect, images, logs.
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

std::string human_duration(std::int64_t ms)
{
    std::int64_t s = ms / 1000;
    if (s < 60) return std::to_string(s) + "s";
    if (s < 3600) return std::to_string(s / 60) + "m" + std::to_string(s % 60) + "s";
    if (s < 86400) return std::to_string(s / 3600) + "h" + std::to_string(s % 3600 / 60) + "m";
    return std::to_string(s / 86400) + "d" + std::to_string(s % 86400 / 3600) + "h";
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

}  // namespace

std::string state_word(const VmRecord& r)
{
    if (!r.ended()) return std::string(to_string(r.state));
    if (r.exit_reason == ExitReason::guest_exit || r.exit_reason == ExitReason::guest_poweroff)
        return "exited(" + std::to_string(r.exit_status) + ")";
    return std::string(to_string(r.exit_reason));
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

}  // namespace fleet::cli
