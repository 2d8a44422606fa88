// router-unit — a guest's hypervisor channel (router/src/hypervisor/): the
// quota rule, pure; and the scope end to end on a socketpair served as a
// guest principal, the registry over the FakeLauncher. The real channel
// through a real guest is tests/integration/hypervisor_test.py.
#include "fixture.hpp"
#include "hypervisor/scope.hpp"  // private: router/src

#include <fleet/router/libvirt.hpp>
#include <fleet/router/server.hpp>
#include <fleet/wire/message.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <deque>

using namespace fleet;
using namespace fleet::router;
using namespace fleet::router::testing;
using namespace fleet::wire;
using hypervisor::refuse_child;
using hypervisor::Usage;

namespace {

DomainDef child(const std::string& image = "cat")
{
    DomainDef d;
    d.name = "c";
    d.image = image;
    return d;
}

struct Guest : Fixture {
    // The build's catalog: a child names one of its images.
    LibvirtService libvirt{*registry, launcher, vmm::AccelContext{"/nonexistent/qemu", {}, {FLEET_IMAGES_BUILD_DIR}}};
    Server server{*loop, libvirt, ServerOptions{}, Log{[](const std::string&) {}}};
    Fd fd;
    PacketAssembler in;
    std::deque<Packet> got;
    std::uint32_t serial = 0;

    Guest()
    {
        int sv[2];
        REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) == 0);
        fd = Fd(sv[0]);
        server.serve(Fd(sv[1]), Peer{Principal::guest("p"), false, false, "hypervisor", true});
    }

    template <class T>
    Packet call(RemoteProc p, const T& args)
    {
        auto bytes = encode_call(p, serial++, args);
        REQUIRE(bytes);
        REQUIRE(::write(fd.get(), bytes->data(), bytes->size()) == static_cast<ssize_t>(bytes->size()));
        wait_packets();
        Packet r = std::move(got.front());
        got.pop_front();
        return r;
    }

    // Until a packet has come (then every one there is, in got).
    void wait_packets()
    {
        turn_until([&] {
            char buf[4096];
            ssize_t n;
            while ((n = ::read(fd.get(), buf, sizeof buf)) > 0) {
                auto packets = in.feed(std::string_view(buf, static_cast<std::size_t>(n)));
                REQUIRE(packets);
                for (auto& packet : *packets) got.push_back(std::move(packet));
            }
            return !got.empty();
        });
    }

    std::int32_t error_code(RemoteProc p, const auto& args)
    {
        Packet r = call(p, args);
        REQUIRE(r.header.status == Status::error);
        return decode_payload<RemoteError>(r.payload)->code;
    }
};

}  // namespace

TEST_CASE("hypervisor: a child names a catalog image and no host path", "[hypervisor]")
{
    const HypervisorQuota q{4, 512, 2};
    CHECK(refuse_child(child(), q, {}, 64).empty());
    DomainDef k = child();
    k.kernel = "/etc/shadow";
    CHECK(refuse_child(k, q, {}, 64).find("host paths") != std::string::npos);
    CHECK(refuse_child(k, q, {}, 64).find("shadow") == std::string::npos);
    CHECK_FALSE(refuse_child(child(""), q, {}, 64).empty());
    CHECK_FALSE(refuse_child(child("../x"), q, {}, 64).empty());
    DomainDef f = child();
    f.filesystems.push_back(Filesystem{"/root", "/r", false});
    CHECK_FALSE(refuse_child(f, q, {}, 64).empty());
    DomainDef r = child();
    r.rng = Rng{};
    CHECK_FALSE(refuse_child(r, q, {}, 64).empty());
    DomainDef n = child();
    n.interfaces.push_back(Interface{"network", "fleet", "", "virtio"});
    CHECK_FALSE(refuse_child(n, q, {}, 64).empty());
}

