// wire-unit — the generic struct codec: rpcgen's widened chars and shorts,
// char arrays, optional pointers, bounded lists, and the smallest-encoding
// bound that keeps hostile counts from allocating.
#include <fleet/wire/connect_messages.hpp>
#include <fleet/wire/domain_messages.hpp>
#include <fleet/wire/event_messages.hpp>

#include <catch2/catch.hpp>

#include <string>

using namespace fleet::wire;
using namespace std::string_literals;

namespace {

std::string words(std::initializer_list<std::uint32_t> ws)
{
    XdrWriter w;
    for (auto v : ws) w.put_u32(v);
    return w.take();
}

}  // namespace

static_assert(min_wire_size<Void> == 0);
static_assert(min_wire_size<NonnullDomain> == 24);  // empty name, uuid, id
static_assert(min_wire_size<DomainGetInfoRet> == 32);
static_assert(min_wire_size<NodeGetInfoRet> == 32 * 4 + 8 + 6 * 4);
static_assert(min_wire_size<RemoteError> == 11 * 4);

TEST_CASE("DOMAIN_GET_INFO's unsigned char and short take 4 bytes each", "[codec]")
{
    const DomainGetInfoRet info{state::running, 2048, 1024, 2, 5};
    auto bytes = encode_payload(info);
    REQUIRE(bytes);
    CHECK(bytes->size() == 32);
    CHECK(*bytes == words({1, 0, 2048, 0, 1024, 2, 0, 5}));

    // A value the C type cannot hold is malformed, not truncated.
    CHECK_FALSE(decode_payload<DomainGetInfoRet>(words({256, 0, 2048, 0, 1024, 2, 0, 5})));
    CHECK_FALSE(decode_payload<DomainGetInfoRet>(words({1, 0, 2048, 0, 1024, 65536, 0, 5})));
}

TEST_CASE("NODE_GET_INFO's char model[32] is 32 four-byte ints", "[codec]")
{
    NodeGetInfoRet info;
    info.model = "x86_64";
    auto bytes = encode_payload(info);
    REQUIRE(bytes);
    CHECK(bytes->size() == 32 * 4 + 8 + 6 * 4);
    CHECK(bytes->substr(0, 8) == words({'x', '8'}));
    CHECK(bytes->substr(6 * 4, 4) == words({0}));  // NUL padding
    auto back = decode_payload<NodeGetInfoRet>(*bytes);
    REQUIRE(back);
    CHECK(back->model == "x86_64");

    info.model = std::string(33, 'm');
    CHECK_FALSE(encode_payload(info));
    info.model = std::string(32, 'm');  // exactly full: no NUL, still fits
    auto full = encode_payload(info);
    REQUIRE(full);
    CHECK(decode_payload<NodeGetInfoRet>(*full)->model == std::string(32, 'm'));
}

TEST_CASE("char arrays: a count, then one sign-extended int per character", "[codec]")
{
    NodeGetSecurityModelRet m{std::string("none\0", 5), ""};
    auto bytes = encode_payload(m);
    REQUIRE(bytes);
    CHECK(*bytes == words({5, 'n', 'o', 'n', 'e', 0, 0}));

    DomainGetSecurityLabelRet high{std::string("\xe9"), 1};
    auto hb = encode_payload(high);
    REQUIRE(hb);
    CHECK(*hb == words({1, 0xffffffe9u, 1}));  // as a signed x86 char
    CHECK(decode_payload<DomainGetSecurityLabelRet>(*hb) == high);
    // An unsigned char peer sends 0xe9: the same character.
    CHECK(decode_payload<DomainGetSecurityLabelRet>(words({1, 0xe9, 1})) == high);
    // Not a char at all.
    CHECK_FALSE(decode_payload<DomainGetSecurityLabelRet>(words({1, 256, 1})));
    CHECK_FALSE(decode_payload<DomainGetSecurityLabelRet>(words({1, 0xffffff7fu, 1})));
    // Over the limit of 257 (security_model_max).
    NodeGetSecurityModelRet big{std::string(258, 'a'), ""};
    CHECK_FALSE(encode_payload(big));
    CHECK_FALSE(decode_payload<NodeGetSecurityModelRet>(words({258}) + std::string(258 * 4 + 4, '\0')));
}

