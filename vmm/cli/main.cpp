// fleet-vmm — a daemonless launcher for QEMU microvm guests.
//
// main is a list of steps: parse the global options, find the command, hand
// it the rest of the command line. Each command is a function in
// commands.cpp over libfleet-vmm.
#include "cli.hpp"

#include <boost/program_options.hpp>

#include <cstdio>
#include <cstdlib>
#include <iostream>

namespace po = boost::program_options;
using namespace fleet;

namespace {

void print_help(const po::options_description& globals)
{
    std::cout << "Usage: fleet-vmm [OPTIONS] COMMAND [ARGS...]\n\n"
                 "Boot, list, attach to and stop QEMU microvm guests without a daemon.\n\n"
                 "Commands:\n";
    for (const auto& c : cli::commands()) std::printf("  %-9s %s\n", c.name, c.summary);
    std::cout << "\n"
              << globals << "\n"
              << "Environment: FLEET_RUNTIME_DIR, FLEET_IMAGES, FLEET_QEMU, FLEET_ACCEL (auto|kvm|tcg).\n"
                 "Run 'fleet-vmm COMMAND --help' for a command's options.\n"
                 "Exit status: the guest program's own status for run and wait; 125 when\n"
                 "fleet-vmm itself fails (bad input, QEMU missing, VM not found).\n";
}

const char* env_or(const char* name, const char* fallback)
{
    const char* v = std::getenv(name);
    return v && *v ? v : fallback;
}

}  // namespace

int main(int argc, char** argv)
{
    // 1. Global options, up to the command word.
    cli::Context ctx;
    po::options_description globals("Options");
    // clang-format off: one option a line reads better than the formatter's packing
    globals.add_options()("help,h", "show this help")("version", "show the version")(
        "runtime-dir", po::value(&ctx.runtime_dir), "where running VMs live (FLEET_RUNTIME_DIR)")(
        "images", po::value(&ctx.images), "image catalog folders, colon-separated (FLEET_IMAGES)")(
        "qemu", po::value(&ctx.qemu)->default_value(env_or("FLEET_QEMU", "qemu-system-x86_64")),
        "QEMU binary (FLEET_QEMU)");
    // clang-format on
    int first = 1;
    std::vector<std::string> global_args;
    while (first < argc && argv[first][0] == '-') {
        std::string a = argv[first++];
        global_args.push_back(a);
        bool takes_value = a == "--runtime-dir" || a == "--images" || a == "--qemu";
        if (takes_value && first < argc) global_args.emplace_back(argv[first++]);
    }
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(global_args).options(globals).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        return cli::report(std::string(e.what()) + " (see 'fleet-vmm --help')");
    }
    if (vm.count("help")) {
        print_help(globals);
        return 0;
    }
    if (vm.count("version")) {
        std::cout << "fleet-vmm " << FLEET_VERSION << "\n";
        return 0;
    }
    ctx.runtime_dir = vmm::default_runtime_dir(ctx.runtime_dir);

    // 2. The command.
    if (first >= argc) {
        print_help(globals);
        return cli::exit_failure;
    }
    std::string name = argv[first++];
    if (name == "ps") name = "ls";
    for (const auto& c : cli::commands()) {
        if (name != c.name) continue;
        // 3. Its arguments.
        cli::Args args(argv + first, argv + argc);
        return c.run(ctx, args);
    }
    return cli::report("unknown command '" + name + "' (see 'fleet-vmm --help')");
}
