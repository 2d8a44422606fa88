// wire-unit — PacketAssembler: any chunking gives the same packets; bad
// lengths are errors that stick; nothing more than one partial packet is
// ever held.
#include <fleet/wire/assembler.hpp>
#include <fleet/wire/connect_messages.hpp>
#include <fleet/wire/message.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace fleet::wire;
using namespace std::string_literals;

namespace {

// Three packets back to back: a call, a ping and a stream chunk.
std::string three_packets()
{
    std::string s = *encode_call(RemoteProc::connect_open, 2, ConnectOpenArgs{"qemu:///system", 0});
    s += encode_ping();
    const Header console{remote_program, 1, 201, MessageType::call, 9, Status::ok};
    s += *encode_stream(console, Status::continue_, "hello\n");
    return s;
}

std::vector<Packet> feed_in_chunks(const std::string& bytes, std::size_t chunk)
{
    PacketAssembler a;
    std::vector<Packet> out;
    for (std::size_t i = 0; i < bytes.size(); i += chunk) {
        auto got = a.feed(std::string_view(bytes).substr(i, chunk));
        REQUIRE(got);
        for (auto& p : *got) out.push_back(std::move(p));
        CHECK(a.buffered() <= 56);  // never more than the largest of the three
    }
    CHECK(a.idle());
    CHECK(a.finish());
    return out;
}

}  // namespace

TEST_CASE("PacketAssembler: the same packets whatever the chunking", "[assembler]")
{
    const std::string bytes = three_packets();
    const auto whole = feed_in_chunks(bytes, bytes.size());
    REQUIRE(whole.size() == 3);
    CHECK(whole[0].header.proc == 1);
    CHECK(whole[0].payload.size() == 28);
    CHECK(is_ping(whole[1].header));
    CHECK(whole[1].payload.empty());
    CHECK(whole[2].payload == "hello\n");

    for (std::size_t chunk : {1, 2, 3, 4, 5, 7, 27, 28, 29, 55, 56, 57, 100}) {
        INFO("chunk size " << chunk);
        CHECK(feed_in_chunks(bytes, chunk) == whole);
    }
}

TEST_CASE("PacketAssembler fed byte by byte holds one partial packet", "[assembler]")
{
    const std::string bytes = three_packets();
    PacketAssembler a;
    std::size_t got = 0;
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        auto r = a.feed(bytes.substr(i, 1));
        REQUIRE(r);
        got += r->size();
        if (i + 1 == 56 || i + 1 == 84) CHECK(a.idle());  // packet ends
    }
    CHECK(got == 3);
}

TEST_CASE("PacketAssembler refuses undersized and oversized lengths", "[assembler]")
{
    for (std::uint32_t bad : {0u, 4u, 27u, 33554437u, 0x7fffffffu, 0xffffffffu}) {
        INFO("length " << bad);
        XdrWriter w;
        w.put_u32(bad);
        PacketAssembler a;
        // The error comes as soon as the length word is complete.
        CHECK(a.feed(w.bytes().substr(0, 3)));
        auto r = a.feed(w.bytes().substr(3));
        REQUIRE_FALSE(r);
        CHECK_THAT(r.error().message, Catch::Contains("packet length"));
        // ... and sticks.
        CHECK_FALSE(a.feed(encode_ping()));
        CHECK_FALSE(a.finish());
    }
}

TEST_CASE("PacketAssembler: a bad packet after good ones", "[assembler]")
{
    PacketAssembler a;
    auto r = a.feed(encode_ping() + "\0\0\0\3"s);
    REQUIRE_FALSE(r);  // the whole feed fails; the stream is dead anyway
}

TEST_CASE("PacketAssembler does not trust a declared length up front", "[assembler]")
{
    XdrWriter w;
    w.put_u32(static_cast<std::uint32_t>(max_packet_size));
    PacketAssembler a;
    auto r = a.feed(w.bytes() + std::string(10, '\0'));
    REQUIRE(r);
    CHECK(r->empty());
    CHECK(a.buffered() == 14);
    CHECK_FALSE(a.idle());
    auto end = a.finish();
    REQUIRE_FALSE(end);
    CHECK_THAT(end.error().message, Catch::Contains("14 of 33554436"));
}

TEST_CASE("PacketAssembler accepts a packet at the size limit", "[assembler]")
{
    const Header h{remote_program, 1, 201, MessageType::stream, 1, Status::continue_};
    auto big = encode_packet(h, std::string(max_message_size - header_size, 'z'));
    REQUIRE(big);
    REQUIRE(big->size() == max_packet_size);
    PacketAssembler a;
    auto r = a.feed(*big);
    REQUIRE(r);
    REQUIRE(r->size() == 1);
    CHECK(r->front().payload.size() == max_message_size - header_size);
}

TEST_CASE("PacketAssembler: a side's own, smaller limit", "[assembler]")
{
    PacketAssembler a(1024);
    auto ok = a.feed(encode_ping());
    REQUIRE(ok);
    CHECK(ok->size() == 1);
    XdrWriter w;
    w.put_u32(1025);
    auto r = a.feed(w.bytes());
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::Contains("exceeds this side's limit of 1024"));
    CHECK_FALSE(a.feed(encode_ping()));  // and sticks
}
