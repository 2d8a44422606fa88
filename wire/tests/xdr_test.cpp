// wire-unit — XdrWriter and XdrReader: RFC 4506 encodings, and a reader
// that turns every malformed or hostile input into an error.
#include <fleet/wire/xdr.hpp>

#include <catch2/catch.hpp>

#include <string>

using namespace fleet::wire;
using namespace std::string_literals;

namespace {

std::string be32(std::uint32_t v)
{
    XdrWriter w;
    w.put_u32(v);
    return w.take();
}

}  // namespace

TEST_CASE("XdrWriter writes big-endian words", "[xdr]")
{
    XdrWriter w;
    w.put_u32(0x01020304);
    w.put_i32(-1);
    w.put_u64(0x0102030405060708ull);
    w.put_i64(-2);
    w.put_bool(true);
    w.put_double(1.0);
    CHECK(w.bytes() ==
          "\x01\x02\x03\x04"s
          "\xff\xff\xff\xff"s
          "\x01\x02\x03\x04\x05\x06\x07\x08"s
          "\xff\xff\xff\xff\xff\xff\xff\xfe"s
          "\x00\x00\x00\x01"s
          "\x3f\xf0\x00\x00\x00\x00\x00\x00"s);
    CHECK(w.ok());
}

TEST_CASE("XdrWriter pads strings and opaques to 4 bytes", "[xdr]")
{
    XdrWriter w;
    w.put_string("", 10);
    w.put_string("abc", 10);
    w.put_string("abcd", 10);
    w.put_fixed_opaque("xy");
    CHECK(w.bytes() ==
          "\0\0\0\0"s
          "\0\0\0\3abc\0"s
          "\0\0\0\4abcd"s
          "xy\0\0"s);
}

TEST_CASE("XdrWriter refuses what breaks a limit, and keeps the first error", "[xdr]")
{
    XdrWriter w;
    w.put_string("toolong", 3);
    CHECK_FALSE(w.ok());
    w.put_count(5, 4);
    auto status = w.status();
    REQUIRE_FALSE(status);
    CHECK_THAT(status.error().message, Catch::Contains("7-byte string exceeds its limit of 3"));

    XdrWriter c;
    c.put_count(5, 4);
    CHECK_FALSE(c.ok());
    CHECK(c.size() == 0);
}

TEST_CASE("XdrReader reads what XdrWriter wrote", "[xdr]")
{
    XdrWriter w;
    w.put_u32(7);
    w.put_i32(-7);
    w.put_u64(1ull << 40);
    w.put_i64(-(1ll << 40));
    w.put_bool(false);
    w.put_double(-2.5);
    w.put_string("hello", 100);
    w.put_opaque("a\0b"s, 100);
    w.put_fixed_opaque("\x01\x02\x03"s);
    XdrReader r(w.bytes());
    CHECK(r.u32() == 7u);
    CHECK(r.i32() == -7);
    CHECK(r.u64() == (1ull << 40));
    CHECK(r.i64() == -(1ll << 40));
    CHECK(r.boolean() == false);
    CHECK(r.f64() == -2.5);
    CHECK(r.string(100) == "hello");
    CHECK(r.opaque(100) == "a\0b"s);
    std::uint8_t fixed[3];
    CHECK(r.fixed_opaque(fixed));
    CHECK(fixed[2] == 3);
    CHECK(r.remaining() == 0);
    CHECK(r.finish());
}

TEST_CASE("XdrReader fails cleanly on every truncation", "[xdr]")
{
    const std::string hyper = "\x01\x02\x03\x04\x05\x06\x07\x08"s;
    for (std::size_t n = 0; n < hyper.size(); ++n) {
        XdrReader r(std::string_view(hyper).substr(0, n));
        CHECK_FALSE(r.u64());
        if (n < 4) CHECK_FALSE(XdrReader(std::string_view(hyper).substr(0, n)).u32());
    }
    const std::string s = "\0\0\0\5hello\0\0\0"s;
    for (std::size_t n = 0; n < s.size(); ++n) {
        XdrReader r(std::string_view(s).substr(0, n));
        CHECK_FALSE(r.string(100));
    }
    CHECK(XdrReader(s).string(100) == "hello");
}

