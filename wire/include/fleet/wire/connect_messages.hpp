// fleet — payloads of the connection-level REMOTE procedures: open, auth,
// features, type/version/hostname/uri/capabilities, node info, security
// model and the domain listings (remote_protocol.x, remote_connect_*).
//
// Each struct lists its fields in wire order in `xdr` (codec.hpp); a
// procedure whose args or ret is void uses Void (types.hpp).
#pragma once

#include <fleet/wire/codec.hpp>
#include <fleet/wire/types.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>

namespace fleet::wire {

// CONNECT_OPEN (1). name has transport, host and port removed
// ("qemu:///system"); it may be empty or NULL (the server picks).
struct ConnectOpenArgs {
    std::optional<std::string> name;
    std::uint32_t flags = 0;  // flags::connect_ro
    static constexpr auto xdr = std::tuple{&ConnectOpenArgs::name, &ConnectOpenArgs::flags};
    bool operator==(const ConnectOpenArgs&) const = default;
};

// CONNECT_SUPPORTS_FEATURE (60).
struct ConnectSupportsFeatureArgs {
    std::int32_t feature = 0;  // feature::*
    static constexpr auto xdr = std::tuple{&ConnectSupportsFeatureArgs::feature};
    bool operator==(const ConnectSupportsFeatureArgs&) const = default;
};

struct ConnectSupportsFeatureRet {
    std::int32_t supported = 0;
    static constexpr auto xdr = std::tuple{&ConnectSupportsFeatureRet::supported};
    bool operator==(const ConnectSupportsFeatureRet&) const = default;
};

// AUTH_LIST (66): void -> the accepted auth types (auth::none).
struct AuthListRet {
    List<std::int32_t, auth_type_list_max> types;
    static constexpr auto xdr = std::tuple{&AuthListRet::types};
    bool operator==(const AuthListRet&) const = default;
};

// CONNECT_GET_TYPE (3): "QEMU".
struct ConnectGetTypeRet {
    std::string type;
    static constexpr auto xdr = std::tuple{&ConnectGetTypeRet::type};
    bool operator==(const ConnectGetTypeRet&) const = default;
};

// CONNECT_GET_VERSION (4): major * 1000000 + minor * 1000 + micro.
struct ConnectGetVersionRet {
    std::uint64_t hv_ver = 0;
    static constexpr auto xdr = std::tuple{&ConnectGetVersionRet::hv_ver};
    bool operator==(const ConnectGetVersionRet&) const = default;
};

// CONNECT_GET_LIB_VERSION (157), same encoding.
struct ConnectGetLibVersionRet {
    std::uint64_t lib_ver = 0;
    static constexpr auto xdr = std::tuple{&ConnectGetLibVersionRet::lib_ver};
    bool operator==(const ConnectGetLibVersionRet&) const = default;
};

// CONNECT_GET_HOSTNAME (59).
struct ConnectGetHostnameRet {
    std::string hostname;
    static constexpr auto xdr = std::tuple{&ConnectGetHostnameRet::hostname};
    bool operator==(const ConnectGetHostnameRet&) const = default;
};

// CONNECT_GET_URI (110).
struct ConnectGetUriRet {
    std::string uri;
    static constexpr auto xdr = std::tuple{&ConnectGetUriRet::uri};
    bool operator==(const ConnectGetUriRet&) const = default;
};

// CONNECT_GET_CAPABILITIES (7): the capabilities XML.
struct ConnectGetCapabilitiesRet {
    std::string capabilities;
    static constexpr auto xdr = std::tuple{&ConnectGetCapabilitiesRet::capabilities};
    bool operator==(const ConnectGetCapabilitiesRet&) const = default;
};

// CONNECT_GET_DOMAIN_CAPABILITIES (342): each remote_string may be NULL
// (the hypervisor's default); the reply is the domainCapabilities XML.
struct ConnectGetDomainCapabilitiesArgs {
    std::optional<std::string> emulatorbin;
    std::optional<std::string> arch;
    std::optional<std::string> machine;
    std::optional<std::string> virttype;
    std::uint32_t flags = 0;
    static constexpr auto xdr =
        std::tuple{&ConnectGetDomainCapabilitiesArgs::emulatorbin, &ConnectGetDomainCapabilitiesArgs::arch,
                   &ConnectGetDomainCapabilitiesArgs::machine, &ConnectGetDomainCapabilitiesArgs::virttype,
                   &ConnectGetDomainCapabilitiesArgs::flags};
    bool operator==(const ConnectGetDomainCapabilitiesArgs&) const = default;
};
using ConnectGetDomainCapabilitiesRet = ConnectGetCapabilitiesRet;

// NODE_GET_INFO (6). model is char[32]: 32 4-byte ints on the wire.
struct NodeGetInfoRet {
    FixedChars<node_model_size> model;
    std::uint64_t memory = 0;  // KiB
    std::int32_t cpus = 0;
    std::int32_t mhz = 0;
    std::int32_t nodes = 0;
    std::int32_t sockets = 0;
    std::int32_t cores = 0;
    std::int32_t threads = 0;
    static constexpr auto xdr =
        std::tuple{&NodeGetInfoRet::model, &NodeGetInfoRet::memory,  &NodeGetInfoRet::cpus,  &NodeGetInfoRet::mhz,
                   &NodeGetInfoRet::nodes, &NodeGetInfoRet::sockets, &NodeGetInfoRet::cores, &NodeGetInfoRet::threads};
    bool operator==(const NodeGetInfoRet&) const = default;
};

// NODE_GET_CELLS_FREE_MEMORY (101): free bytes of cells start_cell..,
// at most maxcells of them.
struct NodeGetCellsFreeMemoryArgs {
    std::int32_t start_cell = 0;
    std::int32_t maxcells = 0;
    static constexpr auto xdr =
        std::tuple{&NodeGetCellsFreeMemoryArgs::start_cell, &NodeGetCellsFreeMemoryArgs::maxcells};
    bool operator==(const NodeGetCellsFreeMemoryArgs&) const = default;
};

struct NodeGetCellsFreeMemoryRet {
    List<std::uint64_t, node_max_cells> cells;  // bytes
    static constexpr auto xdr = std::tuple{&NodeGetCellsFreeMemoryRet::cells};
    bool operator==(const NodeGetCellsFreeMemoryRet&) const = default;
};

// NODE_GET_FREE_MEMORY (102): the host's free memory in bytes.
struct NodeGetFreeMemoryRet {
    std::uint64_t free_mem = 0;
    static constexpr auto xdr = std::tuple{&NodeGetFreeMemoryRet::free_mem};
    bool operator==(const NodeGetFreeMemoryRet&) const = default;
};

// NODE_GET_MEMORY_STATS (228). nparams 0 asks how many there are (the
// reply's nparams, no params); cell_num -1 is every cell. Values in KiB.
struct NodeGetMemoryStatsArgs {
    std::int32_t nparams = 0;
    std::int32_t cell_num = -1;
    std::uint32_t flags = 0;
    static constexpr auto xdr =
        std::tuple{&NodeGetMemoryStatsArgs::nparams, &NodeGetMemoryStatsArgs::cell_num, &NodeGetMemoryStatsArgs::flags};
    bool operator==(const NodeGetMemoryStatsArgs&) const = default;
};

struct NodeMemoryStat {
    std::string field;  // "total", "free", "buffers", "cached"
    std::uint64_t value = 0;
    static constexpr auto xdr = std::tuple{&NodeMemoryStat::field, &NodeMemoryStat::value};
    bool operator==(const NodeMemoryStat&) const = default;
};

struct NodeGetMemoryStatsRet {
    List<NodeMemoryStat, node_memory_stats_max> params;
    std::int32_t nparams = 0;
    static constexpr auto xdr = std::tuple{&NodeGetMemoryStatsRet::params, &NodeGetMemoryStatsRet::nparams};
    bool operator==(const NodeGetMemoryStatsRet&) const = default;
};

// NODE_GET_SECURITY_MODEL (122). The char arrays count the trailing NUL
// ("none\0" is 5 elements); empty model and doi = no security driver.
struct NodeGetSecurityModelRet {
    Chars<security_model_max> model;
    Chars<security_doi_max> doi;
    static constexpr auto xdr = std::tuple{&NodeGetSecurityModelRet::model, &NodeGetSecurityModelRet::doi};
    bool operator==(const NodeGetSecurityModelRet&) const = default;
};

// CONNECT_NUM_OF_DOMAINS (51) and CONNECT_NUM_OF_DEFINED_DOMAINS (25).
struct ConnectNumOfDomainsRet {
    std::int32_t num = 0;
    static constexpr auto xdr = std::tuple{&ConnectNumOfDomainsRet::num};
    bool operator==(const ConnectNumOfDomainsRet&) const = default;
};
using ConnectNumOfDefinedDomainsRet = ConnectNumOfDomainsRet;

// CONNECT_LIST_DOMAINS (37): ids of running domains.
struct ConnectListDomainsArgs {
    std::int32_t maxids = 0;
    static constexpr auto xdr = std::tuple{&ConnectListDomainsArgs::maxids};
    bool operator==(const ConnectListDomainsArgs&) const = default;
};

struct ConnectListDomainsRet {
    List<std::int32_t, domain_list_max> ids;
    static constexpr auto xdr = std::tuple{&ConnectListDomainsRet::ids};
    bool operator==(const ConnectListDomainsRet&) const = default;
};

// CONNECT_LIST_DEFINED_DOMAINS (21): names of inactive domains.
struct ConnectListDefinedDomainsArgs {
    std::int32_t maxnames = 0;
    static constexpr auto xdr = std::tuple{&ConnectListDefinedDomainsArgs::maxnames};
    bool operator==(const ConnectListDefinedDomainsArgs&) const = default;
};

struct ConnectListDefinedDomainsRet {
    List<std::string, domain_list_max> names;
    static constexpr auto xdr = std::tuple{&ConnectListDefinedDomainsRet::names};
    bool operator==(const ConnectListDefinedDomainsRet&) const = default;
};

// CONNECT_LIST_ALL_DOMAINS (273).
struct ConnectListAllDomainsArgs {
    std::int32_t need_results = 1;
    std::uint32_t flags = 0;  // flags::list_domains_active | _inactive; 0 = all
    static constexpr auto xdr = std::tuple{&ConnectListAllDomainsArgs::need_results, &ConnectListAllDomainsArgs::flags};
    bool operator==(const ConnectListAllDomainsArgs&) const = default;
};

struct ConnectListAllDomainsRet {
    List<NonnullDomain, domain_list_max> domains;
    std::uint32_t ret = 0;  // the number of domains
    static constexpr auto xdr = std::tuple{&ConnectListAllDomainsRet::domains, &ConnectListAllDomainsRet::ret};
    bool operator==(const ConnectListAllDomainsRet&) const = default;
};

// Networks. CONNECT_NUM_OF_NETWORKS (52), CONNECT_NUM_OF_DEFINED_NETWORKS
// (50): an int; CONNECT_LIST_NETWORKS (38), CONNECT_LIST_DEFINED_NETWORKS
// (36): int maxnames -> names<16384>, as for domains.
using ConnectNumOfNetworksRet = ConnectNumOfDomainsRet;
using ConnectListNetworksArgs = ConnectListDefinedDomainsArgs;
using ConnectListNetworksRet = ConnectListDefinedDomainsRet;

// NETWORK_LOOKUP_BY_NAME (46), NETWORK_LOOKUP_BY_UUID (47).
struct NetworkLookupByNameArgs {
    std::string name;
    static constexpr auto xdr = std::tuple{&NetworkLookupByNameArgs::name};
    bool operator==(const NetworkLookupByNameArgs&) const = default;
};

struct NetworkLookupByUuidArgs {
    Uuid uuid{};
    static constexpr auto xdr = std::tuple{&NetworkLookupByUuidArgs::uuid};
    bool operator==(const NetworkLookupByUuidArgs&) const = default;
};

struct NetworkRet {
    NonnullNetwork net;
    static constexpr auto xdr = std::tuple{&NetworkRet::net};
    bool operator==(const NetworkRet&) const = default;
};

// NETWORK_GET_AUTOSTART (44), NETWORK_GET_BRIDGE_NAME (45),
// NETWORK_IS_ACTIVE (152), NETWORK_IS_PERSISTENT (153): the network ->
// an int or a string (IntRet, StringRet). NETWORK_GET_XML_DESC (43): the
// network and flags -> string xml.
struct NetworkArgs {
    NonnullNetwork net;
    static constexpr auto xdr = std::tuple{&NetworkArgs::net};
    bool operator==(const NetworkArgs&) const = default;
};

struct NetworkFlagsArgs {
    NonnullNetwork net;
    std::uint32_t flags = 0;
    static constexpr auto xdr = std::tuple{&NetworkFlagsArgs::net, &NetworkFlagsArgs::flags};
    bool operator==(const NetworkFlagsArgs&) const = default;
};

// CONNECT_LIST_ALL_NETWORKS (283): need_results and flags as for domains.
using ConnectListAllNetworksArgs = ConnectListAllDomainsArgs;

struct ConnectListAllNetworksRet {
    List<NonnullNetwork, network_list_max> nets;
    std::uint32_t ret = 0;
    static constexpr auto xdr = std::tuple{&ConnectListAllNetworksRet::nets, &ConnectListAllNetworksRet::ret};
    bool operator==(const ConnectListAllNetworksRet&) const = default;
};

}  // namespace fleet::wire
