// fleet — private: the state of one parse of domain XML, shared by the
// readers of its parts (elements.cpp, devices.cpp, metadata.cpp).
#pragma once

#include <fleet/router/domain.hpp>

#include <pugixml.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace fleet::router::detail {

struct ParseState {
    DomainDef def;
    bool has_uuid = false;
    std::optional<std::uint64_t> memory_kib;   // <memory>
    std::optional<std::uint64_t> current_kib;  // <currentMemory>
};

// Every child of <domain> (elements.cpp).
Result<> parse_domain_children(pugi::xml_node domain, ParseState& st);
// <features>, <cpu>, <clock>, <pm> (platform.cpp).
Result<> parse_features(pugi::xml_node node, const std::string& path, ParseState& st);
Result<> parse_cpu(pugi::xml_node node, const std::string& path, ParseState& st);
Result<> parse_clock(pugi::xml_node node, const std::string& path, ParseState& st);
Result<> parse_pm(pugi::xml_node node, const std::string& path, ParseState& st);
// <disk>, <rng> (storage.cpp); <controller>, <input>, <graphics>, <video>
// (kept.cpp).
Result<> parse_disk(pugi::xml_node node, const std::string& path, ParseState& st);
Result<> parse_rng(pugi::xml_node node, const std::string& path, ParseState& st);
Result<> parse_controller(pugi::xml_node node, const std::string& path, ParseState& st);
Result<> parse_input(pugi::xml_node node, const std::string& path, ParseState& st);
Result<> parse_graphics(pugi::xml_node node, const std::string& path, ParseState& st);
Result<> parse_video(pugi::xml_node node, const std::string& path, ParseState& st);
// <devices> (devices.cpp) and <metadata> (metadata.cpp).
Result<> parse_devices(pugi::xml_node node, const std::string& path, ParseState& st);
Result<> parse_metadata(pugi::xml_node node, const std::string& path, ParseState& st);
// <fleet:hypervisor> (hypervisor.cpp).
Result<> parse_hypervisor(pugi::xml_node node, const std::string& path, ParseState& st);

// After every element: MACs checked for duplicates, missing ones made.
Result<> finish_interfaces(DomainDef& def);
// Interface `index`'s MAC, derived from the domain's UUID (devices.cpp).
std::string derived_mac(const Uuid& uuid, unsigned index);
// Random bytes from getrandom (uuid.cpp).
void random_bytes(std::uint8_t* out, std::size_t size);

inline constexpr std::size_t max_document_bytes = 1024 * 1024;
inline constexpr unsigned max_depth = 32;
inline constexpr std::size_t max_interfaces = 8;
inline constexpr std::size_t max_filesystems = 8;  // the launcher's limit
inline constexpr std::size_t max_disks = 8;        // the launcher's limit

}  // namespace fleet::router::detail
