// router-domain-unit — <metadata>: fleet's elements by namespace URI, and
// other namespaces' elements kept as XML text that stands on its own.
#include "helpers.hpp"

using namespace fleet::router;
using namespace fleet::router::testing;
using Catch::Matchers::Equals;

namespace {

const std::string ns = "'https://fleet.dev/xmlns/domain/1'";

std::string metadata(const std::string& inside, const std::string& attrs = "")
{
    return "<domain type='qemu'><name>t</name><metadata" + attrs + ">" + inside + "</metadata></domain>";
}

}  // namespace

TEST_CASE("fleet's elements are found by URI, whatever the prefix", "[metadata]")
{
    CHECK(parsed(metadata("<fleet:image>hello</fleet:image>", " xmlns:fleet=" + ns)).image == "hello");
    CHECK(parsed(metadata("<x:image xmlns:x=" + ns + ">hello</x:image>")).image == "hello");
    CHECK(parsed(metadata("<image xmlns=" + ns + ">hello</image>")).image == "hello");
    CHECK(parsed("<domain type='qemu' xmlns:f=" + ns +
                 "><name>t</name><metadata><f:image>hi</f:image>"
                 "<f:arg>a</f:arg></metadata></domain>")
              .args == std::vector<std::string>{"a"});
    // The same prefix bound to another URI is someone else's element.
    CHECK_THAT(error_of(metadata("<fleet:image xmlns:fleet='urn:other'>hello</fleet:image>")),
               Catch::Matchers::StartsWith("nothing to boot"));
}

TEST_CASE("fleet:arg keeps order, blanks and empties", "[metadata]")
{
    const DomainDef d =
        parsed(metadata("<f:image>cat</f:image><f:arg>-n</f:arg><f:arg> x y </f:arg><f:arg/>"
                        "<f:arg><![CDATA[<&>]]></f:arg>",
                        " xmlns:f=" + ns));
    CHECK(d.args == std::vector<std::string>{"-n", " x y ", "", "<&>"});
}

TEST_CASE("fleet's elements: what is refused", "[metadata]")
{
    const std::string decl = " xmlns:fleet=" + ns;
    CHECK_THAT(error_of(metadata("<fleet:image>a</fleet:image><fleet:image>b</fleet:image>", decl)),
               Equals("duplicate element <metadata/fleet:image>"));
    CHECK_THAT(error_of(metadata("<fleet:image> </fleet:image>", decl)),
               Equals("<metadata/fleet:image>: names no image"));
    CHECK_THAT(error_of(metadata("<fleet:memory>64</fleet:memory>", decl)),
               Equals("unsupported element <metadata/fleet:memory>"));
    CHECK_THAT(error_of(metadata("<fleet:image version='2'>a</fleet:image>", decl)),
               Equals("unsupported attribute version='2' on <metadata/fleet:image>"));
    CHECK_THAT(error_of(metadata("<fleet:image><fleet:name>a</fleet:name></fleet:image>", decl)),
               Equals("unsupported element <metadata/fleet:image/fleet:name>"));
    // A declaration on one element does not reach its sibling.
    CHECK_THAT(error_of(metadata("<fleet:image xmlns:fleet=" + ns + ">a</fleet:image><fleet:arg>x</fleet:arg>")),
               Equals("<metadata/fleet:arg>: namespace prefix 'fleet' is not declared"));
    CHECK_THAT(error_of(metadata("text")), Equals("unexpected text in <metadata>"));
    CHECK_THAT(error_of(metadata("", " xmlns='urn:x'")), Equals("unsupported attribute xmlns='urn:x' on <metadata>"));
}

TEST_CASE("other namespaces' elements are kept, standing on their own", "[metadata][foreign]")
{
    const std::string image = "<f:image>hello</f:image>";
    const DomainDef d = parsed(metadata(image + "<app:a xmlns:app='urn:app' k=\"v\">text<app:b/>more</app:a>"
                                                "<lib:c><lib:d lib:attr='1' xml:lang='en'/></lib:c>"
                                                "<plain>no namespace</plain>"
                                                "<f:image xmlns:f='urn:not-fleet'>x</f:image>",
                                        " xmlns:f=" + ns + " xmlns:lib='urn:lib' xmlns:unused='urn:u'"));
    CHECK(d.image == "hello");
    CHECK(d.foreign_metadata == std::vector<std::string>{
                                    "<app:a xmlns:app='urn:app' k='v'>text<app:b/>more</app:a>",
                                    "<lib:c xmlns:lib='urn:lib'><lib:d lib:attr='1' xml:lang='en'/></lib:c>",
                                    "<plain>no namespace</plain>",
                                    "<f:image xmlns:f='urn:not-fleet'>x</f:image>",
                                });
    CHECK_THAT(error_of(metadata(image + "<x:a/>", " xmlns:f=" + ns)),
               Equals("<metadata/x:a>: namespace prefix 'x' is not declared"));
    CHECK_THAT(error_of(metadata(image + "<a:a xmlns:a='urn:a'><b:b/></a:a>", " xmlns:f=" + ns)),
               Equals("<metadata/a:a>: namespace prefix 'b' is not declared"));
}

