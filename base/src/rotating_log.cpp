// fleet — a log file with a size cap (rotating_log.hpp).
#include <fleet/base/rotating_log.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace fleet {

namespace {

Fd open_append(const std::string& path)
{
    return Fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600));
}

}  // namespace

Result<RotatingLog> RotatingLog::open(std::string path, std::size_t max_size, unsigned backups)
{
    RotatingLog log;
    log.fd_ = open_append(path);
    if (!log.fd_) return fail_errno("cannot open " + path);
    struct stat st {};
    if (::fstat(log.fd_.get(), &st) == 0) log.size_ = static_cast<std::size_t>(st.st_size);
    log.path_ = std::move(path);
    log.max_ = std::max<std::size_t>(max_size, 1);
    log.backups_ = backups;
    return log;
}

void RotatingLog::rotate()
{
    if (backups_ == 0) {
        ::ftruncate(fd_.get(), 0);
    } else {
        for (unsigned i = backups_; i > 1; --i)
            ::rename((path_ + "." + std::to_string(i - 1)).c_str(), (path_ + "." + std::to_string(i)).c_str());
        ::rename(path_.c_str(), (path_ + ".1").c_str());
        Fd fresh = open_append(path_);
        if (fresh) fd_ = std::move(fresh);
    }
    size_ = 0;
}

void RotatingLog::write(std::string_view bytes)
{
    while (!bytes.empty() && fd_) {
        if (size_ >= max_) rotate();
        std::size_t room = max_ - size_;
        std::string_view part = bytes.substr(0, room);
        ssize_t n = ::write(fd_.get(), part.data(), part.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;  // a full disk: this output is lost, as with any log
        size_ += static_cast<std::size_t>(n);
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
}

}  // namespace fleet
