// fleet — io_uring event loop (see loop.hpp).
#include <fleet/base/fd.hpp>
#include <fleet/base/loop.hpp>

#include <liburing.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cstring>
#include <deque>
#include <unordered_map>
#include <vector>

namespace fleet {

namespace {

enum class Kind { poll, read, write, send_fd, accept, timer };

struct Op {
    Kind kind;
    int fd = -1;
    Loop::Done done;
    Loop::ReadDone read_done;
    std::string buffer;           // read target or write source
    std::size_t offset = 0;       // bytes of a write already done
    __kernel_timespec ts{};       // timer expiry
    io_uring_sqe* sqe = nullptr;  // prepared but not yet submitted to the kernel
    bool cancelled = false;
    bool socket = false;  // a write is a send without SIGPIPE
    // send_fd: one byte carrying `passed` (SCM_RIGHTS). The op owns the fd
    // and the message until the kernel is done with them.
    Fd passed;
    msghdr msg{};
    iovec iov{};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
};

}  // namespace

struct Loop::Impl {
    io_uring ring{};
    OpId next_id = 1;
    std::unordered_map<OpId, std::unique_ptr<Op>> ops;
    std::deque<std::function<void()>> deferred;
    std::size_t live = 0;  // ops not cancelled
    // Ops whose SQE still sits in the submission ring. The kernel resolves
    // an SQE's fd number only when it is submitted, so an op cancelled
    // before that must never be submitted: its fd may be closed and the
    // number reused by then (a client's replies once reached another).
    std::vector<Op*> unsubmitted;

    // Hand every prepared SQE to the kernel; from here on each holds its
    // own reference to its file, and closing the fd number is safe.
    int submit(unsigned wait)
    {
        int r = wait ? io_uring_submit_and_wait(&ring, wait) : io_uring_submit(&ring);
        for (Op* op : unsubmitted) op->sqe = nullptr;
        unsubmitted.clear();
        return r;
    }

    io_uring_sqe* sqe()
    {
        io_uring_sqe* s = io_uring_get_sqe(&ring);
        if (s == nullptr) {
            submit(0);
            s = io_uring_get_sqe(&ring);
        }
        return s;  // never null after a submit with a ring of >= 1 entry
    }

