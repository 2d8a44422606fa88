// fleet shell — commands as VMs: the catalog's names as commands, and a
// runner that starts each command as its own VM.
//
// A command name resolves, in order, to a runtime program of that name
// (cat, wc, head, ...), else an applet of the Linux image's busybox (as
// `fleet-vmm run linux NAME` runs it), else any other catalog image by its
// exact name (hello, linux-grep); else it is not found (127). A runtime
// program given a command line it does not understand (its entry's
// options=: `cat notes.txt`) runs as the busybox applet instead.
//
// The VmRunner launches each command as a `fleet-vmm run IMAGE ARGS...`
// child process with the shell's fds as the VM's stdin, stdout and stderr:
// the launcher's pid is the job member fsh waits for, stops and signals,
// and its exit status is the program's (128+N after signal N). Exported
// variables go to the program with `-e`, and a Linux-image command gets
// the shell's working folder shared at the same path as its working
// folder: read-only unless FSH_SHARE=rw. It is what fsh uses without a
// router; with one, commands are the router's domains (router_run.hpp).
#pragma once

#include <fleet/shell/runner.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fleet::shell {

// What a name can run as; kinds are the catalog's ("runtime", "linux", "tiny").
struct VmImage {
    std::string name;
    std::string kind;
    std::string description;
    std::optional<std::vector<std::string>> options;  // the entry's options= (vmm::Image::options)
};

// Whether a program whose entry says options=SPECS understands these
// arguments (those after its name): each word is one of its options, an
// option's value, or a lone dash it takes (vmm/catalog.hpp has the specs).
bool understands(const std::vector<std::string>& specs, const std::vector<std::string>& args);

// The image catalog as fsh sees it: each name looked up once, the whole
// listing and the Linux applets read on first use.
class VmCatalog {
public:
    // dirs: the catalog folders (fleet::vmm::catalog_dirs), searched in order.
    explicit VmCatalog(std::vector<std::string> dirs) : dirs_(std::move(dirs)) {}

    [[nodiscard]] const std::vector<VmImage>& images();
    [[nodiscard]] const VmImage* find(const std::string& name);
    // The programs of the Linux image (`linux`) busybox provides, sorted;
    // empty (and why() says why) when there is no readable Linux image.
    [[nodiscard]] const std::vector<std::string>& applets();
    [[nodiscard]] bool has_applet(const std::string& name);
    [[nodiscard]] const std::string& why_no_applets() const { return applets_why_; }

private:
    void load();
    void load_applets();
    std::vector<std::string> dirs_;
    bool loaded_ = false, applets_loaded_ = false;
    std::vector<VmImage> images_;
    std::map<std::string, std::optional<VmImage>> found_;
    std::vector<std::string> applets_;
    std::string applets_why_;
};

// The names an initramfs (newc cpio, uncompressed) holds as programs: the
// file names of symlinks and executables in bin/, sbin/, usr/bin/ and
// usr/sbin/, sorted and unique. nullopt: not a newc archive, or truncated.
std::optional<std::vector<std::string>> initramfs_programs(std::string_view cpio);

// The resolver's answer, as CommandSpec::program: "runtime/NAME",
// "applet/NAME" or "image/NAME".
class VmResolver : public CommandResolver {
public:
    explicit VmResolver(VmCatalog& catalog) : catalog_(catalog) {}
    std::optional<std::string> resolve(const std::string& name, const std::string& path) override;
    std::optional<std::string> listing() override;
    std::string describe(const std::string& program) override;
    std::string not_found_note(const std::string& name, const std::string& path) override;

private:
    VmCatalog& catalog_;
};

// How a Linux command gets the shell's working folder: not at all,
// read-only (the default) or read-write. A command's FSH_SHARE (`ro`,
// `rw`, `no`; `yes` is `ro`) decides, as the command sees it, so
// `FSH_SHARE=rw cp a b` writes; unset or empty, the shell's --share does.
enum class Share { no, ro, rw };
inline constexpr std::string_view share_variable = "FSH_SHARE";
std::optional<Share> parse_share(std::string_view value);

struct VmOptions {
    std::string launcher;     // the fleet-vmm binary
    Share share = Share::ro;  // Linux images: the working folder, at the same path
};

// A resolved command as a VM: its image, the program's arguments (an
// applet's name first: `linux NAME ARGS`), its environment (guest
// variables only), and for a Linux image, unless its share is `no`, the
// shell's working folder, shared (at share_point) as its working folder,
// and the folder of each operand outside it, an absolute host path or one
// climbing out (`..`, `../x`): the folder it names, or the one a file or
// a new name is in, unless a share holds it already, so `wc -l
// /srv/data/log.txt` reads the host's file. An operand that would not
// lead there in the guest as written (`/etc/hosts`, its folder mounted at
// /host/etc) is rewritten to where it does; at most FLEET_MAX_SHARES
// folders in all (the working folder first). Pure but for stat() of
// operands.
// `FLEET_HYPERVISOR=children=N,memory=SIZE[,depth=N] cmd`: cmd's domain
// gets a hypervisor channel with these quotas (docs/hypervisor.md).
inline constexpr std::string_view hypervisor_variable = "FLEET_HYPERVISOR";
inline constexpr std::string_view accel_variable = "FLEET_ACCEL";

