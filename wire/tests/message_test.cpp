// wire-unit — whole messages against bytes seen on the wire (the digest,
// ../shared/libvirt-protocol.md), and the rules replies, events and streams
// follow.
#include <fleet/wire/connect_messages.hpp>
#include <fleet/wire/domain_messages.hpp>
#include <fleet/wire/event_messages.hpp>
#include <fleet/wire/message.hpp>
#include <fleet/wire/stats_messages.hpp>
#include <fleet/wire/storage_messages.hpp>

#include <catch2/catch.hpp>

#include <string>

using namespace fleet::wire;
using namespace std::string_literals;

TEST_CASE("CONNECT_OPEN for qemu:///system is the 56 bytes virsh sends", "[message][wire]")
{
    auto packet = encode_call(RemoteProc::connect_open, 2, ConnectOpenArgs{"qemu:///system", 0});
    REQUIRE(packet);
    const std::string expected =
        "\0\0\0\x38"s                        // length 56
        "\x20\x00\x80\x86\0\0\0\1\0\0\0\1"s  // REMOTE, v1, proc 1
        "\0\0\0\0\0\0\0\2\0\0\0\0"s          // CALL, serial 2, OK
        "\0\0\0\1\0\0\0\x0e"                 // name present, 14 bytes
        "qemu:///system\0\0"s                //   + 2 bytes pad
        "\0\0\0\0"s;                         // flags
    CHECK(packet->size() == 56);
    CHECK(*packet == expected);
}

TEST_CASE("PING and PONG are 28-byte keepalive MESSAGEs", "[message][wire]")
{
    CHECK(encode_ping() ==
          "\0\0\0\x1c"
          "keep"
          "\0\0\0\1\0\0\0\1\0\0\0\2\0\0\0\0\0\0\0\0"s);
    CHECK(encode_pong() ==
          "\0\0\0\x1c"
          "keep"
          "\0\0\0\1\0\0\0\2\0\0\0\2\0\0\0\0\0\0\0\0"s);
    auto ping = decode_packet(encode_ping());
    REQUIRE(ping);
    CHECK(is_ping(ping->header));
    CHECK_FALSE(is_pong(ping->header));
}

TEST_CASE("the not-found error reply, field by field", "[message][wire]")
{
    // What libvirtd's test driver sent for a lookup of a missing domain.
    RemoteError e;
    e.code = err::no_domain;
    e.domain = errdom::test;
    e.message = "Domain not found";
    e.level = errlevel::error;
    e.str1 = "Domain not found";
    e.int1 = -1;
    e.int2 = -1;

    const Header call{remote_program, 1, to_int(RemoteProc::domain_lookup_by_name), MessageType::call, 5, Status::ok};
    auto packet = encode_error_reply(call, e);
    REQUIRE(packet);
    const std::string payload =
        "\0\0\0\x2a\0\0\0\x0c"s  // code 42, domain 12
        "\0\0\0\1\0\0\0\x10"
        "Domain not found"s  // message
        "\0\0\0\2"s          // level ERROR
        "\0\0\0\0"s          // dom NULL
        "\0\0\0\1\0\0\0\x10"
        "Domain not found"s                  // str1
        "\0\0\0\0\0\0\0\0"s                  // str2, str3 NULL
        "\xff\xff\xff\xff\xff\xff\xff\xff"s  // int1, int2 -1
        "\0\0\0\0"s;                         // net NULL
    REQUIRE(packet->size() == 28 + payload.size());
    CHECK(packet->substr(28) == payload);

    auto p = decode_packet(*packet);
    REQUIRE(p);
    CHECK(p->header == Header{remote_program, 1, 23, MessageType::reply, 5, Status::error});
    CHECK(decode_payload<RemoteError>(p->payload) == e);
}

