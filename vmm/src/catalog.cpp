// fleet — image catalog (see catalog.hpp).
#include <fleet/vmm/catalog.hpp>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace fs = std::filesystem;

namespace fleet::vmm {

namespace {

// The non-empty parts of s between the separators.
std::vector<std::string> split_on(const std::string& s, char sep)
{
    std::vector<std::string> out;
    std::stringstream in(s);
    std::string part;
    while (std::getline(in, part, sep))
        if (!part.empty()) out.push_back(part);
    return out;
}

std::vector<std::string> split_colons(const std::string& s)
{
    return split_on(s, ':');
}
std::vector<std::string> split_spaces(const std::string& s)
{
    return split_on(s, ' ');
}

std::string trim(std::string s)
{
    auto b = s.find_first_not_of(" \t\r");
    auto e = s.find_last_not_of(" \t\r");
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

bool is_file(const std::string& p)
{
    std::error_code ec;
    return fs::is_regular_file(p, ec);
}

}  // namespace

std::vector<std::string> catalog_dirs(const std::string& flag)
{
    if (!flag.empty()) return split_colons(flag);
    if (const char* env = std::getenv("FLEET_IMAGES"); env && *env) return split_colons(env);
    std::vector<std::string> dirs;
    std::error_code ec;
    if (fs::is_directory(FLEET_IMAGES_BUILD_DIR, ec)) dirs.emplace_back(FLEET_IMAGES_BUILD_DIR);
    dirs.emplace_back(FLEET_IMAGES_INSTALL_DIR);
    return dirs;
}

Result<Image> load_image_entry(const std::string& path)
{
    std::string entry_dir = fs::path(path).parent_path().string();
    std::ifstream in(path);
    if (!in) return fail_errno("image entry '" + path + "' cannot be read");
    Image img;
    img.entry_file = path;
    img.name = fs::path(path).stem().string();
    std::string line;
    int lineno = 0;
    auto where = [&] { return "image entry " + path + ":" + std::to_string(lineno); };
    auto resolve = [&](const std::string& v) {
        if (v.empty() || v[0] == '/') return v;
        return (fs::path(entry_dir) / v).string();
    };
    while (std::getline(in, line)) {
        ++lineno;
        line = trim(line);
        if (line.empty() || line[0] == '#') continue;
        auto eq = line.find('=');
        if (eq == std::string::npos) return fail(where() + ": expected key=value");
        std::string key = trim(line.substr(0, eq)), value = trim(line.substr(eq + 1));
        if (key == "name")
            img.name = value;
        else if (key == "kernel")
            img.kernel = resolve(value);
        else if (key == "initrd")
            img.initrd = resolve(value);
        else if (key == "cmdline")
            img.cmdline = value;
        else if (key == "args") {
            img.args = split_spaces(value);
        } else if (key == "options") {
            img.options = split_spaces(value);
            for (const auto& o : *img.options)
                if (o[0] != '-' || o.size() > 64)
                    return fail(where() + ": bad option '" + o + "' (-x, -x:, --word, -# or -)");
        } else if (key == "description")
            img.description = value;
        else if (key == "memory") {
            auto mib = parse_memory(value);
            if (!mib) return fail(where() + ": " + mib.error().message);
            img.memory_mib = *mib;
        } else if (key == "stdio") {
            auto k = parse_stdio(value);
            if (!k) return fail(where() + ": " + k.error().message);
            img.stdio = *k;
        } else if (key == "kind") {
            if (value != "tiny" && value != "runtime" && value != "linux")
                return fail(where() + ": unknown kind '" + value + "' (tiny, runtime or linux)");
            img.kind = value;
        } else if (key == "drain") {
            if (value != "yes" && value != "no") return fail(where() + ": bad drain '" + value + "' (yes or no)");
            img.drain = value == "yes";
        } else if (key == "remote") {
            if (value != "yes" && value != "no") return fail(where() + ": bad remote '" + value + "' (yes or no)");
            img.remote = value == "yes";
        } else if (key == "snapshot") {
            if (value != "yes" && value != "no") return fail(where() + ": bad snapshot '" + value + "' (yes or no)");
            img.snapshot = value == "yes";
        } else if (key == "exec") {
            if (value != "ctl" && value != "fw_cfg")
                return fail(where() + ": bad exec '" + value + "' (ctl or fw_cfg)");
            img.exec_fw_cfg = value == "fw_cfg";
        } else if (key == "power") {
            if (value != "acpi" && value != "ctl") return fail(where() + ": bad power '" + value + "' (acpi or ctl)");
            img.power_ctl = value == "ctl";
        } else if (key == "max-args") {
            unsigned n = 0;
            auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
            if (ec != std::errc() || p != value.data() + value.size() || n > 4096)
                return fail(where() + ": bad max-args '" + value + "' (a count, at most 4096)");
            img.max_args = n;
        } else if (key == "boot-timeout") {
            double secs = 0;
            auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), secs);
            if (ec != std::errc() || p != value.data() + value.size() || !(secs > 0) || secs > 86400)
                return fail(where() + ": bad boot-timeout '" + value + "' (seconds, 0 < s <= 86400)");
            img.boot_timeout = std::chrono::milliseconds(static_cast<long>(secs * 1000));
        } else {
            return fail(where() + ": unknown key '" + key + "'");
        }
    }
    if (img.kernel.empty()) return fail("image entry '" + path + "' names no kernel");
    if (img.remote) return img;  // nothing of it boots here
    if (!is_file(img.kernel))
        return fail("image '" + img.name + "' (" + path + "): kernel '" + img.kernel + "' not found");
    if (!img.initrd.empty() && !is_file(img.initrd))
        return fail("image '" + img.name + "' (" + path + "): initrd '" + img.initrd + "' not found");
    return img;
}