TEST_CASE("XdrReader enforces a string's declared maximum", "[xdr]")
{
    const std::string s = "\0\0\0\5hello\0\0\0"s;
    XdrReader r(s);
    auto got = r.string(4);
    REQUIRE_FALSE(got);
    CHECK_THAT(got.error().message, Catch::Contains("length 5 exceeds its limit of 4"));
    CHECK(r.offset() == 0);  // nothing consumed
    CHECK(r.string(5) == "hello");
}

TEST_CASE("XdrReader refuses lengths larger than the input", "[xdr]")
{
    // 0xffffffff bytes announced, 4 present: an error, and no allocation.
    const std::string s =
        "\xff\xff\xff\xff"
        "abcd"s;
    CHECK_FALSE(XdrReader(s).opaque(0xffffffffu));
    CHECK_FALSE(XdrReader(s).string(0xffffffffu));
    // Near the wrap-around of length + padding.
    const std::string wrap = "\xff\xff\xff\xfd"s;
    CHECK_FALSE(XdrReader(wrap).opaque(0xffffffffu));
}

TEST_CASE("XdrReader array counts: limit and remaining input", "[xdr]")
{
    SECTION("count over the declared maximum")
    {
        const std::string in = be32(16385) + std::string(16385 * 4, '\0');
        XdrReader r(in);
        auto n = r.count(16384, 4);
        REQUIRE_FALSE(n);
        CHECK_THAT(n.error().message, Catch::Contains("exceeds its limit of 16384"));
    }
    SECTION("count 0xffffffff with a huge maximum: refused, nothing allocated")
    {
        const std::string in = be32(0xffffffffu) + "abcd";
        XdrReader r(in);
        auto n = r.count(0xffffffffu, 4);
        REQUIRE_FALSE(n);
        CHECK_THAT(n.error().message, Catch::Contains("left"));
    }
    SECTION("count that the remaining bytes cannot hold")
    {
        const std::string three = be32(3) + std::string(8, '\0');  // 3 items of >= 4 bytes need 12
        XdrReader r(three);
        CHECK_FALSE(r.count(100, 4));
        const std::string two = be32(2) + std::string(8, '\0');
        XdrReader ok(two);
        CHECK(ok.count(100, 4) == 2u);
    }
}

TEST_CASE("XdrReader rejects bad bools, optional flags and NULs in strings", "[xdr]")
{
    const std::string zero = be32(0), one = be32(1), two = be32(2);
    CHECK_FALSE(XdrReader(two).boolean());
    CHECK(XdrReader(one).boolean() == true);
    CHECK_FALSE(XdrReader(two).present());
    CHECK(XdrReader(zero).present() == false);

    const std::string nul = "\0\0\0\3a\0b\0"s;
    auto s = XdrReader(nul).string(10);
    REQUIRE_FALSE(s);
    CHECK_THAT(s.error().message, Catch::Contains("NUL"));
    CHECK(XdrReader(nul).opaque(10) == "a\0b"s);  // opaques may hold anything
}

TEST_CASE("XdrReader::finish reports trailing bytes", "[xdr]")
{
    const std::string in = be32(1) + "x";
    XdrReader r(in);
    CHECK(r.u32());
    auto end = r.finish();
    REQUIRE_FALSE(end);
    CHECK_THAT(end.error().message, Catch::Contains("1 unexpected trailing bytes at offset 4"));
}

TEST_CASE("xdr_pad", "[xdr]")
{
    CHECK(xdr_pad(0) == 0);
    CHECK(xdr_pad(1) == 3);
    CHECK(xdr_pad(3) == 1);
    CHECK(xdr_pad(4) == 0);
}