TEST_CASE("hypervisor: children, memory and depth within what is left", "[hypervisor]")
{
    const HypervisorQuota q{4, 512, 2};
    CHECK(refuse_child(child(), q, Usage{3, 0}, 64).empty());
    CHECK(refuse_child(child(), q, Usage{4, 0}, 64).starts_with("quota: 4 children"));
    CHECK(refuse_child(child(), q, Usage{0, 500}, 64).starts_with("quota: 512 MiB"));
    DomainDef sub = child();
    sub.hypervisor = HypervisorQuota{2, 128, 1};
    CHECK(hypervisor::cost_of(sub, 64).children == 3);
    CHECK(hypervisor::cost_of(sub, 64).memory_mib == 192);
    CHECK(refuse_child(sub, q, {}, 64).empty());
    CHECK_FALSE(refuse_child(sub, q, Usage{2, 0}, 64).empty());    // 2 + 3 > 4
    CHECK_FALSE(refuse_child(sub, q, Usage{0, 384}, 64).empty());  // 384 + 192 > 512
    sub.hypervisor->depth = 2;
    CHECK(refuse_child(sub, q, {}, 64).starts_with("quota: depth 2"));
}

TEST_CASE("hypervisor: a guest sees only its children; the rest is denied", "[hypervisor]")
{
    Guest g;
    g.define("h", uuid_a);
    auto p = g.registry->define(domain_xml("p", uuid_b,
                                           "<metadata xmlns:f='https://fleet.dev/xmlns/domain/1'>"
                                           "<f:hypervisor children='1' memory='64MiB' depth='1'/></metadata>"));
    REQUIRE(p);
    REQUIRE(g.call(RemoteProc::connect_open, ConnectOpenArgs{"qemu:///system", 0}).header.status == Status::ok);
    auto all = g.call(RemoteProc::connect_list_all_domains, ConnectListAllDomainsArgs{1, 0});
    REQUIRE(all.header.status == Status::ok);
    CHECK(decode_payload<ConnectListAllDomainsRet>(all.payload)->ret == 0);
    CHECK(g.error_code(RemoteProc::domain_lookup_by_name, DomainLookupByNameArgs{"h"}) == err::no_domain);
    CHECK(g.error_code(RemoteProc::domain_lookup_by_name, DomainLookupByNameArgs{"p"}) == err::no_domain);
    auto h = g.registry->by_name("h");
    REQUIRE(h);
    CHECK(g.error_code(RemoteProc::domain_destroy, DomainArgs{libvirt::ref(**h)}) == err::no_domain);
    CHECK(g.error_code(RemoteProc::domain_get_xml_desc, DomainFlagsArgs{libvirt::ref(**h), 0}) == err::no_domain);
    CHECK(g.error_code(RemoteProc::domain_create, DomainArgs{libvirt::ref(**h)}) == err::operation_denied);
    CHECK(g.error_code(RemoteProc::domain_define_xml, DomainDefineXmlArgs{domain_xml("x")}) == err::operation_denied);
    CHECK(g.error_code(RemoteProc::node_get_info, Void{}) == err::operation_denied);
    CHECK(g.error_code(RemoteProc::domain_create_xml, DomainCreateXmlArgs{domain_xml("k"), 0}) ==
          err::operation_denied);  // a kernel path
    // connect_close keeps the channel: the session starts over.
    REQUIRE(g.call(RemoteProc::connect_close, Void{}).header.status == Status::ok);
    CHECK(g.server.client_count() == 1);
    REQUIRE(g.call(RemoteProc::connect_open, ConnectOpenArgs{"qemu:///system", 0}).header.status == Status::ok);
}

