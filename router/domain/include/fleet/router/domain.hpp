// fleet — a domain definition: the subset of libvirt's domain XML fleet
// honours, parsed, checked and written back.
//
// Supported (everything else is refused with an error that names the
// element or attribute by its path below <domain> — never dropped silently;
// is_unsupported_configuration below tells libvirt's two kinds of refusal
// apart):
//
//   <domain type='qemu|kvm' [id='N']>             qemu = TCG, kvm = KVM only
//     <name>  <uuid>  <title>  <description>
//     <memory unit='KiB|MiB|GiB|…'>  <currentMemory> (must equal memory)
//     <vcpu placement='static' [current='N']>N</vcpu>   1 to 64
//     <os> <type arch='x86_64' machine='microvm'>hvm</type>
//          <kernel>  <initrd>  <cmdline> </os>
//     <on_poweroff|on_reboot|on_crash>destroy</…>
//     <features> acpi apic pae <vmport state='off'/> </features>
//     <cpu mode='host-passthrough|host-model|maximum'> [<model fallback=…/>] </cpu>
//     <clock offset='utc'> <timer name='rtc|pit|hpet|kvmclock|tsc' …/>… </clock>
//     <pm> <suspend-to-mem|suspend-to-disk enabled='no'/> </pm>
//     <devices>
//       <emulator>  (accepted if it names qemu-system-x86_64; fleet runs its
//                    own, so nothing is kept or written back)
//       <console type='pty'> <target type='serial' port='0'/> </console>
//       <serial type='pty'> <target type='isa-serial' port='0'>
//                           <model name='isa-serial'/> </target> </serial>
//       <interface type='bridge|network'> <source bridge=|network=/>
//                 <mac address=/> <model type='virtio'/> </interface>
//       <filesystem type='mount' accessmode='passthrough|squash'>
//                 <source dir=/> <target dir=/> <readonly/> </filesystem>
//       <memballoon model='none'/>  (accepted, not written back)
//       <disk type='file|block' device='disk'> <driver name='qemu' type='raw|qcow2'/>
//             <source file=|dev=/> <target dev='vdX' bus='virtio'/> <readonly/> </disk>
//       <rng model='virtio'> <backend model='random'>/dev/urandom</backend>
//             <rate bytes= period=/> </rng>
//       <controller type='usb|virtio-serial' …/>  <input type='mouse|keyboard' bus='ps2'/>
//       <video><model type='none'/></video>
//     </devices>
//     <metadata xmlns:fleet='https://fleet.dev/xmlns/domain/1'>
//       <fleet:image>NAME</fleet:image> <fleet:arg>…</fleet:arg>…
//       <fleet:env name='NAME' value='VALUE'/>…  <fleet:workdir>/PATH</fleet:workdir>
//       <fleet:net outbound='yes|no'/>  <fleet:groups>NAME …</fleet:groups>
//       <fleet:hypervisor children='N' memory='SIZE' depth='N'/>
//       <fleet:terminal rows='N' cols='N' stderr='yes|no'/>
//       <other:thing xmlns:other='…'>…</other:thing>
//     </metadata>
//   </domain>
//
// Decisions, where libvirt and fleet could differ:
//  - Either os/kernel or fleet:image must be given. Both together are
//    allowed: the image supplies kernel, initrd, command line and default
//    memory from the catalog, and what <os> and <memory> say explicitly
//    overrides it.
//  - <memory> may be left out (memory_kib 0: the image's default, or
//    64 MiB); it is then not written back either. Units as libvirt reads
//    them (case-insensitive): b/bytes, k/KiB, KB (1000), M/MiB, MB, G/GiB,
//    GB, T/TiB, TB, P/PiB, PB, E/EiB, EB; no unit is KiB; rounded up to
//    whole KiB; 2 MiB to 1 TiB (the launcher's range).
//  - <filesystem>: no <readonly/> means read-write, as in libvirt, so a
//    document means the same to fleet and to libvirt. (Filesystem's
//    read_only member still defaults to true for shares built in code.)
//    accessmode 'passthrough' (the default) and 'squash' are accepted —
//    fleet serves files as they are on the host (virtio-9p,
//    security_model=none, which is libvirt's 'squash') — and 'passthrough'
//    is written back; 'mapped' is refused. At most 8 filesystems. The
//    guest mounts each at its target dir, or at /mnt/TARGET where the
//    target is a libvirt-style tag (not a path); the mount point is held
//    to vmm::is_mount_point when the domain starts.
//  - <console> and <serial>: at most one of each; both together are one
//    device, as in libvirt (the console is serial port 0).
//  - <on_*>: only destroy (a fleet domain ends when its guest stops); they
//    are always written back as destroy.
//  - <metadata>: fleet's elements are found by namespace URI (fleet_xmlns),
//    whatever prefix the document binds to it, wherever it is declared in
//    scope (<domain>, <metadata> or the element itself; a prefix declared
//    on <fleet:image> does not reach a sibling <fleet:arg>). Elements in any other
//    namespace are kept, as libvirt keeps them, and written back verbatim
//    (DomainDef::foreign_metadata, each one self-contained: the namespace
//    declarations it uses are copied onto it).
//  - fleet:arg, fleet:env and fleet:workdir reach the program through the
//    exec block (images/README.md): any characters XML can carry. An env
//    name is non-empty without '='; a later one with the same name wins in
//    the guest, as in a shell. The working folder is absolute and must be
//    on a <filesystem> target when the domain starts (the launcher checks).
//  - fleet:net and fleet:groups are for the router's firewall
//    (netfilter/README.md): outbound access (masquerade to the host's
//    uplink) is off unless outbound='yes'; groups are names the policy's
//    group:NAME matches, blank-separated, each [A-Za-z0-9_][A-Za-z0-9_.-]*
//    of at most 64 bytes, none twice. Both are written back as given.
//  - fleet:terminal gives the program a terminal of its own in the guest
//    (a Linux image's pseudo-terminal, images/README.md) of rows x cols,
//    each 1 to 4096, on its stdin and stdout, and stderr too unless
//    stderr='no' (the default is yes). The domain's stdio stay byte
//    streams: the client relays its own terminal raw, and tells a new size
//    with FLEET_DOMAIN_RESIZE (docs/fleet-protocol.md). A runtime image
//    has no terminal: the launcher refuses the start.
//  - What virt-install, virt-manager and libvirt-tck write for a plain
//    x86_64 domain (docs/domain-xml.md is the table, one line per choice):
//    <features> acpi, apic, pae are what every fleet VM has (kept, written
//    back; a power=ctl image's button is a ctl line, not ACPI's); vmport only state='off'. <cpu>: host-passthrough,
//    host-model and maximum are all fleet's CPU (the host's under KVM, QEMU's max under TCG); custom models and
//    <topology> are refused. <clock> timers: hpet and pit may only be absent (present='no', or a tick policy for a
//    timer microvm does not have, which changes nothing); kept as written. <pm>: suspend only enabled='no'. USB and
//    virtio-serial <controller>s and ps2 <input>s are kept, not given to the VM: microvm has no USB bus and no i8042,
//    and nothing fleet accepts would sit on them. <graphics>, <video> other than model none, tablets and USB inputs are
//    refused: fleet's VMs have no display (virt-install --graphics none). <disk>: virtio-blk on microvm, a raw or qcow2
//    file or a block device, at most 8, targets vda..vdz. <rng>: virtio-rng fed from the host file.
//  - Refused outright: documents over 1 MiB, nesting deeper than 32,
//    duplicate attributes, a second copy of a single-valued element,
//    non-blank text between elements. Syntax errors read
//    "domain XML: <what> at offset N".
#pragma once

