// fsh — fleet's shell. A thin front end over libfleet-shell: options,
// then a script, -c text, or the interactive loop.
//
// Commands are resolved by the shell's resolver: by default each command
// name is a catalog image and runs as its own VM, a domain of the router in
// use (shell/include/fleet/shell/router_run.hpp), else through fleet-vmm
// (shell/include/fleet/shell/vm_runner.hpp); `host CMD` runs a host
// program. The developer option --host-commands (or FSH_RUNNER=host) runs
// names as host programs, which is how the language is tested against dash.
#include "line_editor.hpp"

#include <fleet/shell/dump.hpp>
#include <fleet/shell/parser.hpp>
#include <fleet/shell/router_run.hpp>
#include <fleet/shell/router_session.hpp>
#include <fleet/shell/shell.hpp>
#include <fleet/shell/vm_runner.hpp>
#include <fleet/vmm/catalog.hpp>
#include <fleet/vmm/store.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

using namespace fleet::shell;

namespace {

constexpr const char* usage_text =
    "Usage: fsh [OPTIONS] [-c TEXT [NAME [ARG...]] | SCRIPT [ARG...]]\n"
    "\n"
    "fleet's shell: a POSIX-style shell whose commands run as VMs. A command\n"
    "name is a runtime program of the image catalog (cat, wc, head, ...;\n"
    "given a file, busybox's of the name), else an applet of the Linux\n"
    "image's busybox (grep, sort, ...), else another image by name; each\n"
    "runs as a transient domain of the router in use (a pipeline's VMs\n"
    "joined by the router itself), or without a router as `fleet-vmm run`\n"
    "($FLEET_VMM, else the one beside fsh). `images` lists them; `host CMD`\n"
    "runs a host program.\n"
    "\n"
    "Options:\n"
    "  -c TEXT          run TEXT ($0 = NAME, $1... = ARGs), as sh -c\n"
    "  --connect URI    the fleet-router to use (overrides FLEET_URI), e.g.\n"
    "                   qemu+unix:///system?socket=/run/fleet/libvirt-sock,\n"
    "                   qemu+tcp://HOST:PORT/system (read-only); without one,\n"
    "                   fsh uses this host's router, else one announced over\n"
    "                   mDNS (`routers` lists them, `router NAME` switches);\n"
    "                   commands run on the one chosen, else on this host's\n"
    "  --no-router      run commands through fleet-vmm, never a router (also\n"
    "                   FSH_RUNNER=vmm)\n"
    "  -i               interactive even if stdin is not a terminal; an\n"
    "                   interactive fsh first runs $ENV, else ~/.fshrc\n"
    "  -e -u -x -f -n   as `set -e` etc.; -o pipefail as `set -o pipefail`\n"
    "  --share MODE     how Linux-image commands get the working folder, at\n"
    "                   the same path: ro (default), rw, or no; a command's\n"
    "                   FSH_SHARE decides over it (FSH_SHARE=rw cp a b)\n"
    "  --no-share       as --share no\n"
    "  --host-commands  developer option: run command names as host programs\n"
    "                   found on $PATH (also FSH_RUNNER=host)\n"
    "  --dump-ast       print the syntax tree of SCRIPT or -c TEXT; run nothing\n"
    "  --help, --version\n"
    "\n"
    "Exit status: the last command's; 2 for a syntax error; 127 for a script\n"
    "that cannot be read.\n";

struct Cli {
    bool dump = false;
    bool host_commands = false;
    Share share = Share::ro;
    bool no_router = false;
    bool interactive = false;
    bool have_text = false;
    std::string text;
    std::string name = "fsh";
    std::vector<std::string> args;
    Options options;
    bool script = false;
    std::optional<std::string> connect;
};

bool read_file(const std::string& path, std::string& out)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    std::stringstream s;
    s << in.rdbuf();
    out = s.str();
    return true;
}

