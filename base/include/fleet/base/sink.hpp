// fleet — an ordered byte sink on the loop: writes reach the fd in the order
// given, one in flight at a time, without blocking the loop.
#pragma once

#include <fleet/base/fd.hpp>
#include <fleet/base/loop.hpp>

#include <deque>
#include <functional>
#include <string>
#include <utility>

namespace fleet {

class Sink {
public:
    // on_error is called once if a write fails (e.g. EPIPE); later writes
    // are dropped.
    Sink(Loop& loop, int fd, std::function<void(int err)> on_error = {})
        : loop_(loop), fd_(fd), on_error_(std::move(on_error))
    {
    }
    ~Sink()
    {
        if (op_) loop_.cancel(op_);
    }
    Sink(const Sink&) = delete;
    Sink& operator=(const Sink&) = delete;

    void write(std::string bytes)
    {
        if (failed_ || bytes.empty()) return;
        queued_bytes_ += bytes.size();
        queue_.push_back(Item{std::move(bytes), Fd()});
        if (!op_) next();
    }
    // After what is queued: fd, on one byte of its own (Loop::send_fd; a
    // unix socket only). Dropped, and closed, if a write fails first.
    void write_fd(Fd fd)
    {
        if (failed_ || !fd) return;
        queued_bytes_ += 1;
        queue_.push_back(Item{std::string(), std::move(fd)});
        if (!op_) next();
    }
    // Call fn once everything queued so far has been written (now, if idle),
    // or dropped because a write failed.
    void when_idle(std::function<void()> fn)
    {
        if (!op_ && queue_.empty()) return fn();
        idle_ = std::move(fn);
    }
    [[nodiscard]] std::size_t queued() const { return queued_bytes_; }
    [[nodiscard]] bool idle() const { return !op_; }
    [[nodiscard]] int fd() const { return fd_; }

private:
    void next()
    {
        if (queue_.empty()) {
            if (idle_) std::exchange(idle_, nullptr)();
            return;
        }
        Item item = std::move(queue_.front());
        queue_.pop_front();
        std::size_t n = item.fd ? 1 : item.bytes.size();
        auto done = [this, n](int res) {
            op_ = 0;
            queued_bytes_ -= n;
            if (res < 0) {
                failed_ = true;
                queue_.clear();
                queued_bytes_ = 0;
                auto idle = std::exchange(idle_, nullptr);  // nothing more will be written: release the waiter
                if (on_error_) on_error_(-res);
                if (idle) idle();
                return;
            }
            next();
        };
        op_ = item.fd ? loop_.send_fd(fd_, std::move(item.fd), std::move(done))
                      : loop_.write(fd_, std::move(item.bytes), std::move(done));
    }

    struct Item {
        std::string bytes;
        Fd fd;  // set: this item is the fd alone
    };

    Loop& loop_;
    int fd_;
    std::function<void(int)> on_error_;
    std::function<void()> idle_;
    std::deque<Item> queue_;
    std::size_t queued_bytes_ = 0;
    OpId op_ = 0;
    bool failed_ = false;
};

}  // namespace fleet
