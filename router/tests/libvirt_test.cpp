// router-unit — the libvirt mapping end to end on a socketpair: a Server
// serving one raw client, the DomainRegistry over the FakeLauncher. The
// checks libvirtd makes before a call, libvirt's error codes and words,
// typed replies, an answer that waits for the guest, and lifecycle events.
#include "fixture.hpp"
#include "libvirt/dispatch.hpp"  // private: router/src

#include <fleet/base/socket.hpp>
#include <fleet/router/libvirt.hpp>
#include <fleet/router/server.hpp>
#include <fleet/vmm/claim.hpp>
#include <fleet/wire/client.hpp>
#include <fleet/wire/message.hpp>

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <deque>
#include <map>

using namespace fleet;
using namespace fleet::router;
using namespace fleet::router::testing;
using namespace fleet::wire;

namespace {

struct Client : Fixture {
    LibvirtService libvirt{*registry, launcher, vmm::AccelContext{"/nonexistent/qemu", {}, {}}};
    Server server{*loop, libvirt, ServerOptions{}, Log{[](const std::string&) {}}};
    Fd fd;
    PacketAssembler in;
    std::deque<Packet> got;
    std::uint32_t serial = 0;

    Client()
    {
        registry->on_event([this](const Domain& d, Lifecycle e) { libvirt.announce(server, d, e); });
        int sv[2];
        REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) == 0);
        fd = Fd(sv[0]);
        server.serve(Fd(sv[1]), Peer{Principal::router(), false, false, "test"});
    }

    template <class T>
    Header call(RemoteProc p, const T& args)
    {
        auto bytes = encode_call(p, serial++, args);
        REQUIRE(bytes);
        REQUIRE(::write(fd.get(), bytes->data(), bytes->size()) == static_cast<ssize_t>(bytes->size()));
        return Header{remote_program, 1, to_int(p), MessageType::call, serial - 1, Status::ok};
    }

    Packet next()
    {
        bool late = false;
        OpId guard = loop->timer(std::chrono::seconds(20), [&](int) { late = true; });
        turn_until([&] {
            if (late) return true;
            char buf[4096];
            ssize_t n;
            while ((n = ::read(fd.get(), buf, sizeof buf)) > 0) {
                auto packets = in.feed(std::string_view(buf, static_cast<std::size_t>(n)));
                REQUIRE(packets);
                for (auto& p : *packets) got.push_back(std::move(p));
            }
            return !got.empty();
        });
        if (!late) loop->cancel(guard);
        REQUIRE_FALSE(late);  // no packet came within 20 s
        Packet p = std::move(got.front());
        got.pop_front();
        return p;
    }

    template <class R>
    R ok(const Header& call)
    {
        Packet p = next();
        REQUIRE(p.header.serial == call.serial);
        REQUIRE(p.header.proc == call.proc);
        if (p.header.status != Status::ok) FAIL(decode_payload<RemoteError>(p.payload)->message.value_or("?"));
        auto r = decode_payload<R>(p.payload);
        REQUIRE(r);
        return *r;
    }

    RemoteError error(const Header& call)
    {
        Packet p = next();
        REQUIRE(p.header.serial == call.serial);
        REQUIRE(p.header.status == Status::error);
        auto e = decode_payload<RemoteError>(p.payload);
        REQUIRE(e);
        return *e;
    }

    int clients() const
    {
        int n = 0;
        server.each_connection([&](Connection&) { ++n; });
        return n;
    }

    void open(bool read_only = false)
    {
        ok<Void>(call(RemoteProc::connect_open, ConnectOpenArgs{"qemu:///system", read_only ? flags::connect_ro : 0u}));
    }
};

}  // namespace

TEST_CASE("libvirt: every call of the table has its handler", "[libvirt]")
{
    KnownProcedures::for_each([](auto p) {
        INFO(Procedure<p.value>::name);
        bool event = Procedure<p.value>::kind == ProcKind::event;
        CHECK((libvirt::handler_for(to_int(p.value)) != nullptr) == !event);
    });
    CHECK(libvirt::handler_for(0) == nullptr);
    CHECK(libvirt::handler_for(8) == nullptr);  // DOMAIN_ATTACH_DEVICE: not served
    CHECK(libvirt::handler_for(-1) == nullptr);
    CHECK(libvirt::handler_for(100000) == nullptr);
}