#include <fleet/base/error.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fleet::router {

using Uuid = std::array<std::uint8_t, 16>;

std::string format_uuid(const Uuid& uuid);         // 8-4-4-4-12, lower case
Result<Uuid> parse_uuid(const std::string& text);  // with or without dashes
Uuid random_uuid();                                // version 4

inline constexpr const char* fleet_xmlns = "https://fleet.dev/xmlns/domain/1";

struct Interface {
    std::string type;    // "bridge" or "network"
    std::string source;  // the bridge or network name
    std::string mac;     // "0e:xx:xx:xx:xx:xx" when absent: derived from the domain's UUID
    std::string model = "virtio";
    bool operator==(const Interface&) const = default;
};

struct Filesystem {
    std::string source_dir;  // host folder (absolute)
    std::string target_dir;  // the guest path, or a tag (mounted at /mnt/TAG)
    bool read_only = true;   // written back as <readonly/>; in XML, no <readonly/> means read-write
    bool operator==(const Filesystem&) const = default;
};

// <disk type='file|block' device='disk'>: a virtio-blk device.
struct Disk {
    std::string type = "file";   // "file" (<source file=>) or "block" (<source dev=>)
    std::string source;          // host path
    std::string format = "raw";  // <driver type=>: raw or qcow2
    std::string target;          // <target dev=>: vda, vdb, ...
    bool read_only = false;
    bool operator==(const Disk&) const = default;
};

