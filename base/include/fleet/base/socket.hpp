// fleet — unix stream sockets by path: the one place that builds a
// sockaddr_un (monitors, consoles, the router's libvirt-sock), and who is
// on the other end of one.
#pragma once

#include <fleet/base/error.hpp>
#include <fleet/base/fd.hpp>

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fleet {

// Listen at path, replacing a stale socket file there. With `umask_bits`,
// the socket file is created under that umask (0117: owner and group may
// connect) instead of the process's. Non-blocking, close-on-exec.
Result<Fd> listen_unix(const std::string& path, int backlog = 8, std::optional<mode_t> umask_bits = std::nullopt);

// Connect to the socket at path (blocking connect: local and immediate);
// close-on-exec. The error says what could not be reached: "cannot reach
// <what>: <errno text>".
Result<Fd> connect_unix(const std::string& path, const std::string& what);

// The same without ever blocking, for an event loop: a listener whose
// backlog is full (a monitor busy with another client) is an error with
// sys_errno EAGAIN, to be tried again later. The socket is non-blocking.
Result<Fd> try_connect_unix(const std::string& path, const std::string& what);

// The peer of a connected unix socket, as the kernel saw it at connect()
// (SO_PEERCRED, SO_PEERGROUPS): not what the peer claims.
struct PeerCredentials {
    pid_t pid = 0;
    uid_t uid = static_cast<uid_t>(-1);
    gid_t gid = static_cast<gid_t>(-1);
    std::vector<gid_t> groups;  // supplementary groups

    [[nodiscard]] bool in_group(gid_t g) const;
};
Result<PeerCredentials> peer_credentials(int fd);

// poll(2) fd for `events` until the deadline, through EINTR: true once
// ready, false at the deadline.
Result<bool> wait_fd(int fd, short events, std::chrono::steady_clock::time_point deadline);

// Send bytes with fds attached to their first byte, then the rest (blocking).
Result<> send_with_fds(int sock, std::string_view bytes, const std::vector<int>& fds);
// Read exactly n bytes (blocking, at most `timeout` in all), collecting up
// to `max_fds` fds that ride on them (close-on-exec). A timeout is an error
// with sys_errno ETIMEDOUT; more fds than max_fds (all are closed), an
// error.
Result<std::string> recv_with_fds(int sock, std::size_t n, std::vector<Fd>& fds, std::size_t max_fds,
                                  std::chrono::milliseconds timeout);

}  // namespace fleet
