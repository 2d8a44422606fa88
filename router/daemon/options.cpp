// fleet-router — the command line (options.hpp).
#include "options.hpp"

#include <fleet/vmm/store.hpp>

#include <boost/program_options.hpp>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
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

// --listen ADDRESS:PORT, or none.
std::expected<void, int> parse_listen(const std::string& listen, Options& o)
{
    if (listen == "none") {
        o.tcp_port = -1;
        return {};
    }
    auto colon = listen.rfind(':');
    if (colon == std::string::npos)
        return std::unexpected(fail_with("--listen wants ADDRESS:PORT, got '" + listen + "'"));
    o.tcp_host = listen.substr(0, colon);
    if (o.tcp_host.size() > 2 && o.tcp_host.front() == '[') o.tcp_host = o.tcp_host.substr(1, o.tcp_host.size() - 2);
    char* end = nullptr;
    long port = std::strtol(listen.c_str() + colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535 || colon + 1 == listen.size())
        return std::unexpected(fail_with("--listen: bad port in '" + listen + "'"));
    o.tcp_port = static_cast<int>(port);
    return {};
}

}  // namespace

int fail_with(const std::string& message)
{
    std::fprintf(stderr, "fleet-router: %s\n", message.c_str());
    return 1;
}

std::expected<Options, int> parse_options(int argc, char** argv)
{
    std::string runtime, state, images, socket, listen;
    double stop_timeout = 10;
    po::options_description d(
        "Usage: fleet-router [OPTIONS]\n\n"
        "The fleet daemon: serves libvirt's remote protocol (virsh, python3-libvirt) over fleet's\n"
        "launcher, keeps persistent domain definitions, boots the domains of its boot manifest,\n"
        "and announces itself over mDNS (_libvirt._tcp). VMs keep running when it stops; the next\n"
        "router adopts them. With --bridge, domains' interfaces get taps on it and addresses, and\n"
        "STATE/policy (read again on SIGHUP) is the firewall between them.\n\n"
        "  virsh -c qemu+tcp://127.0.0.1/system list --all\n"
        "  virsh -c 'qemu+unix:///system?socket=$FLEET_RUNTIME_DIR/libvirt-sock' create dom.xml\n\n"
        "Options");
    auto flag = d.add_options();
    flag("help,h", "show this help");
    flag("version", "print the version");
    flag("runtime-dir", po::value(&runtime), "runtime folder: sockets, running VMs (FLEET_RUNTIME_DIR)");
    flag("state-dir", po::value(&state), "state folder: definitions, boot manifest (FLEET_STATE_DIR)");
    flag("images", po::value(&images), "image catalog folders, colon-separated (FLEET_IMAGES)");
    flag("socket", po::value(&socket), "unix socket (default RUNTIME/libvirt-sock; 'none' for none)");
    flag("listen", po::value(&listen)->default_value("127.0.0.1:16509"),
         "TCP address:port ('none' for none; port 0 picks one)");
    flag("allow-remote", "allow --listen on an address beyond loopback (no authentication!)");
    flag("no-mdns", "do not announce _libvirt._tcp over mDNS");
    flag("mdns-name", po::value<std::string>(), "mDNS instance name (default: 'fleet on HOSTNAME')");
    flag("no-autostart", "do not boot the boot manifest's domains");
    flag("stop-timeout", po::value(&stop_timeout)->default_value(10, "10"), "seconds a shutdown waits before killing");
    flag("qemu", po::value<std::string>(), "QEMU binary (FLEET_QEMU; default qemu-system-x86_64)");
    flag("verbose,v", "log every lifecycle change");
    flag("bridge", po::value<std::string>(),
         "create (or adopt) this bridge for domains' <interface>s, e.g. fleet0 (FLEET_BRIDGE; default: none)");
    flag("bridge-ipv4", po::value<std::string>(), "the bridge's address and the VMs' subnet (default 10.77.0.1/24)");
    flag("bridge-ipv6", po::value<std::string>(), "the same for IPv6, or 'none' (default fd66:6c65:6574::1/64)");
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(argc, argv).options(d).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        return std::unexpected(fail_with(std::string(e.what()) + " (see --help)"));
    }
    if (vm.count("help")) {
        std::cout << d << "\n";
        return std::unexpected(0);
    }
    if (vm.count("version")) {
        std::printf("fleet-router %s\n", FLEET_VERSION);
        return std::unexpected(0);
    }

    Options o;
    o.runtime_dir = vmm::default_runtime_dir(runtime);
    o.state_dir = default_state_dir(state);
    o.images = images;
    o.socket_path = socket.empty() ? o.runtime_dir + "/libvirt-sock" : socket == "none" ? "" : socket;
    if (auto l = parse_listen(listen, o); !l) return std::unexpected(l.error());
    o.allow_remote = vm.count("allow-remote") > 0;
    o.mdns = !vm.count("no-mdns");
    if (vm.count("mdns-name")) o.mdns_name = vm["mdns-name"].as<std::string>();
    o.autostart = !vm.count("no-autostart");
    if (vm.count("qemu"))
        o.qemu = vm["qemu"].as<std::string>();
    else if (auto q = env("FLEET_QEMU"); !q.empty())
        o.qemu = q;
    if (!(stop_timeout > 0) || stop_timeout > 3600)
        return std::unexpected(fail_with("--stop-timeout must be 0 < seconds <= 3600"));
    o.stop_deadline = std::chrono::milliseconds(static_cast<long>(stop_timeout * 1000));
    o.verbose = vm.count("verbose") > 0;
    o.bridge = vm.count("bridge") ? vm["bridge"].as<std::string>() : env("FLEET_BRIDGE");
    if (o.bridge == "none") o.bridge.clear();
    if (vm.count("bridge-ipv4")) o.bridge_ipv4 = vm["bridge-ipv4"].as<std::string>();
    if (vm.count("bridge-ipv6")) o.bridge_ipv6 = vm["bridge-ipv6"].as<std::string>();

    return o;
}

}  // namespace fleet::router
