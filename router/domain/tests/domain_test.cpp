// router-domain-unit — parse_domain_xml on whole documents: the samples,
// the <domain> element and its simple children, syntax errors, bounds.
#include "helpers.hpp"

using namespace fleet::router;
using namespace fleet::router::testing;
using Catch::Matchers::Contains;
using Catch::Matchers::Equals;
using Catch::Matchers::StartsWith;

TEST_CASE("a minimal virsh-style document: a kernel path", "[domain][samples]")
{
    const DomainDef d = parsed(sample("minimal.xml"));
    CHECK(d.type == "qemu");
    CHECK(d.name == "hello");
    CHECK(d.memory_kib == 64 * 1024);
    CHECK(d.vcpus == 1);
    CHECK(d.kernel == "/usr/share/fleet/images/hello.elf");
    CHECK(d.initrd.empty());
    CHECK(d.image.empty());
    CHECK_FALSE(d.console);
    CHECK(d.interfaces.empty());
    CHECK(d.uuid != Uuid{});  // made up
    CHECK((d.uuid[6] >> 4) == 4);
}

TEST_CASE("a document naming a fleet image and its arguments", "[domain][samples]")
{
    const DomainDef d = parsed(sample("image.xml"));
    CHECK(d.type == "kvm");
    CHECK(d.name == "upper");
    CHECK(format_uuid(d.uuid) == "c7a5fdbd-edaf-9455-926a-d65c16db1809");
    CHECK(d.title == "upper-cases its input");
    CHECK(d.image == "upper");
    CHECK(d.args == std::vector<std::string>{"--verbose", "two words"});
    CHECK(d.kernel.empty());
    CHECK(d.memory_kib == 0);  // the image's default
    CHECK(d.console);
}

TEST_CASE("a document with everything fleet supports", "[domain][samples]")
{
    const DomainDef d = parsed(sample("full.xml"));
    CHECK(d.name == "web-1");
    CHECK(format_uuid(d.uuid) == "c7a5fdbd-edaf-9455-926a-d65c16db1809");
    CHECK(d.description == "Serves the docs.\nTwo lines, & an ampersand.");
    CHECK(d.memory_kib == 1024 * 1024);
    CHECK(d.vcpus == 2);
    CHECK(d.kernel == "/var/lib/fleet/kernels/vmlinuz");
    CHECK(d.initrd == "/var/lib/fleet/kernels/initrd.img");
    CHECK(d.cmdline == "quiet tsc_early_khz=2100000");
    CHECK(d.image == "linux/busybox");
    CHECK(d.args == std::vector<std::string>{"httpd", "-f"});
    CHECK(d.console);
    REQUIRE(d.filesystems.size() == 2);
    CHECK(d.filesystems[0] == Filesystem{"/srv/www", "/var/www", true});
    CHECK(d.filesystems[1] == Filesystem{"/srv/logs", "/var/log/httpd", false});
    REQUIRE(d.interfaces.size() == 2);
    CHECK(d.interfaces[0] == Interface{"bridge", "fleet0", "52:54:00:ab:cd:ef", "virtio"});
    CHECK(d.interfaces[1].type == "network");
    CHECK(d.interfaces[1].source == "default");
    CHECK_THAT(d.interfaces[1].mac, Catch::Matchers::StartsWith("0e:"));  // derived from the UUID
    REQUIRE(d.foreign_metadata.size() == 1);
    CHECK(d.foreign_metadata[0] ==
          "<app:owner xmlns:app='https://example.org/app'><app:team id='7'>docs</app:team></app:owner>");
}

TEST_CASE("<domain>: type qemu or kvm, an id, nothing else", "[domain]")
{
    CHECK(parsed(domain_with("", "type='kvm' id='12'")).type == "kvm");
    CHECK(parsed(domain_with("", "type='qemu' id='-1'")).type == "qemu");
    CHECK_THAT(error_of(domain_with("", "type='xen'")),
               Equals("<domain>: type 'xen' is not supported (use qemu or kvm)"));
    CHECK_THAT(error_of(domain_with("", "")), Equals("<domain>: missing attribute type"));
    CHECK_THAT(error_of(domain_with("", "type='qemu' id='x'")), Equals("<domain>: id 'x' is not a number"));
    CHECK_THAT(error_of(domain_with("", "type='qemu' xmlns='urn:x'")),
               Equals("unsupported attribute xmlns='urn:x' on <domain>"));
    // Namespace declarations are not data (virsh dumpxml declares xmlns:qemu).
    CHECK(parse_domain_xml(domain_with("", "type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'")));
}