TEST_CASE("kept metadata reads back as itself", "[metadata][foreign]")
{
    const DomainDef d =
        parsed(metadata("<f:image>hi</f:image><a:x xmlns:a='urn:a'>line&#13;break &amp; &#1;"
                        "<![CDATA[ <raw> ]]><a:y> </a:y></a:x>",
                        " xmlns:f=" + ns));
    REQUIRE(d.foreign_metadata.size() == 1);
    CHECK(d.foreign_metadata[0] ==
          "<a:x xmlns:a='urn:a'>line&#13;break &amp; &#01;<![CDATA[ <raw> ]]><a:y> </a:y></a:x>");
    auto again = parse_domain_xml(format_domain_xml(d));
    REQUIRE(again);
    CHECK(*again == d);
}

TEST_CASE("fleet:env and fleet:workdir: parsed, kept in order, written back", "[metadata][env]")
{
    const DomainDef d =
        parsed(metadata("<f:image>linux-sh</f:image><f:arg>-c</f:arg><f:arg>echo \"$A\"</f:arg>"
                        "<f:env name='A' value='x y'/><f:env name='EMPTY' value=''/>"
                        "<f:env name='NL' value='a&#10;b&apos;c'/><f:workdir>/src/sub dir</f:workdir>",
                        " xmlns:f=" + ns));
    using Env = std::vector<std::pair<std::string, std::string>>;
    CHECK(d.env == Env{{"A", "x y"}, {"EMPTY", ""}, {"NL", "a\nb'c"}});
    CHECK(d.workdir == "/src/sub dir");
    // dumpxml round trip: written back, read back the same.
    const std::string xml = format_domain_xml(d);
    CHECK(xml.find("<fleet:env name='NL' value='a&#10;b&apos;c'/>") != std::string::npos);
    CHECK(xml.find("<fleet:workdir>/src/sub dir</fleet:workdir>") != std::string::npos);
    CHECK(parsed(xml) == d);
}

TEST_CASE("fleet:env and fleet:workdir: what is refused", "[metadata][env]")
{
    const std::string x = " xmlns:f=" + ns;
    CHECK_THAT(error_of(metadata("<f:image>a</f:image><f:env value='1'/>", x)),
               Catch::Matchers::Contains("missing attribute name"));
    CHECK_THAT(error_of(metadata("<f:image>a</f:image><f:env name='A'/>", x)),
               Catch::Matchers::Contains("missing attribute value"));
    CHECK_THAT(error_of(metadata("<f:image>a</f:image><f:env name='' value='1'/>", x)),
               Catch::Matchers::Contains("not a variable name"));
    CHECK_THAT(error_of(metadata("<f:image>a</f:image><f:env name='A=B' value='1'/>", x)),
               Catch::Matchers::Contains("not a variable name"));
    CHECK_THAT(error_of(metadata("<f:image>a</f:image><f:env name='A' value='1' other='2'/>", x)),
               Catch::Matchers::Contains("unsupported attribute"));
    CHECK_THAT(error_of(metadata("<f:image>a</f:image><f:env name='A' value='1'>text</f:env>", x)),
               Catch::Matchers::Contains("f:env"));
    CHECK_THAT(error_of(metadata("<f:image>a</f:image><f:workdir>relative</f:workdir>", x)),
               Catch::Matchers::Contains("not an absolute path"));
    CHECK_THAT(error_of(metadata("<f:image>a</f:image><f:workdir>/a</f:workdir><f:workdir>/b</f:workdir>", x)),
               Catch::Matchers::Contains("duplicate"));
}

