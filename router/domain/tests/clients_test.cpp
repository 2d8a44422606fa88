// router-domain-unit — what virt-install, virt-manager and libvirt-tck write
// for a plain x86_64 domain: each element accepted (and kept through
// format_domain_xml) or refused with its reason.
#include "helpers.hpp"

using namespace fleet::router;
using namespace fleet::router::testing;
using Catch::Matchers::Contains;
using Catch::Matchers::Equals;

namespace {

std::string devices(const std::string& inside)
{
    return domain_with("<devices>" + inside + "</devices>");
}

// Parsed, written back, parsed again: the same definition, and the
// written text holds `needle`.
DomainDef round_trip(const std::string& xml, const std::string& needle)
{
    const DomainDef d = parsed(xml);
    const std::string text = format_domain_xml(d);
    CHECK_THAT(text, Contains(needle));
    const DomainDef again = parsed(text);
    CHECK(again == d);
    CHECK(format_domain_xml(again) == text);
    return d;
}

}  // namespace

TEST_CASE("features: acpi, apic, pae and vmport off are kept", "[clients][features]")
{
    const DomainDef d =
        round_trip(domain_with("<features><acpi/><apic/><pae/><vmport state='off'/></features>"),
                   "  <features>\n    <acpi/>\n    <apic/>\n    <pae/>\n    <vmport state='off'/>\n  </features>\n");
    CHECK(d.features.size() == 4);
    CHECK_THAT(error_of(domain_with("<features><vmport state='on'/></features>")),
               Equals("<features/vmport>: state='on' is not supported (fleet's microvm has no VMware port)"));
    CHECK_THAT(error_of(domain_with("<features><apic eoi='on'/></features>")),
               Equals("unsupported attribute eoi='on' on <features/apic>"));
    CHECK_THAT(error_of(domain_with("<features><smm/></features>")), Equals("unsupported element <features/smm>"));
}

TEST_CASE("cpu: the host's or QEMU's maximum, never a named model", "[clients][cpu]")
{
    round_trip(domain_with("<cpu mode='host-passthrough' check='none' migratable='on'/>"),
               "<cpu mode='host-passthrough' check='none' migratable='on'/>");
    round_trip(domain_with("<cpu mode='host-model' check='partial'><model fallback='allow'/></cpu>"),
               "<cpu mode='host-model' check='partial'><model fallback='allow'/></cpu>");
    round_trip(domain_with("<cpu mode='maximum'/>"), "<cpu mode='maximum'/>");
    CHECK_THAT(error_of(domain_with("<cpu><model>qemu64</model></cpu>")),
               Equals("<cpu>: mode 'custom' is not supported (use host-passthrough, host-model or maximum)"));
    CHECK_THAT(error_of(domain_with("<cpu mode='custom'/>")),
               Equals("<cpu>: mode='custom' is not supported (use host-passthrough, host-model, maximum)"));
    CHECK_THAT(error_of(domain_with("<cpu mode='host-model'><model>x</model></cpu>")),
               Contains("named CPU models are not supported"));
}

TEST_CASE("clock: utc with the timers virt-install writes", "[clients][clock]")
{
    const DomainDef d = round_trip(domain_with("<clock offset='utc'><timer name='rtc' tickpolicy='catchup'/>"
                                               "<timer name='pit' tickpolicy='delay'/>"
                                               "<timer name='hpet' present='no'/></clock>"),
                                   "  <clock offset='utc'>\n    <timer name='rtc' tickpolicy='catchup'/>\n");
    CHECK(d.timers.size() == 3);
    CHECK(d.clock);
    round_trip(domain_with("<clock offset='utc'/>"), "  <clock offset='utc'/>\n");
    CHECK_THAT(error_of(domain_with("<clock><timer name='hpet' present='yes'/></clock>")),
               Equals("<clock/timer>: fleet's microvm has no hpet (present='no')"));
    CHECK_THAT(error_of(domain_with("<clock><timer name='pit' present='yes'/></clock>")),
               Equals("<clock/timer>: fleet's microvm has no pit (present='no')"));
    CHECK_THAT(error_of(domain_with("<clock><timer name='hypervclock'/></clock>")),
               Contains("name='hypervclock' is not supported"));
    CHECK_THAT(error_of(domain_with("<clock><timer/></clock>")), Equals("<clock/timer>: missing attribute name"));
    CHECK_THAT(error_of(domain_with("<clock><timer name='pit' track='wall'/></clock>")),
               Equals("<clock/timer>: track is for the rtc timer only"));
}