VmSpec spec_from_image(const Image& image)
{
    VmSpec spec;
    spec.kernel = image.kernel;
    spec.initrd = image.initrd;
    spec.extra_cmdline = image.cmdline;
    spec.args = image.args;
    spec.memory_mib = image.memory_mib;
    spec.stdio = image.stdio;
    spec.drain = image.drain;
    spec.snapshot = image.snapshot;
    spec.exec_fw_cfg = image.exec_fw_cfg;
    spec.power_ctl = image.power_ctl;
    if (image.boot_timeout) spec.boot_timeout = *image.boot_timeout;
    return spec;
}

namespace {

Result<Image> bootable(Result<Image> img)
{
    if (img && img->remote)
        return fail("image '" + img->name + "' (" + img->entry_file +
                    ") is a stand-in for an image a router boots (remote=yes): nothing of it boots here");
    return img;
}

}  // namespace

Result<Image> resolve_image(const std::string& ref, const std::vector<std::string>& dirs)
{
    return bootable(find_image(ref, dirs));
}

Result<Image> find_image(const std::string& ref, const std::vector<std::string>& dirs)
{
    if (ref.empty()) return fail("no image given");
    bool looks_like_path = ref.find('/') != std::string::npos || is_file(ref);
    if (looks_like_path) {
        if (!is_file(ref)) return fail("kernel '" + ref + "' not found");
        if (ref.ends_with(".image")) return load_image_entry(ref);
        Image img;
        img.name = fs::path(ref).stem().string();
        img.kernel = ref;
        return img;
    }
    for (const auto& dir : dirs) {
        std::vector<fs::path> candidates = {fs::path(dir) / (ref + ".image")};
        std::error_code ec;
        std::vector<fs::path> subdirs;
        for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec))
            if (it->is_directory(ec)) subdirs.push_back(it->path());
        std::sort(subdirs.begin(), subdirs.end());
        for (const auto& sub : subdirs) candidates.push_back(sub / (ref + ".image"));
        for (const auto& c : candidates)
            if (is_file(c.string())) return load_image_entry(c.string());
    }
    std::string looked;
    for (const auto& d : dirs) looked += (looked.empty() ? "" : ", ") + d;
    return fail("image '" + ref + "' not found (looked in " + looked + "; set FLEET_IMAGES or give a path)");
}

std::vector<Image> list_images(const std::vector<std::string>& dirs)
{
    std::vector<Image> out;
    std::set<std::string> seen;
    for (const auto& dir : dirs) {
        std::error_code ec;
        std::vector<fs::path> entries;
        for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
             it.increment(ec)) {
            if (it.depth() > 1) it.disable_recursion_pending();
            if (it->path().extension() == ".image") entries.push_back(it->path());
        }
        std::sort(entries.begin(), entries.end());
        for (const auto& p : entries) {
            auto img = load_image_entry(p.string());
            if (img && seen.insert(img->name).second) out.push_back(std::move(*img));
        }
    }
    return out;
}

}  // namespace fleet::vmm
