// wire-unit — the packet header and the length rules.
#include <fleet/wire/packet.hpp>

#include <catch2/catch.hpp>

#include <string>

using namespace fleet::wire;
using namespace std::string_literals;

TEST_CASE("the header is six big-endian words", "[packet]")
{
    const Header h{remote_program, 1, 273, MessageType::reply, 6, Status::error};
    XdrWriter w;
    encode_header(w, h);
    CHECK(w.bytes() == "\x20\x00\x80\x86\0\0\0\1\0\0\x01\x11\0\0\0\1\0\0\0\6\0\0\0\1"s);
    XdrReader r(w.bytes());
    CHECK(decode_header(r) == h);
    CHECK(r.remaining() == 0);
}

TEST_CASE("decode_header takes any values but needs 24 bytes", "[packet]")
{
    const std::string odd = "\xde\xad\xbe\xef\0\0\0\7\xff\xff\xff\xff\0\0\0\x63\0\0\0\0\0\0\0\x09"s;
    XdrReader r(odd);
    auto h = decode_header(r);
    REQUIRE(h);
    CHECK(h->prog == 0xdeadbeef);
    CHECK(h->vers == 7);
    CHECK(h->proc == -1);
    CHECK(h->type == MessageType{99});
    CHECK(h->status == Status{9});
    CHECK(to_string(h->type) == "99");
    for (std::size_t n = 0; n < 24; ++n) {
        XdrReader short_r(std::string_view(odd).substr(0, n));
        CHECK_FALSE(decode_header(short_r));
    }
}

TEST_CASE("packet length limits", "[packet]")
{
    CHECK_FALSE(check_length(0));
    CHECK_FALSE(check_length(4));
    CHECK_FALSE(check_length(27));
    CHECK(check_length(28));
    CHECK(check_length(33554432 + 4));
    CHECK_FALSE(check_length(33554432 + 5));
    CHECK_FALSE(check_length(0xffffffffu));
}

TEST_CASE("decode_packet checks the length word against the bytes", "[packet]")
{
    const Header h{keepalive_program, 1, 1, MessageType::message, 0, Status::ok};
    auto bytes = encode_packet(h, "");
    REQUIRE(bytes);
    REQUIRE(bytes->size() == 28);
    auto p = decode_packet(*bytes);
    REQUIRE(p);
    CHECK(p->header == h);
    CHECK(p->payload.empty());

    CHECK_FALSE(decode_packet(*bytes + "x"));          // longer than it says
    CHECK_FALSE(decode_packet(bytes->substr(0, 27)));  // shorter
    CHECK_FALSE(decode_packet(""));
    auto with = encode_packet(h, "abcd");
    REQUIRE(with);
    CHECK(decode_packet(*with)->payload == "abcd");
}

TEST_CASE("encode_packet refuses a packet over the limit", "[packet]")
{
    const Header h;
    const std::string payload(max_message_size - header_size + 1, 'x');
    auto p = encode_packet(h, payload);
    REQUIRE_FALSE(p);
    CHECK_THAT(p.error().message, Catch::Contains("exceeds the limit of 33554436"));
    CHECK(encode_packet(h, std::string_view(payload).substr(1)));
}

TEST_CASE("type and status names", "[packet]")
{
    CHECK(to_string(MessageType::call) == "CALL");
    CHECK(to_string(MessageType::stream_hole) == "STREAM_HOLE");
    CHECK(to_string(Status::continue_) == "CONTINUE");
    CHECK(to_string(Status{7}) == "7");
}
