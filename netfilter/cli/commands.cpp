// fleet-net — one function per command, over libfleet-netfilter.
#include "cli.hpp"
#include "inventory_file.hpp"

#include <fleet/netfilter/compile.hpp>
#include <fleet/netfilter/firewall.hpp>
#include <fleet/netfilter/links.hpp>
#include <fleet/netfilter/nft.hpp>
#include <fleet/netfilter/policy.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>

namespace fleet::netfilter::cli {

int report(const std::string& message)
{
    std::fprintf(stderr, "fleet-net: %s\n", message.c_str());
    return 1;
}

void timing(const Args& args, const char* what, Clock::time_point start)
{
    if (!args.has("timing")) return;
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    std::fprintf(stderr, "%s: %.3f ms\n", what, ms);
}

namespace {

int report(const Error& e)
{
    return cli::report(e.what());
}
int report(const std::string& message)
{
    return cli::report(message);
}

Result<Policy> load_policy(const std::string& path)
{
    auto text = read_text(path, max_policy_bytes + 1);
    if (!text) return std::unexpected(text.error());
    return parse_policy(*text, path);
}

Result<Inventory> load_inventory(const Args& args)
{
    if (!args.has("inventory")) return Inventory{};
    return read_inventory(args.get("inventory", ""));
}

Result<std::unique_ptr<Libnftables>> open_nft()
{
    return Libnftables::open();
}

// The compile options from --table, --bridge and --conntrack (auto: probe).
Result<CompileOptions> compile_options(const Args& args, Nft* nft)
{
    CompileOptions o;
    o.table = args.get("table", o.table);
    o.bridge = args.get("bridge", o.bridge);
    const std::string mode = args.get("conntrack", "auto");
    if (mode == "bridge") {
        o.conntrack = Conntrack::bridge;
    } else if (mode == "inet") {
        o.conntrack = Conntrack::inet;
    } else if (mode == "auto") {
        std::unique_ptr<Libnftables> own;
        if (nft == nullptr) {
            auto opened = open_nft();
            if (!opened) return std::unexpected(opened.error());
            own = std::move(*opened);
            nft = own.get();
        }
        auto probed = Firewall::probe(*nft);
        if (!probed) return fail(probed.error().message + " (or give --conntrack bridge|inet)");
        o.conntrack = *probed;
    } else {
        return fail("--conntrack is auto, bridge or inet");
    }
    if (auto r = check_options(o); !r) return std::unexpected(r.error());
    return o;
}

int check(const Args& args)
{
    if (args.positional.size() != 1) return report("usage: fleet-net check POLICY [--inventory FILE]");
    auto policy = load_policy(args.positional[0]);
    if (!policy) return report(policy.error());
    auto inventory = load_inventory(args);
    if (!inventory) return report(inventory.error());
    if (auto script = compile_ruleset(*policy, *inventory, CompileOptions{}); !script) return report(script.error());
    std::printf("%s: ok (%zu groups, %zu rules)\n", args.positional[0].c_str(), policy->groups.size(),
                policy->rules.size());
    return 0;
}

int format_command(const Args& args)
{
    if (args.positional.size() != 1) return report("usage: fleet-net format POLICY");
    auto policy = load_policy(args.positional[0]);
    if (!policy) return report(policy.error());
    std::cout << format_policy(*policy);
    return 0;
}

int compile(const Args& args)
{
    if (args.positional.size() != 1) return report("usage: fleet-net compile POLICY [--inventory FILE]");
    auto policy = load_policy(args.positional[0]);
    if (!policy) return report(policy.error());
    auto inventory = load_inventory(args);
    if (!inventory) return report(inventory.error());
    auto options = compile_options(args, nullptr);
    if (!options) return report(options.error());
    auto script = compile_ruleset(*policy, *inventory, *options);
    if (!script) return report(script.error());
    std::cout << *script;
    return 0;
}

int apply(const Args& args)
{
    if (args.positional.size() != 1) return report("usage: fleet-net apply POLICY [--inventory FILE]");
    auto policy = load_policy(args.positional[0]);
    if (!policy) return report(policy.error());
    auto inventory = load_inventory(args);
    if (!inventory) return report(inventory.error());
    auto nft = open_nft();
    if (!nft) return report(nft.error());
    auto options = compile_options(args, nft->get());
    if (!options) return report(options.error());
    const auto start = Clock::now();
    auto script = compile_ruleset(*policy, *inventory, *options);
    if (!script) return report(script.error());
    timing(args, "compile", start);
    const auto applied = Clock::now();
    if (auto r = (*nft)->run(*script); !r) return report(r.error());
    timing(args, "apply", applied);
    return 0;
}

int join_or_leave(const Args& args, bool join)
{
    if (args.positional.size() != 2 || !args.has("inventory"))
        return report(std::string("usage: fleet-net ") + (join ? "join" : "leave") + " POLICY NAME --inventory FILE");
    auto policy = load_policy(args.positional[0]);
    if (!policy) return report(policy.error());
    auto inventory = load_inventory(args);
    if (!inventory) return report(inventory.error());
    const auto it = std::find_if(inventory->begin(), inventory->end(),
                                 [&](const Endpoint& e) { return e.name == args.positional[1]; });
    if (it == inventory->end()) return report("no VM '" + args.positional[1] + "' in the inventory");
    auto nft = open_nft();
    if (!nft) return report(nft.error());
    auto options = compile_options(args, nft->get());
    if (!options) return report(options.error());
    const std::string script = join ? join_script(*policy, *it, *options) : leave_script(*policy, *it, *options);
    const auto start = Clock::now();
    if (auto r = (*nft)->run(script); !r) return report(r.error());
    timing(args, join ? "join" : "leave", start);
    return 0;
}

int join(const Args& args)
{
    return join_or_leave(args, true);
}
int leave(const Args& args)
{
    return join_or_leave(args, false);
}

int list(const Args& args)
{
    auto nft = open_nft();
    if (!nft) return report(nft.error());
    const std::string table = args.get("table", "fleet");
    for (const char* family : {"bridge", "inet"}) {
        auto out = (*nft)->list(std::string("list table ") + family + " " + table);
        if (!out) return report(out.error());
        std::cout << *out;
    }
    return 0;
}

int remove_tables(Nft& nft, const Args& args)
{
    CompileOptions o;
    o.table = args.get("table", o.table);
    if (auto r = check_options(o); !r) return report(r.error());
    if (auto r = nft.run(remove_script(o)); !r) return report(r.error());
    return 0;
}

int remove_command(const Args& args)
{
    auto nft = open_nft();
    if (!nft) return report(nft.error());
    return remove_tables(**nft, args);
}

}  // namespace

int links_up(const Args& args);
int links_tap(const Args& args);
int links_list(const Args& args);
int links_down(const Args& args);
int mac_command(const Args& args);
int lease_command(const Args& args);

namespace {

int down(const Args& args)
{
    auto nft = open_nft();
    if (!nft) return report(nft.error());
    if (int rc = remove_tables(**nft, args); rc != 0) return rc;
    return links_down(args);
}

}  // namespace

const std::vector<Command>& commands()
{
    static const std::vector<Command> table = {
        {"check", "check POLICY [--inventory FILE]", "parse a policy (and compile it with the VMs)", check},
        {"format", "format POLICY", "print a policy in canonical form", format_command},
        {"compile", "compile POLICY [--inventory FILE]", "print the nft script", compile},
        {"apply", "apply POLICY [--inventory FILE]", "replace fleet's tables in one transaction", apply},
        {"join", "join POLICY NAME --inventory FILE", "add a VM's set elements", join},
        {"leave", "leave POLICY NAME --inventory FILE", "remove a VM's set elements", leave},
        {"list", "list", "fleet's tables, as nft shows them", list},
        {"remove", "remove", "delete fleet's tables", remove_command},
        {"up", "up [--bridge NAME] [--ipv4 CIDR] [--ipv6 CIDR]", "create or adopt fleet's bridge", links_up},
        {"tap", "tap NAME [--owner VM] [--fd N] -- COMMAND...", "run COMMAND with a new tap's fd as fd N (3)",
         links_tap},
        {"links", "links", "the links fleet made", links_list},
        {"down", "down", "remove fleet's tables and every link fleet made", down},
        {"mac", "mac UUID|name:VM [INDEX]", "the MAC and tap name of a domain's (or fleet-vmm VM's) interface",
         mac_command},
        {"lease", "lease add MAC NAME | rm MAC | ls  --state-dir DIR", "the lease file", lease_command},
    };
    return table;
}

}  // namespace fleet::netfilter::cli
