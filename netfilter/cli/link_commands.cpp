// fleet-net — the commands about links and addresses: up, tap, links, down,
// mac, lease.
#include "cli.hpp"

#include <fleet/base/process.hpp>
#include <fleet/netfilter/firewall.hpp>
#include <fleet/netfilter/identity.hpp>
#include <fleet/netfilter/leases.hpp>
#include <fleet/netfilter/links.hpp>
#include <fleet/netfilter/nft.hpp>

#include <poll.h>
#include <signal.h>

#include <charconv>
#include <cstdio>

namespace fleet::netfilter::cli {

namespace {

int report(const Error& e)
{
    return cli::report(e.what());
}

// --ipv4 / --ipv6: a subnet, the default, or "none".
Result<BridgeConfig> bridge_config(const Args& args)
{
    BridgeConfig c;
    c.name = args.get("bridge", c.name);
    const std::string v4 = args.get("ipv4", std::string(default_ipv4));
    const std::string v6 = args.get("ipv6", std::string(default_ipv6));
    if (v4 != "none") {
        auto s = parse_subnet4(v4);
        if (!s) return std::unexpected(s.error());
        c.ipv4 = *s;
    }
    if (v6 != "none") {
        auto s = parse_subnet6(v6);
        if (!s) return std::unexpected(s.error());
        c.ipv6 = *s;
    }
    return c;
}

}  // namespace

int links_up(const Args& args)
{
    auto config = bridge_config(args);
    if (!config) return report(config.error());
    // Conntrack::inet needs the bridge's packets in the inet hooks.
    const std::string mode = args.get("conntrack", "auto");
    if (mode == "auto") {
        auto nft = Libnftables::open();
        if (!nft) return report(nft.error());
        auto probed = Firewall::probe(**nft);
        if (!probed) return report(probed.error());
        config->nf_call = *probed == Conntrack::inet;
    } else {
        config->nf_call = mode == "inet";
    }
    auto links = Netlink::open();
    if (!links) return report(links.error());
    auto bridge = (*links)->ensure_bridge(*config);
    if (!bridge) return report(bridge.error());
    std::printf("%s %d\n", bridge->name.c_str(), bridge->index);
    return 0;
}

int links_tap(const Args& args)
{
    if (args.positional.size() != 1 || args.command.empty())
        return cli::report("usage: fleet-net tap NAME [--bridge B] [--owner VM] [--fd N] -- COMMAND...");
    const std::string name = args.positional[0];
    const std::string fd_text = args.get("fd", "3");
    int target = 0;
    const auto [end, ec] = std::from_chars(fd_text.data(), fd_text.data() + fd_text.size(), target);
    if (ec != std::errc{} || end != fd_text.data() + fd_text.size() || target < 3 || target > 1000)
        return cli::report("--fd must be a number, 3..1000");
    auto program = find_program(args.command[0]);
    if (!program) return report(program.error());
    const auto start = Clock::now();  // what a VM's start pays: the netlink socket and the tap
    auto links = Netlink::open();
    if (!links) return report(links.error());
    auto fd = (*links)->create_tap({name, args.get("bridge", std::string(default_bridge)), args.get("owner", name)});
    if (!fd) return report(fd.error());
    timing(args, "tap", start);
    SpawnOptions spawn_options;
    spawn_options.argv = args.command;
    spawn_options.argv[0] = *program;
    spawn_options.pass_fds = {{fd->get(), target}};
    spawn_options.stdin_fd = 0;
    spawn_options.stdout_fd = 1;
    spawn_options.stderr_fd = 2;
    ::signal(SIGINT, SIG_IGN);  // the terminal's ^C is for the command
    auto child = spawn(spawn_options);
    if (!child) return report(child.error());
    fd->reset();  // the command holds the tap now
    pollfd p{child->pidfd.get(), POLLIN, 0};
    while (::poll(&p, 1, -1) < 0 && errno == EINTR) {
    }
    auto status = reap(*child);
    if (auto still = (*links)->find(name); still && *still) (void)(*links)->remove(name);
    if (!status) return report(status.error());
    return status->signaled ? 128 + status->code : status->code;
}

int links_list(const Args&)
{
    auto links = Netlink::open();
    if (!links) return report(links.error());
    auto owned = (*links)->owned();
    if (!owned) return report(owned.error());
    std::printf("%-15s %-7s %-15s %-5s %s\n", "NAME", "KIND", "MASTER", "STATE", "ALIAS");
    for (const LinkInfo& l : *owned)
        std::printf("%-15s %-7s %-15s %-5s %s\n", l.name.c_str(), l.kind.c_str(),
                    l.master.empty() ? "-" : l.master.c_str(), l.up ? "up" : "down", l.alias.c_str());
    return 0;
}

int links_down(const Args&)
{
    auto links = Netlink::open();
    if (!links) return report(links.error());
    auto removed = remove_owned(**links);
    if (!removed) return report(removed.error());
    for (const std::string& name : *removed) std::printf("removed %s\n", name.c_str());
    return 0;
}

int mac_command(const Args& args)
{
    if (args.positional.empty() || args.positional.size() > 2)
        return cli::report("usage: fleet-net mac UUID|name:VM [INDEX]");
    unsigned index = 0;
    if (args.positional.size() == 2) {
        const std::string& s = args.positional[1];
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), index);
        if (ec != std::errc{} || end != s.data() + s.size()) return cli::report("INDEX must be a number");
    }
    // name:VM: what fleet-vmm --net gives VM, which has no domain UUID.
    const std::string& who = args.positional[0];
    auto mac = who.starts_with("name:") ? Result<Mac>(derive_name_mac(who.substr(5), index)) : derive_mac(who, index);
    if (!mac) return report(mac.error());
    std::printf("%s %s\n", format(*mac).c_str(), tap_name(*mac).c_str());
    return 0;
}

int lease_command(const Args& args)
{
    const auto& p = args.positional;
    if (p.empty() || !args.has("state-dir"))
        return cli::report("usage: fleet-net lease add MAC NAME | rm MAC | ls  --state-dir DIR");
    auto config = bridge_config(args);
    if (!config) return report(config.error());
    if (!config->ipv4) return cli::report("leases need an IPv4 subnet");
    auto file = LeaseFile::open(args.get("state-dir", ""), *config->ipv4, config->ipv6);
    if (!file) return report(file.error());
    if (p[0] == "ls" && p.size() == 1) {
        std::fputs(file->leases().format().c_str(), stdout);
        return 0;
    }
    if ((p[0] == "add" && p.size() == 3) || (p[0] == "rm" && p.size() == 2)) {
        auto mac = parse_mac(p[1]);
        if (!mac) return report(mac.error());
        if (p[0] == "rm") {
            if (auto r = file->release(*mac); !r) return report(r.error());
            return 0;
        }
        auto lease = file->allocate(*mac, p[2]);
        if (!lease) return report(lease.error());
        std::printf("%s %s\n", format(lease->ipv4).c_str(), lease->ipv6 ? format(*lease->ipv6).c_str() : "-");
        return 0;
    }
    return cli::report("usage: fleet-net lease add MAC NAME | rm MAC | ls  --state-dir DIR");
}

}  // namespace fleet::netfilter::cli