TEST_CASE("elements outside the subset are refused by name, with their path", "[domain][refusals]")
{
    CHECK_THAT(error_of(domain_with("<cpu mode='host-passthrough'><topology sockets='1'/></cpu>")),
               Equals("unsupported element <cpu/topology>"));
    CHECK_THAT(error_of(domain_with("<devices><disk type='file'><boot order='1'/></disk></devices>")),
               Equals("unsupported element <devices/disk/boot>"));
    CHECK_THAT(error_of(domain_with("<devices><interface type='bridge'><source bridge='br0'/>"
                                    "<target dev='vnet0'/></interface></devices>")),
               Equals("unsupported element <devices/interface/target>"));
    CHECK_THAT(error_of(domain_with("<qemu:commandline xmlns:qemu='urn:q'/>")),
               Equals("unsupported element <qemu:commandline>"));
    CHECK_THAT(error_of(domain_with("<name>u</name>")), Equals("duplicate element <name>"));
    CHECK_THAT(error_of(domain_with("<features><hyperv/></features>")),
               Equals("unsupported element <features/hyperv>"));
    CHECK_THAT(error_of(domain_with("<clock offset='utc'><timer name='rtc'><catchup/></timer></clock>")),
               Equals("unsupported element <clock/timer/catchup>"));
    CHECK_THAT(error_of(domain_with("<os><boot dev='hd'/></os>")), Contains("duplicate element <os>"));
    CHECK_THAT(error_of("<domain type='qemu'><name>t</name><os><kernel>/k</kernel><boot dev='hd'/></os></domain>"),
               Equals("unsupported element <os/boot>"));
    CHECK_THAT(error_of(domain_with("<name2>x</name2>")), Equals("unsupported element <name2>"));
    CHECK_THAT(error_of(domain_with("stray")), Equals("unexpected text in <domain>"));
    CHECK_THAT(error_of(domain_with("<devices>stray</devices>")), Equals("unexpected text in <devices>"));
}

TEST_CASE("unsupported attributes are refused by name and value", "[domain][refusals]")
{
    CHECK_THAT(error_of(domain_with("<memory dumpCore='on'>65536</memory>")),
               Equals("unsupported attribute dumpCore='on' on <memory>"));
    CHECK_THAT(error_of(domain_with("<devices><console type='pty' tty='/dev/pts/1'/></devices>")),
               Equals("unsupported attribute tty='/dev/pts/1' on <devices/console>"));
    CHECK_THAT(error_of(domain_with("<devices><console type='file'/></devices>")),
               Equals("<devices/console>: type 'file' is not supported (use pty)"));
    CHECK_THAT(error_of(domain_with("<vcpu cpuset='1-2'>1</vcpu>")),
               Equals("unsupported attribute cpuset='1-2' on <vcpu>"));
    std::string long_value(200, 'v');
    CHECK_THAT(error_of(domain_with("<vcpu cpuset='" + long_value + "'>1</vcpu>")),
               Equals("unsupported attribute cpuset='" + long_value.substr(0, 61) + "...' on <vcpu>"));
}

TEST_CASE("<name> is required and checked", "[domain]")
{
    CHECK_THAT(error_of("<domain type='qemu'><os><kernel>/k</kernel></os></domain>"), Equals("missing <name>"));
    CHECK_THAT(error_of("<domain type='qemu'><name>a b</name><os><kernel>/k</kernel></os></domain>"),
               Equals("<name>: bad domain name 'a b' (1 to 64 letters, digits, '.', '_' or '-', starting with a "
                      "letter or digit)"));
    CHECK_THAT(error_of("<domain type='qemu'><name>../x</name><os><kernel>/k</kernel></os></domain>"),
               StartsWith("<name>: bad domain name"));
}

