// The runtime's libvirt client, its pure XDR half (lib/virt_xdr.cpp):
// packets byte for byte as remote_protocol.x lays them out, and the
// decoder's refusals of short or oversized input. The end-to-end check
// is spawn through a real router (tests/integration/hypervisor_test.py).
#include "lib/virt.hpp"

#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <vector>

using namespace rt::virt;

namespace {

std::vector<uint8_t> bytes(std::initializer_list<int> b)
{
    return {b.begin(), b.end()};
}

std::vector<uint8_t> out_of(const Out& o)
{
    return {o.data(), o.data() + o.size()};
}

}  // namespace

TEST_CASE("virt: strings are length, bytes and zero padding", "[virt]")
{
    uint8_t buf[32];
    Out o(buf, sizeof buf);
    o.string("abcde");
    o.i32(-1);
    REQUIRE(o.ok());
    CHECK(out_of(o) == bytes({0, 0, 0, 5, 'a', 'b', 'c', 'd', 'e', 0, 0, 0, 0xff, 0xff, 0xff, 0xff}));

    In in(buf, o.size());
    char s[8];
    in.string(s, sizeof s);
    CHECK(std::string(s) == "abcde");
    CHECK(in.i32() == -1);
    CHECK(in.ok());
    CHECK(in.left() == 0);
}

TEST_CASE("virt: overflow and short input fail instead of running past the buffer", "[virt]")
{
    uint8_t buf[8];
    Out o(buf, sizeof buf);
    o.string("abcde");  // 4 + 8 bytes
    CHECK_FALSE(o.ok());

    uint8_t big[] = {0, 0, 0, 200, 'a', 'b', 'c', 'd'};
    In in(big, sizeof big);
    char s[300];
    in.string(s, sizeof s);  // claims 200 bytes, has 4
    CHECK_FALSE(in.ok());

    uint8_t long_name[] = {0, 0, 0, 9, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 0, 0, 0};
    In in2(long_name, sizeof long_name);
    char small[8];
    in2.string(small, sizeof small);  // 9 bytes do not fit 7 + NUL
    CHECK_FALSE(in2.ok());
    CHECK(small[0] == 0);
}

TEST_CASE("virt: a packet's header, and its length counting the body", "[virt]")
{
    uint8_t body[] = {0, 0, 0, 0, 0, 0, 0, 0};
    uint8_t buf[64];
    Out o(buf, sizeof buf);
    frame(o, proc_connect_open, type_call, 7, status_ok, body, sizeof body);
    REQUIRE(o.ok());
    REQUIRE(o.size() == 36);
    CHECK(out_of(o) == bytes({0, 0, 0, 36, 0x20, 0x00, 0x80, 0x86, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0,
                              0, 0, 0, 0,  0,    7,    0,    0,    0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
    Header h;
    REQUIRE(parse_header(buf, o.size(), h));
    CHECK(h.len == 36);
    CHECK(h.proc == proc_connect_open);
    CHECK(h.serial == 7);

    // Stream data goes as it is: no padding.
    Out s(buf, sizeof buf);
    frame(s, proc_open_stdio, type_stream, 3, status_continue, "hey", 3);
    REQUIRE(s.ok());
    CHECK(s.size() == 31);
    CHECK(buf[3] == 31);

    // Another program, a length below the header or above the limit: refused.
    buf[4] = 0x21;
    CHECK_FALSE(parse_header(buf, 28, h));
    buf[4] = 0x20;
    buf[3] = 20;
    CHECK_FALSE(parse_header(buf, 28, h));
    buf[0] = 0x7f;
    buf[3] = 36;
    CHECK_FALSE(parse_header(buf, 28, h));
}

TEST_CASE("virt: a domain round-trips, an error reply gives its code and message", "[virt]")
{
    Domain d{};
    std::strcpy(d.name, "parent.upper");
    for (int i = 0; i < 16; i++) d.uuid[i] = static_cast<uint8_t>(i);
    d.id = 42;
    uint8_t buf[128];
    Out o(buf, sizeof buf);
    put(o, d);
    REQUIRE(o.ok());
    CHECK(o.size() == 4 + 12 + 16 + 4);
    In in(buf, o.size());
    Domain e{};
    get(in, e);
    REQUIRE(in.ok());
    CHECK(std::string(e.name) == "parent.upper");
    CHECK(std::memcmp(e.uuid, d.uuid, 16) == 0);
    CHECK(e.id == 42);

    Out err(buf, sizeof buf);
    err.i32(29);  // VIR_ERR_OPERATION_DENIED
    err.i32(10);
    err.u32(1);
    err.string("operation denied: no");
    err.i32(2);
    err.u32(0);
    int32_t code = 0;
    char msg[64];
    error_of(buf, err.size(), &code, msg, sizeof msg);
    CHECK(code == 29);
    CHECK(std::string(msg) == "operation denied: no");
    error_of(buf, 6, &code, msg, sizeof msg);
    CHECK(code == -1);
    CHECK(std::string(msg) == "a malformed error reply");
}

TEST_CASE("virt: text for a domain's XML is escaped, control bytes refused", "[virt]")
{
    char buf[64];
    Text t(buf, sizeof buf);
    t.raw("<a>");
    t.escaped("x & <y> 'z' \"w\"\t");
    REQUIRE(t.ok());
    CHECK(std::string(t.c_str()) == "<a>x &amp; &lt;y&gt; &apos;z&apos; &quot;w&quot;\t");

    Text bad(buf, sizeof buf);
    bad.escaped("bell\a");
    CHECK_FALSE(bad.ok());

    char tiny[4];
    Text full(tiny, sizeof tiny);
    full.raw("abcd");  // 4 bytes + NUL do not fit
    CHECK_FALSE(full.ok());
    CHECK(std::strlen(tiny) < sizeof tiny);
}
