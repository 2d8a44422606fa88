// fleet — fuzz target for wire's blocking router client (libFuzzer entry
// point): the input is what a hostile or broken router sends down the
// connection, as fsh and fleet-vmm --net read it.
//
// The bytes wait in one end of a socketpair, which is then shut for
// writing (end of file after them, so no read waits out its timeout); a
// BlockingClient on the other end opens the connection, makes a call,
// a call whose reply carries fds (read packet by packet, then its fd
// bytes) and a pipelined pair, and hands over what came unasked, going
// on after any failure. Every call may fail; none may crash, hang, read
// past what came, or hold more than the input's worth. The client's own
// calls and pongs wait unread in the socket's buffer: the input is kept
// under 32 KiB so that they fit.
//
// Seeds (client-corpus/): a router's answers to that sequence, keepalive
// pings between them.
#include <fleet/wire/blocking_client.hpp>
#include <fleet/wire/connect_messages.hpp>
#include <fleet/wire/domain_messages.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdint>

using namespace fleet;
using namespace fleet::wire;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size > 32768) return 0;
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return 0;
    Fd server(sv[1]);
    for (std::size_t done = 0; done < size;) {
        ssize_t n = ::write(server.get(), data + done, size - done);
        if (n <= 0) return 0;
        done += static_cast<std::size_t>(n);
    }
    ::shutdown(server.get(), SHUT_WR);
    {
        BlockingClient c{Fd(sv[0]), std::chrono::milliseconds(1000)};
        c.keep_unsolicited();
        (void)c.open("fleet:///system", false, "fuzz");
        (void)c.call<ConnectGetHostnameRet>(RemoteProc::connect_get_hostname, Void{});
        if (auto tap = c.call_with_fds<FleetNetAttachRet>(RemoteProc::fleet_net_attach, FleetNetAttachArgs{"vm", 0}))
            (void)c.take_fds(tap->nfds);
        auto first = c.send_call(RemoteProc::connect_list_all_domains, ConnectListAllDomainsArgs{1, 0});
        auto second = c.send_call(RemoteProc::connect_get_hostname, Void{});
        if (first) (void)c.reply<ConnectListAllDomainsRet>(RemoteProc::connect_list_all_domains, *first);
        if (second) (void)c.reply<ConnectGetHostnameRet>(RemoteProc::connect_get_hostname, *second);
        (void)c.take_unsolicited();
    }
    return 0;
}