TEST_CASE("a kernel or an image is required; both may be given", "[domain]")
{
    CHECK_THAT(error_of("<domain type='qemu'><name>t</name></domain>"),
               StartsWith("nothing to boot: give <os><kernel> or <metadata><fleet:image>"));
    const DomainDef d =
        parsed(domain_with("<metadata><fleet:image xmlns:fleet='https://fleet.dev/xmlns/domain/1'>"
                           "hello</fleet:image></metadata>"));
    CHECK(d.kernel == "/k");
    CHECK(d.image == "hello");
    // No <os> at all is fine with an image.
    CHECK(parsed("<domain type='qemu'><name>t</name><metadata><i:image xmlns:i='https://fleet.dev/xmlns/domain/1'>"
                 "hello</i:image></metadata></domain>")
              .image == "hello");
}

TEST_CASE("<os>: hvm, x86_64, microvm", "[domain][os]")
{
    auto os = [](const std::string& type) {
        return "<domain type='qemu'><name>t</name><os>" + type + "<kernel>/k</kernel></os></domain>";
    };
    CHECK(parse_domain_xml(os("<type>hvm</type>")));
    CHECK(parse_domain_xml(os("<type arch='x86_64'> hvm </type>")));
    CHECK_THAT(error_of(os("<type>linux</type>")),
               Equals("<os/type>: 'linux' is not supported; fleet runs hvm guests only"));
    CHECK_THAT(error_of(os("<type arch='aarch64'>hvm</type>")),
               Equals("<os/type>: arch 'aarch64' is not supported; fleet runs x86_64 only"));
    CHECK_THAT(error_of(os("<type machine='pc-q35-7.2'>hvm</type>")),
               Equals("<os/type>: machine 'pc-q35-7.2' is not supported; fleet runs microvm only"));
    CHECK_THAT(error_of(os("<type>hvm</type><kernel>/k</kernel>")), Equals("duplicate element <os/kernel>"));
    CHECK_THAT(error_of(os("<loader>/ovmf</loader>")), Equals("unsupported element <os/loader>"));
    CHECK_THAT(error_of(os("<kernel2/>")), Equals("unsupported element <os/kernel2>"));
    const DomainDef d = parsed(
        "<domain type='qemu'><name>t</name><os><kernel>/k</kernel><initrd>/i</initrd>"
        "<cmdline> console=ttyS0 </cmdline></os></domain>");
    CHECK(d.initrd == "/i");
    CHECK(d.cmdline == " console=ttyS0 ");  // as written
}

TEST_CASE("lifecycle actions: destroy only", "[domain]")
{
    CHECK(
        parse_domain_xml(domain_with("<on_poweroff>destroy</on_poweroff><on_reboot>\n destroy\n</on_reboot>"
                                     "<on_crash>destroy</on_crash>")));
    CHECK_THAT(
        error_of(domain_with("<on_reboot>restart</on_reboot>")),
        Equals("<on_reboot>: 'restart' is not supported (a fleet domain ends when its guest stops: use destroy)"));
    CHECK_THAT(error_of(domain_with("<on_crash>coredump-destroy</on_crash>")),
               StartsWith("<on_crash>: 'coredump-destroy'"));
}

TEST_CASE("clock utc and features acpi are accepted", "[domain]")
{
    CHECK(parse_domain_xml(domain_with("<clock offset='utc'/><features><acpi/></features>")));
    CHECK(parse_domain_xml(domain_with("<clock/><features/>")));
    CHECK_THAT(error_of(domain_with("<clock offset='localtime'/>")),
               Equals("<clock>: offset 'localtime' is not supported (use utc)"));
    CHECK_THAT(error_of(domain_with("<features><acpi/><acpi/></features>")),
               Equals("duplicate element <features/acpi>"));
    CHECK_THAT(error_of(domain_with("<features><acpi state='on'/></features>")),
               Equals("unsupported attribute state='on' on <features/acpi>"));
}

