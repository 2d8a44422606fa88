// fleet — unix stream sockets by path: the one place that builds a
// sockaddr_un (monitors, consoles, the router's libvirt-sock).
#pragma once

#include <fleet/base/error.hpp>
#include <fleet/base/fd.hpp>

#include <sys/types.h>

#include <optional>
#include <string>

namespace fleet {

// Listen at path, replacing a stale socket file there. With `umask_bits`,
// the socket file is created under that umask (0117: owner and group may
// connect) instead of the process's. Non-blocking, close-on-exec.
Result<Fd> listen_unix(const std::string& path, int backlog = 8, std::optional<mode_t> umask_bits = std::nullopt);

// Connect to the socket at path (blocking connect: local and immediate);
// close-on-exec. The error says what could not be reached: "cannot reach
// <what>: <errno text>".
Result<Fd> connect_unix(const std::string& path, const std::string& what);

}  // namespace fleet