TEST_CASE("hypervisor: a guest's run is children of its own, within one quota", "[hypervisor][runs]")
{
    Guest g;
    auto p = g.registry->define(domain_xml("p", uuid_b,
                                           "<metadata xmlns:f='https://fleet.dev/xmlns/domain/1'>"
                                           "<f:hypervisor children='2' memory='256MiB' depth='1'/></metadata>"));
    REQUIRE(p);
    REQUIRE(g.call(RemoteProc::connect_open, ConnectOpenArgs{"qemu:///system", 0}).header.status == Status::ok);
    auto stage = [](const std::string& name, const std::string& extra = "") {
        return "<domain type='qemu'><name>" + name +
               "</name><metadata xmlns:f='https://fleet.dev/xmlns/domain/1'><f:image>cat</f:image></metadata>" + extra +
               "</domain>";
    };
    // A host path in any stage, or more stages than the quota: the whole run is refused, nothing starts.
    CHECK(g.error_code(RemoteProc::fleet_domain_run, FleetDomainRunArgs{{stage("a"), domain_xml("k")}, 0}) ==
          err::operation_denied);
    Packet over = g.call(RemoteProc::fleet_domain_run, FleetDomainRunArgs{{stage("a"), stage("b"), stage("c")}, 0});
    REQUIRE(over.header.status == Status::error);
    CHECK_THAT(*decode_payload<RemoteError>(over.payload)->message, Catch::Contains("stage 3 of the run: quota"));
    CHECK(g.launcher.calls.empty());
    // Within it: the stages are the guest's children, named under it.
    auto bytes = encode_call(RemoteProc::fleet_domain_run, g.serial++, FleetDomainRunArgs{{stage("a"), stage("b")}, 0});
    REQUIRE(bytes);
    REQUIRE(::write(g.fd.get(), bytes->data(), bytes->size()) == static_cast<ssize_t>(bytes->size()));
    g.turn_until([&] { return g.launcher.asked("start p.a") && g.launcher.asked("start p.b"); });
    g.launcher.ready("p.a");
    g.launcher.ready("p.b");
    Packet reply = g.call(RemoteProc::connect_get_lib_version, Void{});  // the run's reply came first
    REQUIRE(reply.header.proc == to_int(RemoteProc::fleet_domain_run));
    REQUIRE(reply.header.status == Status::ok);
    auto doms = decode_payload<FleetDomainRunRet>(reply.payload)->doms;
    REQUIRE(doms.size() == 2);
    CHECK(doms[0].name == "p.a");
    CHECK(g.registry->by_name("p.a").value()->owner == Principal::guest("p"));
    Packet version = g.call(RemoteProc::fleet_domain_open_stdio, FleetDomainOpenStdioArgs{doms[1], 1, 0});
    CHECK(version.header.proc == to_int(RemoteProc::connect_get_lib_version));  // its answer came next
    g.wait_packets();
    CHECK(g.got.front().header.proc == to_int(RemoteProc::fleet_domain_open_stdio));
    CHECK(g.got.front().header.status == Status::ok);  // its own run's stdout, over the channel
}

TEST_CASE("hypervisor: a child answers to the name its parent gave it, and a close ends the session's runs",
          "[hypervisor][runs]")
{
    Guest g;
    g.define("a", uuid_a);  // a host domain with the child's short name
    auto p = g.registry->define(domain_xml("p", uuid_b,
                                           "<metadata xmlns:f='https://fleet.dev/xmlns/domain/1'>"
                                           "<f:hypervisor children='2' memory='256MiB' depth='1'/></metadata>"));
    REQUIRE(p);
    REQUIRE(g.call(RemoteProc::connect_open, ConnectOpenArgs{"qemu:///system", 0}).header.status == Status::ok);
    const std::string stage =
        "<domain type='qemu'><name>a</name><metadata xmlns:f='https://fleet.dev/xmlns/domain/1'>"
        "<f:image>cat</f:image></metadata></domain>";
    // Before the child exists, 'a' is the host's and so not found.
    CHECK(g.error_code(RemoteProc::domain_lookup_by_name, DomainLookupByNameArgs{"a"}) == err::no_domain);
    auto bytes = encode_call(RemoteProc::fleet_domain_run, g.serial++, FleetDomainRunArgs{{stage}, 0});
    REQUIRE(bytes);
    REQUIRE(::write(g.fd.get(), bytes->data(), bytes->size()) == static_cast<ssize_t>(bytes->size()));
    g.turn_until([&] { return g.launcher.asked("start p.a"); });
    g.launcher.ready("p.a");
    g.wait_packets();  // the run's reply, and nothing else pending
    REQUIRE(g.got.size() == 1);
    REQUIRE(g.got.front().header.proc == to_int(RemoteProc::fleet_domain_run));
    REQUIRE(g.got.front().header.status == Status::ok);
    g.got.clear();
    // Now 'a' is the guest's own child (p.a), never the host's 'a'; the full name works too.
    for (const char* name : {"a", "p.a"}) {
        Packet found = g.call(RemoteProc::domain_lookup_by_name, DomainLookupByNameArgs{name});
        REQUIRE(found.header.status == Status::ok);
        CHECK(decode_payload<DomainRet>(found.payload)->dom.name == "p.a");
    }
    CHECK(g.error_code(RemoteProc::domain_lookup_by_name, DomainLookupByNameArgs{"b"}) == err::no_domain);
    // The program closes its connection: the channel stays, its run ends.
    REQUIRE(g.call(RemoteProc::connect_close, Void{}).header.status == Status::ok);
    CHECK(g.launcher.asked("kill p.a"));
    CHECK(g.server.client_count() == 1);
}
