// fleet-router — fleet's runs (the `runs` group of wire/procedures.def,
// docs/fleet-protocol.md): FLEET_DOMAIN_RUN starts a pipeline's stages as
// transient domains at once, each stage's stdout joined to the next one's
// stdin by a pipe the router makes (no byte passes through the router);
// FLEET_DOMAIN_OPEN_STDIO streams the pipeline's ends to and from the
// client; FLEET_DOMAIN_EVENT_EXITED tells the client each stage's status.
//
// A run belongs to its connection: when the client goes, whatever of it
// still runs is destroyed.
#include "dispatch.hpp"

#include <fleet/router/libvirt.hpp>
#include <fleet/router/server.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace fleet::router::libvirt {

using namespace fleet::wire;

namespace {

// A pipe between two stages holds this much: a producer runs ahead of its
// consumer by at most this, and no further (back-pressure is the kernel's).
constexpr int joint_pipe_size = 1 << 20;

struct Pipe {
    Fd read, write;
};

Result<Pipe> make_pipe(bool big)
{
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return fail("cannot create a pipe", errno);
    if (big) (void)::fcntl(fds[1], F_SETPIPE_SZ, joint_pipe_size);  // past /proc/sys/fs/pipe-max-size: the default
    return Pipe{Fd(fds[0]), Fd(fds[1])};
}

Result<Fd> dup_fd(const Fd& fd)
{
    int copy = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, 3);
    if (copy < 0) return fail("cannot duplicate a pipe", errno);
    return Fd(copy);
}

using RunPtr = std::shared_ptr<Session::Run>;

void send_exited(Connection& c, const Session::Run& run, std::size_t i)
{
    c.send(encode_event(RemoteProc::fleet_domain_event_exited, FleetDomainEventExitedMsg{run.refs[i], *run.status[i]}));
}

// The stage of a run with this domain name, if one.
std::optional<std::size_t> stage_of(const Session::Run& run, const std::string& name)
{
    for (std::size_t i = 0; i < run.refs.size(); ++i)
        if (!run.refs[i].name.empty() && run.refs[i].name == name) return i;
    return std::nullopt;
}

// Every stage ended and every end taken: the run is over.
void forget_if_done(Session& s, const RunPtr& run)
{
    for (const auto& st : run->status)
        if (!st) return;
    for (const auto& fd : run->stdio)
        if (fd) return;
    std::erase(s.runs, run);
}

// The starts of one run, until each stage is ready or has failed.
struct Starting {
    Call call;
    RunPtr run;
    std::vector<DomainPtr> started;  // by stage; null for one that failed
    std::size_t waiting = 0;
    std::optional<std::pair<std::size_t, DomainError>> first_error;
};

void all_started(const std::shared_ptr<Starting>& st)
{
    const Call& call = st->call;
    if (st->first_error) {
        // One stage could not start: the run does not happen. The others go.
        for (const auto& d : st->started)
            if (d && d->active()) call.registry().destroy(d, [](DomainResult<>) {});
        auto [stage, e] = *st->first_error;
        e.message = "stage " + std::to_string(stage + 1) + " of the run: " + e.message;
        if (auto conn = call.live()) std::erase(conn->session().runs, st->run);
        return call.fail(e);
    }
    auto conn = call.live();
    if (!conn) {  // the client has gone: nobody reads this run
        for (const auto& d : st->started)
            if (d->active()) call.registry().destroy(d, [](DomainResult<>) {});
        return;
    }
    FleetDomainRunRet ret{{st->run->refs.begin(), st->run->refs.end()}};
    call.reply(ret);
    Session::Run& run = *st->run;
    run.replied = true;
    std::string line;
    for (const auto& dom : run.refs) line += (line.empty() ? "" : " | ") + dom.name;
    conn->log().debug("run for " + call.caller().describe() + ": " + line);
    for (std::size_t i = 0; i < run.refs.size(); ++i)
        if (run.status[i] && !run.reported[i]) {
            run.reported[i] = true;
            send_exited(*conn, run, i);
        }
    forget_if_done(conn->session(), st->run);
}

}  // namespace