TEST_CASE("pm: suspend only disabled", "[clients][pm]")
{
    round_trip(domain_with("<pm><suspend-to-mem enabled='no'/><suspend-to-disk enabled='no'/></pm>"),
               "  <pm><suspend-to-mem enabled='no'/><suspend-to-disk enabled='no'/></pm>\n");
    CHECK_THAT(error_of(domain_with("<pm><suspend-to-mem enabled='yes'/></pm>")),
               Equals("<pm/suspend-to-mem>: enabled='yes' is not supported (fleet's VMs cannot suspend)"));
}

TEST_CASE("disk: virtio-blk from a raw or qcow2 file or a block device", "[clients][disk]")
{
    const DomainDef d =
        round_trip(devices("<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
                           "<source file='/var/lib/x.qcow2'/><target dev='vda' bus='virtio'/></disk>"
                           "<disk type='block'><source dev='/dev/sdz'/><target dev='vdb'/><readonly/></disk>"),
                   "    <disk type='file' device='disk'>\n      <driver name='qemu' type='qcow2'/>\n"
                   "      <source file='/var/lib/x.qcow2'/>\n      <target dev='vda' bus='virtio'/>\n    </disk>\n");
    REQUIRE(d.disks.size() == 2);
    CHECK(d.disks[0] == Disk{"file", "/var/lib/x.qcow2", "qcow2", "vda", false});
    CHECK(d.disks[1] == Disk{"block", "/dev/sdz", "raw", "vdb", true});
    CHECK_THAT(error_of(devices("<disk><source file='/a'/><target dev='hda' bus='ide'/></disk>")),
               Contains("bus 'ide' is not supported (fleet's microvm disks are virtio"));
    CHECK_THAT(error_of(devices("<disk device='cdrom'/>")), Contains("device 'cdrom' is not supported"));
    CHECK_THAT(error_of(devices("<disk type='network'/>")), Contains("type 'network' is not supported"));
    CHECK_THAT(error_of(devices("<disk><driver type='vmdk'/></disk>")),
               Equals("<devices/disk/driver>: type 'vmdk' is not supported (use raw or qcow2)"));
    CHECK_THAT(error_of(devices("<disk><source file='a'/></disk>")), Contains("is not an absolute path"));
    CHECK_THAT(error_of(devices("<disk type='block'><source file='/a'/></disk>")),
               Equals("unsupported attribute file='/a' on <devices/disk/source>"));
    CHECK_THAT(error_of(devices("<disk><target dev='vda'/></disk>")),
               Equals("<devices/disk>: missing <source file='...'/>"));
    CHECK_THAT(error_of(devices("<disk><source file='/a'/></disk>")),
               Equals("<devices/disk>: missing <target dev='vdX'/>"));
    CHECK_THAT(error_of(devices("<disk><source file='/a'/><target dev='vdaa'/></disk>")),
               Contains("is not a virtio disk name (vda to vdz)"));
    CHECK_THAT(error_of(devices("<disk><source file='/a'/><target dev='vda'/></disk>"
                                "<disk><source file='/b'/><target dev='vda'/></disk>")),
               Equals("<devices/disk>: target dev='vda' is used twice"));
    std::string nine;
    for (char c = 'a'; c < 'j'; ++c) nine += std::string("<disk><source file='/a'/><target dev='vd") + c + "'/></disk>";
    CHECK_THAT(error_of(devices(nine)), Equals("<devices/disk>: at most 8 disks"));
}

TEST_CASE("rng: virtio-rng from the host", "[clients][rng]")
{
    DomainDef d = round_trip(devices("<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>"),
                             "    <rng model='virtio'>\n      <backend model='random'>/dev/urandom</backend>\n");
    REQUIRE(d.rng);
    CHECK(d.rng->source == "/dev/urandom");
    d = round_trip(devices("<rng model='virtio'><rate bytes='1024' period='2000'/>"
                           "<backend model='random'>/dev/random</backend></rng>"),
                   "<rate bytes='1024' period='2000'/>");
    CHECK(*d.rng == Rng{"/dev/random", 1024, 2000});
    CHECK(parsed(devices("<rng model='virtio'><backend model='random'/></rng>")).rng->source == "/dev/urandom");
    CHECK_THAT(error_of(devices("<rng model='virtio'><backend model='egd' type='tcp'/></rng>")),
               Equals("unsupported attribute type='tcp' on <devices/rng/backend>"));
    CHECK_THAT(error_of(devices("<rng model='virtio'><backend model='egd'/></rng>")),
               Equals("<devices/rng/backend>: model 'egd' is not supported (use random)"));
    CHECK_THAT(error_of(devices("<rng model='virtio'><backend>/etc/passwd</backend></rng>")),
               Contains("'/etc/passwd' is not supported"));
    CHECK_THAT(error_of(devices("<rng model='virtio'><rate bytes='0'/></rng>")), Contains("whole numbers"));
    CHECK_THAT(error_of(devices("<rng model='e1000'/>")), Contains("model 'e1000' is not supported (use virtio)"));
    CHECK_THAT(error_of(devices("<rng model='virtio'/><rng model='virtio'/>")),
               Equals("duplicate element <devices/rng>"));
}

