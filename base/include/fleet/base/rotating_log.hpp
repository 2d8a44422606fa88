// fleet — a log file with a size cap, like virtlogd's: past max_size bytes
// it is renamed to NAME.1 (NAME.1 to NAME.2, ...; the oldest of `backups`
// is dropped) and a new NAME is started. A guest printing at full speed
// then holds at most (backups + 1) x max_size bytes of disk (or tmpfs).
//
// Writes are plain blocking write(2)s to a local file (as the supervisor's
// were); a failed write is dropped, never retried in a loop.
#pragma once

#include <fleet/base/error.hpp>
#include <fleet/base/fd.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace fleet {

class RotatingLog {
public:
    // Opens (appends to) path, mode 0600, close-on-exec.
    static Result<RotatingLog> open(std::string path, std::size_t max_size, unsigned backups);

    void write(std::string_view bytes);
    [[nodiscard]] const std::string& path() const { return path_; }
    [[nodiscard]] std::size_t size() const { return size_; }

private:
    RotatingLog() = default;
    void rotate();

    std::string path_;
    Fd fd_;
    std::size_t max_ = 0;
    unsigned backups_ = 0;
    std::size_t size_ = 0;  // of the current file
};

}  // namespace fleet
