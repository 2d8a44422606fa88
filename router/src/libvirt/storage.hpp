// fleet-router — host folders as libvirt directory pools, their files as
// volumes, read-only (docs/ARCHITECTURE.md, "Storage"). What
// `virt-install --import --disk PATH` and `virsh vol-info` need: a volume
// found by its path, its format and size, and the folder that holds it.
//
// A pool is a folder: its name is the folder's absolute path, its uuid is
// derived from that path. Nothing is kept: every answer looks at the
// file system again. A caller learns about a path only if it could read
// it itself (may_open, principal.hpp); otherwise the answer is "not found", the same as
// for a path that does not exist.
#pragma once

#include <fleet/router/principal.hpp>
#include <fleet/router/registry.hpp>
#include <fleet/wire/types.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fleet::router::libvirt::storage {

struct Volume {
    std::string path;            // absolute, normalised: the volume's key
    bool block = false;          // a block device (else a regular file)
    std::string format = "raw";  // raw or qcow2 (its header)
    std::uint64_t capacity = 0;  // what the guest sees, bytes
    std::uint64_t allocation = 0;
    std::uint64_t physical = 0;  // the file's own size
};

struct Space {
    std::uint64_t capacity = 0, allocation = 0, available = 0;
};

// An absolute path without "." or ".." parts, repeated or trailing
// slashes; nullopt for anything else.
std::optional<std::string> normal_path(std::string_view path);
// The folder of a normal path ("/" for "/x").
std::string folder_of(const std::string& path);
std::string base_name(const std::string& path);

// A readable folder as a pool; a readable file or block device as a
// volume. nullopt: missing, not that kind, or not the caller's to read.
std::optional<std::string> pool_folder(const Principal& who, std::string_view name);
std::optional<Volume> volume(const Principal& who, std::string_view path);

wire::Uuid pool_uuid(const std::string& folder);
// The pools fleet knows of without being asked for a path: the folders of
// the disks of every domain, sorted.
std::vector<std::string> known_pools(const DomainRegistry& registry);
// The file system's space under folder; nullopt if statvfs fails.
std::optional<Space> space(const std::string& folder);
// The regular files and block devices in folder (not hidden ones), sorted.
std::vector<std::string> volume_names(const std::string& folder);

std::string pool_xml(const std::string& folder, const Space& s);
std::string volume_xml(const Volume& v);

}  // namespace fleet::router::libvirt::storage