TEST_CASE("libvirt: before CONNECT_OPEN only the handshake; unknown procedures", "[libvirt]")
{
    Client c;
    auto features = c.ok<ConnectSupportsFeatureRet>(
        c.call(RemoteProc::connect_supports_feature, ConnectSupportsFeatureArgs{feature::program_keepalive}));
    CHECK(features.supported == 1);
    auto early = c.error(c.call(RemoteProc::connect_get_hostname, Void{}));
    CHECK(early.code == err::internal_error);
    CHECK(early.message == "connection not open");
    c.open();
    CHECK(c.ok<ConnectGetTypeRet>(c.call(RemoteProc::connect_get_type, Void{})).type == "QEMU");

    auto bytes = encode_call(9999, c.serial++, Void{});
    REQUIRE(::write(c.fd.get(), bytes->data(), bytes->size()) > 0);
    auto unknown = decode_payload<RemoteError>(c.next().payload);
    CHECK(unknown->code == err::rpc);
    CHECK(unknown->message->find("unknown procedure") != std::string::npos);

    // libvirt's QEMU program (qemu-monitor-command): not supported, said so
    auto qemu = encode_call(1, c.serial++, Void{}, qemu_program);
    REQUIRE(qemu);
    REQUIRE(::write(c.fd.get(), qemu->data(), qemu->size()) > 0);
    auto monitor = decode_payload<RemoteError>(c.next().payload);
    CHECK(monitor->code == err::no_support);
    CHECK(monitor->message->find("QEMU monitor") != std::string::npos);

    auto malformed = c.error(c.call(RemoteProc::domain_lookup_by_id, Void{}));  // 4 bytes short
    CHECK(malformed.code == err::rpc);
    CHECK(malformed.message->starts_with("malformed arguments"));
}

TEST_CASE("libvirt: a write on a read-only connection is VIR_ERR_OPERATION_DENIED", "[libvirt]")
{
    Client c;
    c.open(true);
    auto denied = c.error(c.call(RemoteProc::domain_define_xml, DomainDefineXmlArgs{domain_xml("ro")}));
    CHECK(denied.code == 29);  // virterror.h: VIR_ERR_OPERATION_DENIED
    CHECK(denied.code == err::operation_denied);
    CHECK(denied.message->find("read only") != std::string::npos);
    CHECK(c.registry->all().empty());
    // Reading is allowed.
    auto none = c.error(c.call(RemoteProc::domain_lookup_by_name, DomainLookupByNameArgs{"ro"}));
    CHECK(none.code == err::no_domain);
    CHECK(none.message == "Domain not found: no domain with matching name 'ro'");
}