TEST_CASE("host memory: free bytes, cells and stats as remote_protocol.x lays them out", "[message][wire]")
{
    // NODE_GET_CELLS_FREE_MEMORY (101) call: int startCell, int maxcells.
    auto call = encode_call(RemoteProc::node_get_cells_free_memory, 4, NodeGetCellsFreeMemoryArgs{0, 1});
    REQUIRE(call);
    CHECK(call->substr(8) ==
          "\0\0\0\1\0\0\0\x65\0\0\0\0\0\0\0\4\0\0\0\0"  // v1, proc 101, CALL, serial 4, OK
          "\0\0\0\0\0\0\0\1"s);                         // startCell 0, maxcells 1
    // Its reply: unsigned hyper cells<1024>.
    const Header h101{remote_program, 1, 101, MessageType::call, 4, Status::ok};
    auto cells = encode_reply(h101, NodeGetCellsFreeMemoryRet{{0x0000000123456789ull}});
    REQUIRE(cells);
    CHECK(cells->substr(28) == "\0\0\0\1\0\0\0\x01\x23\x45\x67\x89"s);
    // NODE_GET_FREE_MEMORY (102) reply: one unsigned hyper, bytes.
    const Header h102{remote_program, 1, 102, MessageType::call, 5, Status::ok};
    auto free = encode_reply(h102, NodeGetFreeMemoryRet{8ull << 30});
    REQUIRE(free);
    CHECK(free->substr(28) == "\0\0\0\2\0\0\0\0"s);
    // NODE_GET_MEMORY_STATS (228): int nparams, int cellNum, unsigned flags;
    // the reply is {string field; unsigned hyper value}<16>, then int nparams.
    auto stats_call = encode_call(RemoteProc::node_get_memory_stats, 6, NodeGetMemoryStatsArgs{0, -1, 0});
    REQUIRE(stats_call);
    CHECK(stats_call->substr(28) == "\0\0\0\0\xff\xff\xff\xff\0\0\0\0"s);
    const Header h228{remote_program, 1, 228, MessageType::call, 6, Status::ok};
    auto stats = encode_reply(h228, NodeGetMemoryStatsRet{{{"total", 1024}}, 4});
    REQUIRE(stats);
    CHECK(stats->substr(28) ==
          "\0\0\0\1"              // one param
          "\0\0\0\5total\0\0\0"s  //   field, padded
          "\0\0\0\0\0\0\x04\0"    //   value 1024
          "\0\0\0\4"s);           // nparams
    auto count = encode_reply(h228, NodeGetMemoryStatsRet{{}, 4});
    REQUIRE(count);
    CHECK(count->substr(28) == "\0\0\0\0\0\0\0\4"s);
}

TEST_CASE("networks: counts, lists and a lookup as remote_protocol.x lays them out", "[message][wire]")
{
    // CONNECT_LIST_ALL_NETWORKS (283) call: int need_results, unsigned flags.
    auto call = encode_call(RemoteProc::connect_list_all_networks, 3, ConnectListAllNetworksArgs{1, 0});
    REQUIRE(call);
    CHECK(call->substr(12, 4) == "\0\0\x01\x1b"s);  // proc 283
    CHECK(call->substr(28) == "\0\0\0\1\0\0\0\0"s);
    const Header h283{remote_program, 1, 283, MessageType::call, 3, Status::ok};
    auto one = encode_reply(h283, ConnectListAllNetworksRet{{NonnullNetwork{"fleet", {}}}, 1});
    REQUIRE(one);
    CHECK(one->substr(28) ==
          "\0\0\0\1"                     // one network
          "\0\0\0\5fleet\0\0\0"s         //   name, padded
              + std::string(16, '\0') +  //   uuid[16]
              "\0\0\0\1"s);              // ret
    // NETWORK_LOOKUP_BY_NAME (46): remote_nonnull_string name -> remote_nonnull_network.
    auto lookup = encode_call(RemoteProc::network_lookup_by_name, 4, NetworkLookupByNameArgs{"default"});
    REQUIRE(lookup);
    CHECK(lookup->substr(28) == "\0\0\0\7default\0"s);
    // CONNECT_NUM_OF_NETWORKS (52): void -> int.
    const Header h52{remote_program, 1, 52, MessageType::call, 5, Status::ok};
    auto num = encode_reply(h52, ConnectNumOfNetworksRet{0});
    REQUIRE(num);
    CHECK(num->substr(28) == "\0\0\0\0"s);
}