struct VmCommand {
    std::string image;
    std::vector<std::string> args;
    std::vector<std::string> env;  // NAME=VALUE
    std::string workdir;           // "" : the guest's default
    struct Shared {
        std::string host, at;  // a host folder, and where the guest mounts it (share_point)
        bool operator==(const Shared&) const = default;
    };
    std::vector<Shared> shares;   // the working folder's first, if it is shared; then operands'
    bool share_writable = false;  // FSH_SHARE=rw: all of them
    std::string unshared;         // the working folder a Linux command wanted but cannot get (/, /proc, ...)
    std::string refused;          // why the command's own variables stop it (a bad FSH_SHARE); "": none
    std::string hypervisor;       // FLEET_HYPERVISOR's quota words: a hypervisor channel (router only); "" : none
    std::string accel;            // FLEET_ACCEL as the command sees it: "kvm", "tcg"; "" or "auto": the host's best
    bool linux = false;           // a Linux image's program (it can have a terminal)
};
VmCommand vm_command(const VmOptions& options, const std::string& program, bool linux,
                     const std::vector<std::string>& argv, const std::vector<std::string>& env, const std::string& cwd);
// Whether a resolved program runs on a Linux image.
bool linux_program(VmCatalog& catalog, const std::string& program);
// The program a command line runs as: a runtime program given words its
// entry's options= does not cover (a file, an option it lacks) runs as the
// Linux applet of its name when there is one (`cat notes.txt`, `wc -L`);
// otherwise the program as resolved. argv: with the command's name first.
std::string program_for(VmCatalog& catalog, const std::string& program, const std::vector<std::string>& argv);

// The launcher's argv for a resolved command (pure; unit-tested):
// fleet-vmm run [--no-stdin] [-e NAME=VALUE]... [--share DIR:AT:ro|rw -w AT] IMAGE [APPLET] ARGS...
// cwd: the shell's working folder. linux: whether the image is a Linux one.
// no_stdin: the VM gets end-of-file at once (see background_on_terminal).
std::vector<std::string> vm_launch_argv(const VmOptions& options, const std::string& program, bool linux,
                                        const std::vector<std::string>& argv, const std::vector<std::string>& env,
                                        const std::string& cwd, bool no_stdin = false);
// The same for a command already resolved (vm_command).
std::vector<std::string> vm_launch_argv(const VmOptions& options, const VmCommand& command, bool no_stdin);

// Whether fd is a terminal this process is in the background of: a
// launcher reading it there would stop (SIGTTIN) although its program may
// never read, so a background VM job gets no stdin (as sh gives an
// asynchronous command /dev/null).
bool background_on_terminal(int fd);

// Whether a host folder can be shared into a Linux guest at the same path
// without hiding the guest's own files (/, /usr, /bin, /dev, ...) or
// breaking the --share syntax (a ':' in it; blanks and commas are fine).
bool shareable_folder(const std::string& dir);
// Where a Linux VM gets the working folder dir: at the same path when it
// can (shareable_folder), else one of the guest's own folders (/etc, /usr,
// /root, ...) under /host (/host/etc), so `ls` and relative names there
// mean the host's files, never the guest's; "": nowhere (/, and /proc,
// /sys, /dev and below, whose files are not files; a ':' in it).
inline constexpr std::string_view host_folders = "/host";
std::string share_point(const std::string& dir);

// Variables that describe the host, not the guest (PATH, HOME, SHELL, USER,
// LOGNAME), the launcher's own settings (FLEET_*) and FSH_SHARE: not
// passed with -e.
bool host_only_variable(std::string_view name);

// Once per folder and fsh: "fsh: note: DIR is not shared into VMs; ..."
// for a command whose working folder could not be shared
// (VmCommand::unshared), so `ls` in / does not quietly list the guest's
// own files. Pipeline stages are forked fsh processes, so the folders told
// are kept in one shared page made before any fork: 512 of them, then no
// more notes.
class UnsharedNote {
public:
    UnsharedNote();
    ~UnsharedNote();
    UnsharedNote(const UnsharedNote&) = delete;
    UnsharedNote& operator=(const UnsharedNote&) = delete;
    void operator()(const VmCommand& command);

private:
    std::uint64_t* told_ = nullptr;  // hashes of the folders told; 0: a free slot
};

class VmRunner : public CommandRunner {
public:
    VmRunner(VmCatalog& catalog, VmOptions options) : catalog_(catalog), options_(std::move(options)) {}
    Result<pid_t> start(const CommandSpec& spec) override;

private:
    VmCatalog& catalog_;
    VmOptions options_;
    HostRunner host_;
    UnsharedNote note_unshared_;
};

// The fleet-vmm to use: $FLEET_VMM, else one beside the running fsh, else
// the build tree's (../vmm/fleet-vmm from build/shell/fsh), else "fleet-vmm"
// on $PATH. nullopt: none of them is there.
std::optional<std::string> find_launcher(const std::string& path);

}  // namespace fleet::shell