// <fleet:hypervisor>: the domain gets a hypervisor channel (a virtio-serial
// port the router serves the libvirt protocol on, docs/hypervisor.md) with
// these quotas for its descendants: how many domains (children, and the
// quotas granted to their own channels), how much memory, how deep.
struct HypervisorQuota {
    unsigned children = 0;         // 1..max_children
    std::uint64_t memory_mib = 0;  // written back as "NMiB"
    unsigned depth = 1;            // 1: its children get no channel of their own
    static constexpr unsigned max_children = 256;
    static constexpr unsigned max_depth = 8;
    bool operator==(const HypervisorQuota&) const = default;
};

// <fleet:terminal>: the program's terminal in the guest.
struct DomainTerminal {
    std::uint16_t rows = 24, cols = 80;  // 1..max_size
    bool stderr_too = true;
    static constexpr std::uint16_t max_size = 4096;  // FLEET_TTY_MAX
    bool operator==(const DomainTerminal&) const = default;
};

// <rng model='virtio'>: virtio-rng fed from a host file.
struct Rng {
    std::string source = "/dev/urandom";  // <backend model='random'>
    std::uint64_t rate_bytes = 0;         // <rate bytes= period=>; 0: no limit
    std::uint64_t rate_period_ms = 0;
    bool operator==(const Rng&) const = default;
};

struct DomainDef {
    std::string type = "qemu";  // "qemu" (TCG) or "kvm"
    std::string name;
    Uuid uuid{};
    std::string title;
    std::string description;
    std::uint64_t memory_kib = 0;  // 0: the image's default (or 64 MiB)
    unsigned vcpus = 1;
    std::string kernel;
    std::string initrd;
    std::string cmdline;
    std::string image;                                     // fleet:image, a catalog name
    std::vector<std::string> args;                         // fleet:arg, the program's arguments
    std::vector<std::pair<std::string, std::string>> env;  // fleet:env, in order
    std::string workdir;                                   // fleet:workdir, "" = the guest's default
    std::optional<bool> outbound;                          // <fleet:net outbound=>; none: off
    std::vector<std::string> groups;                       // <fleet:groups>, for the policy's group:NAME
    std::optional<HypervisorQuota> hypervisor;             // <fleet:hypervisor>: a hypervisor channel
    std::optional<DomainTerminal> terminal;                // <fleet:terminal>: the program's terminal
    bool console = true;                                   // a console/serial pty is declared
    std::vector<Interface> interfaces;
    std::vector<Filesystem> filesystems;
    std::vector<Disk> disks;
    std::optional<Rng> rng;
    // Elements kept as written (checked, each as canonical XML text) and
    // written back: <features> children, <cpu>, <clock> timers, <pm>, and
    // the devices fleet accepts but gives the VM nothing for (controllers,
    // ps2 inputs, video none).
    std::vector<std::string> features;
    std::string cpu;
    bool clock = false;  // a <clock offset='utc'> was given
    std::vector<std::string> timers;
    std::string pm;
    std::vector<std::string> kept_devices;
    // <metadata> elements in other namespaces than fleet's, each as XML
    // text (one element with its namespace declarations), kept in order.
    std::vector<std::string> foreign_metadata;
    bool operator==(const DomainDef&) const = default;
};

