// fleet-router — the listening sockets: TCP addresses, and unix sockets
// with the modes and group that say who may connect, in a folder nobody
// else could have planted or can write into (a socket there could be
// replaced, and root's clients would talk to whoever replaced it).
#pragma once

#include <fleet/base/error.hpp>
#include <fleet/base/fd.hpp>

#include <sys/types.h>

#include <optional>
#include <string>

namespace fleet::router::transport {

// 127.0.0.0/8, ::1, localhost.
bool is_loopback(const std::string& host);

// A non-blocking TCP listener; `bound` gets its port (port 0 picks one).
Result<Fd> listen_tcp(const std::string& host, int port, int& bound);

// The folder a socket goes in: a real folder, the router's own user's or
// root's, writable by no one else.
Result<> check_socket_folder(const std::string& dir);

// A unix socket at path, created owner-only and then given `mode` and, if
// any, `group`: never a moment where more may connect than the mode says.
Result<Fd> listen_unix_socket(const std::string& path, mode_t mode, std::optional<gid_t> group);

}  // namespace fleet::router::transport
