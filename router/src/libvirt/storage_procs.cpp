// fleet-router — storage pools and volumes, read-only (the `storage` group
// of wire/procedures.def; storage.hpp says what a pool is). Every call
// looks again at the path the client names and at whether the caller may
// read it: a pool or volume handle is a name, never a capability.
#include "dispatch.hpp"
#include "storage.hpp"

namespace fleet::router::libvirt {

using namespace fleet::wire;

namespace {

LibvirtError no_pool(const std::string& what)
{
    return {err::no_storage_pool, "Storage pool not found: no storage pool with matching " + what, errdom::storage};
}

LibvirtError no_vol(const std::string& what)
{
    return {err::no_storage_vol, "Storage volume not found: no storage vol with matching " + what, errdom::storage};
}

NonnullStoragePool pool_ref(const std::string& folder)
{
    return {folder, storage::pool_uuid(folder)};
}

NonnullStorageVol vol_ref(const storage::Volume& v)
{
    return {storage::folder_of(v.path), storage::base_name(v.path), v.path};
}

// f(folder) for the pool a client names (its name is its folder), or
// libvirt's "not found".
template <class F>
void with_pool(const Call& call, const NonnullStoragePool& pool, F&& f)
{
    auto folder = storage::pool_folder(call.caller(), pool.name);
    if (!folder) return call.fail(no_pool("name '" + pool.name + "'"));
    f(*folder);
}

// f(volume) for the volume a client names (its key is its path).
template <class F>
void with_vol(const Call& call, const NonnullStorageVol& vol, F&& f)
{
    auto v = storage::volume(call.caller(), vol.key);
    if (!v) return call.fail(no_vol("key '" + vol.key + "'"));
    f(*v);
}

void pool_by_name(const Call& call, const std::string& name, const std::string& what)
{
    auto folder = storage::pool_folder(call.caller(), name);
    if (!folder) return call.fail(no_pool(what + " '" + name + "'"));
    call.reply(StoragePoolRet{pool_ref(*folder)});
}

void vol_by_path(const Call& call, const std::string& path, const std::string& what)
{
    auto v = storage::volume(call.caller(), path);
    if (!v) return call.fail(no_vol(what + " '" + path + "'"));
    call.reply(StorageVolRet{vol_ref(*v)});
}

}  // namespace

void connect_list_all_storage_pools(const Call& call, const ConnectListAllStoragePoolsArgs& a)
{
    // Pools are always active, persistent and autostarted, of type dir: a
    // filter that asks only for the opposite (or another type) keeps none.
    // (virConnectListAllStoragePoolsFlags: 1 inactive, 2 active, 4
    // persistent, 8 transient, 16 autostart, 32 no autostart, 64 and up a
    // type, 64 dir.)
    constexpr std::uint32_t active = 2, persistent = 4, autostart = 16, types = ~std::uint32_t{0x3f}, dir = 64;
    auto excludes = [&](std::uint32_t group, std::uint32_t ours) { return (a.flags & group) && !(a.flags & ours); };
    bool none = excludes(1 | active, active) || excludes(persistent | 8, persistent) ||
                excludes(autostart | 32, autostart) || excludes(types, dir);
    ConnectListAllStoragePoolsRet r;
    if (!none)
        for (const auto& folder : storage::known_pools(call.registry())) {
            if (!may_open(call.caller(), folder)) continue;
            if (a.need_results) r.pools.push_back(pool_ref(folder));
            ++r.ret;
        }
    call.reply(r);
}

void storage_pool_lookup_by_name(const Call& call, const StringArgs& a)
{
    pool_by_name(call, a.value, "name");
}

void storage_pool_lookup_by_target_path(const Call& call, const StringArgs& a)
{
    pool_by_name(call, a.value, "target path");
}

void storage_pool_lookup_by_uuid(const Call& call, const UuidArgs& a)
{
    for (const auto& folder : storage::known_pools(call.registry()))
        if (storage::pool_uuid(folder) == a.uuid && may_open(call.caller(), folder))
            return call.reply(StoragePoolRet{pool_ref(folder)});
    call.fail(no_pool("uuid '" + format_uuid(a.uuid) + "'"));
}

void storage_pool_lookup_by_volume(const Call& call, const StorageVolArgs& a)
{
    with_vol(call, a.vol, [&](const storage::Volume& v) { pool_by_name(call, storage::folder_of(v.path), "name"); });
}

void storage_pool_get_info(const Call& call, const StoragePoolArgs& a)
{
    with_pool(call, a.pool, [&](const std::string& folder) {
        auto s = storage::space(folder);
        if (!s)
            return call.fail(
                LibvirtError{err::operation_failed, "cannot read the space of " + folder, errdom::storage});
        constexpr std::uint8_t running = 2;  // VIR_STORAGE_POOL_RUNNING
        call.reply(StoragePoolGetInfoRet{running, s->capacity, s->allocation, s->available});
    });
}

void storage_pool_get_xml_desc(const Call& call, const StoragePoolFlagsArgs& a)
{
    with_pool(call, a.pool, [&](const std::string& folder) {
        call.reply(StringRet{storage::pool_xml(folder, storage::space(folder).value_or(storage::Space{}))});
    });
}

void storage_pool_get_autostart(const Call& call, const StoragePoolArgs& a)
{
    with_pool(call, a.pool, [&](const std::string&) { call.reply(IntRet{1}); });
}

void storage_pool_is_active(const Call& call, const StoragePoolArgs& a)
{
    with_pool(call, a.pool, [&](const std::string&) { call.reply(IntRet{1}); });
}

void storage_pool_is_persistent(const Call& call, const StoragePoolArgs& a)
{
    with_pool(call, a.pool, [&](const std::string&) { call.reply(IntRet{1}); });
}

void storage_pool_refresh(const Call& call, const StoragePoolFlagsArgs& a)
{
    // Nothing is cached: every call reads the folder again.
    with_pool(call, a.pool, [&](const std::string&) { call.reply(Void{}); });
}

void storage_pool_num_of_volumes(const Call& call, const StoragePoolArgs& a)
{
    with_pool(call, a.pool, [&](const std::string& folder) {
        call.reply(IntRet{static_cast<std::int32_t>(storage::volume_names(folder).size())});
    });
}

void storage_pool_list_volumes(const Call& call, const StoragePoolListVolumesArgs& a)
{
    with_pool(call, a.pool, [&](const std::string& folder) {
        StoragePoolListVolumesRet r;
        for (auto& name : storage::volume_names(folder))
            if (static_cast<std::int32_t>(r.names.size()) < a.maxnames) r.names.push_back(std::move(name));
        call.reply(r);
    });
}

void storage_vol_lookup_by_name(const Call& call, const StorageVolLookupByNameArgs& a)
{
    with_pool(call, a.pool, [&](const std::string& folder) {
        if (a.name.empty() || a.name.find('/') != std::string::npos || a.name == "." || a.name == "..")
            return call.fail(no_vol("name '" + a.name + "'"));
        vol_by_path(call, (folder == "/" ? "" : folder) + "/" + a.name, "name");
    });
}

void storage_vol_lookup_by_key(const Call& call, const StringArgs& a)
{
    vol_by_path(call, a.value, "key");
}

void storage_vol_lookup_by_path(const Call& call, const StringArgs& a)
{
    vol_by_path(call, a.value, "path");
}

void storage_vol_get_info(const Call& call, const StorageVolArgs& a)
{
    with_vol(call, a.vol, [&](const storage::Volume& v) {
        call.reply(StorageVolGetInfoRet{v.block ? 1 : 0, v.capacity, v.allocation});
    });
}

void storage_vol_get_xml_desc(const Call& call, const StorageVolFlagsArgs& a)
{
    with_vol(call, a.vol, [&](const storage::Volume& v) { call.reply(StringRet{storage::volume_xml(v)}); });
}

void storage_vol_get_path(const Call& call, const StorageVolArgs& a)
{
    with_vol(call, a.vol, [&](const storage::Volume& v) { call.reply(StringRet{v.path}); });
}

FLEET_SERVE_GROUP(storage)

}  // namespace fleet::router::libvirt
