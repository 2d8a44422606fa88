// fleet — unix stream sockets by path.
#include <fleet/base/socket.hpp>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

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
    auto addr = address(path);
    if (!addr) return std::unexpected(addr.error());
    Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) return fail_errno("cannot create a socket");
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&*addr), sizeof *addr) != 0)
        return fail_errno("cannot reach " + what);
    return fd;
}

}  // namespace fleet
