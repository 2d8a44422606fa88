// fleet — DefinitionStore: one <name>.xml per persistent domain, replaced
// atomically (temp file, fsync, rename, fsync the folder), read back whole.
#include "parse.hpp"

#include <fleet/base/fd.hpp>
#include <fleet/base/file.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>

namespace fleet::router {

namespace {

constexpr std::string_view temp_marker = ".xml.tmp-";

bool is_leftover_temp(std::string_view file)
{
    return file.starts_with('.') && file.find(temp_marker) != std::string_view::npos;
}

// mkdir -p; the last folder 0700 (its parents 0755, as a system's are).
Result<> make_dirs(const std::string& dir)
{
    for (std::size_t slash = dir.find('/', 1); slash != std::string::npos; slash = dir.find('/', slash + 1))
        if (::mkdir(dir.substr(0, slash).c_str(), 0755) != 0 && errno != EEXIST)
            return fail_errno("cannot create " + dir.substr(0, slash));
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return fail_errno("cannot create " + dir);
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) return fail_errno("cannot use " + dir);
    if (!S_ISDIR(st.st_mode)) return fail("cannot use " + dir + ": not a folder");
    return {};
}

Result<Fd> open_dir(const std::string& dir)
{
    Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) return fail_errno("cannot open " + dir);
    return fd;
}

Result<> sync_dir(const std::string& dir)
{
    auto fd = open_dir(dir);
    if (!fd) return std::unexpected(fd.error());
    if (::fsync(fd->get()) != 0) return fail_errno("cannot sync " + dir);
    return {};
}

// A whole regular file, at most a document's worth (and one byte more, so
// that the parser reports it as too large).
Result<std::string> read_file(int dir_fd, const std::string& file)
{
    Fd fd(::openat(dir_fd, file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
    if (!fd) return fail_errno("cannot open");
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return fail_errno("cannot stat");
    if (!S_ISREG(st.st_mode)) return fail("not a regular file");
    std::string text(detail::max_document_bytes + 1, '\0');
    std::size_t got = 0;
    while (got < text.size()) {
        const ssize_t n = ::read(fd.get(), text.data() + got, text.size() - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail_errno("cannot read");
        if (n == 0) break;
        got += static_cast<std::size_t>(n);
    }
    text.resize(got);
    return text;
}

Result<DomainDef> load_one(int dir_fd, const std::string& file)
{
    auto text = read_file(dir_fd, file);
    if (!text) return std::unexpected(text.error());
    auto def = parse_domain_xml(*text);
    if (!def) return def;
    const std::string stem = file.substr(0, file.size() - 4);
    if (def->name != stem) return fail("defines '" + def->name + "', not '" + stem + "'");
    return def;
}

}  // namespace

Result<DefinitionStore> DefinitionStore::open(std::string dir)
{
    if (dir.empty()) return fail("no folder given for domain definitions");
    while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
    if (auto r = make_dirs(dir); !r) return std::unexpected(r.error());
    return DefinitionStore(std::move(dir));
}

Result<> DefinitionStore::save(const DomainDef& def) const
{
    if (auto r = check_domain_name(def.name); !r) return r;
    // Never write what load_all would call bad.
    const std::string text = format_domain_xml(def);
    if (auto back = parse_domain_xml(text); !back)
        return fail("definition of '" + def.name + "' would not read back: " + back.error().what());
    return replace_file(dir_, def.name + ".xml", text, Sync::yes);
}

Result<> DefinitionStore::remove(const std::string& name) const
{
    if (auto r = check_domain_name(name); !r) return r;
    const std::string path = dir_ + "/" + name + ".xml";
    if (::unlink(path.c_str()) != 0) {
        if (errno == ENOENT) return fail("no definition for '" + name + "' in " + dir_, ENOENT);
        return fail_errno("cannot remove " + path);
    }
    return sync_dir(dir_);
}

Result<DefinitionStore::Loaded> DefinitionStore::load_all() const
{
    std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(dir_.c_str()), ::closedir);  // O_CLOEXEC
    if (!dir) return fail_errno("cannot list " + dir_);
    const int dir_fd = ::dirfd(dir.get());
    Loaded loaded;
    errno = 0;
    while (const dirent* entry = ::readdir(dir.get())) {
        const std::string file = entry->d_name;
        if (is_leftover_temp(file)) {
            ::unlinkat(dir_fd, file.c_str(), 0);
        } else if (!file.starts_with('.') && file.size() > 4 && file.ends_with(".xml")) {
            auto def = load_one(dir_fd, file);
            if (def)
                loaded.defs.push_back(std::move(*def));
            else
                loaded.bad.push_back(dir_ + "/" + file + ": " + def.error().what());
        }
        errno = 0;
    }
    if (errno != 0) return fail_errno("cannot list " + dir_);
    std::sort(loaded.defs.begin(), loaded.defs.end(),
              [](const DomainDef& a, const DomainDef& b) { return a.name < b.name; });
    std::sort(loaded.bad.begin(), loaded.bad.end());
    return loaded;
}

}  // namespace fleet::router
