// fleet-router — the daemon's hold on its runtime folder: folders, the
// one-router lock, signals, and router.json (how clients find it).
#pragma once

#include <fleet/base/error.hpp>
#include <fleet/base/fd.hpp>
#include <fleet/base/loop.hpp>

#include <functional>
#include <string>

namespace fleet::router {

// mkdir -p, mode 0700.
Result<> make_dirs(const std::string& path);

// <runtime>/router.lock, held for the router's life (it says who holds it),
// and the router's folders <runtime>/router/live.
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

// <runtime>/router.json: pid, version, socket and TCP address, URI.
Result<> write_router_info(const std::string& runtime_dir, const std::string& socket_path, const std::string& tcp_host,
                           int tcp_port);
void remove_router_info(const std::string& runtime_dir);

}  // namespace fleet::router