TEST_CASE("title is one line, description any text", "[domain]")
{
    CHECK(parsed(domain_with("<title>A &lt;title&gt;</title>")).title == "A <title>");
    CHECK_THAT(error_of(domain_with("<title>a\nb</title>")), Equals("<title>: must be a single line (as in libvirt)"));
    CHECK(parsed(domain_with("<description><![CDATA[<raw>]]> &amp; more</description>")).description == "<raw> & more");
    CHECK(parsed(domain_with("<description>  </description>")).description == "  ");
    CHECK_THAT(error_of(domain_with("<description>a<b/></description>")),
               Equals("unsupported element <description/b>"));
}

TEST_CASE("syntax errors say what and where", "[domain][syntax]")
{
    CHECK_THAT(error_of("<domain type='qemu'><name>t</nam></domain>"),
               Equals("domain XML: Start-end tags mismatch at offset 29"));
    CHECK_THAT(error_of(""), Equals("domain XML: No document element found at offset 0"));
    CHECK_THAT(error_of("<domain"), StartsWith("domain XML: "));
    CHECK_THAT(error_of("<vm/>"), Equals("domain XML: the root element is <vm>, not <domain>"));
    CHECK_THAT(error_of(domain_with("") + "<domain/>"), Equals("domain XML: extra content after </domain>"));
    CHECK_THAT(error_of("<domain type='qemu' type='kvm'><name>t</name></domain>"),
               Equals("domain XML: duplicate attribute type on <domain>"));
}

TEST_CASE("bounds: 1 MiB, 32 levels", "[domain][bounds]")
{
    const std::string pad(1024 * 1024, ' ');
    CHECK_THAT(error_of(domain_with("") + pad), Equals("domain XML: too large (1048647 bytes, at most 1 MiB)"));
    CHECK(parse_domain_xml(domain_with("") + pad.substr(0, 1024 * 1024 - domain_with("").size())));

    auto nested = [](int levels) {  // <domain> is level 1, <metadata> 2
        std::string open, close;
        for (int i = 0; i < levels - 2; ++i) {
            open += "<x:n>";
            close = "</x:n>" + close;
        }
        return domain_with("<metadata xmlns:x='urn:x'>" + open + close + "</metadata>");
    };
    CHECK(parse_domain_xml(nested(32)));
    CHECK_THAT(error_of(nested(33)), Equals("domain XML: nested deeper than 32 elements"));
    CHECK_THAT(error_of(nested(90000)), Equals("domain XML: nested deeper than 32 elements"));
}

// A character reference to NUL used to cut a value short (<title>a&#0;b
// was "a"); it, references to no character at all and raw control bytes
// are malformed XML: XML_ERROR, never a truncated value.
TEST_CASE("NUL and no-character references are refused, and raw control bytes", "[domain][syntax]")
{
    for (const std::string& bad :
         std::vector<std::string>{"a&#0;b", "a&#x0;b", "a&#x00000;b", "a&#xD800;b", "a&#xDFFF;b", "a&#1114112;b",
                                  "a&#99999999999999999999;b", std::string("a\x01") + "b"}) {
        INFO(bad);
        auto def = parse_domain_xml(domain_with("<title>" + bad + "</title>"));
        REQUIRE_FALSE(def);
        CHECK_FALSE(is_unsupported_configuration(def.error()));
        CHECK_THAT(def.error().message, StartsWith("domain XML: "));
    }
    auto attr = parse_domain_xml(domain_with("<description>d</description>", "type='qemu&#0;'"));
    REQUIRE_FALSE(attr);
    CHECK_THAT(attr.error().message, Contains("'&#0;'"));
    // Allowed ones still read; a reference inside a comment or CDATA is text.
    CHECK(parsed(domain_with("<description>a&#9;&#x41;&#233;&#x1F600;&#1;</description>")).description ==
          "a\tA\xC3\xA9\xF0\x9F\x98\x80\x01");
    CHECK(parsed(domain_with("<!-- &#0; --><title><![CDATA[&#0;]]></title>")).title == "&#0;");
}
