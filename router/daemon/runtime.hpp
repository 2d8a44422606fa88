// fleet-router — the daemon's hold on its runtime folder: folders, the
// one-router lock, signals, and router.json (how clients find it).
#pragma once

#include <fleet/base/error.hpp>
#include <fleet/base/fd.hpp>
#include <fleet/base/loop.hpp>
#include <fleet/router/log.hpp>
#include <fleet/router/server.hpp>

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>

namespace fleet::router {

// The runtime and state folders: created if missing, and refused unless
// they are the router's own user's and writable by nobody else
// (base ensure_private_dir). A root router's runtime folder is then mode
// 0755: its read-only socket is for everyone.
Result<> prepare_dirs(const std::string& runtime_dir, const std::string& state_dir);

// The soft RLIMIT_NOFILE up to the hard one; a line if that is still
// fewer than `wanted` descriptors.
void raise_fd_limit(std::size_t wanted, const Log& log);

// The group whose members may use a root router's read-write socket: its
// gid, if the group exists (a line if it does not); none for a router that
// is not root's (it serves its own user only).
std::optional<gid_t> fleet_group(const std::string& name, const Log& log);

// <runtime>/router.lock (opened without following a symbolic link, and
// only a plain file of our own), held for the router's life (it says who
// holds it), and the router's folders <runtime>/router/live.
Result<Fd> lock_runtime_dir(const std::string& runtime_dir);

// The router is a subreaper (DESIGN.md: pid 1 reaps late); SIGTERM,
// SIGINT, SIGHUP and SIGCHLD come through a signalfd on the loop. Every
// child that ends is reaped at once (a domain's end is seen on its
// supervisor's pidfd); SIGTERM and SIGINT call on_stop, once; SIGHUP calls
// on_hangup (if given) every time.
class Signals {
public:
    static Result<Signals> take();
    void watch(Loop& loop, std::function<void()> on_stop, std::function<void()> on_hangup = {});

private:
    Signals() = default;
    void arm();
    Fd fd_;
    Loop* loop_ = nullptr;
    std::function<void()> on_stop_;
    std::function<void()> on_hangup_;
};

// <runtime>/router.json: pid, version, the sockets, the TCP (read-only)
// and TLS addresses, the fleet bridge (if any: fleet-vmm --net's default).
Result<> write_router_info(const std::string& runtime_dir, const ServerOptions& o, int tcp_port, int tls_port,
                           const std::string& bridge);
void remove_router_info(const std::string& runtime_dir);

}  // namespace fleet::router
