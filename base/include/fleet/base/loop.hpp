// fleet — the io_uring event loop.
//
// One Loop per thread owns every fd it is told about: sockets, pidfds,
// signalfds, timers. Operations are one-shot; each completes exactly once by
// calling its callback with the kernel's result (>= 0, or -errno), unless it
// was cancelled first, in which case the callback is never called. Buffers
// are owned by the loop for the life of the operation, so a caller may drop
// its state the moment it cancels.
#pragma once

#include <fleet/base/error.hpp>
#include <fleet/base/fd.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

namespace fleet {

using OpId = std::uint64_t;

class Loop {
public:
    using Done = std::function<void(int res)>;
    using ReadDone = std::function<void(int res, std::span<const char> data)>;

    static Result<std::unique_ptr<Loop>> create(unsigned entries = 256);
    ~Loop();
    Loop(const Loop&) = delete;
    Loop& operator=(const Loop&) = delete;

    // Wait until fd reports one of the poll(2) events; res is the revents.
    OpId poll(int fd, unsigned events, Done done);
    // Read up to max bytes; res is the byte count (0 = end of file) or -errno.
    OpId read(int fd, std::size_t max, ReadDone done);
    // Write all of data (short writes are continued); res is -errno or size.
    OpId write(int fd, std::string data, Done done);
    // Send one byte '\0' carrying fd (SCM_RIGHTS) on a unix socket, as
    // libvirt passes fds after a *_WITH_FDS packet; res is 1 or -errno.
    // The loop keeps fd open until the kernel has taken it.
    OpId send_fd(int sock, Fd fd, Done done);
    // Accept a connection on a listening socket; res is the new fd.
    OpId accept(int fd, Done done);
    // Fire after delay; res is 0.
    OpId timer(std::chrono::milliseconds delay, Done done);
    // Run fn on the next turn of the loop, before waiting for the kernel.
    void defer(std::function<void()> fn);
    // Hand the operations asked so far to the kernel now, without waiting
    // for any: a write that starts something (a VM's exec block) goes out
    // before the caller's bookkeeping, not when the loop next waits.
    void submit();

    // Forget an operation: its callback will not be called. Unknown ids
    // (already completed) are ignored.
    void cancel(OpId id);

    // Turn the loop until done() returns true, or until there is nothing left
    // to wait for (then an error, since done() never became true).
    Result<> run_until(const std::function<bool()>& done);

    [[nodiscard]] std::size_t pending() const;

private:
    struct Impl;
    explicit Loop(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace fleet
