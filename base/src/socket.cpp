// fleet — unix stream sockets by path.
#include <fleet/base/socket.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace fleet {

namespace {

Result<sockaddr_un> address(const std::string& path)
{
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof addr.sun_path) return fail("socket path too long or empty: " + path);
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    return addr;
}

Result<Fd> connect_with(const std::string& path, const std::string& what, int type)
{
    auto addr = address(path);
    if (!addr) return std::unexpected(addr.error());
    Fd fd(::socket(AF_UNIX, type | SOCK_CLOEXEC, 0));
    if (!fd) return fail_errno("cannot create a socket");
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&*addr), sizeof *addr) != 0)
        return fail_errno("cannot reach " + what);
    return fd;
}

}  // namespace

Result<Fd> listen_unix(const std::string& path, int backlog, std::optional<mode_t> umask_bits)
{
    auto addr = address(path);
    if (!addr) return std::unexpected(addr.error());
    Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd) return fail_errno("cannot create a socket");
    ::unlink(path.c_str());
    mode_t old = umask_bits ? ::umask(*umask_bits) : 0;
    int rc = ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&*addr), sizeof *addr);
    int e = errno;
    if (umask_bits) ::umask(old);
    if (rc != 0) return fail("cannot bind " + path, e);
    if (::listen(fd.get(), backlog) != 0) return fail_errno("cannot listen on " + path);
    return fd;
}

Result<Fd> connect_unix(const std::string& path, const std::string& what)
{
    return connect_with(path, what, SOCK_STREAM);
}

Result<Fd> try_connect_unix(const std::string& path, const std::string& what)
{
    return connect_with(path, what, SOCK_STREAM | SOCK_NONBLOCK);
}

bool PeerCredentials::in_group(gid_t g) const
{
    return gid == g || std::find(groups.begin(), groups.end(), g) != groups.end();
}

Result<PeerCredentials> peer_credentials(int fd)
{
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return fail_errno("cannot read SO_PEERCRED");
    PeerCredentials p{cred.pid, cred.uid, cred.gid, {}};
    std::vector<gid_t> groups(64);
    for (;;) {
        socklen_t glen = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
        if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &glen) == 0) {
            groups.resize(glen / sizeof(gid_t));
            break;
        }
        // ERANGE: glen says how much room the list needs.
        if (errno != ERANGE || glen / sizeof(gid_t) <= groups.size()) return fail_errno("cannot read SO_PEERGROUPS");
        groups.resize(glen / sizeof(gid_t));
    }
    p.groups = std::move(groups);
    return p;
}

Result<bool> wait_fd(int fd, short events, std::chrono::steady_clock::time_point deadline)
{
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        pollfd p{fd, events, 0};
        int n = ::poll(&p, 1, static_cast<int>(left.count()));
        if (n > 0) return true;
        if (n < 0 && errno != EINTR) return fail("poll", errno);
    }
}

Result<> send_with_fds(int sock, std::string_view bytes, const std::vector<int>& fds)
{
    char control[CMSG_SPACE(sizeof(int) * 4)] = {};
    if (fds.size() > 4 || bytes.empty()) return fail("a send with fds needs bytes and at most 4 fds");
    iovec iov{const_cast<char*>(bytes.data()), 1};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
    ssize_t n;
    do n = ::sendmsg(sock, &msg, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n != 1) return fail_errno("cannot send");
    bytes.remove_prefix(1);
    while (!bytes.empty()) {
        n = ::send(sock, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return fail_errno("cannot send");
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return {};
}

Result<std::string> recv_with_fds(int sock, std::size_t n, std::vector<Fd>& fds, std::size_t max_fds,
                                  std::chrono::milliseconds timeout)
{
    using clock = std::chrono::steady_clock;
    auto deadline = clock::now() + timeout;
    std::string out(n, '\0');
    std::size_t got = 0;
    while (got < n) {
        auto ready = wait_fd(sock, POLLIN, deadline);
        if (!ready) return std::unexpected(ready.error());
        if (!*ready) return fail("timed out", ETIMEDOUT);
        char control[CMSG_SPACE(sizeof(int) * 4)] = {};
        iovec iov{out.data() + got, n - got};
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        ssize_t k = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
        if (k < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (k < 0) return fail_errno("cannot read");
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
            std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (std::size_t i = 0; i < count; ++i) {
                int fd;
                std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
                fds.emplace_back(fd);  // owned (and closed) even when over the limit
            }
        }
        if (fds.size() > max_fds) return fail("too many fds");
        if (msg.msg_flags & MSG_CTRUNC) return fail("fds cut off");
        if (k == 0) return fail("the other end went away");
        got += static_cast<std::size_t>(k);
    }
    return out;
}

}  // namespace fleet
