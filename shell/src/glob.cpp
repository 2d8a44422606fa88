// fleet shell — pathname expansion on host paths (POSIX XCU 2.13.3).
#include <fleet/shell/pattern.hpp>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

namespace fleet::shell {
namespace {

// The pattern split at unquoted-or-quoted '/' into components.
std::vector<Pattern> components(const Pattern& p)
{
    std::vector<Pattern> out(1);
    for (std::size_t i = 0; i < p.text.size(); ++i) {
        if (p.text[i] == '/') {
            out.emplace_back();
            continue;
        }
        out.back().text += p.text[i];
        out.back().quoted.push_back(p.quoted[i]);
    }
    return out;
}

std::vector<std::string> list_dir(const std::string& dir)
{
    std::vector<std::string> names;
    DIR* d = ::opendir(dir.empty() ? "." : dir.c_str());
    if (!d) return names;
    while (dirent* e = ::readdir(d)) names.emplace_back(e->d_name);
    ::closedir(d);
    return names;
}

bool is_dir(const std::string& path)
{
    struct stat st {};
    return ::stat(path.empty() ? "." : path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

void expand(const std::vector<Pattern>& parts, std::size_t index, const std::string& prefix,
            std::vector<std::string>& out)
{
    if (index == parts.size()) {
        out.push_back(prefix);
        return;
    }
    const Pattern& part = parts[index];
    std::string dir_prefix = prefix.empty() || prefix.back() == '/' ? prefix : prefix + "/";
    bool last = index + 1 == parts.size();
    if (!has_glob_chars(part)) {
        std::string path = dir_prefix + part.text;
        if (last ? ::access(path.c_str(), F_OK) == 0 || is_dir(path) : is_dir(path)) {
            expand(parts, index + 1, path, out);
        }
        return;
    }
    bool dot_ok = !part.text.empty() && part.text[0] == '.';
    std::vector<std::string> names = list_dir(dir_prefix);
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
        if (name == "." || name == "..") continue;
        if (name[0] == '.' && !dot_ok) continue;
        if (!pattern_match(part, name)) continue;
        std::string path = dir_prefix + name;
        if (!last && !is_dir(path)) continue;
        expand(parts, index + 1, path, out);
    }
}

}  // namespace

std::vector<std::string> glob_paths(const Pattern& p)
{
    std::vector<std::string> out;
    if (!has_glob_chars(p)) return out;
    auto parts = components(p);
    if (!p.text.empty() && p.text[0] == '/') {
        parts.erase(parts.begin());
        expand(parts, 0, "/", out);
    } else {
        expand(parts, 0, "", out);
    }
    // A trailing slash ("*/") leaves an empty last component: keep the slash.
    return out;
}

}  // namespace fleet::shell
