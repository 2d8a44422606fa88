// fleet-vmm — what run, start, cmdline and pool share (launch.hpp): errors,
// option parsing, the spec built from the command line.
#include "launch.hpp"
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

#include <algorithm>
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

// The terminal a run's program gets, if any (LaunchFlags::tty): the size
// of ours, else 24x80 (forced onto a pipe).
Result<std::optional<Terminal>> program_terminal(LaunchFlags::Tty wanted, const Image& image)
{
    if (wanted == LaunchFlags::Tty::never) return std::nullopt;
    bool linux = guest_kind(image.kind) == GuestKind::linux_image;
    if (wanted == LaunchFlags::Tty::always && !linux)
        return fail("--tty: only a Linux image gives its program a terminal; '" + image.name + "' is a " + image.kind +
                    " image");
    if (!linux || (wanted == LaunchFlags::Tty::automatic && !in_front_of_terminal())) return std::nullopt;
    return terminal_here();
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
    if (auto t = program_terminal(f.tty, *image); !t)
        return std::unexpected(t.error());
    else
        spec.tty = *t;
    if (spec.tty && std::none_of(spec.env.begin(), spec.env.end(), [](auto& e) { return e.starts_with("TERM="); }))
        if (const char* term = std::getenv("TERM"); term && *term) spec.env.push_back(std::string("TERM=") + term);
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

}  // namespace fleet::cli
