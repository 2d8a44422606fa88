// fleet wire — a running domain's vCPUs and the bulk statistics
// (remote_protocol.x): NODE_GET_CPU_MAP, DOMAIN_GET_VCPUS, DOMAIN_GET_VCPU_PIN_INFO,
// DOMAIN_GET_EMULATOR_PIN_INFO and CONNECT_GET_ALL_DOMAIN_STATS (which
// serves both virConnectGetAllDomainStats and virDomainListGetStats: the
// latter sends the domains, the former none), with remote_typed_param.
#pragma once

#include <fleet/wire/codec.hpp>
#include <fleet/wire/types.hpp>

#include <cstdint>
#include <string>
#include <tuple>

namespace fleet::wire {

inline constexpr std::uint32_t vcpuinfo_max = 16384;                     // REMOTE_VCPUINFO_MAX
inline constexpr std::uint32_t cpumaps_max = 8388608;                    // REMOTE_CPUMAPS_MAX (bytes)
inline constexpr std::uint32_t get_all_domain_stats_max = 262144;        // REMOTE_CONNECT_GET_ALL_DOMAIN_STATS_MAX
inline constexpr std::uint32_t domain_stats_list_max = domain_list_max;  // REMOTE_DOMAIN_LIST_MAX

// virTypedParameterType: the discriminator of remote_typed_param_value.
namespace typed_param {
inline constexpr std::int32_t int32 = 1, uint32 = 2, int64 = 3, uint64 = 4, dbl = 5, boolean = 6, string = 7;
}  // namespace typed_param

// remote_typed_param: string field, then a union on an int type. The
// integer arms (int, unsigned int, boolean: 4 bytes; hyper, unsigned
// hyper: 8) keep their bits in `bits`.
struct TypedParam {
    std::string field;
    std::int32_t type = typed_param::uint64;
    std::uint64_t bits = 0;
    double dbl = 0;
    std::string str;
    bool operator==(const TypedParam&) const = default;