TEST_CASE("controllers and ps2 inputs are kept; displays are refused", "[clients][kept]")
{
    const DomainDef d = round_trip(devices("<controller type='usb' index='0' model='ich9-ehci1'/>"
                                           "<controller type='usb' index='0' model='ich9-uhci1'>"
                                           "<master startport='0'/></controller>"
                                           "<controller type='usb' model='none'/>"
                                           "<controller type='virtio-serial' index='0'/>"
                                           "<input type='mouse' bus='ps2'/><input type='keyboard' bus='ps2'/>"
                                           "<video><model type='none'/></video>"
                                           "<memballoon model='none'/>"),
                                   "    <controller type='usb' index='0' model='ich9-uhci1'><master startport='0'/>"
                                   "</controller>\n");
    CHECK(d.kept_devices.size() == 8);
    CHECK_THAT(error_of(devices("<controller type='pci' model='pci-root'/>")),
               Equals("<devices/controller>: type 'pci' is not supported (fleet's microvm has no PCI bus)"));
    CHECK_THAT(error_of(devices("<controller type='ide'/>")), Contains("type 'ide' is not supported"));
    CHECK_THAT(error_of(devices("<controller type='usb'><address type='pci'/></controller>")),
               Equals("unsupported element <devices/controller/address>"));
    CHECK_THAT(error_of(devices("<input type='tablet' bus='usb'/>")),
               Contains("type 'tablet' bus 'usb' is not supported: fleet's VMs have no display"));
    CHECK_THAT(error_of(devices("<graphics type='vnc' port='-1'/>")),
               Contains("<devices/graphics>: type 'vnc' is not supported: fleet's VMs have no display"));
    CHECK_THAT(error_of(devices("<graphics type='spice'/>")), Contains("virt-install --graphics none"));
    CHECK_THAT(error_of(devices("<video><model type='qxl'/></video>")),
               Contains("<devices/video>: model 'qxl' is not supported: fleet's VMs have no display"));
    CHECK_THAT(error_of(devices("<video/>")), Contains("a video device is not supported"));
}

TEST_CASE("virt-install's domain for --import --boot kernel= reads and round-trips", "[clients][sample]")
{
    const DomainDef d = round_trip(sample("virt-install.xml"), "<timer name='hpet' present='no'/>");
    CHECK(d.name == "vi");
    CHECK(d.disks.size() == 1);
    CHECK(d.kernel == "/boot/vmlinux");
}

TEST_CASE("libvirt-tck's plain domain reads and round-trips", "[clients][sample]")
{
    const DomainDef d = round_trip(sample("tck.xml"), "<apic/>");
    CHECK(d.disks.size() == 1);
    CHECK(d.rng);
}

TEST_CASE("refusals tell what fleet cannot honour from what it cannot read", "[clients][errors]")
{
    auto kind = [](const std::string& xml) {
        auto def = parse_domain_xml(xml);
        REQUIRE_FALSE(def);
        return is_unsupported_configuration(def.error());
    };
    // libvirt's CONFIG_UNSUPPORTED: understood, not honoured on microvm
    CHECK(kind(devices("<graphics type='vnc'/>")));
    CHECK(kind(devices("<controller type='pci' model='pcie-root'/>")));
    CHECK(kind(devices("<video><model type='qxl'/></video>")));
    CHECK(kind(domain_with("<cpu mode='custom'><model>Skylake</model></cpu>")));
    CHECK(kind(domain_with("<features><hyperv/></features>")));
    CHECK(kind(devices("<sound model='ich9'/>")));
    CHECK(kind(domain_with("<features><acpi foo='1'/></features>")));
    // XML_ERROR: malformed, contradictory or incomplete
    CHECK_FALSE(kind("<domain type='qemu'><name>x</name>"));
    CHECK_FALSE(kind(domain_with("<memory>lots</memory>")));
    CHECK_FALSE(kind(devices("<disk type='file' device='disk'><target dev='vda' bus='virtio'/></disk>")));
    // the message is the reason alone; the errno only marks the kind
    auto def = parse_domain_xml(devices("<graphics type='spice'/>"));
    REQUIRE_FALSE(def);
    CHECK_THAT(def.error().message, Contains("<devices/graphics>: type 'spice' is not supported"));
}
