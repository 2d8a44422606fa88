// fleet wire — per-domain facts and descriptions: max memory and vCPUs,
// memory stats, metadata (remote_protocol.x).
#pragma once

#include <fleet/wire/codec.hpp>
#include <fleet/wire/types.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>

namespace fleet::wire {

inline constexpr std::uint32_t domain_memory_stats_max = 1024;  // REMOTE_DOMAIN_MEMORY_STATS_MAX

// CONNECT_GET_MAX_VCPUS (5): remote_string type -> int max_vcpus (IntRet).
struct ConnectGetMaxVcpusArgs {
    std::optional<std::string> type;
    static constexpr auto xdr = std::tuple{&ConnectGetMaxVcpusArgs::type};
    bool operator==(const ConnectGetMaxVcpusArgs&) const = default;
};

// DOMAIN_GET_MAX_MEMORY (17): dom -> unsigned hyper memory (KiB).
struct DomainGetMaxMemoryRet {
    std::uint64_t memory = 0;
    static constexpr auto xdr = std::tuple{&DomainGetMaxMemoryRet::memory};
    bool operator==(const DomainGetMaxMemoryRet&) const = default;
};

// DOMAIN_MEMORY_STATS (159): dom, unsigned maxStats, unsigned flags ->
// {int tag; unsigned hyper val}<1024>.
struct DomainMemoryStatsArgs {
    NonnullDomain dom;
    std::uint32_t max_stats = 0;
    std::uint32_t flags = 0;
    static constexpr auto xdr =
        std::tuple{&DomainMemoryStatsArgs::dom, &DomainMemoryStatsArgs::max_stats, &DomainMemoryStatsArgs::flags};
    bool operator==(const DomainMemoryStatsArgs&) const = default;
};

struct DomainMemoryStat {
    std::int32_t tag = 0;
    std::uint64_t val = 0;
    static constexpr auto xdr = std::tuple{&DomainMemoryStat::tag, &DomainMemoryStat::val};
    bool operator==(const DomainMemoryStat&) const = default;
};

struct DomainMemoryStatsRet {
    List<DomainMemoryStat, domain_memory_stats_max> stats;
    static constexpr auto xdr = std::tuple{&DomainMemoryStatsRet::stats};
    bool operator==(const DomainMemoryStatsRet&) const = default;
};

// DOMAIN_SET_METADATA (264): dom, int type, remote_string metadata, key,
// uri, unsigned flags -> void. DOMAIN_GET_METADATA (265): dom, int type,
// remote_string uri, unsigned flags -> string metadata (StringRet).
struct DomainSetMetadataArgs {
    NonnullDomain dom;
    std::int32_t type = 0;
    std::optional<std::string> metadata;
    std::optional<std::string> key;
    std::optional<std::string> uri;
    std::uint32_t flags = 0;
    static constexpr auto xdr =
        std::tuple{&DomainSetMetadataArgs::dom, &DomainSetMetadataArgs::type, &DomainSetMetadataArgs::metadata,
                   &DomainSetMetadataArgs::key, &DomainSetMetadataArgs::uri,  &DomainSetMetadataArgs::flags};
    bool operator==(const DomainSetMetadataArgs&) const = default;
};

struct DomainGetMetadataArgs {
    NonnullDomain dom;
    std::int32_t type = 0;
    std::optional<std::string> uri;
    std::uint32_t flags = 0;
    static constexpr auto xdr = std::tuple{&DomainGetMetadataArgs::dom, &DomainGetMetadataArgs::type,
                                           &DomainGetMetadataArgs::uri, &DomainGetMetadataArgs::flags};
    bool operator==(const DomainGetMetadataArgs&) const = default;
};

}  // namespace fleet::wire
