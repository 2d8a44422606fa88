// router-unit — the scripted Launcher (fake_launcher.hpp).
#include "fake_launcher.hpp"

#include <fcntl.h>

#include <algorithm>
#include <stdexcept>

namespace fleet::router::testing {

void FakeLauncher::ready(const std::string& name)
{
    auto it = vms_.find(name);
    if (it == vms_.end() || it->second.ready) throw std::logic_error("ready: '" + name + "' is not starting");
    it->second.ready = true;
    if (it->second.watch.ready) it->second.watch.ready({});
}

void FakeLauncher::fail(const std::string& name, const std::string& why)
{
    auto it = vms_.find(name);
    if (it == vms_.end() || it->second.ready) throw std::logic_error("fail: '" + name + "' is not starting");
    it->second.ready = true;
    if (it->second.watch.ready) it->second.watch.ready(domain_fail(Errc::failed, why));
    end(name, EndKind::launch_failed);
}

void FakeLauncher::end(const std::string& name, EndKind how, int status)
{
    auto it = vms_.find(name);
    if (it == vms_.end()) throw std::logic_error("end: '" + name + "' is not running");
    Vm vm = std::move(it->second);
    vms_.erase(it);
    if (!vm.ready && vm.watch.ready) vm.watch.ready(domain_fail(Errc::failed, "the VM ended before it was ready"));
    vm.stdio.reset();
    if (vm.watch.ended) vm.watch.ended(Ending{how, "", status});
}

const RunStdio* FakeLauncher::stdio(const std::string& name) const
{
    auto it = vms_.find(name);
    return it == vms_.end() ? nullptr : it->second.stdio.get();
}

bool FakeLauncher::asked(const std::string& call) const
{
    return std::find(calls.begin(), calls.end(), call) != calls.end();
}

DomainResult<> FakeLauncher::start(const DomainDef& def, const Principal&, bool paused, Watch watch,
                                   const RunStdio* stdio)
{
    calls.push_back("start " + def.name + (paused ? " paused" : ""));
    if (refuse_start) return std::unexpected(*std::exchange(refuse_start, std::nullopt));
    if (running(def.name)) throw std::logic_error("start: '" + def.name + "' runs already");
    Vm vm{std::move(watch), false, nullptr};
    if (stdio) {
        vm.stdio = std::make_shared<RunStdio>();
        vm.stdio->in = Fd(::fcntl(stdio->in.get(), F_DUPFD_CLOEXEC, 3));
        vm.stdio->out = Fd(::fcntl(stdio->out.get(), F_DUPFD_CLOEXEC, 3));
        vm.stdio->err = Fd(::fcntl(stdio->err.get(), F_DUPFD_CLOEXEC, 3));
    }
    vms_[def.name] = std::move(vm);
    return {};
}

DomainResult<Adopted> FakeLauncher::adopt(const std::string& name, Watch watch)
{
    calls.push_back("adopt " + name);
    auto it = left_running.find(name);
    if (it == left_running.end()) return domain_fail(Errc::not_found, "domain '" + name + "' is not running");
    vms_[name] = Vm{std::move(watch), true, nullptr};
    return it->second;
}

void FakeLauncher::clear(const std::string& name)
{
    calls.push_back("clear " + name);
}

DomainResult<> FakeLauncher::shutdown(const std::string& name)
{
    calls.push_back("shutdown " + name);
    return {};
}

DomainResult<> FakeLauncher::kill(const std::string& name)
{
    calls.push_back("kill " + name);
    return {};
}

DomainResult<> FakeLauncher::resize_terminal(const std::string& name, std::uint16_t rows, std::uint16_t cols)
{
    calls.push_back("resize " + name + " " + std::to_string(rows) + "x" + std::to_string(cols));
    return {};
}

void FakeLauncher::pause(const std::string& name, bool pause, std::function<void(DomainResult<>)> done)
{
    calls.push_back((pause ? "pause " : "resume ") + name);
    if (hold_pauses) {
        held_pauses.push_back([this, done = std::move(done)] {
            if (refuse_pause) return done(std::unexpected(*refuse_pause));
            done({});
        });
        return;
    }
    if (refuse_pause) return done(std::unexpected(*refuse_pause));
    done({});
}

void FakeLauncher::answer_pauses()
{
    auto held = std::exchange(held_pauses, {});
    for (auto& answer : held) answer();
}

void FakeLauncher::detach()
{
    calls.push_back("detach");
    vms_.clear();
}

}  // namespace fleet::router::testing
