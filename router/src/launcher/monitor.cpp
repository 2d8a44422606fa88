// fleet-router — QMP commands on a VM's public monitor (qmp.sock): pause,
// resume and the vCPU query, on the loop, with a deadline, so a QEMU that
// does not answer costs its caller, never the router's other clients.
//
// QEMU's monitor serves one client at a time and its listen backlog is
// tiny: a blocking connect() to it from the loop stalled every client, and
// six pipelined suspends deadlocked the router for good (issue 10). So the
// requests for one domain queue up and use one monitor connection at a
// time, and the connect never blocks: a busy monitor (EAGAIN) is tried
// again on a timer until the request's 5 s deadline.
#include <fleet/base/socket.hpp>
#include <fleet/router/supervisor_launcher.hpp>
#include <fleet/vmm/qmp.hpp>

#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <memory>

namespace fleet::router {

namespace {

constexpr std::chrono::seconds monitor_deadline{5};
constexpr std::chrono::milliseconds busy_retry{50};

}  // namespace

void SupervisorLauncher::pause(const std::string& name, bool pause, std::function<void(DomainResult<>)> done)
{
    monitor(name, pause ? "stop" : "cont", [done = std::move(done)](DomainResult<vmm::json> r) {
        if (!r) return done(std::unexpected(r.error()));
        done({});
    });
}

void SupervisorLauncher::monitor(const std::string& name, std::string command, MonitorDone done)
{
    auto& queue = monitor_[name];
    queue.push_back(MonitorRequest{std::move(command), std::move(done), MonitorClock::now() + monitor_deadline});
    if (queue.size() == 1) monitor_attempt(name);
}

// The request at the head of name's queue is answered; the next one starts
// on a later turn of the loop (never from inside a QMP callback).
void SupervisorLauncher::monitor_finish(const std::string& name, DomainResult<vmm::json> r)
{
    auto it = monitor_.find(name);
    if (it == monitor_.end() || it->second.empty()) return;
    auto done = std::move(it->second.front().done);
    it->second.pop_front();
    if (it->second.empty())
        monitor_.erase(it);
    else
        loop_.defer([this, name] { monitor_attempt(name); });
    done(std::move(r));
}

void SupervisorLauncher::monitor_attempt(const std::string& name)
{
    auto it = monitor_.find(name);
    if (it == monitor_.end() || it->second.empty()) return;
    const MonitorRequest& req = it->second.front();
    auto fd = try_connect_unix(store_.path(name, "qmp.sock"), "the monitor of domain '" + name + "'");
    if (!fd && fd.error().sys_errno == EAGAIN && MonitorClock::now() + busy_retry < req.deadline) {
        loop_.timer(busy_retry, [this, name](int) { monitor_attempt(name); });
        return;
    }
    if (!fd) return monitor_finish(name, domain_fail(Errc::failed, fd.error().what()));
    // Connected (a unix connect completes at once or not at all): the QMP
    // client's reads and writes go through the loop, blocking mode is fine.
    ::fcntl(fd->get(), F_SETFL, ::fcntl(fd->get(), F_GETFL) & ~O_NONBLOCK);
    run_monitor(name, req.command, std::move(*fd), req.deadline);
}

void SupervisorLauncher::run_monitor(const std::string& name, const std::string& command, Fd fd,
                                     MonitorClock::time_point deadline)
{
    struct Op {
        std::unique_ptr<vmm::QmpClient> client;
        OpId timer = 0;
        bool finished = false;
    };
    auto op = std::make_shared<Op>();
    auto finish =
        std::make_shared<std::function<void(DomainResult<vmm::json>)>>([this, op, name](DomainResult<vmm::json> r) {
            if (op->finished) return;
            op->finished = true;
            if (op->timer) loop_.cancel(op->timer);
            loop_.defer([op] { op->client.reset(); });  // not from inside its own callback
            monitor_finish(name, std::move(r));
        });
    op->client = std::make_unique<vmm::QmpClient>(
        loop_, std::move(fd), [](const vmm::QmpMessage&) {},
        [finish](const Error& e) { (*finish)(domain_fail(Errc::failed, "monitor: " + e.what())); });
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - MonitorClock::now());
    op->timer = loop_.timer(std::max(left, std::chrono::milliseconds(1)), [op, finish](int) {
        op->timer = 0;
        (*finish)(domain_fail(Errc::failed, "the domain's monitor did not answer within 5 s"));
    });
    op->client->execute(command, vmm::json::object(), [finish](Result<vmm::json> r) {
        if (!r) return (*finish)(domain_fail(Errc::failed, r.error().what()));
        (*finish)(std::move(*r));
    });
}

}  // namespace fleet::router