TEST_CASE("libvirt: create waits for the guest; events; libvirtd's words for a wrong state", "[libvirt]")
{
    Client c;
    c.open();
    auto reg = c.ok<ConnectDomainEventCallbackRegisterAnyRet>(
        c.call(RemoteProc::connect_domain_event_callback_register_any,
               ConnectDomainEventCallbackRegisterAnyArgs{event_id::lifecycle, std::nullopt}));
    auto other = c.error(c.call(RemoteProc::connect_domain_event_callback_register_any,
                                ConnectDomainEventCallbackRegisterAnyArgs{3, std::nullopt}));
    CHECK(other.code == err::no_support);

    auto create = c.call(RemoteProc::domain_create_xml, DomainCreateXmlArgs{domain_xml("web", uuid_a), 0});
    c.turn_until([&] { return c.launcher.asked("start web"); });
    CHECK(c.got.empty());  // no answer before the guest is ready
    c.launcher.ready("web");
    Packet event = c.next();  // the STARTED event goes out before the reply
    CHECK(event.header.type == MessageType::message);
    CHECK(event.header.proc == to_int(RemoteProc::domain_event_callback_lifecycle));
    auto msg = decode_payload<DomainEventCallbackLifecycleMsg>(event.payload);
    REQUIRE(msg);
    CHECK(msg->callback_id == reg.callback_id);
    CHECK(msg->msg.dom.name == "web");
    CHECK(msg->msg.event == wire::event::started);
    CHECK(msg->msg.detail == wire::detail::started_booted);
    auto dom = c.ok<DomainRet>(create).dom;
    CHECK(dom.name == "web");
    CHECK(dom.id == 1);

    auto state = c.ok<DomainGetStateRet>(c.call(RemoteProc::domain_get_state, DomainFlagsArgs{dom, 0}));
    CHECK(state.state == wire::state::running);
    CHECK(state.reason == wire::reason::running_booted);
    auto again = c.error(c.call(RemoteProc::domain_create, DomainArgs{dom}));
    CHECK(again.code == err::operation_invalid);
    CHECK(again.message == "Requested operation is not valid: domain is already running");
    auto dup = c.error(c.call(RemoteProc::domain_create_xml, DomainCreateXmlArgs{domain_xml("web", uuid_b), 0}));
    CHECK(dup.code == err::dom_exist);
    auto reboot = c.error(c.call(RemoteProc::domain_reboot, DomainFlagsArgs{dom, 0}));
    CHECK(reboot.code == err::no_support);

    auto destroy = c.call(RemoteProc::domain_destroy, DomainArgs{dom});
    c.turn_until([&] { return c.launcher.asked("kill web"); });
    c.launcher.end("web", EndKind::killed);
    auto stopped = decode_payload<DomainEventCallbackLifecycleMsg>(c.next().payload);
    REQUIRE(stopped);
    CHECK(stopped->msg.event == wire::event::stopped);
    CHECK(stopped->msg.detail == wire::detail::stopped_destroyed);
    CHECK(stopped->msg.dom.id == 1);  // the id it ran under
    c.ok<Void>(destroy);
    auto gone = c.error(c.call(RemoteProc::domain_get_state, DomainFlagsArgs{dom, 0}));
    CHECK(gone.code == err::no_domain);  // transient: forgotten
}

TEST_CASE("libvirt: an answer for a client that has gone is dropped", "[libvirt]")
{
    Client c;
    c.open();
    c.call(RemoteProc::domain_create_xml, DomainCreateXmlArgs{domain_xml("web"), 0});
    c.turn_until([&] { return c.launcher.asked("start web"); });
    c.fd.reset();  // the client goes
    c.turn_until([&] { return c.clients() == 0; });
    c.launcher.ready("web");  // nothing to answer, nothing breaks
    CHECK(c.registry->by_name("web").value()->active());
}

