// wire-unit — the procedure table and validate_payload.
#include "samples.hpp"

#include <fleet/wire/message.hpp>
#include <fleet/wire/procedures.hpp>

#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <type_traits>

using namespace fleet::wire;
using namespace std::string_literals;
using fleet::wire::testing::sample;

// The shapes the digest names, checked at compile time.
static_assert(std::is_same_v<Procedure<RemoteProc::connect_open>::Args, ConnectOpenArgs>);
static_assert(std::is_same_v<Procedure<RemoteProc::domain_get_state>::Ret, DomainGetStateRet>);
static_assert(std::is_same_v<Procedure<RemoteProc::domain_lookup_by_uuid>::Ret, DomainRet>);
static_assert(Procedure<RemoteProc::domain_open_console>::kind == ProcKind::stream);
static_assert(Procedure<RemoteProc::domain_event_callback_lifecycle>::kind == ProcKind::event);
static_assert(KnownProcedures::size == 113);
static_assert(to_int(RemoteProc::fleet_net_attach) == 1003);
static_assert(to_int(RemoteProc::fleet_domain_resize_terminal) == 1004);
static_assert(to_int(RemoteProc::fleet_domain_run) == 1000);
static_assert(Procedure<RemoteProc::fleet_domain_open_stdio>::kind == ProcKind::stream);
static_assert(Procedure<RemoteProc::fleet_domain_open_stdio>::access == ProcAccess::write);
static_assert(Procedure<RemoteProc::fleet_domain_event_exited>::kind == ProcKind::event);
static_assert(Procedure<RemoteProc::fleet_domain_run>::name == "FLEET_DOMAIN_RUN");
static_assert(to_int(RemoteProc::domain_get_vcpus) == 20);
static_assert(to_int(RemoteProc::connect_get_all_domain_stats) == 344);
static_assert(Procedure<RemoteProc::domain_reset>::access == ProcAccess::write);
static_assert(to_int(RemoteProc::storage_vol_lookup_by_path) == 97);
static_assert(to_int(RemoteProc::connect_list_all_storage_pools) == 281);
static_assert(to_int(RemoteProc::domain_get_metadata) == 265);
static_assert(Procedure<RemoteProc::connect_open>::name == "CONNECT_OPEN");
static_assert(Procedure<RemoteProc::connect_open>::connection == ProcConnection::any);
static_assert(Procedure<RemoteProc::domain_get_state>::connection == ProcConnection::open);
static_assert(Procedure<RemoteProc::domain_define_xml>::access == ProcAccess::write);
static_assert(Procedure<RemoteProc::domain_get_xml_desc>::access == ProcAccess::read);
static_assert(to_int(RemoteProc::domain_get_messages) == 426);

namespace {

Header call_of(RemoteProc p)
{
    return Header{remote_program, 1, to_int(p), MessageType::call, 1, Status::ok};
}

template <class T>
std::string payload(const T& v)
{
    return *encode_payload(v);
}

}  // namespace

TEST_CASE("the procedure table: every procedure once, findable by number", "[procedures]")
{
    std::set<std::int32_t> seen;
    std::set<std::string_view> names;
    for (const ProcedureInfo& p : remote_procedures()) {
        CHECK(seen.insert(to_int(p.proc)).second);
        CHECK(names.insert(p.name).second);
        CHECK(find_procedure(to_int(p.proc)) == &p);
    }
    CHECK(seen.size() == KnownProcedures::size);
    CHECK(seen.size() == std::size(known_procedures));
    CHECK(find_procedure(0) == nullptr);
    CHECK(find_procedure(8) == nullptr);
    CHECK(find_procedure(-1) == nullptr);
    CHECK(find_procedure(100000) == nullptr);
}

