// Tests for wire/blocking_client.hpp against a scripted server on a
// socketpair: the open, keepalive meanwhile, a reply with an fd, bounds.
#include <fleet/base/socket.hpp>
#include <fleet/wire/blocking_client.hpp>
#include <fleet/wire/connect_messages.hpp>
#include <fleet/wire/domain_messages.hpp>
#include <fleet/wire/message.hpp>
#include <fleet/wire/xdr.hpp>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

using namespace fleet;
using namespace fleet::wire;
using namespace std::chrono_literals;

namespace {

struct Pair {
    Fd client, server;
    Pair()
    {
        int sv[2];
        REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
        client = Fd(sv[0]);
        server = Fd(sv[1]);
    }
};

// The server's side: one whole packet from the client.
Packet next_packet(int fd)
{
    std::vector<Fd> none;
    auto head = recv_with_fds(fd, length_word_size, none, 0, 2000ms);
    REQUIRE(head);
    XdrReader word(*head);
    auto length = check_length(*word.u32());
    REQUIRE(length);
    auto rest = recv_with_fds(fd, *length - length_word_size, none, 0, 2000ms);
    REQUIRE(rest);
    auto p = decode_packet(*head + *rest);
    REQUIRE(p);
    return *p;
}

void put(int fd, const std::string& bytes)
{
    REQUIRE(::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
}

// Answers AUTH_LIST with `types` and CONNECT_OPEN with OK, a PING before
// the second answer; records whether the client sent the PONG.
void serve_open(int fd, std::vector<std::int32_t> types, bool* ponged)
{
    auto auth = next_packet(fd);
    CHECK(auth.header.proc == to_int(RemoteProc::auth_list));
    AuthListRet ret;
    for (auto t : types) ret.types.push_back(t);
    put(fd, *encode_reply(auth.header, ret));
    if (types.empty() || types[0] != 0) return;
    auto open = next_packet(fd);
    CHECK(open.header.proc == to_int(RemoteProc::connect_open));
    put(fd, encode_ping());
    put(fd, *encode_reply(open.header, Void{}));
    *ponged = is_pong(next_packet(fd).header);
}

}  // namespace

TEST_CASE("blocking client: open, a keepalive meanwhile, a reply with an fd", "[blocking_client]")
{
    Pair p;
    int pipe_fds[2];
    REQUIRE(::pipe2(pipe_fds, O_CLOEXEC) == 0);
    Fd rd(pipe_fds[0]), wr(pipe_fds[1]);
    bool ponged = false;
    std::thread server([&] {
        serve_open(p.server.get(), {0}, &ponged);
        auto attach = next_packet(p.server.get());
        CHECK(attach.header.proc == to_int(RemoteProc::fleet_net_attach));
        // A ping first, then the reply with its one fd on the byte after it.
        put(p.server.get(), encode_ping());
        put(p.server.get(),
            *encode_reply_with_fds(attach.header,
                                   FleetNetAttachRet{"tap0", "0e:00:00:00:00:01", "10.0.0.2/24", "10.0.0.1"}, 1));
        REQUIRE(send_with_fds(p.server.get(), std::string(1, '\0'), {wr.get()}));
        CHECK(is_pong(next_packet(p.server.get()).header));
        CHECK(next_packet(p.server.get()).header.proc == to_int(RemoteProc::connect_close));
    });
    {
        BlockingClient c(std::move(p.client), 2000ms);
        auto opened = c.open("fleet:///system", false, "test");
        CHECK(opened);
        auto got = c.call_with_fds<FleetNetAttachRet>(RemoteProc::fleet_net_attach, FleetNetAttachArgs{"vm", 0});
        REQUIRE(got);
        CHECK(got->body.tap == "tap0");
        REQUIRE(got->nfds == 1);
        auto fds = c.take_fds(got->nfds);
        REQUIRE(fds);
        REQUIRE(fds->size() == 1);
        REQUIRE(::write((*fds)[0].get(), "x", 1) == 1);  // the pipe's write end
        char ch = 0;
        REQUIRE(::read(rd.get(), &ch, 1) == 1);
        CHECK(ch == 'x');
    }  // CONNECT_CLOSE on the way out
    server.join();
    CHECK(ponged);
}

TEST_CASE("blocking client: no auth it can do, and a silent router, are clear errors", "[blocking_client]")
{
    SECTION("only SASL offered")
    {
        Pair p;
        std::thread server([&] { serve_open(p.server.get(), {1}, nullptr); });
        BlockingClient c(std::move(p.client), 2000ms);
        auto opened = c.open("fleet:///system", false, "fleet-vmm");
        server.join();
        REQUIRE_FALSE(opened);
        CHECK(opened.error().what() == "the router asks for an authentication fleet-vmm does not do (only 'none')");
    }
    SECTION("no answer within the timeout, whichever way the reply is read")
    {
        Pair p;
        BlockingClient c(std::move(p.client), 50ms);
        auto host = c.call<ConnectGetHostnameRet>(RemoteProc::connect_get_hostname, Void{});
        REQUIRE_FALSE(host);
        CHECK(host.error().what() == "the router did not answer within 50 ms");
        auto tap = c.call_with_fds<FleetNetAttachRet>(RemoteProc::fleet_net_attach, FleetNetAttachArgs{"vm", 0});
        REQUIRE_FALSE(tap);
        CHECK(tap.error().what() == "the router did not answer within 50 ms");
    }
}

TEST_CASE("blocking client: an fd where none may come is refused, and closed", "[blocking_client]")
{
    Pair p;
    int pipe_fds[2];
    REQUIRE(::pipe2(pipe_fds, O_CLOEXEC) == 0);
    Fd rd(pipe_fds[0]), wr(pipe_fds[1]);
    std::thread server([&] {
        auto call = next_packet(p.server.get());
        // A plain REPLY, but with an fd riding on its first byte.
        REQUIRE(send_with_fds(p.server.get(), *encode_reply_with_fds(call.header, FleetNetAttachRet{}, 0), {wr.get()}));
        wr.reset();
    });
    BlockingClient c(std::move(p.client), 2000ms);
    auto got = c.call_with_fds<FleetNetAttachRet>(RemoteProc::fleet_net_attach, FleetNetAttachArgs{"vm", 0});
    server.join();
    CHECK_FALSE(got);
    char ch;
    CHECK(::read(rd.get(), &ch, 1) == 0);  // no write end is left open anywhere: end of file
}