TEST_CASE("libvirt: host memory as one cell; networks empty; unsupported configuration", "[libvirt]")
{
    Client c;
    c.open(true);  // all of these only look
    const auto free = c.ok<NodeGetFreeMemoryRet>(c.call(RemoteProc::node_get_free_memory, Void{}));
    const auto info = c.ok<NodeGetInfoRet>(c.call(RemoteProc::node_get_info, Void{}));
    CHECK(free.free_mem > 0);
    CHECK(free.free_mem <= info.memory * 1024);
    auto cells = c.ok<NodeGetCellsFreeMemoryRet>(
        c.call(RemoteProc::node_get_cells_free_memory, NodeGetCellsFreeMemoryArgs{0, 8}));
    REQUIRE(cells.cells.size() == 1);
    CHECK(cells.cells[0] > 0);
    auto far = c.error(c.call(RemoteProc::node_get_cells_free_memory, NodeGetCellsFreeMemoryArgs{1, 1}));
    CHECK(far.message == "internal error: start cell 1 out of range (0-0)");
    auto count =
        c.ok<NodeGetMemoryStatsRet>(c.call(RemoteProc::node_get_memory_stats, NodeGetMemoryStatsArgs{0, -1, 0}));
    CHECK(count.nparams == 4);
    CHECK(count.params.empty());
    auto stats =
        c.ok<NodeGetMemoryStatsRet>(c.call(RemoteProc::node_get_memory_stats, NodeGetMemoryStatsArgs{4, -1, 0}));
    REQUIRE(stats.params.size() == 4);
    CHECK(stats.params[0] == NodeMemoryStat{"total", info.memory});
    CHECK(stats.params[1].field == "free");
    CHECK(c.error(c.call(RemoteProc::node_get_memory_stats, NodeGetMemoryStatsArgs{4, 3, 0})).code == err::invalid_arg);
    auto caps = c.ok<ConnectGetCapabilitiesRet>(c.call(RemoteProc::connect_get_capabilities, Void{}));
    CHECK(caps.capabilities.find("<cell id='0'>") != std::string::npos);

    auto dcaps = c.ok<ConnectGetDomainCapabilitiesRet>(
        c.call(RemoteProc::connect_get_domain_capabilities,
               ConnectGetDomainCapabilitiesArgs{{}, {}, {}, std::string("qemu"), 0}));
    CHECK(dcaps.capabilities.find("<machine>microvm</machine>") != std::string::npos);
    CHECK(dcaps.capabilities.find("<graphics supported='no'/>") != std::string::npos);
    auto pc = c.error(c.call(RemoteProc::connect_get_domain_capabilities,
                             ConnectGetDomainCapabilitiesArgs{{}, {}, std::string("pc"), {}, 0}));
    CHECK(pc.code == err::invalid_arg);

    CHECK(c.ok<ConnectNumOfNetworksRet>(c.call(RemoteProc::connect_num_of_networks, Void{})).num == 0);
    CHECK(
        c.ok<ConnectListAllNetworksRet>(c.call(RemoteProc::connect_list_all_networks, ConnectListAllNetworksArgs{1, 0}))
            .nets.empty());
    auto net = c.error(c.call(RemoteProc::network_lookup_by_name, NetworkLookupByNameArgs{"default"}));
    CHECK(net.code == err::no_network);
    CHECK(net.domain == errdom::network);
    CHECK(net.message == "Network not found: no network with matching name 'default'");

    Client w;
    w.open();
    auto vnc = w.error(w.call(RemoteProc::domain_define_xml,
                              DomainDefineXmlArgs{domain_xml("g", "", "<devices><graphics type='vnc'/></devices>")}));
    CHECK(vnc.code == err::config_unsupported);
    CHECK(vnc.message->starts_with("unsupported configuration: <devices/graphics>: type 'vnc' is not supported"));
    auto bad = w.error(w.call(RemoteProc::domain_define_xml, DomainDefineXmlArgs{"<domain><name>x</name>"}));
    CHECK(bad.code == err::xml_error);
}

