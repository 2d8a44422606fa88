// fleet-net — the netfilter library from the command line.
//
// main parses "COMMAND [ARGS] [--option value | --flag]... [-- COMMAND...]"
// and runs the command (commands.cpp). Exit status: 0 done, 1 failed (one
// line on stderr), 2 bad usage.
#include "cli.hpp"

#include <cstdio>
#include <cstring>
#include <set>

using namespace fleet::netfilter::cli;

namespace {

// Options that take no value.
const std::set<std::string> flags = {"timing", "help"};

void print_help()
{
    std::printf(
        "Usage: fleet-net COMMAND [ARGS] [OPTIONS]\n\n"
        "fleet's bridge, taps and VM firewall (netfilter/README.md).\n\nCommands:\n");
    for (const Command& c : commands()) std::printf("  %-46s %s\n", c.usage, c.summary);
    std::printf(
        "\nOptions:\n"
        "  --table NAME         fleet's nft tables (fleet)\n"
        "  --bridge NAME        fleet's bridge (fleet0)\n"
        "  --conntrack MODE     auto, bridge or inet: where VM-to-VM flows are tracked (auto)\n"
        "  --inventory FILE     the VMs: NAME port=IF mac=MAC [ipv4=A] [ipv6=A] [groups=G,..] [outbound=yes]\n"
        "  --ipv4 CIDR|none     the bridge's address and subnet (10.77.0.1/24)\n"
        "  --ipv6 CIDR|none     (fd66:6c65:6574::1/64)\n"
        "  --timing             print how long the kernel took (apply, join, leave, tap), on stderr\n");
}

}  // namespace

int main(int argc, char** argv)
{
    if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
        print_help();
        return argc < 2 ? 2 : 0;
    }
    Args args;
    for (int i = 2; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--") {
            args.command.assign(argv + i + 1, argv + argc);
            break;
        }
        if (a.starts_with("--")) {
            const std::string key = a.substr(2);
            if (flags.contains(key)) {
                args.options[key] = "";
            } else if (i + 1 < argc) {
                args.options[key] = argv[++i];
            } else {
                report("--" + key + " needs a value");
                return 2;
            }
        } else {
            args.positional.push_back(a);
        }
    }
    for (const Command& c : commands()) {
        if (argv[1] != std::string(c.name)) continue;
        if (args.has("help")) {
            std::printf("Usage: fleet-net %s\n  %s\n", c.usage, c.summary);
            return 0;
        }
        return c.run(args);
    }
    report(std::string("unknown command '") + argv[1] + "' (see fleet-net --help)");
    return 2;
}