    void prep(OpId id, Op& op)
    {
        io_uring_sqe* s = sqe();
        switch (op.kind) {
            case Kind::poll:
                io_uring_prep_poll_add(s, op.fd, static_cast<unsigned>(op.offset));
                break;
            case Kind::read:
                io_uring_prep_read(s, op.fd, op.buffer.data(), static_cast<unsigned>(op.buffer.size()), -1);
                break;
            case Kind::write:
                if (op.socket)
                    io_uring_prep_send(s, op.fd, op.buffer.data() + op.offset, op.buffer.size() - op.offset,
                                       MSG_NOSIGNAL);
                else
                    io_uring_prep_write(s, op.fd, op.buffer.data() + op.offset,
                                        static_cast<unsigned>(op.buffer.size() - op.offset), -1);
                break;
            case Kind::send_fd:
                io_uring_prep_sendmsg(s, op.fd, &op.msg, MSG_NOSIGNAL);
                break;
            case Kind::accept:
                io_uring_prep_accept(s, op.fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
                break;
            case Kind::timer:
                io_uring_prep_timeout(s, &op.ts, 0, 0);
                break;
        }
        io_uring_sqe_set_data64(s, id);
        op.sqe = s;
        unsubmitted.push_back(&op);
    }

    OpId add(std::unique_ptr<Op> op)
    {
        OpId id = next_id++;
        prep(id, *op);
        ops.emplace(id, std::move(op));
        ++live;
        return id;
    }

    void complete(OpId id, int res)
    {
        auto it = ops.find(id);
        if (it == ops.end()) return;  // the completion of a cancel request
        Op& op = *it->second;
        if (op.cancelled) {
            ops.erase(it);
            return;
        }
        // A read or write the kernel broke off for a signal (a tty does, in
        // io_uring's worker) is not the caller's business: do it again.
        if (res == -EINTR && (op.kind == Kind::read || op.kind == Kind::write || op.kind == Kind::send_fd)) {
            prep(id, op);
            return;
        }
        if (op.kind == Kind::write && res > 0 && op.offset + static_cast<std::size_t>(res) < op.buffer.size()) {
            op.offset += static_cast<std::size_t>(res);
            prep(id, op);  // continue a short write
            return;
        }
        if (op.kind == Kind::write && res > 0) res = static_cast<int>(op.buffer.size());
        if (op.kind == Kind::timer && res == -ETIME) res = 0;
        std::unique_ptr<Op> owned = std::move(it->second);
        ops.erase(it);
        --live;
        if (owned->kind == Kind::read) {
            std::size_t n = res > 0 ? static_cast<std::size_t>(res) : 0;
            owned->read_done(res, std::span<const char>(owned->buffer.data(), n));
        } else {
            owned->done(res);
        }
    }
};

Loop::Loop(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Loop::~Loop()
{
    io_uring_queue_exit(&impl_->ring);
}

Result<std::unique_ptr<Loop>> Loop::create(unsigned entries)
{
    auto impl = std::make_unique<Impl>();
    int r = io_uring_queue_init(entries, &impl->ring, 0);
    if (r < 0) return fail("cannot set up io_uring", -r);
    // A forked child (the router's supervisors) must not inherit the ring's
    // mappings: they keep the ring, and every file its pending operations
    // hold (a listening socket, client connections), alive for as long as
    // the child lives — a restarted router then found its port still bound.
    r = io_uring_ring_dontfork(&impl->ring);
    if (r < 0) return fail("cannot set up io_uring (dontfork)", -r);
    return std::unique_ptr<Loop>(new Loop(std::move(impl)));
}

OpId Loop::poll(int fd, unsigned events, Done done)
{
    auto op = std::make_unique<Op>();
    op->kind = Kind::poll;
    op->fd = fd;
    op->offset = events;
    op->done = std::move(done);
    return impl_->add(std::move(op));
}

OpId Loop::read(int fd, std::size_t max, ReadDone done)
{
    auto op = std::make_unique<Op>();
    op->kind = Kind::read;
    op->fd = fd;
    // Not zeroed: the kernel writes the bytes the callback sees (a 64 KiB
    // memset was most of a read's own cost).
    op->buffer.resize_and_overwrite(max, [](char*, std::size_t n) noexcept { return n; });
    op->read_done = std::move(done);
    return impl_->add(std::move(op));
}

OpId Loop::write(int fd, std::string data, Done done)
{
    auto op = std::make_unique<Op>();
    op->kind = Kind::write;
    op->fd = fd;
    // A peer that went away is -EPIPE for the caller, never a SIGPIPE that
    // kills a process that did not ignore it (a library must not rely on
    // its host's signal dispositions). Pipes have no such flag.
    struct stat st {};
    op->socket = ::fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
    op->buffer = std::move(data);
    op->done = std::move(done);
    return impl_->add(std::move(op));
}

OpId Loop::send_fd(int sock, Fd fd, Done done)
{
    auto op = std::make_unique<Op>();
    op->kind = Kind::send_fd;
    op->fd = sock;
    op->passed = std::move(fd);
    op->buffer.assign(1, '\0');
    op->iov = {op->buffer.data(), 1};
    op->msg.msg_iov = &op->iov;
    op->msg.msg_iovlen = 1;
    op->msg.msg_control = op->control;
    op->msg.msg_controllen = sizeof op->control;
    cmsghdr* c = CMSG_FIRSTHDR(&op->msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    const int raw = op->passed.get();
    std::memcpy(CMSG_DATA(c), &raw, sizeof raw);
    op->done = std::move(done);
    return impl_->add(std::move(op));
}

OpId Loop::accept(int fd, Done done)
{
    auto op = std::make_unique<Op>();
    op->kind = Kind::accept;
    op->fd = fd;
    op->done = std::move(done);
    return impl_->add(std::move(op));
}

OpId Loop::timer(std::chrono::milliseconds delay, Done done)
{
    auto op = std::make_unique<Op>();
    op->kind = Kind::timer;
    op->ts.tv_sec = delay.count() / 1000;
    op->ts.tv_nsec = (delay.count() % 1000) * 1000000;
    op->done = std::move(done);
    return impl_->add(std::move(op));
}

void Loop::defer(std::function<void()> fn)
{
    impl_->deferred.push_back(std::move(fn));
}

void Loop::submit()
{
    (void)impl_->submit(0);
}

void Loop::cancel(OpId id)
{
    auto it = impl_->ops.find(id);
    if (it == impl_->ops.end() || it->second->cancelled) return;
    Op& op = *it->second;
    op.cancelled = true;
    --impl_->live;
    if (op.sqe != nullptr) {
        // Not submitted yet: turn it into a no-op in place, so the kernel
        // never touches the fd; its completion just frees the op.
        io_uring_prep_nop(op.sqe);
        io_uring_sqe_set_data64(op.sqe, id);
        return;
    }
    io_uring_sqe* s = impl_->sqe();
    io_uring_prep_cancel64(s, id, 0);
    io_uring_sqe_set_data64(s, 0);  // id 0 is never an op
}

std::size_t Loop::pending() const
{
    return impl_->live + impl_->deferred.size();
}

Result<> Loop::run_until(const std::function<bool()>& done)
{
    while (!done()) {
        if (!impl_->deferred.empty()) {
            auto fn = std::move(impl_->deferred.front());
            impl_->deferred.pop_front();
            fn();
            continue;
        }
        if (impl_->live == 0) return fail("event loop has nothing left to wait for");
        io_uring_cqe* cqe = nullptr;
        int r = impl_->submit(1);
        if (r < 0 && r != -EINTR && r != -EBUSY) return fail("io_uring wait failed", -r);
        // Collect first: a callback may submit, which must not race the walk.
        std::vector<std::pair<OpId, int>> batch;
        unsigned head = 0;
        io_uring_for_each_cqe(&impl_->ring, head, cqe)
        {
            batch.emplace_back(io_uring_cqe_get_data64(cqe), cqe->res);
        }
        io_uring_cq_advance(&impl_->ring, static_cast<unsigned>(batch.size()));
        for (auto [id, res] : batch) impl_->complete(id, res);
    }
    return {};
}

}  // namespace fleet
