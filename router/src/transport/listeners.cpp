// fleet-router — the listening sockets (listeners.hpp).
#include "listeners.hpp"

#include <fleet/base/socket.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

namespace fleet::router::transport {

bool is_loopback(const std::string& host)
{
    in_addr a4{};
    if (::inet_pton(AF_INET, host.c_str(), &a4) == 1) return (ntohl(a4.s_addr) >> 24) == 127;
    return host == "::1" || host == "localhost";
}

Result<Fd> listen_tcp(const std::string& host, int port, int& bound)
{
    bool v6 = host.find(':') != std::string::npos;
    Fd fd(::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd) return fail_errno("cannot create a socket");
    int one = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_storage ss{};
    socklen_t len = 0;
    std::string h = host == "localhost" ? "127.0.0.1" : host;
    if (v6) {
        auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(static_cast<std::uint16_t>(port));
        if (::inet_pton(AF_INET6, h.c_str(), &a->sin6_addr) != 1) return fail("not an IP address: " + host);
        len = sizeof *a;
    } else {
        auto* a = reinterpret_cast<sockaddr_in*>(&ss);
        a->sin_family = AF_INET;
        a->sin_port = htons(static_cast<std::uint16_t>(port));
        if (::inet_pton(AF_INET, h.c_str(), &a->sin_addr) != 1) return fail("not an IP address: " + host);
        len = sizeof *a;
    }
    std::string where = host + ":" + std::to_string(port);
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) return fail_errno("cannot listen on " + where);
    if (::listen(fd.get(), 128) != 0) return fail_errno("cannot listen on " + where);
    sockaddr_storage got{};
    socklen_t glen = sizeof got;
    ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&got), &glen);
    bound =
        ntohs(v6 ? reinterpret_cast<sockaddr_in6*>(&got)->sin6_port : reinterpret_cast<sockaddr_in*>(&got)->sin_port);
    return fd;
}

Result<> check_socket_folder(const std::string& dir)
{
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0) return fail_errno("cannot use the socket folder " + dir);
    if (!S_ISDIR(st.st_mode)) return fail("the socket folder " + dir + " is not a folder (or is a symbolic link)");
    if (st.st_uid != ::geteuid() && st.st_uid != 0)
        return fail("the socket folder " + dir + " belongs to uid " + std::to_string(st.st_uid) +
                    ": a socket there could be replaced by its owner");
    if ((st.st_mode & 022) != 0)
        return fail("the socket folder " + dir +
                    " is writable by others: a socket there could be replaced (choose a folder only you can write)");
    return {};
}

Result<Fd> listen_unix_socket(const std::string& path, mode_t mode, std::optional<gid_t> group)
{
    std::string dir = std::filesystem::path(path).parent_path().string();
    if (auto c = check_socket_folder(dir.empty() ? "." : dir); !c) return std::unexpected(c.error());
    auto fd = listen_unix(path, 128, 0177);  // owner only, until chmod says more
    if (!fd) return fd;
    if (group && ::chown(path.c_str(), static_cast<uid_t>(-1), *group) != 0)
        return fail_errno("cannot give " + path + " to group " + std::to_string(*group));
    if (::chmod(path.c_str(), mode) != 0) return fail_errno("cannot set the mode of " + path);
    return fd;
}

}  // namespace fleet::router::transport