TEST_CASE("optional pointers: 0 for NULL, 1 then the value", "[codec]")
{
    ConnectOpenArgs null_name{std::nullopt, 0};
    CHECK(encode_payload(null_name) == words({0, 0}));
    CHECK(decode_payload<ConnectOpenArgs>(words({0, 0})) == null_name);
    ConnectOpenArgs empty{"", 1};
    CHECK(encode_payload(empty) == words({1, 0, 1}));
    CHECK_FALSE(decode_payload<ConnectOpenArgs>(words({2, 0, 1})));
}

TEST_CASE("lists: count over the limit, or over what the input holds", "[codec]")
{
    SECTION("0xffffffff domains: refused before any allocation")
    {
        auto r = decode_payload<ConnectListAllDomainsRet>(words({0xffffffffu, 0}));
        REQUIRE_FALSE(r);
        CHECK_THAT(r.error().what(), Catch::Contains("exceeds its limit of 16384"));
    }
    SECTION("16384 domains announced, room for one")
    {
        // Each domain takes at least 24 bytes: 16384 would need 393216.
        auto r = decode_payload<ConnectListAllDomainsRet>(words({16384, 0, 0, 0, 0, 0, 7, 0}));
        REQUIRE_FALSE(r);
        CHECK_THAT(r.error().what(), Catch::Contains("393216"));
    }
    SECTION("at the limit and within the input: accepted")
    {
        ConnectListDomainsRet ids;
        ids.ids.assign(domain_list_max, 1);
        auto bytes = encode_payload(ids);
        REQUIRE(bytes);
        CHECK(decode_payload<ConnectListDomainsRet>(*bytes) == ids);
        ids.ids.push_back(2);
        CHECK_FALSE(encode_payload(ids));
    }
    SECTION("nested lists")
    {
        auto r = decode_payload<DomainInterfaceAddressesRet>(words({1, 0, 0, 0xffffffffu}));
        REQUIRE_FALSE(r);
    }
}

TEST_CASE("a string over remote_string_max is refused both ways", "[codec]")
{
    DomainDefineXmlArgs big{std::string(remote_string_max + 1, 'x')};
    auto e = encode_payload(big);
    REQUIRE_FALSE(e);
    CHECK_THAT(e.error().message, Catch::Contains("exceeds its limit of 4194304"));

    auto d =
        decode_payload<DomainDefineXmlArgs>(words({remote_string_max + 1}) + std::string(remote_string_max + 4, 'x'));
    REQUIRE_FALSE(d);
    CHECK_THAT(d.error().message, Catch::Contains("exceeds its limit"));

    DomainDefineXmlArgs max{std::string(remote_string_max, 'x')};
    auto ok = encode_payload(max);
    REQUIRE(ok);
    CHECK(decode_payload<DomainDefineXmlArgs>(*ok) == max);
}

TEST_CASE("decoding stops at the first bad field and says where", "[codec]")
{
    // remote_nonnull_domain with a 3-byte name, then a truncated uuid.
    auto r = decode_payload<DomainArgs>(words({3}) + "abc\0"s + "0123456789");
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::Contains("at offset 8"));
}

TEST_CASE("fleet's run: a list of XML strings, then flags; at most run_stages_max stages", "[codec]")
{
    FleetDomainRunArgs a{{"ab", "xyz12"}, 0};
    auto bytes = encode_payload(a);
    REQUIRE(bytes);
    CHECK(*bytes == words({2, 2}) + "ab\0\0"s + words({5}) + "xyz12\0\0\0"s + words({0}));
    CHECK(decode_payload<FleetDomainRunArgs>(*bytes) == a);
    auto over = decode_payload<FleetDomainRunArgs>(words({run_stages_max + 1}));
    REQUIRE_FALSE(over);
    CHECK_THAT(over.error().message, Catch::Contains("exceeds its limit"));
}