TEST_CASE("libvirt: FLEET_NET_ATTACH hands the tap over after its reply; its refusals", "[libvirt]")
{
    Client c;
    c.open();
    // No network: the launcher's words.
    auto none = c.error(c.call(RemoteProc::fleet_net_attach, FleetNetAttachArgs{"web", 0}));
    CHECK(none.message.value_or("") == "the router runs no network (it was started without --bridge)");
    int pipe_fds[2];
    REQUIRE(::pipe2(pipe_fds, O_CLOEXEC) == 0);
    Fd read_end(pipe_fds[0]);
    std::vector<std::pair<std::string, bool>> asked;
    c.launcher.attach = [&](const std::string& name, bool outbound) -> DomainResult<Tap> {
        asked.emplace_back(name, outbound);
        return Tap{Fd(::dup(pipe_fds[1])), vmm::NetInterface{.tap_fd = -1,
                                                             .tap_name = "fl0e0000000001",
                                                             .mac = "0e:00:00:00:00:01",
                                                             .ipv4 = "10.77.0.2/24",
                                                             .gateway = "10.77.0.1"}};
    };
    // A domain's name, and unknown flags: refused before the launcher is asked.
    c.define("dom");
    auto taken = c.error(c.call(RemoteProc::fleet_net_attach, FleetNetAttachArgs{"dom", 0}));
    CHECK(taken.message->find("domain 'dom' exists") != std::string::npos);
    CHECK(c.error(c.call(RemoteProc::fleet_net_attach, FleetNetAttachArgs{"web", 2})).code == err::invalid_arg);
    CHECK(asked.empty());

    // The answer: a REPLY_WITH_FDS, then the fd on a byte of its own.
    Header h = c.call(RemoteProc::fleet_net_attach, FleetNetAttachArgs{"web", net_attach_outbound});
    auto available = [&] {
        int n = 0;
        return ::ioctl(c.fd.get(), FIONREAD, &n) == 0 ? n : 0;
    };
    std::uint32_t length = 0;
    c.turn_until([&] {
        unsigned char b[4];
        if (::recv(c.fd.get(), b, 4, MSG_PEEK | MSG_DONTWAIT) != 4) return false;
        length = (std::uint32_t{b[0]} << 24) | (b[1] << 16) | (b[2] << 8) | b[3];
        return available() >= static_cast<int>(length) + 1;
    });
    std::vector<Fd> fds;
    auto bytes = recv_with_fds(c.fd.get(), length, fds, 0, std::chrono::seconds(5));
    REQUIRE(bytes);
    auto p = decode_packet(*bytes);
    REQUIRE(p);
    CHECK(answers(h, p->header));
    auto ret = decode_reply_with_fds<FleetNetAttachRet>(*p);
    REQUIRE(ret);
    CHECK(ret->nfds == 1);
    CHECK(ret->body == FleetNetAttachRet{"fl0e0000000001", "0e:00:00:00:00:01", "10.77.0.2/24", "10.77.0.1"});
    REQUIRE(recv_with_fds(c.fd.get(), 1, fds, 1, std::chrono::seconds(5)));
    REQUIRE(fds.size() == 1);
    CHECK(asked == std::vector<std::pair<std::string, bool>>{{"web", true}});
    // It is the launcher's tap: what goes in comes out of the pipe.
    REQUIRE(::write(fds[0].get(), "x", 1) == 1);
    ::close(pipe_fds[1]);
    fds.clear();  // every write end closed: the router kept no copy
    char got[4];
    CHECK(::read(read_end.get(), got, sizeof got) == 1);
    CHECK(::read(read_end.get(), got, sizeof got) == 0);

    // Read-only connections write nothing.
    Client ro;
    ro.open(true);
    CHECK(ro.error(ro.call(RemoteProc::fleet_net_attach, FleetNetAttachArgs{"w2", 0})).code == err::operation_denied);
}

// ---- fleet's runs (run_procs.cpp, docs/fleet-protocol.md) -------------------------------

