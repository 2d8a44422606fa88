// The claim socket's messages: requests round-trip, bad bytes are refused,
// fds travel with the request.
#include <fleet/base/socket.hpp>
#include <fleet/test/support.hpp>
#include <fleet/vmm/claim.hpp>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace fleet;
using namespace fleet::vmm;

namespace {

ClaimRequest sample()
{
    ClaimRequest r;
    r.name = "echo-1a2b";
    r.args = {"echo", "a b", std::string("\n\t\x01", 3), ""};
    r.env = {"A=1", "EMPTY="};
    r.forward_stdin = false;
    r.auto_remove = true;
    r.stop_deadline = std::chrono::milliseconds(2500);
    return r;
}

// A socket pair to send a claim over and a pipe whose ends ride with it.
struct Wires {
    Fd a, b, rd, wr;
    Wires()
    {
        int sv[2];
        REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
        a = Fd(sv[0]);
        b = Fd(sv[1]);
        int p[2];
        REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
        rd = Fd(p[0]);
        wr = Fd(p[1]);
    }
};

}  // namespace

TEST_CASE("a claim request round-trips")
{
    auto bytes = encode_claim(sample());
    REQUIRE(bytes);
    auto size = claim_body_size(bytes->substr(0, claim_header_size));
    REQUIRE(size);
    CHECK(*size + claim_header_size == bytes->size());
    auto r = decode_claim(*bytes);
    REQUIRE(r);
    CHECK(r->name == "echo-1a2b");
    CHECK(r->args == sample().args);
    CHECK(r->env == sample().env);
    CHECK(r->workdir.empty());
    CHECK_FALSE(r->forward_stdin);
    CHECK(r->auto_remove);
    CHECK(r->stop_deadline.count() == 2500);
    CHECK_FALSE(r->detached);
}

TEST_CASE("a claim carries the program's terminal, size and all")
{
    ClaimRequest want = sample();
    auto plain = decode_claim(*encode_claim(want));
    REQUIRE(plain);
    CHECK_FALSE(plain->tty);
    want.tty = Terminal{50, 132, false};
    auto bytes = encode_claim(want);
    REQUIRE(bytes);
    auto r = decode_claim(*bytes);
    REQUIRE(r);
    REQUIRE(r->tty);
    CHECK(r->tty->rows == 50);
    CHECK(r->tty->cols == 132);
    CHECK_FALSE(r->tty->stderr_too);
    CHECK(r->args == want.args);
    want.tty = Terminal{0, 80, true};  // no rows: refused before it is sent
    CHECK_FALSE(encode_claim(want));
}

TEST_CASE("a detached claim (the router's) says so")
{
    ClaimRequest d = sample();
    d.detached = true;
    auto r = decode_claim(*encode_claim(d));
    REQUIRE(r);
    CHECK(r->detached);
    CHECK_FALSE(r->forward_stdin);
    CHECK(r->auto_remove);
}

TEST_CASE("bad claim requests are refused, never trusted")
{
    auto good = *encode_claim(sample());
    CHECK_FALSE(decode_claim(""));
    CHECK_FALSE(decode_claim(good.substr(0, good.size() - 1)));  // cut short
    CHECK_FALSE(decode_claim(good + "x"));                       // trailing bytes
    std::string magic = good;
    magic[0] ^= 1;
    CHECK_FALSE(decode_claim(magic));
    std::string flags = good;
    flags[8] = '\x80';
    CHECK_FALSE(decode_claim(flags));
    ClaimRequest bad_name = sample();
    bad_name.name = "../x";
    CHECK_FALSE(decode_claim(*encode_claim(bad_name)));
    ClaimRequest bad_env = sample();
    bad_env.env = {"NOEQUALS"};
    CHECK_FALSE(decode_claim(*encode_claim(bad_env)));
    // Every truncation and every single-byte change: an answer, never a crash.
    for (std::size_t i = 0; i < good.size(); ++i) {
        (void)decode_claim(good.substr(0, i));
        std::string flipped = good;
        flipped[i] = static_cast<char>(flipped[i] ^ 0x5a);
        (void)decode_claim(flipped);
    }
}

TEST_CASE("claim events and signal lines round-trip")
{
    auto e = parse_event("exit 130 1 VM 'x' was interrupted");
    REQUIRE(e);
    CHECK(e->kind == ClaimEvent::exit);
    CHECK(e->status == 130);
    CHECK(e->report);
    CHECK(e->message == "VM 'x' was interrupted");
    auto line = format_event({ClaimEvent::exit, 7, false, "two\nlines"});
    CHECK(line == "exit 7 0 two lines\n");
    CHECK(parse_event("ready")->kind == ClaimEvent::ready);
    CHECK(parse_event("stopped")->kind == ClaimEvent::stopped);
    CHECK_FALSE(parse_event("exit 256 0 x"));
    CHECK_FALSE(parse_event("exit 1"));
    CHECK_FALSE(parse_event("bogus"));
    auto s = parse_signal_line("signal 15 2000");
    REQUIRE(s);
    CHECK(s->sig == 15);
    CHECK(s->value == 2000);
    CHECK(parse_signal_line(format_signal({2, -1}).substr(0, 11))->sig == 2);
    CHECK_FALSE(parse_signal_line("signal 0 -1"));
    CHECK_FALSE(parse_signal_line("signal 65 -1"));
    CHECK_FALSE(parse_signal_line("signal 2 -1 extra"));
}

TEST_CASE("fds ride with the request")
{
    Wires w;
    Fd &a = w.a, &b = w.b, &rd = w.rd, &wr = w.wr;
    auto bytes = *encode_claim(sample());
    REQUIRE(send_with_fds(a.get(), bytes, {rd.get(), wr.get(), wr.get()}));
    std::vector<Fd> fds;
    auto head = recv_with_fds(b.get(), claim_header_size, fds, 3, std::chrono::milliseconds(1000));
    REQUIRE(head);
    auto body = recv_with_fds(b.get(), *claim_body_size(*head), fds, 3, std::chrono::milliseconds(1000));
    REQUIRE(body);
    REQUIRE(fds.size() == 3);
    CHECK(decode_claim(*head + *body)->name == "echo-1a2b");
    REQUIRE(::write(fds[1].get(), "x", 1) == 1);  // a working copy of the pipe's write end
    char c = 0;
    REQUIRE(::read(rd.get(), &c, 1) == 1);
    CHECK(c == 'x');
    // Nothing more comes: a timeout, not a hang.
    std::vector<Fd> more;
    CHECK_FALSE(recv_with_fds(b.get(), 1, more, 3, std::chrono::milliseconds(50)));
}

TEST_CASE("a run's detached claim carries four fds: the ready pipe and the stage's stdio; five are refused")
{
    Wires w;
    Fd &a = w.a, &b = w.b, &rd = w.rd, &wr = w.wr;
    auto bytes = *encode_claim(sample());
    CHECK_FALSE(send_with_fds(a.get(), bytes, {wr.get(), rd.get(), wr.get(), wr.get(), wr.get()}));
    REQUIRE(send_with_fds(a.get(), bytes, {wr.get(), rd.get(), wr.get(), wr.get()}));
    std::vector<Fd> fds;
    auto head = recv_with_fds(b.get(), claim_header_size, fds, 4, std::chrono::milliseconds(1000));
    REQUIRE(head);
    REQUIRE(recv_with_fds(b.get(), *claim_body_size(*head), fds, 4, std::chrono::milliseconds(1000)));
    CHECK(fds.size() == 4);
}