// Parse and check domain XML. Fills in what libvirt fills in: a random
// uuid when none is given, MAC addresses for interfaces (derived from the
// uuid: the same uuid gives the same MACs). Errors name the
// offending element, e.g. "unsupported element <devices/disk>" or
// "<memory>: 'lots' is not a number".
Result<DomainDef> parse_domain_xml(const std::string& xml);

// A hypervisor channel's quotas written as words, "children=N,memory=SIZE[,depth=N]"
// (fsh's FLEET_HYPERVISOR), checked as <fleet:hypervisor>'s attributes are;
// depth defaults to 1.
Result<HypervisorQuota> parse_hypervisor_quota(std::string_view words);

// Whether a parse error refuses what fleet understands but cannot honour
// (an unknown element or attribute, a display, a PCI controller: libvirt's
// VIR_ERR_CONFIG_UNSUPPORTED) rather than malformed or contradictory XML
// (VIR_ERR_XML_ERROR). Such errors carry ENOTSUP; show their `message`.
bool is_unsupported_configuration(const Error& e);

// Write a definition back as domain XML; `id` >= 0 adds the id attribute of
// a running domain. parse_domain_xml(format_domain_xml(d)) == d.
std::string format_domain_xml(const DomainDef& def, int id = -1);

// `value` as the text of an XML attribute (&, <, >, ' and control
// characters as references): what the formatter writes, for other documents
// the router writes (a network's XML).
std::string escape_xml_attribute(std::string_view value);

// Domain names: 1-64 characters of [A-Za-z0-9_.-], starting with a letter
// or digit — the launcher's rule for VM names (vmm::validate_name), so a
// name defined here also starts (the launcher uses it for a folder).
Result<> check_domain_name(const std::string& name);

// Persistent definitions: one file <dir>/<name>.xml each.
class DefinitionStore {
public:
    static Result<DefinitionStore> open(std::string dir);  // creates dir (0700)
    [[nodiscard]] const std::string& dir() const { return dir_; }

    // Atomic: temp file in dir (".<name>.xml.tmp-XXXXXX", mode 0600), write,
    // fsync, rename over, fsync the dir. A crash at any moment leaves the
    // old definition or the new one. A definition that would not parse back
    // (built in code with, say, no kernel and no image) is refused.
    Result<> save(const DomainDef& def) const;
    // Deletes <name>.xml (and fsyncs the dir); a name with no definition is
    // an error ("no definition for 'x'", sys_errno ENOENT).
    Result<> remove(const std::string& name) const;
    // Every definition, sorted by name; a file that does not parse, or whose
    // <name> is not its file name, is reported in `bad` ("<path>: <error>")
    // and skipped, never deleted. Leftover temp files from a crash are
    // removed; other files (not *.xml, or hidden) are ignored. A file
    // without <uuid> or MACs gets fresh ones on every load.
    struct Loaded {
        std::vector<DomainDef> defs;
        std::vector<std::string> bad;
    };
    Result<Loaded> load_all() const;

private:
    explicit DefinitionStore(std::string dir) : dir_(std::move(dir)) {}
    std::string dir_;
};

}  // namespace fleet::router
