// router-domain-unit — format_domain_xml: libvirt's look, and the round
// trip parse(format(d)) == d for the samples and for random definitions.
#include "helpers.hpp"

#include <random>

using namespace fleet::router;
using namespace fleet::router::testing;

namespace {

DomainDef roundtrip(const DomainDef& d)
{
    const std::string text = format_domain_xml(d);
    auto again = parse_domain_xml(text);
    if (!again) FAIL(again.error().what() << "\n" << text);
    return *again;
}

}  // namespace

TEST_CASE("format: a clean document in libvirt's order and look", "[format]")
{
    DomainDef d;
    d.type = "kvm";
    d.name = "web";
    d.uuid = *parse_uuid("c7a5fdbd-edaf-9455-926a-d65c16db1809");
    d.title = "It's <web>";
    d.memory_kib = 65536;
    d.vcpus = 2;
    d.kernel = "/k";
    d.cmdline = "a & b";
    d.image = "httpd";
    d.args = {"-f", ""};
    d.interfaces = {{"bridge", "fleet0", "52:54:00:00:00:01", "virtio"}};
    d.filesystems = {{"/srv", "/mnt/srv", true}, {"/tmp/x", "/x", false}};
    d.foreign_metadata = {"<a:b xmlns:a='urn:a'/>"};
    CHECK(format_domain_xml(d, 3) == R"(<domain type='kvm' id='3'>
  <name>web</name>
  <uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid>
  <title>It's &lt;web&gt;</title>
  <metadata xmlns:fleet='https://fleet.dev/xmlns/domain/1'>
    <fleet:image>httpd</fleet:image>
    <fleet:arg>-f</fleet:arg>
    <fleet:arg></fleet:arg>
    <a:b xmlns:a='urn:a'/>
  </metadata>
  <memory unit='KiB'>65536</memory>
  <currentMemory unit='KiB'>65536</currentMemory>
  <vcpu placement='static'>2</vcpu>
  <os>
    <type arch='x86_64' machine='microvm'>hvm</type>
    <kernel>/k</kernel>
    <cmdline>a &amp; b</cmdline>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <filesystem type='mount' accessmode='passthrough'>
      <source dir='/srv'/>
      <target dir='/mnt/srv'/>
      <readonly/>
    </filesystem>
    <filesystem type='mount' accessmode='passthrough'>
      <source dir='/tmp/x'/>
      <target dir='/x'/>
    </filesystem>
    <interface type='bridge'>
      <mac address='52:54:00:00:00:01'/>
      <source bridge='fleet0'/>
      <model type='virtio'/>
    </interface>
    <console type='pty'>
      <target type='serial' port='0'/>
    </console>
  </devices>
</domain>
)");
    CHECK(roundtrip(d) == d);
}

TEST_CASE("format: no memory, no devices, no metadata when there are none", "[format]")
{
    DomainDef d;
    d.name = "tiny";
    d.kernel = "/k";
    d.console = false;
    const std::string text = format_domain_xml(d);
    CHECK(text.find("<memory") == std::string::npos);
    CHECK(text.find("<devices") == std::string::npos);
    CHECK(text.find("<metadata") == std::string::npos);
    CHECK(text.find(" id=") == std::string::npos);
    CHECK(roundtrip(d) == d);
}

TEST_CASE("the samples survive format and parse", "[format][samples]")
{
    for (const char* name : {"minimal.xml", "image.xml", "full.xml"}) {
        INFO(name);
        const DomainDef d = parsed(sample(name));
        CHECK(roundtrip(d) == d);
        CHECK(format_domain_xml(roundtrip(d)) == format_domain_xml(d));
    }
}

TEST_CASE("text that XML makes hard survives the round trip", "[format]")
{
    DomainDef d;
    d.name = "t";
    d.kernel = "/k";
    for (std::string text : {"a\r\nb\rc", "\t tab ", "]]> <![CDATA[", "&amp; &lt; &#13;", "'\"'", "\x01\x1f\x7f",
                             "caf\xc3\xa9 \xe2\x9c\x93", "\xff\xfe not utf-8", " ", "\n"}) {
        INFO(text);
        d.description = text;
        d.cmdline = text;
        d.args = {text, text};
        d.filesystems = {{"/" + text, "/t", true}};
        CHECK(roundtrip(d) == d);
    }
}

TEST_CASE("random definitions survive the round trip", "[format][random]")
{
    std::mt19937 rng(42);
    auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
    const std::string alphabet = "abcXYZ019 .-_<>&'\"\t\n\r;/=\x01\xc3\xa9";
    auto text = [&](std::size_t max) {
        std::string s;
        for (std::size_t n = pick(max + 1); n > 0; --n) s += alphabet[pick(alphabet.size())];
        return s;
    };
    for (int round = 0; round < 500; ++round) {
        DomainDef d;
        d.type = pick(2) ? "qemu" : "kvm";
        d.name = "vm" + std::to_string(pick(1000)) + (pick(2) ? ".x_y-z" : "");
        d.uuid = random_uuid();
        d.title = text(10);
        std::erase(d.title, '\n');
        d.description = text(30);
        d.memory_kib = pick(3) ? 2048 + pick(1u << 30) : 0;
        d.vcpus = 1 + static_cast<unsigned>(pick(64));
        d.kernel = pick(2) ? "/k" + text(8) : "";
        d.initrd = pick(2) ? text(8) : "";
        d.cmdline = text(20);
        d.image = d.kernel.empty() || pick(2) ? "img" + text(5) : "";
        for (std::size_t n = pick(4); n > 0; --n) d.args.push_back(text(6));
        d.console = pick(2);
        for (std::size_t n = pick(3); n > 0; --n)
            d.interfaces.push_back({pick(2) ? "bridge" : "network", "br" + std::to_string(n),
                                    "52:54:00:00:00:0" + std::to_string(n), "virtio"});
        for (std::size_t n = pick(3); n > 0; --n)
            d.filesystems.push_back({"/" + text(8), "/t" + std::to_string(n), pick(2) == 1});
        INFO(format_domain_xml(d));
        CHECK(roundtrip(d) == d);
    }
}
