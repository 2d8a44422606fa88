// fleet — unix stream sockets by path.
#include <fleet/base/socket.hpp>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
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

}  // namespace fleet