namespace {

void write_fd(int fd, std::string_view bytes)
{
    REQUIRE(::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
}

// What a blocking fd holds, once it holds `want` bytes or reaches its end.
std::string read_fd(int fd, std::size_t want)
{
    std::string out;
    char buf[4096];
    while (out.size() < want) {
        ssize_t n = ::read(fd, buf, std::min(sizeof buf, want - out.size()));
        REQUIRE(n >= 0);
        if (n == 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

struct RunClient : Client {
    // Packets until `done` holds: stream data of serial, concatenated, and
    // the EXITED events (name -> status).
    std::string data;
    bool eof = false;
    std::map<std::string, int> exited;

    void take(const Packet& p, std::uint32_t serial)
    {
        if (p.header.type == MessageType::message && p.header.proc == to_int(RemoteProc::fleet_domain_event_exited)) {
            auto m = decode_payload<FleetDomainEventExitedMsg>(p.payload);
            REQUIRE(m);
            exited[m->dom.name] = m->status;
        } else if (p.header.type == MessageType::stream && p.header.serial == serial) {
            REQUIRE(p.header.status == Status::continue_);
            if (p.payload.empty()) eof = true;
            data += p.payload;
        }
    }
};

}  // namespace

TEST_CASE("runs: DOMAIN_RUN starts every stage, joins them with a pipe, relays its ends", "[runs]")
{
    RunClient c;
    c.open();
    auto run =
        c.call(RemoteProc::fleet_domain_run, FleetDomainRunArgs{{domain_xml("a", uuid_a), domain_xml("b", uuid_b)}, 0});
    c.turn_until([&] { return c.launcher.asked("start a") && c.launcher.asked("start b"); });
    CHECK(c.got.empty());
    c.launcher.ready("a");
    c.launcher.ready("b");
    auto doms = c.ok<FleetDomainRunRet>(run).doms;
    REQUIRE(doms.size() == 2);
    CHECK(doms[0].name == "a");
    CHECK(doms[1].name == "b");
    const RunStdio* a = c.launcher.stdio("a");
    const RunStdio* b = c.launcher.stdio("b");
    REQUIRE(a);
    REQUIRE(b);
    // a's stdout is b's stdin: the router joined them, no byte passes through it.
    write_fd(a->out.get(), "joined\n");
    CHECK(read_fd(b->in.get(), 7) == "joined\n");

    // stdin: the client's bytes reach a; its finish is a's end of file.
    auto in = c.call(RemoteProc::fleet_domain_open_stdio, FleetDomainOpenStdioArgs{doms[0], 0, 0});
    c.ok<Void>(in);
    auto again = c.error(c.call(RemoteProc::fleet_domain_open_stdio, FleetDomainOpenStdioArgs{doms[1], 0, 0}));
    CHECK(again.code == err::operation_invalid);
    auto data = encode_stream(in, Status::continue_, std::string("in\0put", 6));
    REQUIRE(data);
    write_fd(c.fd.get(), *data);
    auto finish = encode_stream(in, Status::ok, {});
    REQUIRE(finish);
    write_fd(c.fd.get(), *finish);
    Packet ack = c.next();
    CHECK(ack.header.serial == in.serial);
    CHECK(ack.header.status == Status::ok);
    CHECK(read_fd(a->in.get(), 100) == std::string("in\0put", 6));  // then its end

    // stdout: b's output, then its end once b's copy closes; each stage's status.
    auto out = c.call(RemoteProc::fleet_domain_open_stdio, FleetDomainOpenStdioArgs{doms[1], 1, 0});
    c.ok<Void>(out);
    write_fd(b->out.get(), "result");
    c.launcher.end("a", EndKind::exited, 0);
    c.launcher.end("b", EndKind::exited, 3);
    while (!c.eof || c.exited.size() < 2) c.take(c.next(), out.serial);
    CHECK(c.data == "result");
    CHECK(c.exited == std::map<std::string, int>{{"a", 0}, {"b", 3}});
    // stderr: every stage's, one stream; all of them ended, so it is at its end.
    auto err = c.call(RemoteProc::fleet_domain_open_stdio, FleetDomainOpenStdioArgs{doms[0], 2, 0});
    c.ok<Void>(err);
    c.eof = false;
    c.data.clear();
    while (!c.eof) c.take(c.next(), err.serial);
    CHECK(c.data.empty());
}

TEST_CASE("runs: a stage that cannot start ends the run; bad requests", "[runs]")
{
    RunClient c;
    c.open();
    auto empty = c.error(c.call(RemoteProc::fleet_domain_run, FleetDomainRunArgs{{}, 0}));
    CHECK(empty.code == err::invalid_arg);
    auto flags = c.error(c.call(RemoteProc::fleet_domain_run, FleetDomainRunArgs{{domain_xml("a")}, 1}));
    CHECK(flags.code == err::invalid_arg);
    auto run = c.call(RemoteProc::fleet_domain_run, FleetDomainRunArgs{{domain_xml("a"), "<domain>broken"}, 0});
    // a starts, and is destroyed: the run does not happen without its stage 2.
    c.turn_until([&] { return c.launcher.asked("start a"); });
    c.launcher.ready("a");
    auto bad = c.error(run);
    CHECK_THAT(*bad.message, Catch::Contains("stage 2 of the run"));
    CHECK(c.launcher.asked("kill a"));
    c.launcher.end("a", EndKind::killed);
    auto notrun = c.error(
        c.call(RemoteProc::fleet_domain_open_stdio, FleetDomainOpenStdioArgs{NonnullDomain{"a", {}, -1}, 1, 0}));
    CHECK(notrun.code == err::no_domain);
    auto fd = c.error(
        c.call(RemoteProc::fleet_domain_open_stdio, FleetDomainOpenStdioArgs{NonnullDomain{"a", {}, -1}, 3, 0}));
    CHECK(fd.code == err::invalid_arg);
}

TEST_CASE("runs: the client's terminal size reaches a stage with a terminal", "[runs][terminal]")
{
    RunClient c;
    c.open();
    const std::string ns = " xmlns:fleet='https://fleet.dev/xmlns/domain/1'";
    auto run =
        c.call(RemoteProc::fleet_domain_run,
               FleetDomainRunArgs{
                   {domain_xml("t", uuid_a, "<metadata" + ns + "><fleet:terminal rows='30' cols='100'/></metadata>"),
                    domain_xml("p", uuid_b)},
                   0});
    c.turn_until([&] { return c.launcher.asked("start t") && c.launcher.asked("start p"); });
    c.launcher.ready("t");
    c.launcher.ready("p");
    auto doms = c.ok<FleetDomainRunRet>(run).doms;
    REQUIRE(doms.size() == 2);
    c.ok<Void>(c.call(RemoteProc::fleet_domain_resize_terminal, FleetDomainResizeTerminalArgs{doms[0], 40, 120, 0}));
    CHECK(c.launcher.asked("resize t 40x120"));
    auto resize = [&](const NonnullDomain& d, std::uint32_t rows, std::uint32_t cols, std::uint32_t flags = 0) {
        return c.error(
            c.call(RemoteProc::fleet_domain_resize_terminal, FleetDomainResizeTerminalArgs{d, rows, cols, flags}));
    };
    auto none = resize(doms[1], 40, 120);
    CHECK(none.code == err::operation_invalid);
    CHECK_THAT(*none.message, Catch::Contains("has no terminal"));
    CHECK(resize(doms[0], 0, 120).code == err::invalid_arg);
    CHECK(resize(doms[0], 40, 4097).code == err::invalid_arg);
    CHECK(resize(doms[0], 40, 120, 1).code == err::invalid_arg);
    // Only a stage of this connection's runs: a domain it merely started is not one.
    CHECK(resize(NonnullDomain{"web", {}, -1}, 40, 120).code == err::no_domain);
    const std::string term = "<metadata" + ns + "><fleet:terminal rows='1' cols='1'/></metadata>";
    auto lone = c.call(RemoteProc::domain_create_xml, DomainCreateXmlArgs{domain_xml("lone", "", term), 0});
    c.turn_until([&] { return c.launcher.asked("start lone"); });
    c.launcher.ready("lone");
    auto d = c.ok<DomainRet>(lone).dom;
    CHECK(resize(d, 1, 1).code == err::no_domain);
    CHECK_FALSE(c.launcher.asked("resize lone 1x1"));
    c.launcher.end("t", EndKind::exited, 0);
    c.launcher.end("p", EndKind::exited, 0);
}

TEST_CASE("runs: a connection holds at most max_runs runs", "[runs]")
{
    RunClient c;
    c.open();
    for (std::size_t i = 0; i < libvirt::Session::max_runs; ++i)
        c.call(RemoteProc::fleet_domain_run, FleetDomainRunArgs{{domain_xml("r" + std::to_string(i))}, 0});
    auto over = c.error(c.call(RemoteProc::fleet_domain_run, FleetDomainRunArgs{{domain_xml("over")}, 0}));
    CHECK(over.code == err::operation_failed);
    CHECK_THAT(*over.message, Catch::Contains("runs, the most allowed"));
    CHECK_FALSE(c.launcher.asked("start over"));
}

TEST_CASE("runs: a run ends with its client; read-only connections cannot run", "[runs]")
{
    {
        RunClient ro;
        ro.open(true);
        auto denied = ro.error(ro.call(RemoteProc::fleet_domain_run, FleetDomainRunArgs{{domain_xml("a")}, 0}));
        CHECK(denied.code == err::operation_denied);
    }
    RunClient c;
    c.open();
    auto run = c.call(RemoteProc::fleet_domain_run, FleetDomainRunArgs{{domain_xml("a"), domain_xml("b")}, 0});
    c.turn_until([&] { return c.launcher.asked("start b"); });
    c.launcher.ready("a");
    c.launcher.ready("b");
    c.ok<FleetDomainRunRet>(run);
    c.launcher.end("a", EndKind::exited, 0);  // ended already: nothing to destroy
    c.fd.reset();                             // the client goes: what still runs of its run goes too
    c.turn_until([&] { return c.launcher.asked("kill b"); });
    CHECK_FALSE(c.launcher.asked("kill a"));
}