// Options up to the script name or -c's text; returns an exit status to
// stop with, or -1 to go on.
int parse_options(int argc, char** argv, Cli& cli)
{
    int i = 1;
    for (; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--help" || a == "-h") {
            std::fputs(usage_text, stdout);
            return 0;
        }
        if (a == "--version") {
            std::printf("fsh %s\n", FLEET_VERSION);
            return 0;
        }
        if (a == "--dump-ast") {
            cli.dump = true;
        } else if (a == "--host-commands") {
            cli.host_commands = true;
        } else if (a == "--no-share") {
            cli.share = Share::no;
        } else if (a == "--share" || a.starts_with("--share=")) {
            if (a == "--share" && i + 1 >= argc) {
                std::fputs("fsh: --share: needs ro, rw or no\n", stderr);
                return 2;
            }
            std::string mode = a == "--share" ? std::string(argv[++i]) : a.substr(8);
            auto share = parse_share(mode);
            if (!share) {
                std::fprintf(stderr, "fsh: --share: '%s' is not ro, rw or no\n", mode.c_str());
                return 2;
            }
            cli.share = *share;
        } else if (a == "--no-router") {
            cli.no_router = true;
        } else if (a == "--connect" || a.starts_with("--connect=")) {
            if (a == "--connect" && i + 1 >= argc) {
                std::fputs("fsh: --connect: needs a URI\n", stderr);
                return 2;
            }
            cli.connect = a == "--connect" ? std::string(argv[++i]) : a.substr(10);
            if (auto uri = parse_router_uri(*cli.connect); !uri) {
                std::fprintf(stderr, "fsh: --connect: %s\n", uri.error().message.c_str());
                return 2;
            }
        } else if (a == "-c") {
            if (i + 1 >= argc) {
                std::fputs("fsh: -c: needs an argument\n", stderr);
                return 2;
            }
            cli.have_text = true;
            cli.text = argv[++i];
            cli.name = "-c";
        } else if (a == "-i") {
            cli.interactive = true;
        } else if (a == "-o" && i + 1 < argc && std::strcmp(argv[i + 1], "pipefail") == 0) {
            cli.options.pipefail = true;
            ++i;
        } else if (a == "--") {
            ++i;
            break;
        } else if (a.size() > 1 && a[0] == '-' && a.find_first_not_of("euxfn", 1) == std::string::npos) {
            for (char c : a.substr(1)) {
                (c == 'e'   ? cli.options.errexit
                 : c == 'u' ? cli.options.nounset
                 : c == 'x' ? cli.options.xtrace
                 : c == 'f' ? cli.options.noglob
                            : cli.options.noexec) = true;
            }
        } else if (a.size() > 1 && a[0] == '-') {
            std::fprintf(stderr, "fsh: %s: unknown option (fsh --help)\n", a.c_str());
            return 2;
        } else {
            break;
        }
    }
    std::vector<std::string> rest(argv + i, argv + argc);
    if (cli.have_text) {
        if (!rest.empty()) {
            cli.name = rest[0];
            cli.args.assign(rest.begin() + 1, rest.end());
        }
    } else if (!rest.empty()) {
        cli.script = true;
        cli.name = rest[0];
        cli.args.assign(rest.begin() + 1, rest.end());
    }
    return -1;
}

int dump(const Cli& cli)
{
    auto program = parse(cli.text);
    if (!program) {
        std::fprintf(stderr, "fsh: %s\n", format_parse_error(program.error(), cli.name).c_str());
        return 2;
    }
    std::fputs(dump_ast(*program).c_str(), stdout);
    return 0;
}

// What completes in command position: builtins, and the names the VM
// resolver answers (images and Linux applets) unless commands are host ones.
std::vector<std::string> command_names(VmCatalog* catalog)
{
    std::vector<std::string> names = Shell::builtin_names();
    if (catalog) {
        for (const auto& img : catalog->images()) names.push_back(img.name);
        names.insert(names.end(), catalog->applets().begin(), catalog->applets().end());
    }
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    return names;
}

// The default prompt names the router in use: "fsh [local]$ ". A PS1 the
// user set is theirs.
std::string prompt_for(const Shell& sh, const RouterSession* routers, bool continuation)
{
    std::string ps1 = sh.get(continuation ? "PS2" : "PS1").value_or("$ ");
    if (continuation || ps1 != "fsh$ " || routers == nullptr || !routers->current()) return ps1;
    return "fsh [" + routers->current()->name + "]$ ";
}

// At the start of an interactive shell: find the router, or say once how to
// point fsh at one (commands still run through the local launcher).
void greet(Shell& sh, RouterSession* routers)
{
    if (routers == nullptr) return;
    if (auto c = routers->client(); !c) sh.error(c.error().message);
}