TEST_CASE("CONNECT_GET_DOMAIN_CAPABILITIES: four optional strings and flags", "[message][wire]")
{
    // What `virsh domcapabilities --arch x86_64` sends: emulatorbin NULL,
    // arch "x86_64", machine NULL, virttype NULL, flags 0.
    auto call = encode_call(RemoteProc::connect_get_domain_capabilities, 9,
                            ConnectGetDomainCapabilitiesArgs{{}, std::string("x86_64"), {}, {}, 0});
    REQUIRE(call);
    CHECK(call->substr(12, 4) == "\0\0\x01\x56"s);  // proc 342
    CHECK(call->substr(28) ==
          "\0\0\0\0"                     // emulatorbin NULL
          "\0\0\0\1\0\0\0\6x86_64\0\0"s  // arch present, 6 bytes + 2 pad
          "\0\0\0\0\0\0\0\0"             // machine, virttype NULL
          "\0\0\0\0"s);                  // flags
}

TEST_CASE("vCPUs: DOMAIN_GET_VCPUS and its cpumaps as remote_protocol.x lays them out", "[message][wire]")
{
    // DOMAIN_GET_VCPUS (20): remote_nonnull_domain, int maxinfo, int maplen.
    auto call = encode_call(RemoteProc::domain_get_vcpus, 4, DomainGetVcpusArgs{NonnullDomain{"web", {}, 3}, 2, 1});
    REQUIRE(call);
    CHECK(call->substr(12, 4) == "\0\0\0\x14"s);
    CHECK(call->substr(28) == "\0\0\0\3web\0"s + std::string(16, '\0') + "\0\0\0\3\0\0\0\2\0\0\0\1"s);
    // Reply: remote_vcpu_info {unsigned number; int state; unsigned hyper
    // cpu_time; int cpu}<>, then opaque cpumaps<> (length, bytes, padding).
    const Header h20{remote_program, 1, 20, MessageType::call, 4, Status::ok};
    auto r = encode_reply(h20, DomainGetVcpusRet{{VcpuInfo{0, 1, 5, 1}}, std::string("\x03", 1)});
    REQUIRE(r);
    CHECK(r->substr(28) ==
          "\0\0\0\1"               // one vCPU
          "\0\0\0\0\0\0\0\1"s      //   number 0, state 1 (running)
          "\0\0\0\0\0\0\0\5"s      //   cpu_time 5 ns
          "\0\0\0\1"               //   on host CPU 1
          "\0\0\0\1\x03\0\0\0"s);  // cpumaps: 1 byte (CPUs 0 and 1), padded
    // DOMAIN_GET_VCPU_PIN_INFO (230) and DOMAIN_GET_EMULATOR_PIN_INFO (280)
    // answer opaque cpumaps<> then an int.
    const Header h230{remote_program, 1, 230, MessageType::call, 5, Status::ok};
    auto pins = encode_reply(h230, CpumapsRet{std::string("\x01\x01", 2), 2});
    REQUIRE(pins);
    CHECK(pins->substr(28) == "\0\0\0\2\x01\x01\0\0\0\0\0\2"s);
    auto emu = encode_call(RemoteProc::domain_get_emulator_pin_info, 6,
                           DomainGetEmulatorPinInfoArgs{NonnullDomain{"web", {}, 3}, 1, 0});
    REQUIRE(emu);
    CHECK(emu->substr(12, 4) == "\0\0\x01\x18"s);  // proc 280
}

