// fleet shell — names to images, and each command started as its own VM
// through the launcher (`fleet-vmm run`), standing in the job table as the
// launcher's process.
#include <fleet/shell/vm_runner.hpp>

#include <fleet/abi/guest.h>  // FLEET_MAX_SHARES

#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>

namespace fleet::shell {
namespace {

constexpr std::string_view runtime_prefix = "runtime/", applet_prefix = "applet/", image_prefix = "image/";

std::string dirname_of(const std::string& path)
{
    auto slash = path.rfind('/');
    return slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
}

bool executable(const std::string& path)
{
    return ::access(path.c_str(), X_OK) == 0;
}

// Exported variables for the guest, the last value of a name winning (a
// command's own assignment after the exported one), host-only names left out.
std::vector<std::string> guest_env(const std::vector<std::string>& env)
{
    std::map<std::string, std::string> last;
    std::vector<std::string> order;
    for (const auto& e : env) {
        auto eq = e.find('=');
        if (eq == std::string::npos || eq == 0) continue;
        std::string name = e.substr(0, eq);
        if (host_only_variable(name)) continue;
        if (!last.contains(name)) order.push_back(name);
        last[name] = e;
    }
    std::vector<std::string> out;
    for (const auto& name : order) out.push_back(last[name]);
    return out;
}

// The share holding host path `path` (longest match), if one does.
const VmCommand::Shared* share_holding(const VmCommand& c, const std::string& path)
{
    const VmCommand::Shared* best = nullptr;
    for (const auto& s : c.shares)
        if ((path == s.host || path.starts_with(s.host + "/")) && (!best || s.host.size() > best->host.size()))
            best = &s;
    return best;
}

bool is_folder(const std::string& path)
{
    struct ::stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string normal_path(const std::string& path)
{
    std::string p = std::filesystem::path(path).lexically_normal().string();
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    return p;
}

// The host path an operand names outside the working folder: an absolute
// one, or one that climbs out of cwd (`..`, `../x`); "" for any other.
std::string outside_operand(const std::string& arg, const std::string& cwd)
{
    if (arg.size() >= 2 && arg[0] == '/') return normal_path(arg);
    if (arg == ".." || arg.starts_with("../")) return normal_path(cwd + "/" + arg);
    return "";
}

// The folders of c.args[first..]'s host paths outside the working folder,
// shared; an operand is rewritten to where the guest finds it when that is
// not where its own text leads there (vm_runner.hpp).
void share_operands(VmCommand& c, std::size_t first, const std::string& cwd)
{
    std::vector<std::string> paths;  // by operand, from `first`
    for (std::size_t i = first; i < c.args.size(); ++i) paths.push_back(outside_operand(c.args[i], cwd));
    for (const auto& path : paths) {
        if (c.shares.size() >= FLEET_MAX_SHARES) break;
        if (path.empty() || share_holding(c, path)) continue;
        // The folder it names, or the one its file (or new name) is in;
        // neither on the host: not a host path (a pattern, a guest path).
        std::string folder = is_folder(path) ? path : dirname_of(path);
        if (!is_folder(folder)) continue;
        if (std::string at = share_point(folder); !at.empty()) c.shares.push_back({folder, at});
    }
    for (std::size_t i = 0; i < paths.size(); ++i) {
        const VmCommand::Shared* s = paths[i].empty() ? nullptr : share_holding(c, paths[i]);
        if (!s) continue;
        std::string& arg = c.args[first + i];
        std::string guest = s->at + paths[i].substr(s->host.size());
        // Where the text leads in the guest: itself, or from the working folder.
        std::string leads = arg[0] == '/' ? paths[i] : normal_path((c.workdir.empty() ? "/" : c.workdir) + "/" + arg);
        if (leads != guest) arg = guest;
    }
}

}  // namespace

std::optional<std::string> VmResolver::resolve(const std::string& name, const std::string&)
{
    if (name.empty() || name.find('/') != std::string::npos) return std::nullopt;
    const VmImage* image = catalog_.find(name);
    if (image && image->kind == "runtime") return std::string(runtime_prefix) + name;
    if (catalog_.has_applet(name)) return std::string(applet_prefix) + name;
    if (image) return std::string(image_prefix) + name;
    return std::nullopt;
}

std::string VmResolver::describe(const std::string& program)
{
    std::string_view p = program;
    if (p.starts_with(runtime_prefix)) {
        std::string name(p.substr(runtime_prefix.size()));
        const VmImage* image = catalog_.find(name);
        bool falls_back = image && image->options && catalog_.has_applet(name);
        return "a VM: the runtime program " + name + (falls_back ? " (busybox's " + name + " when given a file)" : "");
    }
    if (p.starts_with(applet_prefix))
        return "a VM: busybox's " + std::string(p.substr(applet_prefix.size())) + " on the Linux image";
    if (p.starts_with(image_prefix)) return "a VM: the image " + std::string(p.substr(image_prefix.size()));
    return program;
}

std::string VmResolver::not_found_note(const std::string& name, const std::string& path)
{
    // A name with a slash resolves to itself, there or not.
    auto host = HostResolver().resolve(name, path);
    return host && executable(*host) ? " (a host program, " + *host + ": `host " + name + "` runs it)" : "";
}

std::optional<std::string> VmResolver::listing()
{
    std::string text = "IMAGE            KIND     DESCRIPTION\n";
    for (const auto& img : catalog_.images()) {
        std::string name = img.name, kind = img.kind;
        name.resize(std::max<std::size_t>(name.size(), 16), ' ');
        kind.resize(std::max<std::size_t>(kind.size(), 8), ' ');
        text += name + " " + kind + " " + img.description + "\n";
    }
    const auto& applets = catalog_.applets();
    if (applets.empty()) return text + "\nno Linux applets: " + catalog_.why_no_applets() + "\n";
    text += "\nLinux applets (each runs as `linux NAME` unless a runtime program has the name):\n";
    std::string line;
    for (const auto& a : applets) {
        if (!line.empty() && line.size() + 1 + a.size() > 78) {
            text += line + "\n";
            line.clear();
        }
        line += (line.empty() ? "" : " ") + a;
    }
    return text + line + "\n";
}

bool host_only_variable(std::string_view name)
{
    for (std::string_view n : {"PATH", "HOME", "SHELL", "USER", "LOGNAME"}) {
        if (name == n) return true;
    }
    return name.starts_with("FLEET_") || name == share_variable;
}

std::optional<Share> parse_share(std::string_view value)
{
    if (value == "ro" || value == "yes") return Share::ro;
    if (value == "rw") return Share::rw;
    if (value == "no") return Share::no;
    return std::nullopt;
}

bool shareable_folder(const std::string& dir)
{
    if (dir.empty() || dir[0] != '/' || dir.find(':') != std::string::npos) return false;
    // The guest's own folders and those above them: a share there hides
    // them (/usr would hide /usr/bin). Below /proc and /sys no folder can
    // be made for it.
    for (std::string_view own : {"/bin", "/sbin", "/usr/bin", "/usr/sbin", "/lib", "/lib64", "/dev", "/proc", "/sys",
                                 "/etc", "/init", "/run", "/root"}) {
        if (dir == own || std::string_view(own).starts_with(dir + "/")) return false;
    }
    return dir != "/" && !dir.starts_with("/proc/") && !dir.starts_with("/sys/");
}

std::string share_point(const std::string& dir)
{
    if (shareable_folder(dir)) return dir;
    if (dir.empty() || dir[0] != '/' || dir == "/" || dir.find(':') != std::string::npos) return "";
    for (std::string_view special : {"/proc", "/sys", "/dev"})
        if (dir == special || dir.starts_with(std::string(special) + "/")) return "";
    std::string at = std::string(host_folders) + dir;
    return shareable_folder(at) ? at : "";
}

VmCommand vm_command(const VmOptions& options, const std::string& program, bool linux,
                     const std::vector<std::string>& argv, const std::vector<std::string>& env, const std::string& cwd)
{
    VmCommand c;
    c.linux = linux;
    c.env = guest_env(env);
    Share share = options.share;
    for (const auto& e : env) {
        auto eq = e.find('=');
        std::string_view name = std::string_view(e).substr(0, eq);
        if (eq == std::string::npos) continue;
        std::string value = e.substr(eq + 1);
        if (name == hypervisor_variable) c.hypervisor = value;
        if (name == accel_variable) c.accel = value;
        if (name == share_variable && !value.empty()) {
            auto s = parse_share(value);
            if (s)
                share = *s;
            else
                c.refused = std::string(share_variable) + ": '" + value + "' is not ro, rw or no";
        }
    }
    if (linux && share != Share::no && !cwd.empty()) {
        if (std::string at = share_point(cwd); !at.empty()) {
            c.shares.push_back({cwd, at});
            c.workdir = at;
        } else {
            c.unshared = cwd;
        }
        c.share_writable = share == Share::rw;
    }
    std::string_view p = program;
    if (p.starts_with(applet_prefix)) {
        c.image = "linux";
        c.args.emplace_back(p.substr(applet_prefix.size()));
    } else if (p.starts_with(runtime_prefix)) {
        c.image = p.substr(runtime_prefix.size());
    } else {
        c.image = p.starts_with(image_prefix) ? p.substr(image_prefix.size()) : p;
    }
    const std::size_t operands = c.args.size();
    c.args.insert(c.args.end(), argv.begin() + (argv.empty() ? 0 : 1), argv.end());
    // No host folder for a router on another host (cwd "": it cannot see this one).
    if (linux && share != Share::no && !cwd.empty()) share_operands(c, operands, cwd);
    return c;
}

bool linux_program(VmCatalog& catalog, const std::string& program)
{
    std::string_view p = program;
    if (p.starts_with(applet_prefix)) return true;
    if (!p.starts_with(image_prefix)) return false;
    const VmImage* image = catalog.find(std::string(p.substr(image_prefix.size())));
    return image && image->kind == "linux";
}

std::string program_for(VmCatalog& catalog, const std::string& program, const std::vector<std::string>& argv)
{
    std::string_view p = program;
    if (!p.starts_with(runtime_prefix)) return program;
    std::string name(p.substr(runtime_prefix.size()));
    const VmImage* image = catalog.find(name);
    if (!image || !image->options) return program;
    std::vector<std::string> args(argv.begin() + (argv.empty() ? 0 : 1), argv.end());
    if (understands(*image->options, args) || !catalog.has_applet(name)) return program;
    return std::string(applet_prefix) + name;
}

std::vector<std::string> vm_launch_argv(const VmOptions& options, const std::string& program, bool linux,
                                        const std::vector<std::string>& argv, const std::vector<std::string>& env,
                                        const std::string& cwd, bool no_stdin)
{
    return vm_launch_argv(options, vm_command(options, program, linux, argv, env, cwd), no_stdin);
}

std::vector<std::string> vm_launch_argv(const VmOptions& options, const VmCommand& c, bool no_stdin)
{
    std::vector<std::string> out = {options.launcher, "run"};
    if (no_stdin) out.emplace_back("--no-stdin");
    for (const auto& e : c.env) {
        out.push_back("-e");
        out.push_back(e);
    }
    for (const auto& s : c.shares)
        out.insert(out.end(), {"--share", s.host + ":" + s.at + (c.share_writable ? ":rw" : ":ro")});
    if (!c.workdir.empty()) out.insert(out.end(), {"-w", c.workdir});
    out.push_back(c.image);
    // Past this point every word is the program's, even one that looks like an option.
    out.insert(out.end(), c.args.begin(), c.args.end());
    return out;
}

namespace {
constexpr std::size_t told_slots = 512;
}

UnsharedNote::UnsharedNote()
{
    void* page =
        ::mmap(nullptr, told_slots * sizeof(std::uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (page != MAP_FAILED) told_ = static_cast<std::uint64_t*>(page);
}

UnsharedNote::~UnsharedNote()
{
    if (told_) ::munmap(told_, told_slots * sizeof(std::uint64_t));
}

void UnsharedNote::operator()(const VmCommand& command)
{
    if (command.unshared.empty() || !told_) return;
    std::uint64_t h = std::hash<std::string>{}(command.unshared) | 1;  // never 0, a free slot
    // The first stage to claim a free slot for h tells; one that finds h tells nothing.
    bool first = false;
    for (std::size_t i = 0; i < told_slots && !first; ++i) {
        std::uint64_t expected = 0;
        if (__atomic_compare_exchange_n(&told_[i], &expected, h, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            first = true;
        } else if (expected == h) {
            return;
        }
    }
    if (!first) return;  // every slot taken: no more notes
    std::string text =
        "fsh: note: " + command.unshared + " is not shared into VMs; Linux commands here see the guest's own files\n";
    ssize_t n = ::write(2, text.data(), text.size());
    (void)n;
}

bool background_on_terminal(int fd)
{
    if (!::isatty(fd)) return false;
    pid_t foreground = ::tcgetpgrp(fd);
    return foreground > 0 && foreground != ::getpgrp();
}

Result<pid_t> VmRunner::start(const CommandSpec& spec)
{
    std::string program = program_for(catalog_, spec.program, spec.argv);
    bool linux = linux_program(catalog_, program);
    std::string name = spec.argv.empty() ? spec.program : spec.argv[0];
    if (options_.launcher.empty()) {
        return std::unexpected(Error{name + ": no fleet-vmm (looked at $FLEET_VMM, beside fsh, on PATH)", ENOENT});
    }
    char buf[PATH_MAX];
    std::string cwd = ::getcwd(buf, sizeof buf) ? buf : "";
    VmCommand command = vm_command(options_, program, linux, spec.argv, spec.env, cwd);
    if (!command.refused.empty()) return std::unexpected(Error{name + ": " + command.refused, 0});
    note_unshared_(command);
    if (!command.hypervisor.empty())
        return std::unexpected(Error{name + ": " + std::string(hypervisor_variable) +
                                         ": a hypervisor channel is fleet-router's; fsh runs commands on the local "
                                         "launcher (no router, or --no-router)",
                                     0});
    CommandSpec launch = spec;
    launch.program = options_.launcher;
    // A new foreground group takes the terminal before the launcher reads it.
    bool takes_terminal = spec.process_group == 0 && spec.terminal_fd >= 0;
    bool no_stdin = !takes_terminal && background_on_terminal(0);
    launch.argv = vm_launch_argv(options_, command, no_stdin);
    // No VM outlives the fsh process that waits for it (a stage or a
    // background job killed without job control): the launcher stops it.
    launch.parent_death_signal = SIGTERM;
    auto pid = host_.start(launch);
    if (!pid) {
        return std::unexpected(Error{name + ": cannot start the launcher " + options_.launcher, pid.error().sys_errno});
    }
    return pid;
}

std::optional<std::string> find_launcher(const std::string& path)
{
    if (const char* env = std::getenv("FLEET_VMM"); env && *env) {
        return executable(env) ? std::optional<std::string>(env) : std::nullopt;
    }
    char self[PATH_MAX];
    ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        std::string dir = dirname_of(std::string(self, static_cast<std::size_t>(n)));
        for (const auto& candidate : {dir + "/fleet-vmm", dir + "/../vmm/fleet-vmm"}) {
            if (executable(candidate)) return candidate;
        }
    }
    return HostResolver().resolve("fleet-vmm", path);
}

}  // namespace fleet::shell
