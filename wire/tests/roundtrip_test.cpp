// wire-unit — every message type encodes and decodes back to itself, every
// truncation of its encoding is a clean error, and every procedure's call,
// reply and event survive the whole path: encoder -> PacketAssembler (fed
// byte by byte) -> validate_payload -> typed decoder.
//
// With FLEET_WIRE_CORPUS_DIR set, the packets are also written there, one
// file each: that is how wire/fuzz/corpus/ was made.
#include "samples.hpp"

#include <fleet/wire/assembler.hpp>
#include <fleet/wire/message.hpp>
#include <fleet/wire/procedures.hpp>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <string>

using namespace fleet::wire;
using fleet::wire::testing::sample;

namespace {

void save_to_corpus(const std::string& name, const std::string& packet)
{
    const char* dir = std::getenv("FLEET_WIRE_CORPUS_DIR");
    if (dir == nullptr || *dir == '\0') return;
    std::ofstream(std::string(dir) + "/" + name + ".bin", std::ios::binary) << packet;
}

template <class T>
void check_payload_roundtrip()
{
    const T value = sample<T>();
    auto bytes = encode_payload(value);
    REQUIRE(bytes);
    REQUIRE(bytes->size() % 4 == 0);
    auto back = decode_payload<T>(*bytes);
    REQUIRE(back);
    CHECK(*back == value);

    // Every strict prefix fails, and so does one byte too many.
    for (std::size_t n = 0; n < bytes->size(); ++n) {
        INFO("truncated to " << n << " of " << bytes->size() << " bytes");
        CHECK_FALSE(decode_payload<T>(std::string_view(*bytes).substr(0, n)));
    }
    CHECK_FALSE(decode_payload<T>(*bytes + '\0'));
}

// Feed a packet one byte at a time; exactly one packet comes out, at the end.
Packet reassemble(const std::string& bytes)
{
    PacketAssembler a;
    std::vector<Packet> out;
    for (char c : bytes) {
        auto got = a.feed(std::string_view(&c, 1));
        REQUIRE(got);
        for (auto& p : *got) out.push_back(std::move(p));
    }
    REQUIRE(out.size() == 1);
    REQUIRE(a.idle());
    return out.front();
}

template <class T>
void check_packet(const std::string& name, const std::string& bytes, const Header& expected, const T& value)
{
    save_to_corpus(name, bytes);
    const Packet p = reassemble(bytes);
    CHECK(p.header == expected);
    CHECK(validate_payload(p.header, p.payload));
    auto back = decode_payload<T>(p.payload);
    REQUIRE(back);
    CHECK(*back == value);
}

template <RemoteProc P>
void check_procedure()
{
    using Proc = Procedure<P>;
    const std::string name(find_procedure(to_int(P))->name);
    INFO("procedure " << name);
    check_payload_roundtrip<typename Proc::Args>();
    check_payload_roundtrip<typename Proc::Ret>();

    const auto args = sample<typename Proc::Args>();
    const std::uint32_t serial = 1000 + static_cast<std::uint32_t>(to_int(P));
    if constexpr (Proc::kind == ProcKind::event) {
        auto msg = encode_event(P, args);
        REQUIRE(msg);
        check_packet(name + "-event", *msg, Header{remote_program, 1, to_int(P), MessageType::message, 0, Status::ok},
                     args);
    } else {
        const Header call{remote_program, 1, to_int(P), MessageType::call, serial, Status::ok};
        auto c = encode_call(P, serial, args);
        REQUIRE(c);
        check_packet(name + "-call", *c, call, args);

        const auto ret = sample<typename Proc::Ret>();
        auto r = encode_reply(call, ret);
        REQUIRE(r);
        check_packet(name + "-reply", *r, reply_header(call, Status::ok), ret);

        const RemoteError error = sample<RemoteError>();
        auto e = encode_error_reply(call, error);
        REQUIRE(e);
        check_packet(name + "-error", *e, reply_header(call, Status::error), error);
    }
}

}  // namespace

TEST_CASE("every procedure's payloads and packets round-trip", "[roundtrip]")
{
    KnownProcedures::for_each([](auto p) { check_procedure<decltype(p)::value>(); });
}

TEST_CASE("shared structs round-trip", "[roundtrip]")
{
    check_payload_roundtrip<RemoteError>();
    check_payload_roundtrip<NonnullDomain>();
    check_payload_roundtrip<ConnectDomainEventRegisterAnyArgs>();

    // An error with every optional field NULL, as fleet sends them.
    RemoteError bare;
    bare.message = "m";
    auto bytes = encode_payload(bare);
    REQUIRE(bytes);
    CHECK(bytes->size() == 11 * 4 + 8);  // 11 words, and message "m": length + 1 byte + 3 pad
    CHECK(decode_payload<RemoteError>(*bytes) == bare);
}

TEST_CASE("keepalive and stream packets round-trip", "[roundtrip]")
{
    save_to_corpus("keepalive-ping", encode_ping());
    save_to_corpus("keepalive-pong", encode_pong());
    CHECK(is_ping(reassemble(encode_ping()).header));
    CHECK(is_pong(reassemble(encode_pong()).header));

    const Header console{remote_program, 1, to_int(RemoteProc::domain_open_console), MessageType::call, 9, Status::ok};
    auto data = encode_stream(console, Status::continue_, "login: ");
    REQUIRE(data);
    save_to_corpus("stream-data", *data);
    const Packet p = reassemble(*data);
    CHECK(p.header.type == MessageType::stream);
    CHECK(p.header.status == Status::continue_);
    CHECK(p.header.serial == 9);
    CHECK(p.payload == "login: ");
    CHECK(validate_payload(p.header, p.payload));

    auto end = encode_stream(console, Status::ok, "");
    REQUIRE(end);
    save_to_corpus("stream-finish", *end);
    CHECK(validate_payload(reassemble(*end).header, ""));

    auto err = encode_stream_error(console, make_error(err::internal_error, errdom::streams, "guest went away"));
    REQUIRE(err);
    save_to_corpus("stream-error", *err);
    const Packet e = reassemble(*err);
    CHECK(e.header.status == Status::error);
    CHECK(validate_payload(e.header, e.payload));
}