TEST_CASE("bulk stats: CONNECT_GET_ALL_DOMAIN_STATS with remote_typed_param", "[message][wire]")
{
    // What `virsh domstats --state --cpu-total --vcpu --list-running`
    // sends: no domains, stats 1|2|8, flags RUNNING (16).
    auto call = encode_call(RemoteProc::connect_get_all_domain_stats, 7, ConnectGetAllDomainStatsArgs{{}, 11, 16});
    REQUIRE(call);
    CHECK(call->substr(12, 4) == "\0\0\x01\x58"s);  // proc 344
    CHECK(call->substr(28) == "\0\0\0\0\0\0\0\x0b\0\0\0\x10"s);
    const Header h344{remote_program, 1, 344, MessageType::call, 7, Status::ok};
    ConnectGetAllDomainStatsRet ret;
    ret.records.push_back(DomainStatsRecord{NonnullDomain{"a", {}, 1},
                                            {TypedParam::i32("state.state", 1), TypedParam::u64("cpu.time", 7)}});
    auto r = encode_reply(h344, ret);
    REQUIRE(r);
    CHECK(r->substr(28) ==
          "\0\0\0\1"  // one record
          "\0\0\0\1a\0\0\0"s +
              std::string(16, '\0') +     //   dom: name, uuid
              "\0\0\0\1"                  //        id
              "\0\0\0\2"                  //   two params
              "\0\0\0\x0bstate.state\0"s  //     field, padded
              "\0\0\0\1\0\0\0\1"s         //     INT 1
              "\0\0\0\x08"
              "cpu.time"s                    //     field
              "\0\0\0\4\0\0\0\0\0\0\0\7"s);  //     ULLONG 7
    // Every arm round-trips; an unknown type is malformed both ways.
    auto back = decode_payload<ConnectGetAllDomainStatsRet>(r->substr(28));
    REQUIRE(back);
    CHECK(*back == ret);
    CHECK_FALSE(decode_payload<TypedParam>("\0\0\0\1x\0\0\0\0\0\0\x09\0\0\0\0"s));
    CHECK_FALSE(encode_payload(TypedParam{"x", 9, 0, 0, {}}));
}

TEST_CASE("the fleet network and DOMAIN_RESET as remote_protocol.x lays them out", "[message][wire]")
{
    // NETWORK_GET_XML_DESC (43): remote_nonnull_network {name; uuid}, flags.
    auto xml = encode_call(RemoteProc::network_get_xml_desc, 8, NetworkFlagsArgs{NonnullNetwork{"fleet", {}}, 0});
    REQUIRE(xml);
    CHECK(xml->substr(12, 4) == "\0\0\0\x2b"s);
    CHECK(xml->substr(28) == "\0\0\0\5fleet\0\0\0"s + std::string(16, '\0') + "\0\0\0\0"s);
    // NETWORK_GET_BRIDGE_NAME (45), NETWORK_IS_ACTIVE (152): the network alone.
    auto bridge = encode_call(RemoteProc::network_get_bridge_name, 9, NetworkArgs{NonnullNetwork{"fleet", {}}});
    REQUIRE(bridge);
    CHECK(bridge->substr(12, 4) == "\0\0\0\x2d"s);
    CHECK(bridge->size() == 28 + 12 + 16);
    CHECK(to_int(RemoteProc::network_is_active) == 152);
    CHECK(to_int(RemoteProc::network_is_persistent) == 153);
    // DOMAIN_RESET (245): dom, unsigned flags.
    auto reset = encode_call(RemoteProc::domain_reset, 10, DomainFlagsArgs{NonnullDomain{"a", {}, 1}, 0});
    REQUIRE(reset);
    CHECK(reset->substr(12, 4) == "\0\0\0\xf5"s);
    CHECK(reset->substr(28) == "\0\0\0\1a\0\0\0"s + std::string(16, '\0') + "\0\0\0\1\0\0\0\0"s);
}

