// fleet-router — folders as directory pools, files as volumes (storage.hpp).
#include "storage.hpp"

#include <fleet/base/fd.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <set>

namespace fleet::router::libvirt::storage {

namespace {

std::string escape(std::string_view s)
{
    std::string out;
    for (char c : s) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '\'':
                out += "&apos;";
                break;
            case '"':
                out += "&quot;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

// The groups of uid (its primary group first); empty if it has no entry.
std::uint64_t be64(const unsigned char* p)
{
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
    return v;
}

// Format and capacity from the file's first bytes (a qcow2 header), else raw.
void read_format(Volume& v, int fd)
{
    std::array<unsigned char, 32> head{};
    if (pread(fd, head.data(), head.size(), 0) != static_cast<ssize_t>(head.size())) return;
    if (std::memcmp(head.data(), "QFI\xfb", 4) != 0) return;
    v.format = "qcow2";
    v.capacity = be64(head.data() + 24);
}

}  // namespace

std::optional<std::string> normal_path(std::string_view path)
{
    if (path.empty() || path.front() != '/' || path.find('\0') != std::string_view::npos) return std::nullopt;
    std::string out;
    std::size_t i = 0;
    while (i < path.size()) {
        std::size_t j = path.find('/', i + 1);
        if (j == std::string_view::npos) j = path.size();
        std::string_view part = path.substr(i + 1, j - i - 1);
        if (part.empty() && j != path.size()) return std::nullopt;  // "//"
        if (part == "." || part == "..") return std::nullopt;
        if (!part.empty()) out += "/" + std::string(part);
        i = j;
    }
    if (out.empty()) out = "/";
    if (out.size() != path.size() && !(path.size() == out.size() + 1 && path.back() == '/')) return std::nullopt;
    return out;
}

std::string folder_of(const std::string& path)
{
    auto slash = path.rfind('/');
    return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

std::string base_name(const std::string& path)
{
    return path.substr(path.rfind('/') + 1);
}

std::optional<std::string> pool_folder(const Principal& who, std::string_view name)
{
    auto folder = normal_path(name);
    struct stat st {};
    if (!folder || stat(folder->c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return std::nullopt;
    if (!may_open(who, *folder)) return std::nullopt;
    return folder;
}

std::optional<Volume> volume(const Principal& who, std::string_view path)
{
    auto p = normal_path(path);
    struct stat st {};
    if (!p || stat(p->c_str(), &st) != 0 || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))) return std::nullopt;
    if (!may_open(who, *p)) return std::nullopt;
    Volume v{.path = *p, .block = S_ISBLK(st.st_mode)};
    Fd fd{::open(p->c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)};
    if (!fd) return std::nullopt;
    if (v.block) {
        off_t end = lseek(fd.get(), 0, SEEK_END);
        v.capacity = v.allocation = v.physical = end > 0 ? static_cast<std::uint64_t>(end) : 0;
        return v;
    }
    v.physical = v.capacity = static_cast<std::uint64_t>(st.st_size);
    v.allocation = static_cast<std::uint64_t>(st.st_blocks) * 512;
    read_format(v, fd.get());
    return v;
}

wire::Uuid pool_uuid(const std::string& folder)
{
    // Two FNV-1a hashes of the path: stable across restarts and builds.
    auto fnv = [&](std::uint64_t h) {
        for (unsigned char c : folder) h = (h ^ c) * 0x100000001b3ull;
        return h;
    };
    std::uint64_t a = fnv(0xcbf29ce484222325ull), b = fnv(0x84222325cbf29ce4ull);
    wire::Uuid u{};
    for (int i = 0; i < 8; ++i) {
        u[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(a >> (56 - 8 * i));
        u[static_cast<std::size_t>(8 + i)] = static_cast<std::uint8_t>(b >> (56 - 8 * i));
    }
    u[6] = static_cast<std::uint8_t>((u[6] & 0x0f) | 0x80);  // version 8: derived, not random
    u[8] = static_cast<std::uint8_t>((u[8] & 0x3f) | 0x80);  // RFC 4122 variant
    return u;
}

std::vector<std::string> known_pools(const DomainRegistry& registry)
{
    std::set<std::string> folders;
    for (const auto& d : registry.all())
        for (const auto& disk : d->def.disks)
            if (auto p = normal_path(disk.source)) folders.insert(folder_of(*p));
    return {folders.begin(), folders.end()};
}

std::optional<Space> space(const std::string& folder)
{
    struct statvfs fs {};
    if (statvfs(folder.c_str(), &fs) != 0) return std::nullopt;
    Space s;
    s.capacity = static_cast<std::uint64_t>(fs.f_blocks) * fs.f_frsize;
    s.available = static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize;
    s.allocation = s.capacity - static_cast<std::uint64_t>(fs.f_bfree) * fs.f_frsize;
    return s;
}

std::vector<std::string> volume_names(const std::string& folder)
{
    std::vector<std::string> names;
    Fd dir{::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
    if (!dir) return names;
    DIR* d = fdopendir(dir.get());
    if (!d) return names;
    (void)dir.release();
    while (dirent* e = readdir(d)) {
        if (e->d_name[0] == '.') continue;
        struct stat st {};
        if (fstatat(dirfd(d), e->d_name, &st, 0) != 0) continue;
        if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)) names.emplace_back(e->d_name);
    }
    closedir(d);
    std::sort(names.begin(), names.end());
    return names;
}

std::string pool_xml(const std::string& folder, const Space& s)
{
    auto bytes = [](const char* tag, std::uint64_t n) {
        return "  <" + std::string(tag) + " unit='bytes'>" + std::to_string(n) + "</" + tag + ">\n";
    };
    return "<pool type='dir'>\n  <name>" + escape(folder) + "</name>\n  <uuid>" + format_uuid(pool_uuid(folder)) +
           "</uuid>\n" + bytes("capacity", s.capacity) + bytes("allocation", s.allocation) +
           bytes("available", s.available) + "  <source>\n  </source>\n  <target>\n    <path>" + escape(folder) +
           "</path>\n  </target>\n</pool>\n";
}

std::string volume_xml(const Volume& v)
{
    auto bytes = [](const char* tag, std::uint64_t n) {
        return "  <" + std::string(tag) + " unit='bytes'>" + std::to_string(n) + "</" + tag + ">\n";
    };
    return "<volume type='" + std::string(v.block ? "block" : "file") + "'>\n  <name>" + escape(base_name(v.path)) +
           "</name>\n  <key>" + escape(v.path) + "</key>\n" + bytes("capacity", v.capacity) +
           bytes("allocation", v.allocation) + bytes("physical", v.physical) + "  <target>\n    <path>" +
           escape(v.path) + "</path>\n    <format type='" + v.format + "'/>\n  </target>\n</volume>\n";
}

}  // namespace fleet::router::libvirt::storage
