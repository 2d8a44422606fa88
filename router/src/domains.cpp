// fleet-router — the domain registry: definitions, launching through the
// launcher's supervisor, watching each VM's end, adoption after a restart,
// and the boot manifest.
#include "router.hpp"

#include <fleet/vmm/accel.hpp>
#include <fleet/base/file.hpp>
#include <fleet/base/process.hpp>
#include <fleet/vmm/qmp.hpp>
#include <fleet/base/socket.hpp>
#include <fleet/vmm/supervisor.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>

namespace fleet::router {

using namespace fleet::wire;

namespace {

RpcError no_domain(const std::string& what)
{
    return RpcError{err::no_domain, "Domain not found: " + what};
}

std::string read_text(const std::string& path)
{
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace

wire::NonnullDomain Domain::ref() const
{
    return wire::NonnullDomain{def.name, def.uuid, id};
}

// ---- Lookups -----------------------------------------------------------------

RpcResult<std::shared_ptr<Domain>> Router::by_name(const std::string& name) const
{
    auto it = domains_.find(name);
    if (it == domains_.end()) return std::unexpected(no_domain("no domain with matching name '" + name + "'"));
    return it->second;
}

RpcResult<std::shared_ptr<Domain>> Router::by_uuid(const Uuid& uuid) const
{
    for (const auto& [name, d] : domains_)
        if (d->def.uuid == uuid) return d;
    return std::unexpected(no_domain("no domain with matching uuid '" + format_uuid(uuid) + "'"));
}

RpcResult<std::shared_ptr<Domain>> Router::by_id(int id) const
{
    for (const auto& [name, d] : domains_)
        if (d->active() && d->id == id) return d;
    return std::unexpected(no_domain("no domain with matching id " + std::to_string(id)));
}

// What a client holds (name, uuid, id) back to the domain: by uuid, as
// libvirtd does, so a domain redefined under the same name is the same one.
RpcResult<std::shared_ptr<Domain>> Router::lookup(const wire::NonnullDomain& ref) const
{
    auto d = by_uuid(ref.uuid);
    if (!d) return std::unexpected(no_domain("no domain with matching uuid '" + format_uuid(ref.uuid) + "' (" +
                                             ref.name + ")"));
    return d;
}

std::vector<std::shared_ptr<Domain>> Router::all() const
{
    std::vector<std::shared_ptr<Domain>> v;
    for (const auto& [name, d] : domains_) v.push_back(d);
    return v;
}

// ---- Define / undefine -----------------------------------------------------------

RpcResult<std::shared_ptr<Domain>> Router::define(const std::string& xml)
{
    auto def = parse_domain_xml(xml);
    if (!def) return rpc_fail(err::xml_error, def.error().what());
    for (const auto& [name, other] : domains_) {
        if (other->def.uuid == def->uuid && name != def->name)
            return rpc_fail(err::dom_exist, "domain '" + name + "' already exists with uuid " + format_uuid(def->uuid));
    }
    auto it = domains_.find(def->name);
    if (it != domains_.end() && it->second->def.uuid != def->uuid)
        return rpc_fail(err::dom_exist, "domain '" + def->name + "' already exists with uuid " +
                                            format_uuid(it->second->def.uuid));
    if (auto s = defs_.save(*def); !s) return rpc_fail(err::operation_failed, s.error().what());
    bool added = it == domains_.end() || !it->second->persistent;
    std::shared_ptr<Domain> d;
    if (it == domains_.end()) {
        d = std::make_shared<Domain>();
        d->def = *def;
        domains_[def->name] = d;
    } else {
        d = it->second;
        if (d->active()) d->next_def = *def;  // the running VM keeps its configuration
        else d->def = *def;
    }
    d->persistent = true;
    if (d->active()) save_live(*d);
    emit(*d, event::defined, added ? detail::defined_added : detail::defined_updated);
    return d;
}

RpcResult<> Router::undefine(const std::shared_ptr<Domain>& d)
{
    if (!d->persistent) return rpc_fail(err::operation_invalid, "Requested operation is not valid: cannot undefine transient domain");
    if (auto r = defs_.remove(d->def.name); !r) return rpc_fail(err::operation_failed, r.error().what());
    auto names = read_manifest();
    if (std::erase(names, d->def.name) > 0) (void)write_manifest(names);
    d->persistent = false;
    d->next_def.reset();
    emit(*d, event::undefined, detail::undefined_removed);
    if (d->active()) save_live(*d);
    else domains_.erase(d->def.name);
    return {};
}

// ---- Start -----------------------------------------------------------------------------

void Router::create(const std::string& xml, bool paused, std::function<void(RpcResult<std::shared_ptr<Domain>>)> done)
{
    auto def = parse_domain_xml(xml);
    if (!def) return done(rpc_fail(err::xml_error, def.error().what()));
    // A name or uuid in use (running, or defined) is refused: a transient
    // domain never takes over a definition.
    if (auto it = domains_.find(def->name); it != domains_.end())
        return done(rpc_fail(err::dom_exist, "domain '" + def->name + "' already exists with uuid " +
                                                format_uuid(it->second->def.uuid)));
    for (const auto& [name, other] : domains_)
        if (other->def.uuid == def->uuid)
            return done(rpc_fail(err::dom_exist, "domain '" + name + "' already exists with uuid " +
                                                    format_uuid(def->uuid)));
    auto d = std::make_shared<Domain>();
    d->def = std::move(*def);
    domains_[d->def.name] = d;
    start_domain(d, paused, [d, done = std::move(done)](RpcResult<> r) {
        if (!r) return done(std::unexpected(r.error()));
        done(d);
    });
}

void Router::start_domain(const std::shared_ptr<Domain>& d, bool paused, std::function<void(RpcResult<>)> done)
{
    if (d->active()) return done(rpc_fail(err::operation_invalid, "Requested operation is not valid: domain is already running"));
    if (d->next_def) d->def = *std::exchange(d->next_def, std::nullopt);
    if (auto r = launch(d, paused); !r) {
        if (!d->persistent) domains_.erase(d->def.name);
        return done(std::unexpected(r.error()));
    }
    d->started.push_back(std::move(done));
}

// DomainDef -> what the launcher's supervisor needs.
static RpcResult<vmm::SupervisorOptions> supervisor_options(const DomainDef& def, const std::vector<std::string>& catalog,
                                                           const Options& o)
{
    vmm::VmSpec spec;
    spec.name = def.name;
    std::string image_name;
    if (!def.image.empty()) {
        auto image = vmm::resolve_image(def.image, catalog);
        if (!image) return rpc_fail(err::invalid_arg, "fleet:image: " + image.error().what());
        spec.kernel = image->kernel;
        spec.initrd = image->initrd;
        spec.extra_cmdline = image->cmdline;
        spec.memory_mib = image->memory_mib;
        spec.stdio = image->stdio;
        if (image->boot_timeout) spec.boot_timeout = *image->boot_timeout;
        if (image->max_args && def.args.size() > *image->max_args)
            return rpc_fail(err::invalid_arg, "image '" + image->name + "' takes at most " +
                                                  std::to_string(*image->max_args) + " arguments");
        image_name = image->name;
    }
    if (!def.kernel.empty()) {
        spec.kernel = def.kernel;
        if (image_name.empty()) image_name = def.kernel;
    }
    if (!def.initrd.empty()) spec.initrd = def.initrd;
    if (!def.cmdline.empty()) spec.extra_cmdline = def.cmdline;
    spec.args = def.args;
    if (def.memory_kib > 0) spec.memory_mib = (def.memory_kib + 1023) / 1024;
    spec.vcpus = def.vcpus;
    spec.accel = def.type == "kvm" ? vmm::Accel::kvm : vmm::Accel::tcg;
    if (def.type == "kvm") {
        if (auto k = vmm::probe_kvm(); !k)
            return rpc_fail(err::operation_unsupported, "domain type 'kvm' needs KVM: " + k.error().what() +
                                                            " (type='qemu' runs under TCG)");
    }
    if (!def.interfaces.empty())
        return rpc_fail(err::operation_unsupported,
                        "<interface>: fleet cannot attach network interfaces to a VM yet (the fleet bridge is not built)");
    for (const auto& fs : def.filesystems) {
        if (spec.stdio != vmm::StdioKind::virtio)
            return rpc_fail(err::operation_unsupported, "<filesystem>: only Linux images (virtio guests) can mount shares");
        spec.shares.push_back(vmm::SharedFolder{fs.source_dir, fs.target_dir, fs.read_only});
    }
    if (auto v = vmm::validate(spec); !v) return rpc_fail(err::invalid_arg, v.error().what());

    vmm::SupervisorOptions so;
    so.spec = std::move(spec);
    so.launch.qemu = o.qemu;
    so.image = image_name;
    so.detached = true;
    so.forward_stdin = true;  // the console's input reaches the guest
    so.stop_deadline = o.stop_deadline;
    return so;
}

RpcResult<> Router::launch(const std::shared_ptr<Domain>& d, bool paused)
{
    auto so = supervisor_options(d->def, catalog_, o_);
    if (!so) return std::unexpected(so.error());
    so->spec.start_paused = paused;
    const std::string& name = d->def.name;
    // A folder left by an earlier run of this name is the router's to clear.
    if (auto old = store_.inspect(name); old && old->ended()) (void)store_.remove(name);
    if (auto c = store_.create(name); !c)
        return rpc_fail(err::operation_failed, "cannot start domain '" + name + "': " + c.error().what());

    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) != 0) {
        (void)store_.remove(name);
        return rpc_fail(err::operation_failed, std::string("cannot create a pipe: ") + std::strerror(errno));
    }
    pid_t pid = ::fork();
    if (pid < 0) {
        int e = errno;
        ::close(pipefd[0]);
        ::close(pipefd[1]);
        (void)store_.remove(name);
        return rpc_fail(err::operation_failed, std::string("cannot fork: ") + std::strerror(e));
    }
    if (pid == 0) {
        // The supervisor: its own session, none of the router's fds (a
        // listening socket held here would outlive a router restart).
        ::setsid();
        set_process_title("fleet-router: supervisor " + name);
        int devnull = ::open("/dev/null", O_RDWR);
        for (int fd = 0; fd < 3; ++fd) ::dup2(devnull, fd);
        int ready = 3;  // close-on-exec: QEMU must not hold it
        if (pipefd[1] != ready) ::dup3(pipefd[1], ready, O_CLOEXEC);
        ::syscall(SYS_close_range, 4, ~0u, 0);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::signal(SIGPIPE, SIG_DFL);
        so->ready_fd = ready;
        ::_exit(vmm::supervise(store_, std::move(*so)));
    }
    ::close(pipefd[1]);
    d->ready = Fd(pipefd[0]);
    d->ready_line.clear();
    d->supervisor = pid;
    d->supervisor_start = proc_info(pid).value_or(ProcInfo{}).start_time;
    d->own_child = true;
    auto pidfd = open_pidfd(pid);
    if (pidfd) d->pidfd = std::move(*pidfd);
    d->id = next_id_++;
    d->starting = true;
    d->stop = Domain::Stop::none;
    d->state = paused ? state::paused : state::running;
    d->reason = paused ? reason::paused_user : reason::running_booted;
    save_live(*d);
    watch_ready(d);
    watch_end(d);
    debug("domain '" + name + "': supervisor " + std::to_string(pid) + " started");
    return {};
}

void Router::watch_ready(const std::shared_ptr<Domain>& d)
{
    std::weak_ptr<Domain> weak = d;
    d->ready_op = loop_.read(d->ready.get(), 512, [this, weak](int res, std::span<const char> data) {
        auto d = weak.lock();
        if (!d) return;
        d->ready_op = 0;
        if (res > 0) {
            d->ready_line.append(data.data(), data.size());
            if (d->ready_line.find('\n') == std::string::npos && d->ready_line.size() < 4096) return watch_ready(d);
        }
        on_ready_line(d);
    });
}

void Router::on_ready_line(const std::shared_ptr<Domain>& d)
{
    d->ready.reset();
    std::string line = d->ready_line.substr(0, d->ready_line.find('\n'));
    if (!d->starting) return;
    d->starting = false;
    auto waiters = std::exchange(d->started, {});
    if (line == "ready") {
        if (auto r = store_.read(d->def.name)) d->qemu = r->pid;
        emit(*d, event::started, detail::started_booted);
        if (d->state == state::paused) emit(*d, event::suspended, detail::suspended_paused);
        for (auto& w : waiters) w({});
        return;
    }
    std::string why = line.starts_with("error ") ? line.substr(6) : "the supervisor ended before the guest was ready";
    log("domain '" + d->def.name + "' failed to start: " + why);
    // The end watcher settles the state; the callers hear why now.
    d->stop = Domain::Stop::none;
    for (auto& w : waiters) w(rpc_fail(err::operation_failed, "domain '" + d->def.name + "' failed to start: " + why));
}

// ---- The end of a VM -------------------------------------------------------------

void Router::watch_end(const std::shared_ptr<Domain>& d)
{
    if (!d->pidfd) {  // no pidfd (an old kernel): nothing to wait on but the ready pipe
        log("domain '" + d->def.name + "': cannot watch its supervisor (no pidfd)");
        return;
    }
    std::weak_ptr<Domain> weak = d;
    d->pidfd_op = loop_.poll(d->pidfd.get(), POLLIN, [this, weak](int) {
        auto d = weak.lock();
        if (!d) return;
        d->pidfd_op = 0;
        on_end(d);
    });
}

void Router::on_end(const std::shared_ptr<Domain>& d)
{
    if (d->own_child) ::waitpid(d->supervisor, nullptr, WNOHANG);
    if (d->ready_op) loop_.cancel(std::exchange(d->ready_op, 0));
    if (d->starting) {  // died before a ready line: tell the waiters
        d->ready_line = "error the supervisor ended before the guest was ready";
        auto rec = store_.inspect(d->def.name);
        if (rec && !rec->exit_message.empty()) d->ready_line = "error " + rec->exit_message;
        on_ready_line(d);
    }
    auto rec = store_.inspect(d->def.name);
    // No ending in the record: the supervisor died without writing one
    // (killed behind our back). Its QEMU gets SIGKILL with it; make sure.
    if (rec && !rec->ended() && rec->pid > 0 && process_alive(rec->pid, rec->pid_start)) ::kill(rec->pid, SIGKILL);
    std::string why = rec && rec->ended() ? rec->exit_reason : std::string("crashed");
    std::int32_t r = reason::shutoff_shutdown, detail_ = detail::stopped_shutdown;
    if (why == "launch-failed" || why == "launch_failed") {
        r = reason::shutoff_failed;
        detail_ = detail::stopped_failed;
    } else if (d->stop != Domain::Stop::none && why != "crashed") {
        // Asked for: a destroy, or a shutdown (one that had to kill at the
        // deadline is a destroy, not a crash).
        bool killed = d->stop == Domain::Stop::destroy || why == "killed";
        r = killed ? reason::shutoff_destroyed : reason::shutoff_shutdown;
        detail_ = killed ? detail::stopped_destroyed : detail::stopped_shutdown;
    } else if (why == "killed" || why == "crashed" || why == "boot-timeout" || why == "boot_timeout") {
        r = reason::shutoff_crashed;  // killed by someone else, or died: not a clean end
        detail_ = detail::stopped_crashed;
    }
    std::string status = rec ? " (" + rec->exit_reason + ", status " + std::to_string(rec->exit_status) + ")" : "";
    debug("domain '" + d->def.name + "' stopped" + status);
    (void)store_.remove(d->def.name);
    ::unlink(live_path(d->def.name).c_str());
    d->pidfd.reset();
    d->supervisor = 0;
    d->qemu = 0;
    emit(*d, event::stopped, detail_);  // the event names the id it ran under
    d->id = -1;
    d->state = state::shutoff;
    d->reason = r;
    d->stop = Domain::Stop::none;
    for (auto& c : connections_) c->domain_ended(d->def.name);
    auto waiters = std::exchange(d->stopped, {});
    if (!d->persistent) domains_.erase(d->def.name);
    else if (d->next_def) d->def = *std::exchange(d->next_def, std::nullopt);
    for (auto& w : waiters) w();
}

// ---- Stop, destroy, pause ---------------------------------------------------------

RpcResult<> Router::shutdown_domain(const std::shared_ptr<Domain>& d)
{
    if (!d->active()) return rpc_fail(err::operation_invalid, "Requested operation is not valid: domain is not running");
    if (d->stop == Domain::Stop::none) d->stop = Domain::Stop::shutdown;
    sigval v{};
    v.sival_int = static_cast<int>(o_.stop_deadline.count());
    if (::sigqueue(d->supervisor, SIGTERM, v) != 0 && errno != ESRCH)
        return rpc_fail(err::operation_failed, std::string("cannot signal the supervisor: ") + std::strerror(errno));
    return {};
}

void Router::destroy(const std::shared_ptr<Domain>& d, std::function<void(RpcResult<>)> done)
{
    if (!d->active()) return done(rpc_fail(err::operation_invalid, "Requested operation is not valid: domain is not running"));
    d->stop = Domain::Stop::destroy;
    if (::kill(d->supervisor, SIGUSR1) != 0 && errno != ESRCH)
        return done(rpc_fail(err::operation_failed, std::string("cannot signal the supervisor: ") + std::strerror(errno)));
    d->stopped.push_back([done = std::move(done)] { done({}); });
}

void Router::suspend(const std::shared_ptr<Domain>& d, bool pause, std::function<void(RpcResult<>)> done)
{
    if (!d->active() || d->starting)
        return done(rpc_fail(err::operation_invalid, "Requested operation is not valid: domain is not running"));
    if (pause && d->state == state::paused) return done({});
    if (!pause && d->state != state::paused)
        return done(rpc_fail(err::operation_invalid, "Requested operation is not valid: domain is not paused"));
    // On the loop, with a deadline: a QEMU that does not answer its monitor
    // costs this caller, never the router's other clients.
    auto fd = connect_unix(store_.path(d->def.name, "qmp.sock"), "the monitor of domain '" + d->def.name + "'");
    if (!fd) return done(rpc_fail(err::operation_failed, fd.error().what()));
    struct Op {
        std::unique_ptr<vmm::QmpClient> client;
        OpId timer = 0;
        bool finished = false;
    };
    auto op = std::make_shared<Op>();
    std::weak_ptr<Domain> weak = d;
    auto finish = [this, op, weak, pause, done = std::move(done)](RpcResult<> r) {
        if (op->finished) return;
        op->finished = true;
        if (op->timer) loop_.cancel(op->timer);
        loop_.defer([op] { op->client.reset(); });  // not from inside its own callback
        auto d = weak.lock();
        if (r && d && d->active()) {
            d->state = pause ? state::paused : state::running;
            d->reason = pause ? reason::paused_user : reason::running_unpaused;
            emit(*d, pause ? event::suspended : event::resumed,
                 pause ? detail::suspended_paused : detail::resumed_unpaused);
        }
        done(std::move(r));
    };
    auto shared_finish = std::make_shared<decltype(finish)>(std::move(finish));
    op->client = std::make_unique<vmm::QmpClient>(
        loop_, std::move(*fd), [](const vmm::QmpMessage&) {},
        [shared_finish](const Error& e) { (*shared_finish)(rpc_fail(err::operation_failed, "monitor: " + e.what())); });
    op->timer = loop_.timer(std::chrono::seconds(5), [op, shared_finish](int) {
        op->timer = 0;
        (*shared_finish)(rpc_fail(err::operation_failed, "the domain's monitor did not answer within 5 s"));
    });
    op->client->execute(pause ? "stop" : "cont", vmm::json::object(), [shared_finish](Result<vmm::json> r) {
        if (!r) return (*shared_finish)(rpc_fail(err::operation_failed, r.error().what()));
        (*shared_finish)({});
    });
}

// ---- Facts -------------------------------------------------------------------------

std::string Router::console_socket(const Domain& d) const { return store_.path(d.def.name, "console.sock"); }

std::uint64_t Router::cpu_time_ns(const Domain& d) const
{
    if (d.qemu <= 0) return 0;
    std::string stat = read_text("/proc/" + std::to_string(d.qemu) + "/stat");
    auto close = stat.rfind(')');
    if (close == std::string::npos) return 0;
    std::istringstream in(stat.substr(close + 2));
    std::string field;
    std::uint64_t utime = 0, stime = 0;
    for (int i = 3; i <= 15 && in >> field; ++i) {
        if (i == 14) utime = std::strtoull(field.c_str(), nullptr, 10);
        if (i == 15) stime = std::strtoull(field.c_str(), nullptr, 10);
    }
    long hz = ::sysconf(_SC_CLK_TCK);
    return (utime + stime) * (1000000000ull / static_cast<std::uint64_t>(hz > 0 ? hz : 100));
}

std::uint64_t Router::memory_kib(const Domain& d) const
{
    if (d.def.memory_kib > 0) return d.def.memory_kib;
    // The image's default: looked up once per image name, not on every call.
    if (d.image_memory_for != d.def.image) {
        d.image_memory_kib = 64 * 1024;
        if (!d.def.image.empty())
            if (auto image = vmm::resolve_image(d.def.image, catalog_)) d.image_memory_kib = image->memory_mib * 1024;
        d.image_memory_for = d.def.image;
    }
    return d.image_memory_kib;
}

// ---- Persistence ------------------------------------------------------------------------

std::string Router::live_dir() const { return o_.runtime_dir + "/router/live"; }

std::string Router::live_path(const std::string& name) const { return live_dir() + "/" + name + ".xml"; }

// The live record of a running domain: its XML with the id, and whether it
// is persistent; what the next router adopts.
void Router::save_live(const Domain& d) const
{
    auto w = replace_file(live_dir(), d.def.name + ".xml", format_domain_xml(d.def, d.id),
                               Sync::no);
    if (!w) log("cannot save live state: " + w.error().what());
}

void Router::load_definitions()
{
    auto loaded = defs_.load_all();
    if (!loaded) {
        log("cannot read definitions: " + loaded.error().what());
        return;
    }
    for (const auto& bad : loaded->bad) log("skipping a definition that does not parse: " + bad);
    for (auto& def : loaded->defs) {
        auto d = std::make_shared<Domain>();
        d->def = std::move(def);
        d->persistent = true;
        domains_[d->def.name] = d;
    }
}

// Running VMs of an earlier router: their live records, checked against the
// launcher's folders. Live ones are adopted; ended ones cleared.
void Router::adopt()
{
    DIR* dp = ::opendir(live_dir().c_str());
    if (!dp) return;
    std::vector<std::string> names;
    while (dirent* e = ::readdir(dp)) {
        std::string f = e->d_name;
        if (f.size() > 4 && f.ends_with(".xml")) names.push_back(f.substr(0, f.size() - 4));
    }
    ::closedir(dp);
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
        std::string text = read_text(live_path(name));
        auto def = parse_domain_xml(text);
        auto rec = store_.inspect(name);
        bool alive = def && rec && !rec->ended() && process_alive(rec->supervisor_pid, rec->supervisor_start);
        if (!alive) {
            if (rec) (void)store_.remove(name);
            ::unlink(live_path(name).c_str());
            if (def) log("domain '" + name + "' ended while no router was running");
            continue;
        }
        // The id is in the live XML's root element.
        int id = -1;
        if (auto p = text.find(" id='"); p != std::string::npos && p < text.find('>')) id = std::atoi(text.c_str() + p + 5);
        if (id <= 0) id = next_id_;
        next_id_ = std::max(next_id_, id + 1);
        std::shared_ptr<Domain> d;
        auto it = domains_.find(name);
        if (it != domains_.end() && it->second->def.uuid == def->uuid) {
            d = it->second;
            if (d->def != *def) d->next_def = d->def;  // the definition changed meanwhile
        } else {
            d = std::make_shared<Domain>();
            domains_[name] = d;
        }
        d->def = *def;
        d->id = id;
        d->supervisor = rec->supervisor_pid;
        d->supervisor_start = rec->supervisor_start;
        d->own_child = false;
        d->qemu = rec->pid;
        d->state = rec->state == "paused" ? state::paused : state::running;
        d->reason = rec->state == "paused" ? reason::paused_user : reason::running_booted;
        if (auto fd = open_pidfd(rec->supervisor_pid)) d->pidfd = std::move(*fd);
        watch_end(d);
        log("adopted running domain '" + name + "' (id " + std::to_string(id) + ")");
    }
}