TEST_CASE("fleet:net and fleet:groups: for the router's firewall, written back as given", "[metadata][net]")
{
    const DomainDef d = parsed(metadata(
        "<f:image>a</f:image><f:net outbound='yes'/><f:groups> backend\tweb\n  db-1.x </f:groups>", " xmlns:f=" + ns));
    CHECK(d.outbound == true);
    CHECK(d.groups == std::vector<std::string>{"backend", "web", "db-1.x"});
    const std::string xml = format_domain_xml(d);
    CHECK(xml.find("<fleet:net outbound='yes'/>") != std::string::npos);
    CHECK(xml.find("<fleet:groups>backend web db-1.x</fleet:groups>") != std::string::npos);
    CHECK(parsed(xml) == d);
    const DomainDef off = parsed(metadata("<f:image>a</f:image><f:net outbound='no'/>", " xmlns:f=" + ns));
    CHECK(off.outbound == false);
    CHECK(format_domain_xml(off).find("<fleet:net outbound='no'/>") != std::string::npos);
    CHECK_FALSE(parsed(metadata("<f:image>a</f:image>", " xmlns:f=" + ns)).outbound.has_value());
}

TEST_CASE("fleet:net and fleet:groups: what is refused", "[metadata][net]")
{
    const std::string x = " xmlns:f=" + ns;
    CHECK_THAT(error_of(metadata("<f:image>a</f:image><f:net outbound='maybe'/>", x)),
               Equals("<metadata/f:net>: outbound 'maybe' is not yes or no"));
    CHECK_THAT(error_of(metadata("<f:image>a</f:image><f:net/>", x)),
               Catch::Matchers::Contains("missing attribute outbound"));
    CHECK_THAT(error_of(metadata("<f:image>a</f:image><f:net outbound='yes'/><f:net outbound='no'/>", x)),
               Equals("duplicate element <metadata/f:net>"));
    CHECK_THAT(error_of(metadata("<f:image>a</f:image><f:net outbound='yes' nat='1'/>", x)),
               Catch::Matchers::Contains("unsupported attribute nat='1'"));
    CHECK_THAT(error_of(metadata("<f:image>a</f:image><f:groups>web -bad</f:groups>", x)),
               Equals("<metadata/f:groups>: '-bad' is not a group name ([A-Za-z0-9_][A-Za-z0-9_.-]*, at most 64)"));
    CHECK_THAT(error_of(metadata("<f:image>a</f:image><f:groups>web web</f:groups>", x)),
               Equals("<metadata/f:groups>: group 'web' is named twice"));
    CHECK_THAT(error_of(metadata("<f:image>a</f:image><f:groups> </f:groups>", x)),
               Equals("<metadata/f:groups>: names no group"));
    CHECK_THAT(error_of(metadata("<f:image>a</f:image><f:groups>a</f:groups><f:groups>b</f:groups>", x)),
               Equals("duplicate element <metadata/f:groups>"));
    CHECK_THAT(error_of(metadata("<f:image>a</f:image><f:groups>" + std::string(65, 'g') + "</f:groups>", x)),
               Catch::Matchers::Contains("is not a group name"));
}

TEST_CASE("fleet:hypervisor: a channel's quotas, written back in MiB", "[metadata][hypervisor]")
{
    const std::string x = " xmlns:f=" + ns;
    const DomainDef d = parsed(metadata("<f:image>a</f:image><f:hypervisor children='8' memory='1G' depth='2'/>", x));
    REQUIRE(d.hypervisor.has_value());
    CHECK(d.hypervisor->children == 8);
    CHECK(d.hypervisor->memory_mib == 1024);
    CHECK(d.hypervisor->depth == 2);
    const std::string xml = format_domain_xml(d);
    CHECK(xml.find("<fleet:hypervisor children='8' memory='1024MiB' depth='2'/>") != std::string::npos);
    CHECK(parsed(xml) == d);
    CHECK_FALSE(parsed(metadata("<f:image>a</f:image>", x)).hypervisor.has_value());
}