void fleet_domain_run(const Call& call, const FleetDomainRunArgs& a)
{
    auto refuse = [&](const std::string& why) { call.fail(LibvirtError{err::invalid_arg, why}); };
    if (a.flags != 0) return refuse("unsupported flags 0x" + std::to_string(a.flags) + " for a run");
    if (a.xml.empty()) return refuse("a run needs at least one stage");
    Session& s = call.session();
    if (s.runs.size() >= Session::max_runs)
        return call.fail(LibvirtError{
            err::operation_failed,
            "operation failed: this connection has " + std::to_string(s.runs.size()) + " runs, the most allowed",
            errdom::remote});
    const std::size_t n = a.xml.size();
    auto run = std::make_shared<Session::Run>();
    run->refs.assign(n, NonnullDomain{});
    run->status.assign(n, std::nullopt);
    run->reported.assign(n, false);

    // The pipes: the run's stdin, stdout and stderr (the router keeps one
    // end of each for the client's streams) and one between each two stages.
    auto in = make_pipe(false), out = make_pipe(false), err = make_pipe(false);
    std::vector<Pipe> joints;
    for (std::size_t i = 0; i + 1 < n && in && out && err; ++i) {
        auto j = make_pipe(true);
        if (!j) return call.fail(LibvirtError{err::operation_failed, j.error().what()});
        joints.push_back(std::move(*j));
    }
    for (auto* p : {&in, &out, &err})
        if (!*p) return call.fail(LibvirtError{err::operation_failed, p->error().what()});
    std::vector<std::shared_ptr<RunStdio>> stdio(n);
    for (std::size_t i = 0; i < n; ++i) {
        auto e = dup_fd(err->write);
        if (!e) return call.fail(LibvirtError{err::operation_failed, e.error().what()});
        stdio[i] = std::make_shared<RunStdio>();
        stdio[i]->in = i == 0 ? std::move(in->read) : std::move(joints[i - 1].read);
        stdio[i]->out = i + 1 == n ? std::move(out->write) : std::move(joints[i].write);
        stdio[i]->err = std::move(*e);
    }
    run->stdio[0] = std::move(in->write);
    run->stdio[1] = std::move(out->read);
    run->stdio[2] = std::move(err->read);
    s.runs.push_back(run);

    auto st = std::make_shared<Starting>(Starting{call, run, std::vector<DomainPtr>(n), n, std::nullopt});
    for (std::size_t i = 0; i < n; ++i) {
        call.registry().create(
            a.xml[i], false,
            [st, i](DomainResult<DomainPtr> r) {
                if (r) {
                    st->started[i] = *r;
                    st->run->refs[i] = ref(**r);
                } else if (!st->first_error || i < st->first_error->first) {
                    st->first_error = std::pair{i, r.error()};
                }
                if (--st->waiting == 0) all_started(st);
            },
            call.caller(), std::move(stdio[i]));
    }
}

void fleet_domain_open_stdio(const Call& call, const FleetDomainOpenStdioArgs& a)
{
    if (a.flags != 0) return call.fail(LibvirtError{err::invalid_arg, "unsupported flags for a run's stdio"});
    if (a.fd < 0 || a.fd > 2)
        return call.fail(LibvirtError{err::invalid_arg, "a run's stdio is fd 0, 1 or 2, not " + std::to_string(a.fd)});
    Session& s = call.session();
    RunPtr run;
    for (const auto& r : s.runs)
        if (r->replied && stage_of(*r, a.dom.name)) run = r;
    if (!run)
        return call.fail(LibvirtError{
            err::no_domain, "domain '" + a.dom.name + "' is not a stage of a run of this connection", errdom::remote});
    Fd& end = run->stdio[a.fd];
    if (!end)
        return call.fail(LibvirtError{err::operation_invalid,
                                      "fd " + std::to_string(a.fd) + " of this run is open already", errdom::remote});
    if (auto refusal = stream_refusal(call)) return call.fail(*refusal);
    call.reply(Void{});
    Connection& conn = call.connection();
    conn.open_stdio(call.header(), std::move(end), a.fd == 0);
    forget_if_done(s, run);
}

// The client's terminal has a new size: a stage of its own run that has a
// terminal gets it. Only the run's connection may: the terminal is its.
void fleet_domain_resize_terminal(const Call& call, const FleetDomainResizeTerminalArgs& a)
{
    if (a.flags != 0) return call.fail(LibvirtError{err::invalid_arg, "unsupported flags for a terminal's size"});
    constexpr std::uint32_t max = DomainTerminal::max_size;
    if (a.rows < 1 || a.cols < 1 || a.rows > max || a.cols > max)
        return call.fail(LibvirtError{err::invalid_arg, "a terminal is 1 to " + std::to_string(max) +
                                                            " rows and columns, not " + std::to_string(a.rows) + "x" +
                                                            std::to_string(a.cols)});
    Session& s = call.session();
    bool ours = std::any_of(s.runs.begin(), s.runs.end(),
                            [&](const RunPtr& r) { return r->replied && stage_of(*r, a.dom.name); });
    if (!ours)
        return call.fail(LibvirtError{
            err::no_domain, "domain '" + a.dom.name + "' is not a stage of a run of this connection", errdom::remote});
    auto d = call.registry().by_name(a.dom.name);
    if (!d) return call.fail(d.error());
    call.answer(
        call.registry().resize_terminal(*d, static_cast<std::uint16_t>(a.rows), static_cast<std::uint16_t>(a.cols)));
}

// A stage ended: its run's client hears its status (after the RUN reply).
void run_ended(Connection& c, const Domain& d)
{
    Session& s = c.session();
    for (const auto& run : s.runs) {
        auto found = stage_of(*run, d.def.name);
        if (!found || run->status[*found]) continue;
        std::size_t i = *found;
        run->status[i] = d.exit_status;
        if (run->replied && !c.closed()) {
            run->reported[i] = true;
            send_exited(c, *run, i);
        }
        return forget_if_done(s, run);
    }
}

void end_runs(Connection& c, DomainRegistry& registry)
{
    auto runs = std::exchange(c.session().runs, {});
    for (const auto& run : runs)
        for (std::size_t i = 0; i < run->refs.size(); ++i) {
            if (run->status[i] || run->refs[i].name.empty()) continue;
            auto d = registry.by_name(run->refs[i].name);
            if (d && (*d)->active()) registry.destroy(*d, [](DomainResult<>) {});
        }
}

FLEET_SERVE_GROUP(runs)

}  // namespace fleet::router::libvirt

namespace fleet::router {

void LibvirtService::closed(Connection& conn)
{
    libvirt::end_runs(conn, services_->registry);
}

}  // namespace fleet::router
