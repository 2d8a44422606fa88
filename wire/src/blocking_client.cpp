// fleet — the blocking router client (blocking_client.hpp).
#include <fleet/wire/blocking_client.hpp>

#include <fleet/base/socket.hpp>
#include <fleet/wire/connect_messages.hpp>
#include <fleet/wire/xdr.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace fleet::wire {

namespace {

using Clock = std::chrono::steady_clock;

std::chrono::milliseconds left_until(Clock::time_point deadline)
{
    return std::max(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()),
                    std::chrono::milliseconds(0));
}

}  // namespace

BlockingClient::~BlockingClient()
{
    if (!fd_) return;
    auto bytes = encode_call(RemoteProc::connect_close, serial_++, Void{});
    if (bytes) {
        auto sent = send(*bytes);
        (void)sent;
    }
}

Result<> BlockingClient::open(const std::string& name, bool read_only, std::string_view self)
{
    auto auth = call<AuthListRet>(RemoteProc::auth_list, Void{});
    if (!auth) return std::unexpected(auth.error());
    bool none = std::find(auth->types.begin(), auth->types.end(), 0) != auth->types.end();
    if (!none) return fail("the router asks for an authentication " + std::string(self) + " does not do (only 'none')");
    ConnectOpenArgs args{name, read_only ? flags::connect_ro : 0u};
    if (auto ok = call<Void>(RemoteProc::connect_open, args); !ok)
        return fail("the router refused the connection: " + ok.error().message);
    read_only_ = read_only;
    return {};
}

Result<std::vector<Fd>> BlockingClient::take_fds(std::uint32_t n)
{
    if (tls_) return fail("fds cannot come over TLS");
    if (n > max_fds) return fail("a reply with " + std::to_string(n) + " fds");
    auto deadline = Clock::now() + timeout_;
    std::vector<Fd> fds;
    for (std::uint32_t i = 0; i < n; ++i)
        if (auto byte = recv_with_fds(fd_.get(), 1, fds, i + 1, left_until(deadline)); !byte)
            return std::unexpected(lost(byte.error()));
    if (fds.size() != n)
        return fail("the router sent " + std::to_string(fds.size()) + " of " + std::to_string(n) + " fds");
    return fds;
}

Result<> BlockingClient::write_all(std::string_view bytes)
{
    std::size_t done = 0;
    while (done < bytes.size()) {
        ssize_t n = ::send(fd_.get(), bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail("lost the router", errno);
        done += static_cast<std::size_t>(n);
    }
    return {};
}

Result<> BlockingClient::send(const std::string& bytes)
{
    auto sealed = seal(bytes);
    if (!sealed) return std::unexpected(sealed.error());
    return write_all(*sealed);
}

Result<std::string> BlockingClient::read_some(Clock::time_point deadline)
{
    for (;;) {
        auto ready = wait_fd(fd_.get(), POLLIN, deadline);
        if (!ready) return std::unexpected(ready.error());
        if (!*ready) return std::unexpected(not_answered());
        char buf[65536];
        ssize_t n = ::read(fd_.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail("lost the router", errno);
        if (n == 0) return fail("lost the router (it closed the connection)");
        std::string bytes(buf, static_cast<std::size_t>(n));
        if (!tls_) return bytes;
        auto plain = tls_->receive(bytes);
        if (!plain) return std::unexpected(plain.error());
        if (auto out = tls_->take_output(); !out.empty())  // handshake messages, alerts
            if (auto ok = write_all(out); !ok) return std::unexpected(ok.error());
        return plain;
    }
}

Error BlockingClient::not_answered() const
{
    return Error{"the router did not answer within " + std::to_string(timeout_.count()) + " ms"};
}

Error BlockingClient::lost(const Error& e) const
{
    if (e.sys_errno == ETIMEDOUT) return not_answered();
    return Error{"lost the router: " + e.what()};
}

Result<Packet> BlockingClient::read_packet(Clock::time_point deadline)
{
    std::vector<Fd> none;  // any fd here is refused (and closed)
    auto head = recv_with_fds(fd_.get(), length_word_size, none, 0, left_until(deadline));
    if (!head) return std::unexpected(lost(head.error()));
    XdrReader word(*head);
    auto length = check_length(*word.u32());
    if (!length) return fail("bad data from the router: " + length.error().message);
    // In pieces: the bytes held grow only as the router sends them.
    std::string bytes = std::move(*head);
    while (bytes.size() < *length) {
        std::size_t piece = std::min<std::size_t>(*length - bytes.size(), 65536);
        auto got = recv_with_fds(fd_.get(), piece, none, 0, left_until(deadline));
        if (!got) return std::unexpected(lost(got.error()));
        bytes += *got;
    }
    auto p = decode_packet(bytes);
    if (!p) return fail("bad data from the router: " + p.error().message);
    return p;
}

Result<std::optional<Packet>> BlockingClient::take_answer(const Header& call)
{
    while (!queued_.empty()) {
        Packet p = std::move(queued_.front());
        queued_.pop_front();
        if (answers(call, p.header)) return std::optional<Packet>(std::move(p));
        if (is_ping(p.header)) {
            if (auto ok = send(encode_pong()); !ok) return std::unexpected(ok.error());
        } else if (keep_unsolicited_) {
            if (unsolicited_.size() >= 4096) return fail("the router sent more than is kept between calls");
            unsolicited_.push_back(std::move(p));
        }
    }
    return std::optional<Packet>();
}

Result<Packet> BlockingClient::receive(const Header& call, bool exact)
{
    if (exact && (tls_ || !assembler_.idle())) return fail("a reply with fds cannot come over this connection");
    auto deadline = Clock::now() + timeout_;
    for (;;) {
        auto answer = take_answer(call);
        if (!answer) return std::unexpected(answer.error());
        if (*answer) return std::move(**answer);
        if (exact) {
            auto p = read_packet(deadline);
            if (!p) return std::unexpected(p.error());
            queued_.push_back(std::move(*p));
            continue;
        }
        auto bytes = read_some(deadline);
        if (!bytes) return std::unexpected(bytes.error());
        if (auto q = queue(*bytes); !q) return std::unexpected(q.error());
    }
}

Result<std::string> BlockingClient::payload_of(std::int32_t proc, std::uint32_t serial)
{
    Header call{remote_program, protocol_version, proc, MessageType::call, serial, Status::ok};
    auto reply = receive(call);
    if (!reply) return std::unexpected(reply.error());
    return reply_payload(*reply);
}

Result<std::string> BlockingClient::seal(const std::string& bytes)
{
    if (!tls_) return bytes;
    if (auto ok = tls_->send(bytes); !ok) return std::unexpected(ok.error());
    return tls_->take_output();
}

Result<std::vector<Packet>> BlockingClient::unseal(std::string_view bytes, std::string& reply)
{
    if (!tls_) return assemble(bytes);
    auto plain = tls_->receive(bytes);
    if (!plain) return std::unexpected(plain.error());
    reply += tls_->take_output();
    return assemble(*plain);
}

Result<std::vector<Packet>> BlockingClient::assemble(std::string_view plain)
{
    auto packets = assembler_.feed(plain);
    if (!packets) return fail("bad data from the router: " + packets.error().message);
    return std::move(*packets);
}

Result<> BlockingClient::queue(std::string_view plain)
{
    auto packets = assemble(plain);
    if (!packets) return std::unexpected(packets.error());
    for (auto& p : *packets) queued_.push_back(std::move(p));
    return {};
}

}  // namespace fleet::wire
