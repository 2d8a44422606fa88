// fleet — the image catalog: names like `hello` resolved to bootable files.
//
// A catalog is a folder of entry files `<name>.image`, directly in it or one
// folder down (`runtime/cat.image`), each a list of key=value lines
// (images/README.md). Paths in an entry are relative to the entry's folder.
#pragma once

#include <fleet/vmm/spec.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace fleet::vmm {

struct Image {
    std::string name;
    std::string kernel;             // absolute or relative to the working directory
    std::string initrd;             // may be empty
    std::string cmdline;            // the kernel command line
    std::vector<std::string> args;  // the program's first arguments (args=, space-separated)
    std::uint64_t memory_mib = 64;
    StdioKind stdio = StdioKind::isa;
    std::string kind = "tiny";                              // tiny, runtime or linux: what sort of guest
    std::optional<std::chrono::milliseconds> boot_timeout;  // the image's own deadline
    std::optional<unsigned> max_args;                       // most arguments the guest can take
    bool drain = false;        // the guest waits for "drained" after "exit N" (VmSpec::drain)
    bool snapshot = false;     // later starts restore a saved boot (VmSpec::snapshot)
    bool exec_fw_cfg = false;  // exec=fw_cfg: the guest reads its exec block from fw_cfg (VmSpec::exec_fw_cfg)
    bool power_ctl = false;    // power=ctl: the power button is a ctl line, QEMU has no ACPI (VmSpec::power_ctl)
    // remote=yes: a stand-in for an image another host's router boots (fsh
    // inside a guest resolves names from such entries); its kernel and
    // initrd need not be here, and resolve_image refuses to boot it.
    bool remote = false;
    // options=SPEC...: every command line the program understands (fsh's
    // concern; the launcher passes any): `-x` a flag (flags combine, -lw),
    // `-x:` an option with a value (attached or the next word), `--word`,
    // `-#` a count (-5), `-` a lone dash. Unset: the program takes any
    // words. A runtime program given anything else (a file, an option it
    // lacks) runs in fsh as the Linux applet of its name (shell/README.md).
    std::optional<std::vector<std::string>> options;
    std::string description;
    std::string entry_file;  // the .image it came from; empty for a bare kernel
};

// The folders searched, in order: `flag` (colon-separated) if given, else
// $FLEET_IMAGES if set, else the build tree's images/ (when it exists) and
// the installed catalog.
std::vector<std::string> catalog_dirs(const std::string& flag);

// Parse one entry file.
Result<Image> load_image_entry(const std::string& path);

// `ref` is a name in the catalog, a path to an .image entry, or a path to
// a kernel ELF (which gets default settings).
// An image to boot: a remote=yes stand-in is refused.
Result<Image> resolve_image(const std::string& ref, const std::vector<std::string>& dirs);
// The same lookup for what an entry says, stand-ins included.
Result<Image> find_image(const std::string& ref, const std::vector<std::string>& dirs);

// The VM an image describes: kernel, initrd, command line, first
// arguments, memory, stdio kind, drain and boot deadline. fleet-vmm and
// the router start from this one spec and add what their caller asked for.
VmSpec spec_from_image(const Image& image);

// Every entry in the catalog folders (first folder wins for a name).
std::vector<Image> list_images(const std::vector<std::string>& dirs);

}  // namespace fleet::vmm