// The startup file of an interactive shell, run in it before the first
// prompt (aliases, functions, PS1): $ENV, a path, else ~/.fshrc; none if
// neither is a readable file, or the shell runs with another user's rights.
// A status: the file ended the shell (exit).
std::optional<int> run_startup_file(Shell& sh)
{
    if (::getuid() != ::geteuid() || ::getgid() != ::getegid()) return std::nullopt;
    std::string path = sh.get("ENV").value_or("");
    if (path.empty()) {
        std::string home = sh.get("HOME").value_or("");
        if (home.empty()) return std::nullopt;
        path = home + "/.fshrc";
    }
    if (::access(path.c_str(), R_OK) != 0) return std::nullopt;
    return sh.run_interactive(". " + single_quoted(path));
}

int interactive_loop(Shell& sh, VmCatalog* catalog, RouterSession* routers)
{
    sh.start_interactive();
    if (auto status = run_startup_file(sh)) return *status;
    greet(sh, routers);
    fsh::LineEditor editor(command_names(catalog));
    std::string pending;
    for (;;) {
        // Like sh: finished background jobs are announced before a prompt,
        // never between the commands of one line (`kill %1; wait %1`).
        if (pending.empty()) sh.notify_jobs();
        std::string prompt = prompt_for(sh, routers, !pending.empty());
        bool interrupted = false;
        auto line = editor.read(prompt, interrupted);
        bool signalled = Shell::interrupted();  // always taken, so it never leaks into the next line
        if (interrupted || signalled) {
            std::fputc('\n', stdout);
            std::fflush(stdout);
            pending.clear();
            continue;
        }
        if (!line) {
            if (!pending.empty()) std::fputs("\nfsh: syntax error: unexpected end of file\n", stderr);
            std::fputc('\n', stdout);
            return sh.finish(sh.last_status);
        }
        pending += *line + "\n";
        auto parsed = parse(pending);
        if (!parsed && parsed.error().incomplete) continue;
        std::string text = std::move(pending);
        pending.clear();
        editor.remember(text.substr(0, text.size() - 1));
        if (auto status = sh.run_interactive(text)) return *status;
    }
}

}  // namespace

int main(int argc, char** argv)
{
    // 1. Options.
    Cli cli;
    if (int status = parse_options(argc, argv, cli); status >= 0) return status;

    // 2. The program text: -c, a script file, or stdin.
    if (cli.script && !read_file(cli.name, cli.text)) {
        std::fprintf(stderr, "fsh: %s: cannot open: %s\n", cli.name.c_str(), std::strerror(errno));
        return 127;
    }
    bool from_stdin = !cli.have_text && !cli.script;
    if (cli.dump) {
        if (from_stdin) cli.text.assign(std::istreambuf_iterator<char>(std::cin), {});
        return dump(cli);
    }

    // 3. The runner and resolver: VMs, host programs only on request.
    const char* runner_env = std::getenv("FSH_RUNNER");
    bool host = cli.host_commands || (runner_env && std::strcmp(runner_env, "host") == 0);
    HostRunner host_runner;
    HostResolver host_resolver;
    VmCatalog catalog(fleet::vmm::catalog_dirs(""));
    VmResolver vm_resolver(catalog);
    VmOptions vm_options;
    vm_options.launcher = find_launcher(std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin").value_or("");
    vm_options.share = cli.share;  // a command's FSH_SHARE (also from the environment) decides over it
    VmRunner vm_runner(catalog, vm_options);
    RouterSession::Config router_config;
    router_config.connect_uri = cli.connect;
    if (const char* uri = std::getenv("FLEET_URI"); uri && *uri) router_config.env_uri = uri;
    router_config.runtime_dir = fleet::vmm::default_runtime_dir("");
    RouterSession routers(router_config);
    bool daemonless = cli.no_router || (runner_env && std::strcmp(runner_env, "vmm") == 0);
    RouterRunner router_runner(catalog, vm_options, routers, router_config.runtime_dir, vm_runner);
    CommandRunner* vm = daemonless ? static_cast<CommandRunner*>(&vm_runner) : &router_runner;
    Shell::Settings settings;
    settings.routers = &routers;
    settings.runner = host ? static_cast<CommandRunner*>(&host_runner) : vm;
    settings.host_runner = &host_runner;
    settings.resolver = host ? static_cast<CommandResolver*>(&host_resolver) : &vm_resolver;
    settings.arg0 = cli.name;
    settings.args = cli.args;
    Shell sh(settings);
    sh.options = cli.options;

    // 4. Run: interactive, or the text to its end.
    if (from_stdin && (cli.interactive || ::isatty(0)))
        return interactive_loop(sh, host ? nullptr : &catalog, &routers);
    if (from_stdin) cli.text.assign(std::istreambuf_iterator<char>(std::cin), {});
    return sh.run_main(cli.text, cli.name);
}
