// router-domain-unit — <devices>: interfaces and their MACs, filesystems,
// the console, and what libvirt clients add that fleet accepts as it is.
#include "helpers.hpp"

#include <set>

using namespace fleet::router;
using namespace fleet::router::testing;
using Catch::Matchers::Contains;
using Catch::Matchers::Equals;
using Catch::Matchers::Matches;

namespace {

std::string devices(const std::string& inside)
{
    return domain_with("<devices>" + inside + "</devices>");
}

std::string bridge(const std::string& inside)
{
    return "<interface type='bridge'>" + inside + "</interface>";
}

}  // namespace

TEST_CASE("interfaces: bridge and network", "[devices][interface]")
{
    const DomainDef d = parsed(devices(bridge("<source bridge='br0'/><model type='virtio'/>") +
                                       "<interface type='network'><source network='default'/></interface>"));
    REQUIRE(d.interfaces.size() == 2);
    CHECK(d.interfaces[0].type == "bridge");
    CHECK(d.interfaces[0].source == "br0");
    CHECK(d.interfaces[0].model == "virtio");
    CHECK(d.interfaces[1].type == "network");
    CHECK(d.interfaces[1].source == "default");
}

TEST_CASE("interfaces: what is refused", "[devices][interface]")
{
    CHECK_THAT(error_of(devices("<interface type='user'/>")),
               Equals("<devices/interface>: type 'user' is not supported (use bridge or network)"));
    CHECK_THAT(error_of(devices("<interface/>")), Equals("<devices/interface>: missing attribute type"));
    CHECK_THAT(error_of(devices(bridge(""))), Equals("<devices/interface>: missing <source bridge='...'/>"));
    CHECK_THAT(error_of(devices(bridge("<source network='default'/>"))),
               Equals("unsupported attribute network='default' on <devices/interface/source>"));
    CHECK_THAT(error_of(devices("<interface type='network'><source bridge='br0'/></interface>")),
               Equals("unsupported attribute bridge='br0' on <devices/interface/source>"));
    CHECK_THAT(error_of(devices(bridge("<source/>"))), Equals("<devices/interface/source>: missing attribute bridge"));
    CHECK_THAT(error_of(devices(bridge("<source bridge='a-very-long-bridge'/>"))),
               Equals("<devices/interface/source>: bridge='a-very-long-bridge' is not a bridge name"));
    CHECK_THAT(error_of(devices(bridge("<source bridge='b r'/>"))),
               Equals("<devices/interface/source>: bridge='b r' is not a bridge name"));
    CHECK_THAT(error_of(devices(bridge("<source bridge='br0'/><model type='e1000'/>"))),
               Equals("<devices/interface/model>: type 'e1000' is not supported (fleet's NICs are virtio)"));
    CHECK_THAT(error_of(devices(bridge("<source bridge='br0'/><source bridge='br1'/>"))),
               Equals("duplicate element <devices/interface/source>"));
    CHECK_THAT(error_of(devices(bridge("<source bridge='br0'>x</source>"))),
               Equals("<devices/interface/source>: takes no text"));
    std::string nine;
    for (int i = 0; i < 9; ++i) nine += bridge("<source bridge='br0'/>");
    CHECK_THAT(error_of(devices(nine)), Equals("<devices/interface>: at most 8 interfaces"));
}

TEST_CASE("MAC addresses: checked, lower-cased, unicast", "[devices][mac]")
{
    auto mac = [](const std::string& address) {
        return devices(bridge("<source bridge='br0'/><mac address='" + address + "'/>"));
    };
    CHECK(parsed(mac("52:54:00:AB:cd:0F")).interfaces[0].mac == "52:54:00:ab:cd:0f");
    CHECK(parsed(mac("02:00:00:00:00:01")).interfaces[0].mac == "02:00:00:00:00:01");
    for (const char* bad : {"52:54:00:ab:cd", "52-54-00-ab-cd-ef", "52:54:00:ab:cd:eg", "5:54:00:ab:cd:ef0", ""})
        CHECK_THAT(error_of(mac(bad)), Equals("<devices/interface/mac>: '" + std::string(bad) +
                                              "' is not a MAC address (six hex pairs: 52:54:00:12:34:56)"));
    CHECK_THAT(
        error_of(mac("01:00:5e:00:00:01")),
        Equals("<devices/interface/mac>: '01:00:5e:00:00:01' is a multicast address; a NIC needs a unicast one"));
    CHECK_THAT(error_of(devices(bridge("<source bridge='br0'/><mac/>"))),
               Equals("<devices/interface/mac>: missing attribute address"));
    CHECK_THAT(error_of(devices(bridge("<source bridge='br0'/><mac address='52:54:00:00:00:01'/>") +
                                bridge("<source bridge='br1'/><mac address='52:54:00:00:00:01'/>"))),
               Equals("<devices/interface/mac>: address '52:54:00:00:00:01' is used twice"));
}