TEST_CASE("fleet:hypervisor: what is refused", "[metadata][hypervisor]")
{
    const std::string x = " xmlns:f=" + ns;
    auto h = [&](const std::string& attrs) {
        return error_of(metadata("<f:image>a</f:image><f:hypervisor " + attrs + "/>", x));
    };
    CHECK_THAT(h("children='0' memory='64M' depth='1'"),
               Equals("<metadata/f:hypervisor>: children '0' is not a number from 1 to 256"));
    CHECK_THAT(h("children='x' memory='64M' depth='1'"), Catch::Matchers::Contains("is not a number"));
    CHECK_THAT(h("children='1' memory='64M' depth='9'"), Catch::Matchers::Contains("depth '9'"));
    CHECK_THAT(h("children='1' memory='lots' depth='1'"), Catch::Matchers::Contains("memory 'lots'"));
    CHECK_THAT(h("children='1' depth='1'"), Catch::Matchers::Contains("missing attribute memory"));
    CHECK_THAT(h("children='1' memory='64M' depth='1' disk='1'"), Catch::Matchers::Contains("unsupported attribute"));
    CHECK_THAT(error_of(metadata("<f:image>a</f:image><f:hypervisor children='1' memory='64M' depth='1'/>"
                                 "<f:hypervisor children='1' memory='64M' depth='1'/>",
                                 x)),
               Equals("duplicate element <metadata/f:hypervisor>"));
}

TEST_CASE("fleet:terminal: the program's terminal, written back", "[metadata][terminal]")
{
    const std::string x = " xmlns:f=" + ns;
    const DomainDef d = parsed(metadata("<f:image>linux</f:image><f:terminal rows='30' cols='100'/>", x));
    REQUIRE(d.terminal.has_value());
    CHECK(*d.terminal == DomainTerminal{30, 100, true});
    const std::string xml = format_domain_xml(d);
    CHECK(xml.find("<fleet:terminal rows='30' cols='100' stderr='yes'/>") != std::string::npos);
    CHECK(parsed(xml) == d);
    const DomainDef no = parsed(metadata("<f:image>a</f:image><f:terminal rows='4096' cols='1' stderr='no'/>", x));
    CHECK(*no.terminal == DomainTerminal{4096, 1, false});
    CHECK(parsed(format_domain_xml(no)) == no);
    CHECK_FALSE(parsed(metadata("<f:image>a</f:image>", x)).terminal.has_value());
}

TEST_CASE("fleet:terminal: what is refused", "[metadata][terminal]")
{
    const std::string x = " xmlns:f=" + ns;
    auto t = [&](const std::string& attrs) { return error_of(metadata("<f:terminal " + attrs + "/>", x)); };
    CHECK_THAT(t("rows='0' cols='80'"), Equals("<metadata/f:terminal>: rows '0' is not a number from 1 to 4096"));
    CHECK_THAT(t("rows='24' cols='4097'"), Equals("<metadata/f:terminal>: cols '4097' is not a number from 1 to 4096"));
    CHECK_THAT(t("rows='24' cols=' 80'"), Catch::Matchers::Contains("is not a number"));
    CHECK_THAT(t("rows='-1' cols='80'"), Catch::Matchers::Contains("is not a number"));
    CHECK_THAT(t("cols='80'"), Catch::Matchers::Contains("missing attribute rows"));
    CHECK_THAT(t("rows='24' cols='80' stderr='maybe'"),
               Equals("<metadata/f:terminal>: stderr 'maybe' is not yes or no"));
    CHECK_THAT(t("rows='24' cols='80' bold='1'"), Catch::Matchers::Contains("unsupported attribute"));
    CHECK_THAT(error_of(metadata("<f:terminal rows='1' cols='1'/><f:terminal rows='1' cols='1'/>", x)),
               Equals("duplicate element <metadata/f:terminal>"));
    CHECK_THAT(error_of(metadata("<f:terminal rows='1' cols='1'>text</f:terminal>", x)),
               Catch::Matchers::Contains("f:terminal"));
}

TEST_CASE("parse_hypervisor_quota: fsh's FLEET_HYPERVISOR words, checked as the XML's", "[metadata][hypervisor]")
{
    auto q = parse_hypervisor_quota("children=2,memory=64MiB");
    REQUIRE(q.has_value());
    CHECK(q->children == 2);
    CHECK(q->memory_mib == 64);
    CHECK(q->depth == 1);
    auto d = parse_hypervisor_quota("depth=3,memory=1G,children=8");
    REQUIRE(d.has_value());
    CHECK(d->depth == 3);
    CHECK(d->memory_mib == 1024);
    for (const char* bad : {"", "children=2", "memory=64MiB", "children=0,memory=64MiB", "children=2,memory=1k",
                            "children=2,memory=64MiB,depth=9", "children=2,children=3,memory=64MiB",
                            "children=2,memory=64MiB,color=red", "children=2,memory"}) {
        INFO(bad);
        CHECK_FALSE(parse_hypervisor_quota(bad).has_value());
    }
    CHECK(parse_hypervisor_quota("children=x,memory=64MiB").error().message ==
          "children 'x' is not a number from 1 to 256");
}
