// Tests for wire/client.hpp: which packets answer a call, replies and errors.
#include <fleet/wire/client.hpp>
#include <fleet/wire/connect_messages.hpp>
#include <fleet/wire/domain_messages.hpp>
#include <fleet/wire/message.hpp>
#include <fleet/wire/procedures.hpp>

#include <catch2/catch.hpp>

using namespace fleet::wire;

namespace {

Header call_header(RemoteProc proc, std::uint32_t serial)
{
    return Header{remote_program, protocol_version, to_int(proc), MessageType::call, serial, Status::ok};
}

Packet packet_of(const std::string& bytes)
{
    auto p = decode_packet(bytes);
    REQUIRE(p);
    return *p;
}

}  // namespace

TEST_CASE("a reply answers only its own call", "[client]")
{
    Header call = call_header(RemoteProc::connect_get_hostname, 7);
    Header reply = reply_header(call, Status::ok);
    CHECK(answers(call, reply));
    Header other = reply;
    other.serial = 8;
    CHECK_FALSE(answers(call, other));
    other = reply;
    other.proc = to_int(RemoteProc::connect_open);
    CHECK_FALSE(answers(call, other));
    other = reply;
    other.type = MessageType::message;  // an event is never the answer
    CHECK_FALSE(answers(call, other));
}

TEST_CASE("an OK reply decodes as the procedure's return type", "[client]")
{
    Header call = call_header(RemoteProc::connect_get_hostname, 1);
    auto bytes = encode_reply(call, ConnectGetHostnameRet{"box"});
    REQUIRE(bytes);
    auto ret = decode_reply<ConnectGetHostnameRet>(packet_of(*bytes));
    REQUIRE(ret);
    CHECK(ret->hostname == "box");
}

TEST_CASE("an ERROR reply becomes the server's message", "[client]")
{
    Header call = call_header(RemoteProc::domain_lookup_by_name, 2);
    auto bytes = encode_error_reply(call, make_error(42, 10, "Domain not found: no domain with matching name 'x'"));
    REQUIRE(bytes);
    auto ret = decode_reply<DomainRet>(packet_of(*bytes));
    REQUIRE_FALSE(ret);
    CHECK(ret.error().message == "Domain not found: no domain with matching name 'x'");
}

TEST_CASE("a reply that does not decode is an error, not a crash", "[client]")
{
    Header call = call_header(RemoteProc::connect_get_hostname, 3);
    auto bytes = encode_packet(reply_header(call, Status::ok), std::string("\0\0\0\x09short", 9));
    REQUIRE(bytes);
    auto ret = decode_reply<ConnectGetHostnameRet>(packet_of(*bytes));
    REQUIRE_FALSE(ret);
    CHECK(ret.error().message.starts_with("a malformed reply"));
    auto odd = encode_packet(reply_header(call, Status::continue_), "");
    REQUIRE(odd);
    CHECK_FALSE(decode_reply<ConnectGetHostnameRet>(packet_of(*odd)));
}

TEST_CASE("a reply with fds: the count, the payload, and its errors", "[client]")
{
    Header call = call_header(RemoteProc::fleet_net_attach, 3);
    FleetNetAttachRet ret{"fl0e1234567890", "0e:12:34:56:78:90", "10.77.0.2/24", "10.77.0.1"};
    auto bytes = encode_reply_with_fds(call, ret, 1);
    REQUIRE(bytes);
    Packet p = packet_of(*bytes);
    CHECK(p.header.type == MessageType::reply_with_fds);
    CHECK(answers(call, p.header));
    CHECK(validate_payload(p.header, p.payload));
    auto got = decode_reply_with_fds<FleetNetAttachRet>(p);
    REQUIRE(got);
    CHECK(got->nfds == 1);
    CHECK(got->body == ret);
    // The plain decoder does not take it for a reply without fds.
    CHECK_FALSE(decode_reply<FleetNetAttachRet>(p));

    // More fds than a message may carry: refused both ways.
    CHECK_FALSE(encode_reply_with_fds(call, ret, max_fds + 1));
    std::string many = p.payload;
    many[3] = static_cast<char>(max_fds + 1);
    CHECK_FALSE(validate_payload(p.header, many));
    Packet over = p;
    over.payload = many;
    CHECK_FALSE(decode_reply_with_fds<FleetNetAttachRet>(over));
    // A truncated count, a bad status, a reply with fds to an event.
    CHECK_FALSE(validate_payload(p.header, p.payload.substr(0, 2)));
    Header err = p.header;
    err.status = Status::error;
    CHECK_FALSE(validate_payload(err, p.payload));
    Header event = p.header;
    event.proc = to_int(RemoteProc::fleet_domain_event_exited);
    CHECK_FALSE(validate_payload(event, p.payload));

    // The server's error comes as a plain REPLY: its message is the error.
    RemoteError e;
    e.message = "no bridge";
    auto error = encode_error_reply(call, e);
    REQUIRE(error);
    auto refused = decode_reply_with_fds<FleetNetAttachRet>(packet_of(*error));
    REQUIRE_FALSE(refused);
    CHECK(refused.error().message == "no bridge");
    // An OK reply without fds is not the answer this call expects.
    auto plain = encode_reply(call, ret);
    REQUIRE(plain);
    CHECK_FALSE(decode_reply_with_fds<FleetNetAttachRet>(packet_of(*plain)));
}
