// fleet-router — the daemon: a libvirt-protocol façade over fleet's launcher.
#include "router.hpp"

#include <boost/program_options.hpp>

#include <sys/prctl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>

namespace po = boost::program_options;
using namespace fleet;
using namespace fleet::router;

namespace {

int fail_with(const std::string& message)
{
    std::fprintf(stderr, "fleet-router: %s\n", message.c_str());
    return 1;
}

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

Result<> make_dirs(const std::string& path)
{
    for (std::size_t i = 1; i <= path.size(); ++i) {
        if (i != path.size() && path[i] != '/') continue;
        std::string p = path.substr(0, i);
        if (::mkdir(p.c_str(), 0700) != 0 && errno != EEXIST) return fail_errno("cannot create " + p);
    }
    return {};
}

}  // namespace

namespace fleet::router {

namespace {
char* title_area = nullptr;
std::size_t title_size = 0;
}  // namespace

// Overwrite the process's argv in place, so that ps shows what a forked
// supervisor is rather than the router's own command line.
void set_process_title(const std::string& title)
{
    if (!title_area || title_size == 0) return;
    std::size_t n = std::min(title.size(), title_size - 1);
    std::memcpy(title_area, title.data(), n);
    std::memset(title_area + n, 0, title_size - n);
    ::prctl(PR_SET_NAME, title.substr(title.rfind(' ') + 1).substr(0, 15).c_str());
}

}  // namespace fleet::router

int main(int argc, char** argv)
{
    if (argc > 0) {  // argv's strings are contiguous: that is the area ps reads
        title_area = argv[0];
        title_size = static_cast<std::size_t>(argv[argc - 1] + std::strlen(argv[argc - 1]) - argv[0]) + 1;
    }
    std::string runtime, state, images, socket, listen;
    double stop_timeout = 10;
    po::options_description d(
        "Usage: fleet-router [OPTIONS]\n\n"
        "The fleet daemon: serves libvirt's remote protocol (virsh, python3-libvirt) over fleet's\n"
        "launcher, keeps persistent domain definitions, boots the domains of its boot manifest,\n"
        "and announces itself over mDNS (_libvirt._tcp). VMs keep running when it stops; the next\n"
        "router adopts them.\n\n"
        "  virsh -c qemu+tcp://127.0.0.1/system list --all\n"
        "  virsh -c 'qemu+unix:///system?socket=$FLEET_RUNTIME_DIR/libvirt-sock' create dom.xml\n\n"
        "Options");
    d.add_options()
        ("help,h", "show this help")
        ("version", "print the version")
        ("runtime-dir", po::value(&runtime), "runtime folder: sockets, running VMs (FLEET_RUNTIME_DIR)")
        ("state-dir", po::value(&state), "state folder: definitions, boot manifest (FLEET_STATE_DIR)")
        ("images", po::value(&images), "image catalog folders, colon-separated (FLEET_IMAGES)")
        ("socket", po::value(&socket), "unix socket (default RUNTIME/libvirt-sock; 'none' for none)")
        ("listen", po::value(&listen)->default_value("127.0.0.1:16509"), "TCP address:port ('none' for none; port 0 picks one)")
        ("allow-remote", "allow --listen on an address beyond loopback (no authentication!)")
        ("no-mdns", "do not announce _libvirt._tcp over mDNS")
        ("mdns-name", po::value<std::string>(), "mDNS instance name (default: 'fleet on HOSTNAME')")
        ("no-autostart", "do not boot the boot manifest's domains")
        ("stop-timeout", po::value(&stop_timeout)->default_value(10, "10"), "seconds a shutdown waits before killing")
        ("qemu", po::value<std::string>(), "QEMU binary (FLEET_QEMU; default qemu-system-x86_64)")
        ("verbose,v", "log every lifecycle change");
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(argc, argv).options(d).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        return fail_with(std::string(e.what()) + " (see --help)");
    }
    if (vm.count("help")) {
        std::cout << d << "\n";
        return 0;
    }
    if (vm.count("version")) {
        std::printf("fleet-router %s\n", FLEET_VERSION);
        return 0;
    }

    Options o;
    o.runtime_dir = vmm::default_runtime_dir(runtime);
    o.state_dir = default_state_dir(state);
    o.images = images;
    o.socket_path = socket.empty() ? o.runtime_dir + "/libvirt-sock" : socket == "none" ? "" : socket;
    if (listen == "none") {
        o.tcp_port = -1;
    } else {
        auto colon = listen.rfind(':');
        if (colon == std::string::npos) return fail_with("--listen wants ADDRESS:PORT, got '" + listen + "'");
        o.tcp_host = listen.substr(0, colon);
        if (o.tcp_host.size() > 2 && o.tcp_host.front() == '[') o.tcp_host = o.tcp_host.substr(1, o.tcp_host.size() - 2);
        char* end = nullptr;
        long port = std::strtol(listen.c_str() + colon + 1, &end, 10);
        if (*end || port < 0 || port > 65535 || colon + 1 == listen.size())
            return fail_with("--listen: bad port in '" + listen + "'");
        o.tcp_port = static_cast<int>(port);
    }
    o.allow_remote = vm.count("allow-remote") > 0;
    o.mdns = !vm.count("no-mdns");
    if (vm.count("mdns-name")) o.mdns_name = vm["mdns-name"].as<std::string>();
    o.autostart = !vm.count("no-autostart");
    if (vm.count("qemu")) o.qemu = vm["qemu"].as<std::string>();
    else if (auto q = env("FLEET_QEMU"); !q.empty()) o.qemu = q;
    if (!(stop_timeout > 0) || stop_timeout > 3600) return fail_with("--stop-timeout must be 0 < seconds <= 3600");
    o.stop_deadline = std::chrono::milliseconds(static_cast<long>(stop_timeout * 1000));
    o.verbose = vm.count("verbose") > 0;

    for (const auto& dir : {o.runtime_dir, o.state_dir})
        if (auto m = make_dirs(dir); !m) return fail_with(m.error().what());
    auto store = vmm::Store::open(o.runtime_dir);
    if (!store) return fail_with(store.error().what());
    auto defs = DefinitionStore::open(o.state_dir + "/domains");
    if (!defs) return fail_with(defs.error().what());
    auto loop = Loop::create(1024);
    if (!loop) return fail_with(loop.error().what());

    Router router(**loop, std::move(o), std::move(*store), std::move(*defs));
    if (auto s = router.start(); !s) return fail_with(s.error().what());
    auto ran = (*loop)->run_until([&] { return router.done(); });
    if (!ran && !router.done()) return fail_with(ran.error().what());
    return 0;
}
