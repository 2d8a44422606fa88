// fleet shell — the image catalog as commands: the catalog's entries, and
// the programs the Linux image's busybox provides, read from its initramfs.
#include <fleet/shell/vm_runner.hpp>

#include <fleet/vmm/catalog.hpp>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

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

bool read_whole(const std::string& path, std::string& out)
{
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) return false;
    out.resize(static_cast<std::size_t>(in.tellg()));
    in.seekg(0);
    return static_cast<bool>(in.read(out.data(), static_cast<std::streamsize>(out.size())));
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

void VmCatalog::load()
{
    if (loaded_) return;
    loaded_ = true;
    for (auto& img : vmm::list_images(dirs_)) images_.push_back(VmImage{img.name, img.kind, img.description});
}

const std::vector<VmImage>& VmCatalog::images()
{
    load();
    return images_;
}

// One entry looked up by its file name, NAME.image, in a catalog folder or
// one folder down (as fleet-vmm looks), without listing the whole catalog:
// a command's start pays for one lookup, not for reading every entry.
const VmImage* VmCatalog::find(const std::string& name)
{
    if (auto it = found_.find(name); it != found_.end()) return it->second ? &*it->second : nullptr;
    std::optional<VmImage> result;
    for (const auto& dir : dirs_) {
        std::vector<fs::path> candidates = {fs::path(dir) / (name + ".image")};
        std::error_code ec;
        std::vector<fs::path> subdirs;
        for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
            if (it->is_directory(ec)) subdirs.push_back(it->path());
        }
        std::sort(subdirs.begin(), subdirs.end());
        for (const auto& sub : subdirs) candidates.push_back(sub / (name + ".image"));
        for (const auto& c : candidates) {
            if (!fs::is_regular_file(c, ec)) continue;
            auto img = vmm::load_image_entry(c.string());
            if (img && img->name == name) result = VmImage{img->name, img->kind, img->description};
            break;
        }
        if (result) break;
    }
    auto& slot = found_[name] = std::move(result);
    return slot ? &*slot : nullptr;
}

void VmCatalog::load_applets()
{
    if (applets_loaded_) return;
    applets_loaded_ = true;
    auto linux_image = vmm::resolve_image("linux", dirs_);
    if (!linux_image) {
        applets_why_ = "no Linux image: " + linux_image.error().message;
        return;
    }
    std::string data;
    if (linux_image->initrd.empty() || !read_whole(linux_image->initrd, data)) {
        applets_why_ = "the Linux image's initramfs '" + linux_image->initrd + "' cannot be read";
        return;
    }
    auto programs = initramfs_programs(data);
    if (!programs) {
        applets_why_ = "the Linux image's initramfs '" + linux_image->initrd + "' is not an uncompressed newc cpio";
        return;
    }
    applets_ = std::move(*programs);
}

const std::vector<std::string>& VmCatalog::applets()
{
    load_applets();
    return applets_;
}

bool VmCatalog::has_applet(const std::string& name)
{
    load_applets();
    return std::binary_search(applets_.begin(), applets_.end(), name);
}

}  // namespace fleet::shell