TEST_CASE("MAC addresses are derived from the domain's UUID: stable, distinct", "[devices][mac]")
{
    std::string eight;
    for (int i = 0; i < 8; ++i) eight += bridge("<source bridge='br0'/>");
    const std::string uuid = "<uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fa0</uuid>";
    auto with_uuid = [&](const std::string& inside) { return domain_with(uuid + "<devices>" + inside + "</devices>"); };
    const DomainDef d = parsed(with_uuid(eight));
    std::set<std::string> seen;
    for (const auto& nic : d.interfaces) {
        CHECK_THAT(nic.mac, Matches("0e(:[0-9a-f]{2}){5}"));
        seen.insert(nic.mac);
    }
    CHECK(seen.size() == 8);
    // The same UUID (an undefine and a define, another host): the same MACs.
    CHECK(parsed(with_uuid(eight)).interfaces == d.interfaces);
    // Another UUID: others.
    CHECK(parsed(devices(eight)).interfaces[0].mac != d.interfaces[0].mac);
    // A given MAC that is the first derived one moves the derivation on.
    const DomainDef moved =
        parsed(with_uuid(bridge("<source bridge='br0'/>") +
                         bridge("<source bridge='br1'/><mac address='" + d.interfaces[0].mac + "'/>")));
    CHECK(moved.interfaces[1].mac == d.interfaces[0].mac);
    CHECK(moved.interfaces[0].mac != d.interfaces[0].mac);
    CHECK_THAT(moved.interfaces[0].mac, Matches("0e(:[0-9a-f]{2}){5}"));
}

TEST_CASE("filesystems: libvirt's meaning of <readonly/>", "[devices][filesystem]")
{
    const DomainDef d = parsed(devices(
        "<filesystem><source dir='/srv/a'/><target dir='a'/></filesystem>"
        "<filesystem type='mount' accessmode='passthrough'><source dir='/srv/b'/><target dir='/mnt/b'/><readonly/>"
        "</filesystem>"
        "<filesystem accessmode='squash'><source dir='/'/><target dir='/host'/></filesystem>"));
    REQUIRE(d.filesystems.size() == 3);
    CHECK(d.filesystems[0] == Filesystem{"/srv/a", "a", false});  // no <readonly/>: read-write
    CHECK(d.filesystems[1] == Filesystem{"/srv/b", "/mnt/b", true});
    CHECK(d.filesystems[2] == Filesystem{"/", "/host", false});
}

TEST_CASE("filesystems: what is refused", "[devices][filesystem]")
{
    auto fs = [](const std::string& attrs, const std::string& inside) {
        return devices("<filesystem" + attrs + ">" + inside + "</filesystem>");
    };
    const std::string ok = "<source dir='/srv'/><target dir='/srv'/>";
    CHECK_THAT(error_of(fs(" type='block'", ok)),
               Equals("<devices/filesystem>: type 'block' is not supported (use mount)"));
    CHECK_THAT(error_of(fs(" accessmode='mapped'", ok)),
               Equals("<devices/filesystem>: accessmode 'mapped' is not supported (use passthrough)"));
    CHECK_THAT(error_of(fs(" fmode='0644'", ok)), Equals("unsupported attribute fmode='0644' on <devices/filesystem>"));
    CHECK_THAT(error_of(fs("", "<driver type='virtiofs'/>" + ok)),
               Equals("unsupported element <devices/filesystem/driver>"));
    CHECK_THAT(error_of(fs("", "<target dir='/srv'/>")), Equals("<devices/filesystem>: missing <source dir='...'/>"));
    CHECK_THAT(error_of(fs("", "<source dir='/srv'/>")), Equals("<devices/filesystem>: missing <target dir='...'/>"));
    CHECK_THAT(error_of(fs("", "<source dir='srv'/><target dir='/srv'/>")),
               Equals("<devices/filesystem/source>: dir='srv' is not an absolute path"));
    CHECK_THAT(error_of(fs("", "<source dir='/srv'/><target dir=''/>")),
               Equals("<devices/filesystem/target>: dir='' must be non-empty, without control characters"));
    CHECK_THAT(error_of(fs("", "<source dir='/srv'/><target dir='/my&#9;share'/>")),
               Contains("must be non-empty, without control characters"));
    // Blanks are fine: the guest learns its mount points from the exec block.
    CHECK(parsed(fs("", "<source dir='/srv'/><target dir='/my share, v2'/>")).filesystems[0].target_dir ==
          "/my share, v2");
    CHECK_THAT(error_of(fs("", ok + "<readonly>yes</readonly>")),
               Equals("<devices/filesystem/readonly>: takes no text"));
    CHECK_THAT(error_of(devices("<filesystem>" + ok + "</filesystem><filesystem>" + ok + "</filesystem>")),
               Equals("<devices/filesystem>: target dir='/srv' is used twice"));
    std::string nine;
    for (int i = 0; i < 9; ++i)
        nine += "<filesystem><source dir='/s'/><target dir='/t" + std::to_string(i) + "'/></filesystem>";
    CHECK_THAT(error_of(devices(nine)), Equals("<devices/filesystem>: at most 8 filesystems"));
}