TEST_CASE("make_error and the unknown-procedure error", "[message]")
{
    const RemoteError e = unknown_procedure_error(999);
    CHECK(e.code == err::rpc);
    CHECK(e.domain == errdom::rpc);
    CHECK(e.message == "unknown procedure: 999");
    CHECK(e.level == errlevel::error);
    CHECK_FALSE(e.dom);
    CHECK_FALSE(e.net);
}

TEST_CASE("a reply echoes the call's program, version, procedure and serial", "[message]")
{
    const Header call{qemu_program, 1, 212, MessageType::call, 77, Status::ok};
    auto r = encode_reply(call, DomainGetStateRet{state::running, reason::running_booted});
    REQUIRE(r);
    auto p = decode_packet(*r);
    REQUIRE(p);
    CHECK(p->header == Header{qemu_program, 1, 212, MessageType::reply, 77, Status::ok});
    CHECK(p->payload == "\0\0\0\1\0\0\0\1"s);

    auto v = encode_reply(call, Void{});
    REQUIRE(v);
    CHECK(v->size() == 28);
}

TEST_CASE("storage: pools and volumes as remote_protocol.x lays them out", "[message][wire]")
{
    // CONNECT_LIST_ALL_STORAGE_POOLS (281): int need_results, unsigned flags
    // -> remote_nonnull_storage_pool pools<> {string name; uuid}, unsigned ret.
    auto call = encode_call(RemoteProc::connect_list_all_storage_pools, 3, ConnectListAllStoragePoolsArgs{1, 64});
    REQUIRE(call);
    CHECK(call->substr(12, 4) == "\0\0\x01\x19"s);  // proc 281
    CHECK(call->substr(28) == "\0\0\0\1\0\0\0\x40"s);
    const Header h281{remote_program, 1, 281, MessageType::call, 3, Status::ok};
    auto pools = encode_reply(h281, ConnectListAllStoragePoolsRet{{NonnullStoragePool{"/srv", {}}}, 1});
    REQUIRE(pools);
    CHECK(pools->substr(28) == "\0\0\0\1\0\0\0\4/srv"s + std::string(16, '\0') + "\0\0\0\1"s);
    // STORAGE_VOL_LOOKUP_BY_PATH (97): string path -> remote_nonnull_storage_vol
    // {string pool; string name; string key}.
    auto lookup = encode_call(RemoteProc::storage_vol_lookup_by_path, 4, StringArgs{"/srv/a.raw"});
    REQUIRE(lookup);
    CHECK(lookup->substr(12, 4) == "\0\0\0\x61"s);
    CHECK(lookup->substr(28) == "\0\0\0\x0a/srv/a.raw\0\0"s);
    const Header h97{remote_program, 1, 97, MessageType::call, 4, Status::ok};
    auto vol = encode_reply(h97, StorageVolRet{{"/srv", "a.raw", "/srv/a.raw"}});
    REQUIRE(vol);
    CHECK(vol->substr(28) == "\0\0\0\4/srv\0\0\0\5a.raw\0\0\0\0\0\0\x0a/srv/a.raw\0\0"s);
    // STORAGE_VOL_GET_INFO (98) reply: char type (4 bytes), unsigned hyper
    // capacity, unsigned hyper allocation.
    const Header h98{remote_program, 1, 98, MessageType::call, 5, Status::ok};
    auto vinfo = encode_reply(h98, StorageVolGetInfoRet{0, 1ull << 26, 0x30000});
    REQUIRE(vinfo);
    CHECK(vinfo->substr(28) == "\0\0\0\0\0\0\0\0\x04\0\0\0\0\0\0\0\0\x03\0\0"s);
    // STORAGE_POOL_GET_INFO (87) reply: unsigned char state (4 bytes), then
    // capacity, allocation, available.
    const Header h87{remote_program, 1, 87, MessageType::call, 6, Status::ok};
    auto pinfo = encode_reply(h87, StoragePoolGetInfoRet{2, 3, 2, 1});
    REQUIRE(pinfo);
    CHECK(pinfo->substr(28) == "\0\0\0\2\0\0\0\0\0\0\0\3\0\0\0\0\0\0\0\2\0\0\0\0\0\0\0\1"s);
    // STORAGE_POOL_LIST_VOLUMES (92): pool, int maxnames.
    auto list = encode_call(RemoteProc::storage_pool_list_volumes, 7, StoragePoolListVolumesArgs{{"/", {}}, 5});
    REQUIRE(list);
    CHECK(list->substr(28) == "\0\0\0\1/\0\0\0"s + std::string(16, '\0') + "\0\0\0\5"s);
}