// ---- The boot manifest --------------------------------------------------------------------
//
// <state>/boot: one domain name per line, in boot order; '#' starts a
// comment. `virsh autostart NAME` appends, `--disable` removes.

std::vector<std::string> Router::read_manifest() const
{
    std::vector<std::string> names;
    std::ifstream in(o_.state_dir + "/boot");
    std::string line;
    while (std::getline(in, line)) {
        if (auto h = line.find('#'); h != std::string::npos) line.erase(h);
        auto b = line.find_first_not_of(" \t\r");
        auto e = line.find_last_not_of(" \t\r");
        if (b == std::string::npos) continue;
        line = line.substr(b, e - b + 1);
        if (std::find(names.begin(), names.end(), line) == names.end()) names.push_back(line);
    }
    return names;
}

Result<> Router::write_manifest(const std::vector<std::string>& names) const
{
    std::string text = "# fleet-router boot manifest: domains started when the router starts, in order.\n";
    for (const auto& n : names) text += n + "\n";
    return replace_file(o_.state_dir, "boot", text, Sync::yes);
}

bool Router::autostart(const Domain& d) const
{
    auto names = read_manifest();
    return std::find(names.begin(), names.end(), d.def.name) != names.end();
}

RpcResult<> Router::set_autostart(const std::shared_ptr<Domain>& d, bool on)
{
    if (!d->persistent) return rpc_fail(err::operation_invalid, "Requested operation is not valid: cannot set autostart for transient domain");
    auto names = read_manifest();
    bool has = std::find(names.begin(), names.end(), d->def.name) != names.end();
    if (on == has) return {};
    if (on) names.push_back(d->def.name);
    else std::erase(names, d->def.name);
    if (auto w = write_manifest(names); !w) return rpc_fail(err::operation_failed, w.error().what());
    return {};
}

void Router::boot_manifest()
{
    auto names = std::make_shared<std::vector<std::string>>(read_manifest());
    if (names->empty()) return;
    log("boot: " + std::to_string(names->size()) + " domain(s) in " + o_.state_dir + "/boot");
    boot_next(names, 0);
}

// One at a time, each after the previous is ready (or has failed).
void Router::boot_next(std::shared_ptr<std::vector<std::string>> names, std::size_t i)
{
    if (done_ || i >= names->size()) return;
    const std::string& name = (*names)[i];
    auto d = by_name(name);
    if (!d || !(*d)->persistent) {
        log("boot: '" + name + "' is not a defined domain; skipped");
        return boot_next(names, i + 1);
    }
    if ((*d)->active()) return boot_next(names, i + 1);
    auto t0 = std::chrono::steady_clock::now();
    start_domain(*d, false, [this, names, i, t0, name](RpcResult<> r) {
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
        if (r) log("boot: '" + name + "' ready in " + std::to_string(ms) + " ms" + (i == 0 ? " (the first VM)" : ""));
        else log("boot: " + r.error().message + "; going on");
        loop_.defer([this, names, i] { boot_next(names, i + 1); });
    });
}

}  // namespace fleet::router