TEST_CASE("console and serial: one pty on serial port 0", "[devices][console]")
{
    CHECK_FALSE(parsed(devices("")).console);
    CHECK(parsed(devices("<console type='pty'/>")).console);
    CHECK(parsed(devices("<console type='pty'><target type='serial' port='0'/></console>")).console);
    CHECK(parsed(devices("<serial type='pty'/>")).console);
    CHECK(parsed(devices("<serial type='pty'><target port='0'/></serial>")).console);
    CHECK(parsed(devices("<serial type='pty'><target type='isa-serial' port='0'><model name='isa-serial'/></target>"
                         "</serial><console type='pty'><target type='serial' port='0'/></console>"))
              .console);
    CHECK_THAT(error_of(devices("<console type='pty'/><console type='pty'/>")),
               Equals("duplicate element <devices/console>"));
    CHECK_THAT(error_of(devices("<serial type='pty'/><serial type='pty'/>")),
               Equals("duplicate element <devices/serial>"));
    CHECK_THAT(error_of(devices("<console/>")), Equals("<devices/console>: missing attribute type"));
    CHECK_THAT(error_of(devices("<console type='pty'><target type='virtio'/></console>")),
               Equals("<devices/console/target>: type 'virtio' is not supported (use 'serial')"));
    CHECK_THAT(error_of(devices("<console type='pty'><target port='1'/></console>")),
               Equals("<devices/console/target>: port '1' is not supported (fleet has one serial port, 0)"));
    CHECK_THAT(error_of(devices("<serial type='pty'><target type='serial'/></serial>")),
               Equals("<devices/serial/target>: type 'serial' is not supported (use 'isa-serial')"));
    CHECK_THAT(error_of(devices("<serial type='pty'><target><model name='pci-serial'/></target></serial>")),
               Equals("<devices/serial/target/model>: name 'pci-serial' is not supported (use isa-serial)"));
    CHECK_THAT(error_of(devices("<console type='pty'><source path='/dev/pts/3'/></console>")),
               Equals("unsupported element <devices/console/source>"));
}

TEST_CASE("emulator and memballoon: accepted when they say what fleet does", "[devices]")
{
    CHECK(parse_domain_xml(devices("<emulator>/usr/bin/qemu-system-x86_64</emulator>")));
    CHECK(parse_domain_xml(devices("<emulator>qemu-system-x86_64</emulator>")));
    CHECK(parse_domain_xml(devices("<memballoon model='none'/>")));
    CHECK_THAT(error_of(devices("<emulator>/usr/bin/qemu-system-aarch64</emulator>")),
               Equals("<devices/emulator>: '/usr/bin/qemu-system-aarch64' is not supported; fleet runs its own "
                      "qemu-system-x86_64"));
    CHECK_THAT(error_of(devices("<memballoon model='virtio'/>")),
               Equals("<devices/memballoon>: model 'virtio' is not supported (use none: fleet's microvm has no "
                      "balloon)"));
    CHECK_THAT(error_of(devices("<memballoon model='none'><address type='pci'/></memballoon>")),
               Equals("unsupported element <devices/memballoon/address>"));
}