TEST_CASE("procedure names", "[procedures]")
{
    KnownProcedures::for_each([](auto p) {
        const ProcedureInfo* info = find_procedure(to_int(p.value));
        REQUIRE(info != nullptr);
        CHECK(info->name == Procedure<p.value>::name);
        CHECK(info->kind == Procedure<p.value>::kind);
        CHECK(info->access == Procedure<p.value>::access);
        CHECK(info->connection == Procedure<p.value>::connection);
    });
    CHECK(procedure_name(remote_program, 1) == "CONNECT_OPEN");
    CHECK(procedure_name(remote_program, 426) == "DOMAIN_GET_MESSAGES");
    CHECK(procedure_name(remote_program, 999) == "REMOTE.999");
    CHECK(procedure_name(keepalive_program, 1) == "KEEPALIVE.PING");
    CHECK(procedure_name(keepalive_program, 2) == "KEEPALIVE.PONG");
    CHECK(procedure_name(qemu_program, 3) == "0x20008087.3");
}

TEST_CASE("validate_payload: calls and replies", "[procedures]")
{
    const Header call = call_of(RemoteProc::domain_get_state);
    CHECK(validate_payload(call, payload(sample<DomainFlagsArgs>())));
    CHECK_FALSE(validate_payload(call, payload(sample<DomainFlagsArgs>()) + "\0\0\0\0"s));  // trailing
    CHECK_FALSE(validate_payload(call, ""));

    CHECK(validate_payload(reply_header(call, Status::ok), payload(sample<DomainGetStateRet>())));
    CHECK(validate_payload(reply_header(call, Status::error), payload(sample<RemoteError>())));
    CHECK_FALSE(validate_payload(reply_header(call, Status::error), payload(sample<DomainGetStateRet>())));
    CHECK_FALSE(validate_payload(reply_header(call, Status::continue_), ""));

    // Void both ways.
    CHECK(validate_payload(call_of(RemoteProc::connect_close), ""));
    CHECK_FALSE(validate_payload(call_of(RemoteProc::connect_close), "\0\0\0\0"s));
}

TEST_CASE("validate_payload: events, streams and keepalives", "[procedures]")
{
    Header event{remote_program, 1, 318, MessageType::message, 0, Status::ok};
    CHECK(validate_payload(event, payload(sample<DomainEventCallbackLifecycleMsg>())));
    CHECK_FALSE(validate_payload(call_of(RemoteProc::domain_event_callback_lifecycle),
                                 payload(sample<DomainEventCallbackLifecycleMsg>())));
    Header not_event{remote_program, 1, 212, MessageType::message, 0, Status::ok};
    CHECK_FALSE(validate_payload(not_event, payload(sample<DomainFlagsArgs>())));

    Header stream{remote_program, 1, 201, MessageType::stream, 4, Status::continue_};
    CHECK(validate_payload(stream, "anything at all"));
    stream.status = Status::ok;
    CHECK(validate_payload(stream, ""));
    CHECK_FALSE(validate_payload(stream, "x"));
    stream.status = Status::error;
    CHECK(validate_payload(stream, payload(sample<RemoteError>())));
    Header no_stream{remote_program, 1, 212, MessageType::stream, 4, Status::continue_};
    CHECK_FALSE(validate_payload(no_stream, "x"));

    auto ping = decode_packet(encode_ping());
    REQUIRE(ping);
    CHECK(validate_payload(ping->header, ""));
    CHECK_FALSE(validate_payload(ping->header, "\0\0\0\0"s));
    Header bad_keepalive{keepalive_program, 1, 3, MessageType::message, 0, Status::ok};
    CHECK_FALSE(validate_payload(bad_keepalive, ""));
}

TEST_CASE("validate_payload: unknown programs, procedures and types", "[procedures]")
{
    auto unknown = validate_payload(Header{remote_program, 1, 999, MessageType::call, 0, Status::ok}, "");
    REQUIRE_FALSE(unknown);
    CHECK(unknown.error().message == "unknown procedure: 999");
    CHECK_FALSE(validate_payload(Header{admin_program, 1, 1, MessageType::call, 0, Status::ok}, ""));
    CHECK_FALSE(validate_payload(Header{remote_program, 1, 2, MessageType::call_with_fds, 0, Status::ok}, ""));
    CHECK_FALSE(validate_payload(Header{remote_program, 1, 2, MessageType{42}, 0, Status::ok}, ""));
}
