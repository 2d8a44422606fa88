// fleet — replacing a small file atomically.
#include <fleet/base/fd.hpp>
#include <fleet/base/file.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace fleet {

Result<> write_all(int fd, std::string_view data, const std::string& what)
{
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return fail_errno("cannot write " + what);
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return {};
}

namespace {

Result<> sync_dir(const std::string& dir)
{
    Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) return fail_errno("cannot open " + dir);
    if (::fsync(fd.get()) != 0) return fail_errno("cannot sync " + dir);
    return {};
}

}  // namespace

Result<> replace_file(const std::string& dir, const std::string& name, std::string_view text, Sync sync)
{
    std::string temp = dir + "/." + name + std::string(temp_file_marker) + "XXXXXX";
    Fd fd(::mkostemp(temp.data(), O_CLOEXEC));  // mode 0600
    if (!fd) return fail_errno("cannot create a temporary file in " + dir);
    Result<> r = write_all(fd.get(), text, temp);
    if (r && sync == Sync::yes && ::fsync(fd.get()) != 0) r = fail_errno("cannot sync " + temp);
    if (r && ::close(fd.release()) != 0) r = fail_errno("cannot write " + temp);
    if (r && ::rename(temp.c_str(), (dir + "/" + name).c_str()) != 0)
        r = fail_errno("cannot replace " + dir + "/" + name);
    if (!r) {
        ::unlink(temp.c_str());
        return r;
    }
    return sync == Sync::yes ? sync_dir(dir) : Result<>{};
}

Result<> ensure_private_dir(const std::string& path, mode_t mode)
{
    std::error_code ec;
    std::filesystem::path parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST) return fail_errno("cannot create " + path);
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return fail_errno("cannot inspect " + path);
    if (S_ISLNK(st.st_mode))
        return fail(path + " is a symbolic link, not a folder; remove it or choose another folder");
    if (!S_ISDIR(st.st_mode)) return fail(path + " is not a folder; remove it or choose another folder");
    if (st.st_uid != ::geteuid())
        return fail(path + " belongs to uid " + std::to_string(st.st_uid) + ", not to you (uid " +
                    std::to_string(::geteuid()) + "); remove it or choose another folder");
    if ((st.st_mode & 022) != 0 && ::chmod(path.c_str(), st.st_mode & 07755) != 0)
        return fail_errno("cannot make " + path + " writable only by you");
    return {};
}

}  // namespace fleet