TEST_CASE("events are MESSAGEs with serial 0", "[message]")
{
    const DomainEventCallbackLifecycleMsg msg{3, {NonnullDomain{"a", {}, 4}, event::started, detail::started_booted}};
    auto m = encode_event(RemoteProc::domain_event_callback_lifecycle, msg);
    REQUIRE(m);
    auto p = decode_packet(*m);
    REQUIRE(p);
    CHECK(p->header == Header{remote_program, 1, 318, MessageType::message, 0, Status::ok});
    // callbackID, then {name "a", uuid, id 4, event 2, detail 0}.
    CHECK(p->payload == "\0\0\0\3\0\0\0\1a\0\0\0"s + std::string(16, '\0') + "\0\0\0\4\0\0\0\2\0\0\0\0"s);
}

TEST_CASE("stream packets", "[message]")
{
    const Header call{remote_program, 1, 201, MessageType::call, 12, Status::ok};
    auto data = encode_stream(call, Status::continue_, "raw \x01 bytes");
    REQUIRE(data);
    auto p = decode_packet(*data);
    REQUIRE(p);
    CHECK(p->header == Header{remote_program, 1, 201, MessageType::stream, 12, Status::continue_});
    CHECK(p->payload == "raw \x01 bytes");  // not XDR: no length, no padding

    auto eof = encode_stream(call, Status::continue_, "");  // server-side EOF
    REQUIRE(eof);
    CHECK(eof->size() == 28);
    auto fin = encode_stream(call, Status::ok, "");
    REQUIRE(fin);
    CHECK(decode_packet(*fin)->header.status == Status::ok);

    CHECK_FALSE(encode_stream(call, Status::ok, "data"));
    CHECK_FALSE(encode_stream(call, Status::error, ""));
    CHECK_FALSE(encode_stream(call, Status::continue_, std::string(max_stream_chunk + 1, 'x')));
    CHECK(encode_stream(call, Status::continue_, std::string(max_stream_chunk, 'x')));

    auto err = encode_stream_error(call, make_error(err::internal_error, errdom::streams, "gone"));
    REQUIRE(err);
    auto ep = decode_packet(*err);
    REQUIRE(ep);
    CHECK(ep->header.type == MessageType::stream);
    CHECK(ep->header.status == Status::error);
    CHECK(decode_payload<RemoteError>(ep->payload)->message == "gone");
}

TEST_CASE("encoders report payloads over their limits", "[message]")
{
    // A string over remote_string_max.
    auto big = encode_reply(Header{}, StringRet{std::string(remote_string_max + 1, 'x')});
    REQUIRE_FALSE(big);
    CHECK_THAT(big.error().message, Catch::Contains("exceeds its limit"));

    // Within every field limit, but more than a packet may hold.
    DomainGetMessagesRet msgs;
    msgs.msgs.assign(9, std::string(remote_string_max, 'm'));
    auto huge = encode_reply(Header{}, msgs);
    REQUIRE_FALSE(huge);
    CHECK_THAT(huge.error().message, Catch::Contains("packet exceeds the limit"));
}
