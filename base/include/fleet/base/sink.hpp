// fleet — an ordered byte sink on the loop: writes reach the fd in the order
// given, one in flight at a time, without blocking the loop.
#pragma once

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
        queue_.push_back(std::move(bytes));
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
        std::string chunk = std::move(queue_.front());
        queue_.pop_front();
        std::size_t n = chunk.size();
        op_ = loop_.write(fd_, std::move(chunk), [this, n](int res) {
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
        });
    }

    Loop& loop_;
    int fd_;
    std::function<void(int)> on_error_;
    std::function<void()> idle_;
    std::deque<std::string> queue_;
    std::size_t queued_bytes_ = 0;
    OpId op_ = 0;
    bool failed_ = false;
};

}  // namespace fleet
