// fleet-vmm — what run, start, cmdline and pool share: option parsing and
// the spec built from the command line (commands.cpp).
#pragma once

#include "cli.hpp"
#include "net.hpp"

#include <fleet/vmm/catalog.hpp>
#include <fleet/vmm/spec.hpp>
#include <fleet/vmm/store.hpp>

#include <boost/program_options.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace fleet::cli {

std::int64_t now_ms();

// Parse a command's options; nullopt with the status to exit with when the
// parse failed or --help was asked for.
struct Parsed {
    boost::program_options::variables_map vm;
    std::vector<std::string> positional;
};
std::optional<Parsed> parse(const char* cmd, const Args& args, boost::program_options::options_description& desc,
                            const char* usage, int& status, bool positional_rest = false);

Result<vmm::Store> open_store(const Context& ctx);

struct LaunchFlags {
    std::string name, memory, accel, initrd, workdir;
    std::vector<std::string> shares, env, env_files;
    unsigned cpus = 1;
    std::optional<double> boot_timeout;  // default: the image's, else 10 s
    double stop_timeout = 10;
    bool snapshot = false, no_snapshot = false;  // default: the image's snapshot=
    NetFlags net;                                // run and start only (net.hpp)
    // The program's terminal (run only): automatic gives one to a Linux
    // image's program when stdin and stdout are this process's terminal
    // and it is in the foreground.
    enum class Tty { never, automatic, always } tty = Tty::never;
};
void add_launch_options(boost::program_options::options_description& d, LaunchFlags& f);

// "IMAGE-xxxx"'s suffix.
std::string random_suffix();

// What build_spec chose for acceleration and why, for --verbose and start.
extern std::string accel_note_;

// The spec for IMAGE ARGS... and the options: validated, its accelerator settled.
Result<std::pair<vmm::VmSpec, vmm::Image>> build_spec(const Context& ctx, const LaunchFlags& f, const Args& positional);

}  // namespace fleet::cli
