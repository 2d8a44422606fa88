// fleet shell — the programs an initramfs holds: a newc cpio archive read
// for the names in bin/, sbin/, usr/bin/ and usr/sbin/ (vm_runner.hpp).
// The archive is a file of the image catalog; a bad one is refused, never
// read past (the initramfs fuzzer holds it to that).
#include <fleet/shell/vm_runner.hpp>

#include <algorithm>
#include <charconv>

namespace fleet::shell {
namespace {

constexpr std::size_t newc_header = 110;
constexpr unsigned mode_type = 0170000, mode_link = 0120000, mode_file = 0100000;

std::size_t pad4(std::size_t n)
{
    return (n + 3) & ~std::size_t{3};
}

// Field i (0-based, after the 6-byte magic) of a newc header.
std::optional<unsigned long> field(std::string_view header, int i)
{
    std::string_view text = header.substr(6 + static_cast<std::size_t>(i) * 8, 8);
    unsigned long v = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v, 16);
    if (ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
    return v;
}

// A program's name if path is a file of bin/, sbin/, usr/bin/ or usr/sbin/.
std::optional<std::string> program_name(std::string_view path)
{
    if (path.starts_with("./")) path.remove_prefix(2);
    if (path.starts_with("/")) path.remove_prefix(1);
    for (std::string_view dir : {"bin/", "sbin/", "usr/bin/", "usr/sbin/"}) {
        if (!path.starts_with(dir)) continue;
        std::string_view name = path.substr(dir.size());
        if (name.empty() || name.find('/') != std::string_view::npos) return std::nullopt;
        return std::string(name);
    }
    return std::nullopt;
}

}  // namespace

std::optional<std::vector<std::string>> initramfs_programs(std::string_view cpio)
{
    std::vector<std::string> names;
    std::size_t at = 0;
    for (;;) {
        if (cpio.size() - at < newc_header) return std::nullopt;
        std::string_view header = cpio.substr(at, newc_header);
        if (header.substr(0, 6) != "070701" && header.substr(0, 6) != "070702") return std::nullopt;
        auto mode = field(header, 1), size = field(header, 6), name_size = field(header, 11);
        if (!mode || !size || !name_size || *name_size == 0) return std::nullopt;
        std::size_t name_at = at + newc_header;
        if (cpio.size() - name_at < *name_size) return std::nullopt;
        std::string_view name = cpio.substr(name_at, *name_size - 1);  // without its NUL
        std::size_t data_at = pad4(name_at + *name_size);
        if (data_at > cpio.size() || cpio.size() - data_at < *size) return std::nullopt;
        if (name == "TRAILER!!!") break;
        unsigned type = *mode & mode_type;
        if (type == mode_link || (type == mode_file && (*mode & 0111) != 0)) {
            if (auto program = program_name(name)) names.push_back(*program);
        }
        at = pad4(data_at + *size);
        if (at > cpio.size()) return std::nullopt;
    }
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    return names;
}

}  // namespace fleet::shell
