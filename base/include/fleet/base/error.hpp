// fleet — the one error type every module returns.
//
// Libraries never log and never throw across their API; they return
// Result<T>, whose error names what went wrong in words a user can act on
// and carries the errno it came from, if any.
#pragma once

#include <cerrno>
#include <cstring>
#include <expected>
#include <string>
#include <utility>

namespace fleet {

struct Error {
    std::string message;  // one line, no trailing newline, no program prefix
    int sys_errno = 0;    // errno that caused it, 0 if none

    // The message, with the OS's words for errno appended when there is one.
    [[nodiscard]] std::string what() const
    {
        if (sys_errno == 0) return message;
        return message + ": " + std::strerror(sys_errno);
    }
};

template <class T = void>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> fail(std::string message, int sys_errno = 0)
{
    return std::unexpected(Error{std::move(message), sys_errno});
}

// An error from a failed system call: the message plus the current errno.
inline std::unexpected<Error> fail_errno(std::string message)
{
    return std::unexpected(Error{std::move(message), errno});
}

}  // namespace fleet
