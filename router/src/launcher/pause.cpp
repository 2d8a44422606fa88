// fleet-router — pause and resume a VM through its public QMP monitor
// (qmp.sock): on the loop, with a deadline, so a QEMU that does not answer
// costs its caller, never the router's other clients.
#include <fleet/base/socket.hpp>
#include <fleet/router/supervisor_launcher.hpp>
#include <fleet/vmm/qmp.hpp>

#include <chrono>
#include <memory>

namespace fleet::router {

void SupervisorLauncher::pause(const std::string& name, bool pause, std::function<void(DomainResult<>)> done)
{
    auto fd = connect_unix(store_.path(name, "qmp.sock"), "the monitor of domain '" + name + "'");
    if (!fd) return done(domain_fail(Errc::failed, fd.error().what()));
    struct Op {
        std::unique_ptr<vmm::QmpClient> client;
        OpId timer = 0;
        bool finished = false;
    };
    auto op = std::make_shared<Op>();
    auto finish = [this, op, done = std::move(done)](DomainResult<> r) {
        if (op->finished) return;
        op->finished = true;
        if (op->timer) loop_.cancel(op->timer);
        loop_.defer([op] { op->client.reset(); });  // not from inside its own callback
        done(std::move(r));
    };
    auto shared_finish = std::make_shared<decltype(finish)>(std::move(finish));
    op->client = std::make_unique<vmm::QmpClient>(
        loop_, std::move(*fd), [](const vmm::QmpMessage&) {},
        [shared_finish](const Error& e) { (*shared_finish)(domain_fail(Errc::failed, "monitor: " + e.what())); });
    op->timer = loop_.timer(std::chrono::seconds(5), [op, shared_finish](int) {
        op->timer = 0;
        (*shared_finish)(domain_fail(Errc::failed, "the domain's monitor did not answer within 5 s"));
    });
    op->client->execute(pause ? "stop" : "cont", vmm::json::object(), [shared_finish](Result<vmm::json> r) {
        if (!r) return (*shared_finish)(domain_fail(Errc::failed, r.error().what()));
        (*shared_finish)({});
    });
}

}  // namespace fleet::router
