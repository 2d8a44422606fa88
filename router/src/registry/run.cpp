// fleet-router — the registry's run state: start (through the Launcher),
// ready, the end of a VM, shutdown, destroy, pause and resume.
#include <fleet/router/registry.hpp>

#include <sys/stat.h>

#include <utility>

namespace fleet::router {

Reason stop_reason(EndKind how, bool asked_shutdown, bool asked_destroy)
{
    if (how == EndKind::launch_failed) return Reason::failed;
    if ((asked_shutdown || asked_destroy) && how != EndKind::crashed) {
        // Asked for: a destroy, or a shutdown (one that had to kill at the
        // deadline is a destroy, not a crash).
        return asked_destroy || how == EndKind::killed ? Reason::destroyed : Reason::shutdown;
    }
    // Killed by someone else, or died: not a clean end.
    if (how == EndKind::killed || how == EndKind::crashed || how == EndKind::boot_timeout) return Reason::crashed;
    return Reason::shutdown;
}

namespace {

Lifecycle stopped_event(Reason r)
{
    switch (r) {
        case Reason::failed:
            return Lifecycle::stopped_failed;
        case Reason::destroyed:
            return Lifecycle::stopped_destroyed;
        case Reason::crashed:
            return Lifecycle::stopped_crashed;
        default:
            return Lifecycle::stopped_shutdown;
    }
}

std::unexpected<DomainError> not_running()
{
    return domain_fail(Errc::invalid_state, "domain is not running");
}

}  // namespace

void DomainRegistry::create(const std::string& xml, bool paused, std::function<void(DomainResult<DomainPtr>)> done,
                            const Principal& by, std::shared_ptr<RunStdio> stdio)
{
    auto def = parse_domain_xml(xml);
    if (!def) return done(definition_error(def.error()));
    if (auto fresh = check_new(*def); !fresh) return done(std::unexpected(fresh.error()));
    if (auto q = check_user_domains(by); !q) return done(std::unexpected(q.error()));
    auto d = std::make_shared<Domain>();
    d->def = std::move(*def);
    d->owner = by;
    d->run_stage = stdio != nullptr;
    d->run_stdio = std::move(stdio);
    domains_[d->def.name] = d;
    // The domain keeps this callback until it is ready (started_), so it
    // holds the domain weakly: a strong hold would be a cycle, and a domain
    // whose start never ends (the router stopping meanwhile) never freed.
    std::weak_ptr<Domain> weak = d;
    start(d, paused, [weak, done = std::move(done)](DomainResult<> r) {
        if (!r) return done(std::unexpected(r.error()));
        auto ready = weak.lock();
        if (!ready) return done(domain_fail(Errc::failed, "domain is gone"));
        done(ready);
    });
}

Launcher::Watch DomainRegistry::watch(const DomainPtr& d)
{
    std::weak_ptr<Domain> weak = d;
    return Launcher::Watch{
        [this, weak](DomainResult<> r) {
            if (auto d = weak.lock()) on_ready(d, std::move(r));
        },
        [this, weak](const Ending& how) {
            if (auto d = weak.lock()) on_end(d, how);
        },
    };
}

namespace {

// The host paths a definition names, checked against its owner's own rights:
// QEMU's files are opened by root (the supervisor), so without this a
// member could boot any root-only file as an initrd or attach it as a disk.
// The answer does not say which of "missing" and "not yours" it is.
DomainResult<> check_host_paths(const DomainDef& def, const Principal& owner)
{
    if (owner.administrator()) return {};
    auto refuse = [&](const std::string& what, const std::string& path) {
        struct stat st {};
        std::string why =
            ::stat(path.c_str(), &st) != 0 ? "not found" : "its owner, " + owner.describe() + ", may not open it";
        return std::unexpected(DomainError{
            Errc::invalid_argument,
            what + " '" + path + "' cannot be used (it does not exist, cannot be read, or is not what fleet expects)",
            what + " '" + path + "': " + why});
    };
    if (!def.kernel.empty() && !may_open(owner, def.kernel)) return refuse("kernel", def.kernel);
    if (!def.initrd.empty() && !may_open(owner, def.initrd)) return refuse("initrd", def.initrd);
    if (def.image.find('/') != std::string::npos && !may_open(owner, def.image))
        return refuse("fleet:image", def.image);
    for (const auto& disk : def.disks)
        if (!may_open(owner, disk.source, !disk.read_only)) return refuse("disk", disk.source);
    for (const auto& fs : def.filesystems)
        if (!may_open(owner, fs.source_dir, !fs.read_only)) return refuse("filesystem", fs.source_dir);
    if (def.rng && !may_open(owner, def.rng->source)) return refuse("rng source", def.rng->source);
    return {};
}

}  // namespace

void DomainRegistry::start(const DomainPtr& d, bool paused, Done done)
{
    if (d->active()) return done(domain_fail(Errc::invalid_state, "domain is already running"));
    if (d->next_def) d->def = *std::exchange(d->next_def, std::nullopt);
    auto refuse = [&](const DomainError& e) {
        if (!d->persistent) domains_.erase(d->def.name);
        done(std::unexpected(e));
    };
    if (auto q = check_start_quota(*d); !q) return refuse(q.error());
    if (auto p = check_host_paths(d->def, d->owner); !p) return refuse(p.error());
    if (auto o = save_owner(d->def.name, d->owner, true); !o) return refuse(o.error());
    // The run's pipes are the launcher's to copy; the router's own close here.
    auto stdio = std::move(d->run_stdio);
    if (auto r = launcher_.start(d->def, d->owner, paused, watch(d), stdio.get()); !r) {
        drop_owner(d->def.name, true);
        if (!d->persistent) domains_.erase(d->def.name);
        return done(std::unexpected(r.error()));
    }
    d->id = next_id_++;
    d->starting = true;
    d->stop_ = Domain::Stop::none;
    d->state = paused ? RunState::paused : RunState::running;
    d->reason = paused ? Reason::user : Reason::booted;
    save_live(*d);
    d->started_.push_back(std::move(done));
}

void DomainRegistry::on_ready(const DomainPtr& d, DomainResult<> r)
{
    if (!d->starting) return;
    d->starting = false;
    auto waiters = std::exchange(d->started_, {});
    if (r) {
        emit(*d, Lifecycle::started);
        if (d->state == RunState::paused) emit(*d, Lifecycle::suspended);
        for (auto& w : waiters) w({});
        return;
    }
    std::string why = "domain '" + d->def.name + "' failed to start: " + r.error().message;
    log_.info(why);
    // The end settles the state; the callers hear why now.
    d->stop_ = Domain::Stop::none;
    for (auto& w : waiters) w(domain_fail(Errc::failed, why));
}

void DomainRegistry::on_end(const DomainPtr& d, const Ending& how)
{
    if (d->starting) on_ready(d, domain_fail(Errc::failed, "the supervisor ended before the guest was ready"));
    Reason r = stop_reason(how.kind, d->stop_ == Domain::Stop::shutdown, d->stop_ == Domain::Stop::destroy);
    log_.debug("domain '" + d->def.name + "' stopped" + how.detail);
    d->exit_status = how.status;
    drop_live(d->def.name);
    emit(*d, stopped_event(r));  // the event names the id it ran under
    d->id = -1;
    d->state = RunState::shutoff;
    d->reason = r;
    d->stop_ = Domain::Stop::none;
    auto waiters = std::exchange(d->stopped_, {});
    if (!d->persistent)
        domains_.erase(d->def.name);
    else if (d->next_def)
        d->def = *std::exchange(d->next_def, std::nullopt);
    for (auto& w : waiters) w();
}

DomainResult<> DomainRegistry::shutdown(const DomainPtr& d)
{
    if (!d->active()) return not_running();
    if (d->stop_ == Domain::Stop::none) d->stop_ = Domain::Stop::shutdown;
    return launcher_.shutdown(d->def.name);
}

void DomainRegistry::destroy(const DomainPtr& d, Done done)
{
    if (!d->active()) return done(not_running());
    d->stop_ = Domain::Stop::destroy;
    if (auto k = launcher_.kill(d->def.name); !k) return done(k);
    d->stopped_.push_back([done = std::move(done)] { done({}); });
}

DomainResult<> DomainRegistry::resize_terminal(const DomainPtr& d, std::uint16_t rows, std::uint16_t cols)
{
    if (!d->active()) return not_running();
    if (!d->def.terminal) return domain_fail(Errc::invalid_state, "domain '" + d->def.name + "' has no terminal");
    return launcher_.resize_terminal(d->def.name, rows, cols);
}

void DomainRegistry::suspend(const DomainPtr& d, bool pause, Done done)
{
    if (!d->active() || d->starting) return done(not_running());
    // The state once what was asked before is done: the launcher answers
    // one domain's pauses and resumes in the order asked (monitor.cpp).
    bool paused = d->pausing ? *d->pausing : d->state == RunState::paused;
    if (pause && paused) return done({});
    if (!pause && !paused) return done(domain_fail(Errc::invalid_state, "domain is not paused"));
    std::weak_ptr<Domain> weak = d;
    d->pausing = pause;
    const unsigned ask = ++d->pause_asks;
    launcher_.pause(d->def.name, pause, [this, weak, pause, ask, done = std::move(done)](DomainResult<> r) {
        auto d = weak.lock();
        if (d && d->pause_asks == ask) d->pausing.reset();  // the last one asked is answered
        if (r && d && d->active()) {
            d->state = pause ? RunState::paused : RunState::running;
            d->reason = pause ? Reason::user : Reason::unpaused;
            emit(*d, pause ? Lifecycle::suspended : Lifecycle::resumed);
        }
        done(std::move(r));
    });
}

}  // namespace fleet::router