    static TypedParam u64(std::string f, std::uint64_t v) { return {std::move(f), typed_param::uint64, v, 0, {}}; }
    static TypedParam u32(std::string f, std::uint32_t v) { return {std::move(f), typed_param::uint32, v, 0, {}}; }
    static TypedParam i32(std::string f, std::int32_t v)
    {
        return {std::move(f), typed_param::int32, static_cast<std::uint32_t>(v), 0, {}};
    }
    static TypedParam text(std::string f, std::string v)
    {
        return {std::move(f), typed_param::string, 0, 0, std::move(v)};
    }
};

template <>
struct MinWire<TypedParam> {
    static constexpr std::size_t value = 12;  // field length, type, a 4-byte arm
};

void encode(XdrWriter& w, const TypedParam& v);
Result<> decode_into(XdrReader& r, TypedParam& v);

// DOMAIN_GET_VCPUS (20): dom, int maxinfo, int maplen -> remote_vcpu_info
// {unsigned number; int state; unsigned hyper cpu_time; int cpu}<16384>,
// opaque cpumaps<8388608> (maxinfo maps of maplen bytes, bit n = host CPU n).
struct DomainGetVcpusArgs {
    NonnullDomain dom;
    std::int32_t maxinfo = 0;
    std::int32_t maplen = 0;
    static constexpr auto xdr =
        std::tuple{&DomainGetVcpusArgs::dom, &DomainGetVcpusArgs::maxinfo, &DomainGetVcpusArgs::maplen};
    bool operator==(const DomainGetVcpusArgs&) const = default;
};

struct VcpuInfo {
    std::uint32_t number = 0;
    std::int32_t state = 0;  // virVcpuState: 0 offline, 1 running, 2 blocked
    std::uint64_t cpu_time = 0;
    std::int32_t cpu = -1;
    static constexpr auto xdr = std::tuple{&VcpuInfo::number, &VcpuInfo::state, &VcpuInfo::cpu_time, &VcpuInfo::cpu};
    bool operator==(const VcpuInfo&) const = default;
};

struct DomainGetVcpusRet {
    List<VcpuInfo, vcpuinfo_max> info;
    Opaque<cpumaps_max> cpumaps;
    static constexpr auto xdr = std::tuple{&DomainGetVcpusRet::info, &DomainGetVcpusRet::cpumaps};
    bool operator==(const DomainGetVcpusRet&) const = default;
};

// DOMAIN_GET_VCPU_PIN_INFO (230): dom, int ncpumaps, int maplen, unsigned
// flags -> opaque cpumaps<8388608>, int num.
struct DomainGetVcpuPinInfoArgs {
    NonnullDomain dom;
    std::int32_t ncpumaps = 0;
    std::int32_t maplen = 0;
    std::uint32_t flags = 0;
    static constexpr auto xdr = std::tuple{&DomainGetVcpuPinInfoArgs::dom, &DomainGetVcpuPinInfoArgs::ncpumaps,
                                           &DomainGetVcpuPinInfoArgs::maplen, &DomainGetVcpuPinInfoArgs::flags};
    bool operator==(const DomainGetVcpuPinInfoArgs&) const = default;
};

// The cpumaps and a count: DOMAIN_GET_VCPU_PIN_INFO's `num`,
// DOMAIN_GET_EMULATOR_PIN_INFO's `ret`.
struct CpumapsRet {
    Opaque<cpumaps_max> cpumaps;
    std::int32_t num = 0;
    static constexpr auto xdr = std::tuple{&CpumapsRet::cpumaps, &CpumapsRet::num};
    bool operator==(const CpumapsRet&) const = default;
};

// DOMAIN_GET_EMULATOR_PIN_INFO (268): dom, int maplen, unsigned flags.
struct DomainGetEmulatorPinInfoArgs {
    NonnullDomain dom;
    std::int32_t maplen = 0;
    std::uint32_t flags = 0;
    static constexpr auto xdr = std::tuple{&DomainGetEmulatorPinInfoArgs::dom, &DomainGetEmulatorPinInfoArgs::maplen,
                                           &DomainGetEmulatorPinInfoArgs::flags};
    bool operator==(const DomainGetEmulatorPinInfoArgs&) const = default;
};

// NODE_GET_CPU_MAP (293): int need_map, int need_online, unsigned flags ->
// opaque cpumap<2048> (the online host CPUs), unsigned online, int ret
// (the number of host CPUs).
struct NodeGetCpuMapArgs {
    std::int32_t need_map = 0;
    std::int32_t need_online = 0;
    std::uint32_t flags = 0;
    static constexpr auto xdr =
        std::tuple{&NodeGetCpuMapArgs::need_map, &NodeGetCpuMapArgs::need_online, &NodeGetCpuMapArgs::flags};
    bool operator==(const NodeGetCpuMapArgs&) const = default;
};

struct NodeGetCpuMapRet {
    Opaque<2048> cpumap;
    std::uint32_t online = 0;
    std::int32_t ret = 0;
    static constexpr auto xdr =
        std::tuple{&NodeGetCpuMapRet::cpumap, &NodeGetCpuMapRet::online, &NodeGetCpuMapRet::ret};
    bool operator==(const NodeGetCpuMapRet&) const = default;
};

// CONNECT_GET_ALL_DOMAIN_STATS (344): remote_nonnull_domain doms<16384>,
// unsigned stats, unsigned flags -> {dom; remote_typed_param params<>}<16384>.
struct ConnectGetAllDomainStatsArgs {
    List<NonnullDomain, domain_stats_list_max> doms;
    std::uint32_t stats = 0;
    std::uint32_t flags = 0;
    static constexpr auto xdr = std::tuple{&ConnectGetAllDomainStatsArgs::doms, &ConnectGetAllDomainStatsArgs::stats,
                                           &ConnectGetAllDomainStatsArgs::flags};
    bool operator==(const ConnectGetAllDomainStatsArgs&) const = default;
};

struct DomainStatsRecord {
    NonnullDomain dom;
    List<TypedParam, get_all_domain_stats_max> params;
    static constexpr auto xdr = std::tuple{&DomainStatsRecord::dom, &DomainStatsRecord::params};
    bool operator==(const DomainStatsRecord&) const = default;
};

struct ConnectGetAllDomainStatsRet {
    List<DomainStatsRecord, domain_stats_list_max> records;
    static constexpr auto xdr = std::tuple{&ConnectGetAllDomainStatsRet::records};
    bool operator==(const ConnectGetAllDomainStatsRet&) const = default;
};

}  // namespace fleet::wire
