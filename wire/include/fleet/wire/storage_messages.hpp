// fleet wire — storage pools and volumes (remote_protocol.x, "Storage pool
// calls" and "Storage vol calls"). fleet serves directory pools read-only
// (docs/ARCHITECTURE.md, "Storage"); these are the messages of the calls it
// answers.
#pragma once

#include <fleet/wire/codec.hpp>
#include <fleet/wire/connect_messages.hpp>
#include <fleet/wire/domain_messages.hpp>
#include <fleet/wire/types.hpp>

#include <cstdint>
#include <string>
#include <tuple>

namespace fleet::wire {

inline constexpr std::uint32_t storage_pool_list_max = 16384;  // remote_nonnull_storage_pool pools<>
inline constexpr std::uint32_t storage_vol_list_max = 16384;   // REMOTE_STORAGE_VOL_NAME_LIST_MAX

// remote_nonnull_storage_pool.
struct NonnullStoragePool {
    std::string name;
    Uuid uuid{};
    static constexpr auto xdr = std::tuple{&NonnullStoragePool::name, &NonnullStoragePool::uuid};
    bool operator==(const NonnullStoragePool&) const = default;
};

// remote_nonnull_storage_vol: the pool's name, the volume's name and key.
struct NonnullStorageVol {
    std::string pool;
    std::string name;
    std::string key;
    static constexpr auto xdr = std::tuple{&NonnullStorageVol::pool, &NonnullStorageVol::name, &NonnullStorageVol::key};
    bool operator==(const NonnullStorageVol&) const = default;
};

// CONNECT_LIST_ALL_STORAGE_POOLS (281): need_results and flags as for
// domains -> pools<>, unsigned ret.
using ConnectListAllStoragePoolsArgs = ConnectListAllDomainsArgs;

struct ConnectListAllStoragePoolsRet {
    List<NonnullStoragePool, storage_pool_list_max> pools;
    std::uint32_t ret = 0;
    static constexpr auto xdr = std::tuple{&ConnectListAllStoragePoolsRet::pools, &ConnectListAllStoragePoolsRet::ret};
    bool operator==(const ConnectListAllStoragePoolsRet&) const = default;
};

// STORAGE_POOL_LOOKUP_BY_NAME (84), STORAGE_POOL_LOOKUP_BY_TARGET_PATH
// (391): a string; STORAGE_POOL_LOOKUP_BY_UUID (85): a uuid;
// STORAGE_POOL_LOOKUP_BY_VOLUME (86): a volume. Each -> a pool.
struct StringArgs {
    std::string value;
    static constexpr auto xdr = std::tuple{&StringArgs::value};
    bool operator==(const StringArgs&) const = default;
};

struct UuidArgs {
    Uuid uuid{};
    static constexpr auto xdr = std::tuple{&UuidArgs::uuid};
    bool operator==(const UuidArgs&) const = default;
};

struct StoragePoolRet {
    NonnullStoragePool pool;
    static constexpr auto xdr = std::tuple{&StoragePoolRet::pool};
    bool operator==(const StoragePoolRet&) const = default;
};

// A pool alone (GET_INFO 87, GET_AUTOSTART 89, IS_ACTIVE 154,
// IS_PERSISTENT 155, NUM_OF_VOLUMES 91), or with flags (GET_XML_DESC 88,
// REFRESH 83).
struct StoragePoolArgs {
    NonnullStoragePool pool;
    static constexpr auto xdr = std::tuple{&StoragePoolArgs::pool};
    bool operator==(const StoragePoolArgs&) const = default;
};

struct StoragePoolFlagsArgs {
    NonnullStoragePool pool;
    std::uint32_t flags = 0;
    static constexpr auto xdr = std::tuple{&StoragePoolFlagsArgs::pool, &StoragePoolFlagsArgs::flags};
    bool operator==(const StoragePoolFlagsArgs&) const = default;
};

// STORAGE_POOL_GET_INFO (87): unsigned char state (4 bytes), then
// capacity, allocation and available bytes.
struct StoragePoolGetInfoRet {
    std::uint8_t state = 0;
    std::uint64_t capacity = 0;
    std::uint64_t allocation = 0;
    std::uint64_t available = 0;
    static constexpr auto xdr = std::tuple{&StoragePoolGetInfoRet::state, &StoragePoolGetInfoRet::capacity,
                                           &StoragePoolGetInfoRet::allocation, &StoragePoolGetInfoRet::available};
    bool operator==(const StoragePoolGetInfoRet&) const = default;
};

// STORAGE_POOL_LIST_VOLUMES (92): pool, int maxnames -> names<16384>.
struct StoragePoolListVolumesArgs {
    NonnullStoragePool pool;
    std::int32_t maxnames = 0;
    static constexpr auto xdr = std::tuple{&StoragePoolListVolumesArgs::pool, &StoragePoolListVolumesArgs::maxnames};
    bool operator==(const StoragePoolListVolumesArgs&) const = default;
};

struct StoragePoolListVolumesRet {
    List<std::string, storage_vol_list_max> names;
    static constexpr auto xdr = std::tuple{&StoragePoolListVolumesRet::names};
    bool operator==(const StoragePoolListVolumesRet&) const = default;
};

// STORAGE_VOL_LOOKUP_BY_NAME (95): pool, name -> vol.
struct StorageVolLookupByNameArgs {
    NonnullStoragePool pool;
    std::string name;
    static constexpr auto xdr = std::tuple{&StorageVolLookupByNameArgs::pool, &StorageVolLookupByNameArgs::name};
    bool operator==(const StorageVolLookupByNameArgs&) const = default;
};

// STORAGE_VOL_LOOKUP_BY_KEY (96), _BY_PATH (97): a string (StringArgs) -> vol.
struct StorageVolRet {
    NonnullStorageVol vol;
    static constexpr auto xdr = std::tuple{&StorageVolRet::vol};
    bool operator==(const StorageVolRet&) const = default;
};

// A volume alone (GET_INFO 98, GET_PATH 100), or with flags (GET_XML_DESC 99).
struct StorageVolArgs {
    NonnullStorageVol vol;
    static constexpr auto xdr = std::tuple{&StorageVolArgs::vol};
    bool operator==(const StorageVolArgs&) const = default;
};

struct StorageVolFlagsArgs {
    NonnullStorageVol vol;
    std::uint32_t flags = 0;
    static constexpr auto xdr = std::tuple{&StorageVolFlagsArgs::vol, &StorageVolFlagsArgs::flags};
    bool operator==(const StorageVolFlagsArgs&) const = default;
};

// STORAGE_VOL_GET_INFO (98): char type (4 bytes: 0 file, 1 block), then
// capacity and allocation bytes.
struct StorageVolGetInfoRet {
    std::int32_t type = 0;
    std::uint64_t capacity = 0;
    std::uint64_t allocation = 0;
    static constexpr auto xdr =
        std::tuple{&StorageVolGetInfoRet::type, &StorageVolGetInfoRet::capacity, &StorageVolGetInfoRet::allocation};
    bool operator==(const StorageVolGetInfoRet&) const = default;
};

}  // namespace fleet::wire
