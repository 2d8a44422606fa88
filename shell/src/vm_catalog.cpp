// fleet shell — the image catalog as commands: the catalog's entries, and
// the programs the Linux image's busybox provides (initramfs.cpp reads
// them from its initramfs).
#include <fleet/shell/vm_runner.hpp>

#include <fleet/vmm/catalog.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace fleet::shell {
namespace {

bool read_whole(const std::string& path, std::string& out)
{
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) return false;
    out.resize(static_cast<std::size_t>(in.tellg()));
    in.seekg(0);
    return static_cast<bool>(in.read(out.data(), static_cast<std::streamsize>(out.size())));
}

// What fsh keeps of a catalog entry.
VmImage shell_view(const vmm::Image& img)
{
    return VmImage{img.name, img.kind, img.description, img.options};
}

}  // namespace

void VmCatalog::load()
{
    if (loaded_) return;
    loaded_ = true;
    for (auto& img : vmm::list_images(dirs_)) images_.push_back(shell_view(img));
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
            if (img && img->name == name) result = shell_view(*img);
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
    auto linux_image = vmm::find_image("linux", dirs_);  // a stand-in will do: its initrd lists them
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

bool understands(const std::vector<std::string>& specs, const std::vector<std::string>& args)
{
    auto has = [&](std::string_view spec) { return std::find(specs.begin(), specs.end(), spec) != specs.end(); };
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "-") {
            if (!has("-")) return false;
        } else if (a.starts_with("--")) {
            if (!has(a)) return false;  // "--" too: no runtime program ends its options with it
        } else if (a.size() > 1 && a[0] == '-') {
            if (has("-#") && a.find_first_not_of("0123456789", 1) == std::string::npos) continue;
            for (std::size_t j = 1; j < a.size(); ++j) {
                std::string flag = {'-', a[j]};
                if (has(flag)) continue;
                if (!has(flag + ":")) return false;
                if (j + 1 == a.size() && ++i == args.size()) return false;  // its value is the next word: none
                break;                                                      // the rest of the word is the value
            }
        } else {
            return false;  // an operand: a file, for the programs that declare options=
        }
    }
    return true;
}

}  // namespace fleet::shell
