// fleet-router — the command line and the config file (options.hpp).
#include "options.hpp"

#include <fleet/vmm/store.hpp>

#include <grp.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>

namespace po = boost::program_options;

namespace fleet::router {

namespace {

std::string env(const char* name)
{
    const char* v = std::getenv(name);
    return v && *v ? v : "";
}

// --state-dir, else $FLEET_STATE_DIR, else /var/lib/fleet as root, else
// $XDG_STATE_HOME/fleet, else ~/.local/state/fleet.
std::string default_state_dir(const std::string& flag)
{
    if (!flag.empty()) return flag;
    if (auto e = env("FLEET_STATE_DIR"); !e.empty()) return e;
    if (::geteuid() == 0) return "/var/lib/fleet";
    if (auto x = env("XDG_STATE_HOME"); !x.empty()) return x + "/fleet";
    return env("HOME") + "/.local/state/fleet";
}

// /etc/fleet/router.conf as root, else $XDG_CONFIG_HOME/fleet/router.conf.
std::string default_config_file()
{
    if (::geteuid() == 0) return "/etc/fleet/router.conf";
    if (auto x = env("XDG_CONFIG_HOME"); !x.empty()) return x + "/fleet/router.conf";
    return env("HOME") + "/.config/fleet/router.conf";
}

// ADDRESS[:PORT] ("[::1]:16514" for IPv6 with a port), or none.
std::expected<void, std::string> parse_address(const std::string& flag, const std::string& text, int default_port,
                                               std::string& host, int& port)
{
    if (text.empty() || text == "none") {
        port = -1;
        return {};
    }
    std::string h = text, p;
    if (text.front() == '[') {
        auto close = text.find(']');
        if (close == std::string::npos) return std::unexpected(flag + ": no ']' in '" + text + "'");
        h = text.substr(1, close - 1);
        if (close + 1 < text.size()) {
            if (text[close + 1] != ':') return std::unexpected(flag + ": bad address '" + text + "'");
            p = text.substr(close + 2);
        }
    } else if (auto colon = text.rfind(':'); colon != std::string::npos && text.find(':') == colon) {
        h = text.substr(0, colon);
        p = text.substr(colon + 1);
    }
    port = default_port;
    if (!p.empty() || (text.back() == ':')) {
        char* end = nullptr;
        long n = std::strtol(p.c_str(), &end, 10);
        if (p.empty() || *end || n < 0 || n > 65535) return std::unexpected(flag + ": bad port in '" + text + "'");
        port = static_cast<int>(n);
    }
    host = h;
    return {};
}

struct Raw {
    std::string runtime, state, images, socket, socket_ro, listen_tcp, listen_tls, pki_dir, group, config, qemu;
    std::string mdns_name, bridge, bridge_ipv4, bridge_ipv6;
    std::vector<std::string> allowed_dn;
    std::string pool, pool_boot;
    unsigned pool_size = 1;
    bool pool_on_cmdline = false;
    double stop_timeout = 10;
    LimitValues limits{};
};

void describe(po::options_description& cmdline, po::options_description& file, Raw& r)
{
    auto only = cmdline.add_options();
    only("help,h", "show this help");
    only("version", "print the version");
    only("config", po::value(&r.config), "config file (default /etc/fleet/router.conf as root; 'none': none)");
    only("no-mdns", "do not announce over mDNS");
    only("no-autostart", "do not boot the boot manifest's domains");
    only("verbose,v", "log every lifecycle change");
    only("listen", po::value<std::string>(), "(gone: see --listen-tcp and --listen-tls)");
    auto flag = file.add_options();
    flag("runtime-dir", po::value(&r.runtime), "runtime folder: sockets, running VMs (FLEET_RUNTIME_DIR)");
    flag("state-dir", po::value(&r.state), "state folder: definitions, boot manifest (FLEET_STATE_DIR)");
    flag("images", po::value(&r.images), "image catalog folders, colon-separated (FLEET_IMAGES)");
    flag("socket", po::value(&r.socket), "read-write unix socket (default RUNTIME/libvirt-sock; 'none')");
    flag("socket-ro", po::value(&r.socket_ro), "read-only unix socket (default RUNTIME/libvirt-sock-ro; 'none')");
    flag("group", po::value(&r.group)->default_value("fleet"),
         "group that may use the read-write socket of a root router ('none')");
    flag("listen-tcp", po::value(&r.listen_tcp), "plain TCP ADDRESS[:PORT] (port 16509), READ-ONLY: no authentication");
    flag("allow-remote", "allow --listen-tcp beyond loopback");
    flag("listen-tls", po::value(&r.listen_tls), "TLS ADDRESS[:PORT] (port 16514): x509 client certificates required");
    flag("pki-dir", po::value(&r.pki_dir),
         "TLS certificates: DIR/{cacert,servercert,serverkey}.pem (default: libvirt's)");
    flag("tls-allowed-dn", po::value(&r.allowed_dn)->composing(),
         "a client certificate's DN must match one of these patterns (fnmatch; repeat it)");
    flag("mdns-name", po::value(&r.mdns_name), "mDNS instance name (default: 'fleet on HOSTNAME')");
    flag("stop-timeout", po::value(&r.stop_timeout)->default_value(10, "10"),
         "seconds a shutdown waits before killing");
    flag("qemu", po::value(&r.qemu), "QEMU binary (FLEET_QEMU; default qemu-system-x86_64)");
    flag("bridge", po::value(&r.bridge),
         "create (or adopt) this bridge for domains' <interface>s, e.g. fleet0 (FLEET_BRIDGE; default: none)");
    flag("bridge-ipv4", po::value(&r.bridge_ipv4), "the bridge's address and the VMs' subnet (default 10.77.0.1/24)");
    flag("bridge-ipv6", po::value(&r.bridge_ipv6), "the same for IPv6, or 'none' (default fd66:6c65:6574::1/64)");
    flag("pool", po::value(&r.pool),
         "warm pools: IMAGE[:SIZE], ... VMs of these catalog images kept booted and waiting; a domain start "
         "whose VM one may serve takes it (default: none)");
    flag("pool-size", po::value(&r.pool_size)->default_value(1), "the size of a pool named without :SIZE (1 to 64)");
    flag("pool-boot", po::value(&r.pool_boot)->default_value("auto"),
         "how a pool's VMs come to wait: 'snapshot' (restored from their image's snapshot), 'cold' (booted), or "
         "'auto': restored where the image has a snapshot");
    add_limit_options(file, r.limits);
}

// "FILE:LINE: " of the config file's `key =` line, else "--" (a message
// starts with the key: "FILE:3: pool: ..." or "--pool: ...").
std::string where_set(const std::string& file, const std::string& key, bool on_cmdline)
{
    std::ifstream in(file);
    unsigned n = 0;
    for (std::string line; !on_cmdline && !file.empty() && std::getline(in, line);) {
        ++n;
        auto start = line.find_first_not_of(" \t");
        if (start == std::string::npos || line.compare(start, key.size(), key) != 0) continue;
        auto rest = line.find_first_not_of(" \t", start + key.size());
        if (rest != std::string::npos && line[rest] == '=') return file + ":" + std::to_string(n) + ": ";
    }
    return "--";
}

// The config file, if any: an explicit one must exist, the default may not.
std::expected<std::string, std::string> read_config(const po::variables_map& vm, const po::options_description& file,
                                                    po::variables_map& into)
{
    std::string path = vm.count("config") ? vm["config"].as<std::string>() : default_config_file();
    if (path == "none") return std::string{};
    std::ifstream in(path);
    if (!in) {
        if (vm.count("config")) return std::unexpected("cannot read the config file " + path);
        return std::string{};
    }
    try {
        po::store(po::parse_config_file(in, file), into);
    } catch (const po::error& e) {
        return std::unexpected(path + ": " + e.what());
    }
    return path;
}

std::expected<void, std::string> resolve(const Raw& r, const po::variables_map& vm, Options& o)
{
    o.runtime_dir = vmm::default_runtime_dir(r.runtime);
    o.state_dir = default_state_dir(r.state);
    o.images = r.images;
    ServerOptions& s = o.server;
    s.socket_path = r.socket.empty() ? o.runtime_dir + "/libvirt-sock" : r.socket == "none" ? "" : r.socket;
    s.socket_ro_path = r.socket_ro.empty()     ? o.runtime_dir + "/libvirt-sock-ro"
                       : r.socket_ro == "none" ? ""
                                               : r.socket_ro;
    o.group = r.group == "none" ? "" : r.group;
    if (auto a = parse_address("--listen-tcp", r.listen_tcp, 16509, s.tcp_host, s.tcp_port); !a) return a;
    if (auto a = parse_address("--listen-tls", r.listen_tls, 16514, s.tls_host, s.tls_port); !a) return a;
    s.pki_dir = r.pki_dir;
    s.allowed_dn = r.allowed_dn;
    s.allow_remote = vm.count("allow-remote") > 0;
    o.mdns = !vm.count("no-mdns");
    o.mdns_name = r.mdns_name;
    o.autostart = !vm.count("no-autostart");
    if (!r.qemu.empty())
        o.qemu = r.qemu;
    else if (auto q = env("FLEET_QEMU"); !q.empty())
        o.qemu = q;
    if (!(r.stop_timeout > 0) || r.stop_timeout > 3600)
        return std::unexpected("--stop-timeout must be 0 < seconds <= 3600");
    o.stop_deadline = std::chrono::milliseconds(static_cast<long>(r.stop_timeout * 1000));
    o.verbose = vm.count("verbose") > 0;
    o.bridge = !r.bridge.empty() ? r.bridge : env("FLEET_BRIDGE");
    if (o.bridge == "none") o.bridge.clear();
    if (!r.bridge_ipv4.empty()) o.bridge_ipv4 = r.bridge_ipv4;
    if (!r.bridge_ipv6.empty()) o.bridge_ipv6 = r.bridge_ipv6;
    if (r.pool_size < 1 || r.pool_size > max_pool_size)
        return std::unexpected(where_set(o.config_file, "pool-size", false) + "pool-size: must be 1 to " +
                               std::to_string(max_pool_size));
    auto pools = parse_pool_setting(r.pool, r.pool_size);
    if (!pools) return std::unexpected(where_set(o.config_file, "pool", r.pool_on_cmdline) + pools.error());
    auto boot = vmm::parse_pool_boot(r.pool_boot);
    if (!boot)
        return std::unexpected(where_set(o.config_file, "pool-boot", false) + "pool-boot: " + boot.error().what());
    for (auto& p : *pools) p.boot = *boot;
    o.pools = std::move(*pools);
    return apply_limits(r.limits, o);
}

}  // namespace

int fail_with(const std::string& message)
{
    std::fprintf(stderr, "fleet-router: %s\n", message.c_str());
    return 1;
}

std::expected<Options, int> parse_options(int argc, char** argv)
{
    Raw r;
    po::options_description cmdline("Options"), file("Options (also as 'name = value' lines of the config file)");
    describe(cmdline, file, r);
    po::options_description all;
    all.add(cmdline).add(file);
    po::variables_map vm;
    Options o;
    try {
        po::store(po::command_line_parser(argc, argv).options(all).run(), vm);
        if (vm.count("help")) {
            std::cout << "Usage: fleet-router [OPTIONS]\n\n"
                         "The fleet daemon: serves libvirt's remote protocol (virsh, python3-libvirt) over fleet's\n"
                         "launcher, keeps persistent domain definitions, boots the domains of its boot manifest.\n"
                         "VMs keep running when it stops; the next router adopts them. With --bridge, domains'\n"
                         "interfaces get taps on it and addresses, and STATE/policy (read again on SIGHUP or by\n"
                         "'fleet-router reload', which prints the result) is the firewall between them; the bridge\n"
                         "and fleet's nft tables are removed at stop when no VM uses them. docs/SECURITY.md says\n"
                         "who may do what.\n\n"
                         "  fleet-router reload [--runtime-dir DIR]     (the running router reads STATE/policy again)\n"
                         "  virsh -c 'qemu+unix:///system?socket=/run/fleet/libvirt-sock' create dom.xml\n"
                         "  virsh -r -c 'qemu+unix:///system?socket=/run/fleet/libvirt-sock-ro' list --all\n"
                         "  virsh -c 'qemu+tls://HOST/system' list --all    (with --listen-tls 0.0.0.0)\n\n"
                      << all << "\n";
            return std::unexpected(0);
        }
        if (vm.count("version")) {
            std::printf("fleet-router %s\n", FLEET_VERSION);
            return std::unexpected(0);
        }
        if (vm.count("listen"))
            return std::unexpected(
                fail_with("--listen is gone: plain TCP is read-only now (--listen-tcp); "
                          "read-write remote access is --listen-tls (see --help)"));
        r.pool_on_cmdline = vm.count("pool") > 0;
        auto config = read_config(vm, file, vm);
        if (!config) return std::unexpected(fail_with(config.error()));
        o.config_file = *config;
        po::notify(vm);
    } catch (const po::error& e) {
        return std::unexpected(fail_with(std::string(e.what()) + " (see --help)"));
    }
    if (auto ok = resolve(r, vm, o); !ok) return std::unexpected(fail_with(ok.error()));
    return o;
}

}  // namespace fleet::router
