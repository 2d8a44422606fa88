// fleet-router — the real Launcher (supervisor_launcher.hpp): fork the
// launcher's supervisor, read its ready line, watch its end through a pidfd,
// adopt what an earlier router left, signal stop and kill.
#include "vm_options.hpp"

#include <fleet/base/process.hpp>
#include <fleet/router/pools.hpp>
#include <fleet/router/process_title.hpp>
#include <fleet/router/supervisor_launcher.hpp>
#include <fleet/vmm/catalog.hpp>
#include <fleet/vmm/detached.hpp>
#include <fleet/vmm/supervisor.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

namespace fleet::router {

struct SupervisorLauncher::Vm {
    std::string name;
    Watch watch;
    bool starting = false;  // no ready line yet
    pid_t supervisor = 0;
    std::uint64_t supervisor_start = 0;
    bool own_child = false;
    pid_t qemu = 0;
    Fd pidfd;
    OpId pidfd_op = 0;
    Fd ready;
    OpId ready_op = 0;
    std::string ready_line;
    // The terminal's size, told at most once per resize_spacing: a client
    // sending sizes faster cannot fill the signal queue; the last one
    // waits on resize_timer and is sent then.
    std::chrono::steady_clock::time_point resized_at{};
    std::optional<std::pair<std::uint16_t, std::uint16_t>> resize_pending;
    OpId resize_timer = 0;
};

namespace {

// The launcher's record of how the VM ended -> what the registry needs.
EndKind end_kind(vmm::ExitReason why)
{
    switch (why) {
        case vmm::ExitReason::launch_failed:
            return EndKind::launch_failed;
        case vmm::ExitReason::killed:
            return EndKind::killed;
        case vmm::ExitReason::crashed:
            return EndKind::crashed;
        case vmm::ExitReason::boot_timeout:
            return EndKind::boot_timeout;
        default:
            return EndKind::exited;
    }
}

std::unexpected<DomainError> cannot_signal()
{
    return domain_fail(Errc::failed, std::string("cannot signal the supervisor: ") + std::strerror(errno));
}

}  // namespace

SupervisorLauncher::SupervisorLauncher(Loop& loop, vmm::Store store, LauncherOptions options, Log log)
    : loop_(loop), store_(std::move(store)), o_(std::move(options)), log_(std::move(log))
{
    catalog_ = vmm::catalog_dirs(o_.images);
    store_.sweep_retired();  // folders an earlier router retired and did not live to delete
}

SupervisorLauncher::~SupervisorLauncher()
{
    detach();
}

SupervisorLauncher::VmPtr SupervisorLauncher::find(const std::string& name) const
{
    auto it = vms_.find(name);
    return it == vms_.end() ? nullptr : it->second;
}

// ---- Start -----------------------------------------------------------------------

DomainResult<SupervisorLauncher::Started> SupervisorLauncher::fork_supervisor(const DomainDef& def,
                                                                              const Principal& owner, bool paused,
                                                                              const RunStdio* stdio)
{
    auto so = supervisor_options(def, catalog_, o_, file_credentials(owner));
    if (!so) return std::unexpected(so.error());
    so->spec.start_paused = paused;
    std::array<int, 3> stdio_fds{-1, -1, -1};  // -1: /dev/null (detached.hpp)
    if (stdio) {                               // a run's stage: its stdio are the run's pipes
        so->stdio_fds = true;
        so->forward_stdin = true;
        stdio_fds = {stdio->in.get(), stdio->out.get(), stdio->err.get()};
    }
    const std::string& name = def.name;
    // A folder left by an earlier run of this name is the router's to clear.
    if (auto old = store_.inspect(name); old && old->ended()) (void)store_.remove(name);
    if (auto c = store_.create(name); !c)
        return domain_fail(Errc::failed, "cannot start domain '" + name + "': " + c.error().what());
    // A waiting VM of a warm pool whose key is this domain's: no boot. A
    // pooled VM has no tap and no hypervisor channel, so such domains boot.
    // A run's stage brings its pipes with the claim.
    if (o_.pools && def.interfaces.empty() && !def.hypervisor)
        if (auto claimed = o_.pools->claim(
                *so, stdio ? std::vector<int>(stdio_fds.begin(), stdio_fds.end()) : std::vector<int>{})) {
            log_.debug("domain '" + name + "': from the warm pool of " + so->image);
            return Started{claimed->supervisor, std::move(claimed->ready), std::move(claimed->pidfd), false};
        }

    // The domain's taps: held here until the supervisor has its copies.
    std::vector<Tap> taps;
    if (o_.network && !def.interfaces.empty()) {
        auto t = o_.network->attach(def);
        if (!t) {
            (void)store_.remove(name);
            return std::unexpected(t.error());
        }
        taps = std::move(*t);
        for (const auto& tap : taps) so->spec.nets.push_back(tap.nic);
    }
    // The hypervisor channel's guest ends: held here until the supervisor has its copies.
    std::vector<Fd> channel;
    if (def.hypervisor) {
        Result<std::vector<Fd>> c = o_.hypervisor
                                        ? o_.hypervisor->open(def)
                                        : Result<std::vector<Fd>>(fail("this router serves no hypervisor channels"));
        if (!c) {
            if (o_.network) o_.network->detach(name);
            (void)store_.remove(name);
            return domain_fail(Errc::failed, "cannot start domain '" + name + "': " + c.error().what());
        }
        channel = std::move(*c);
        for (const auto& port : channel) so->spec.hypervisor_fds.push_back(port.get());
    }
    // The supervisor: in its own session, with none of the router's fds (a
    // listening socket held there would outlive a router restart).
    std::string title = "fleet-router: supervisor " + name;
    auto started = vmm::start_detached(
        store_, std::move(*so),
        vmm::DetachOptions{.orphan = false, .in_child = [&] { set_process_title(title); }, .stdio = stdio_fds});
    if (!started) {
        if (o_.network) o_.network->detach(name);
        (void)store_.remove(name);
        return domain_fail(Errc::failed, started.error().what());
    }
    Started out{started->pid, std::move(started->ready), {}, true};
    if (auto pidfd = open_pidfd(started->pid)) out.pidfd = std::move(*pidfd);
    return out;
}

DomainResult<> SupervisorLauncher::start(const DomainDef& def, const Principal& owner, bool paused, Watch watch,
                                         const RunStdio* stdio)
{
    auto started = fork_supervisor(def, owner, paused, stdio);
    if (!started) return std::unexpected(started.error());
    auto vm = std::make_shared<Vm>();
    vm->name = def.name;
    vm->watch = std::move(watch);
    vm->starting = true;
    vm->ready = std::move(started->ready);
    vm->supervisor = started->supervisor;
    vm->supervisor_start = proc_info(started->supervisor).value_or(ProcInfo{}).start_time;
    vm->own_child = started->own_child;
    vm->pidfd = std::move(started->pidfd);
    vms_[def.name] = vm;
    watch_ready(vm);
    watch_end(vm);
    log_.debug("domain '" + def.name + "': supervisor " + std::to_string(started->supervisor) + " started");
    return {};
}

void SupervisorLauncher::watch_ready(const VmPtr& vm)
{
    std::weak_ptr<Vm> weak = vm;
    vm->ready_op = loop_.read(vm->ready.get(), 512, [this, weak](int res, std::span<const char> data) {
        auto vm = weak.lock();
        if (!vm) return;
        vm->ready_op = 0;
        if (res > 0) {
            vm->ready_line.append(data.data(), data.size());
            if (vm->ready_line.find('\n') == std::string::npos && vm->ready_line.size() < 4096) return watch_ready(vm);
        }
        on_ready_line(vm);
    });
}

void SupervisorLauncher::on_ready_line(const VmPtr& vm)
{
    vm->ready.reset();
    std::string line = vm->ready_line.substr(0, vm->ready_line.find('\n'));
    if (!vm->starting) return;
    vm->starting = false;
    auto ready = vmm::parse_ready_line(line, "the supervisor ended before the guest was ready");
    if (ready)
        if (auto r = store_.read(vm->name)) vm->qemu = r->pid;
    if (!vm->watch.ready) return;
    if (ready)
        vm->watch.ready({});
    else
        vm->watch.ready(domain_fail(Errc::failed, ready.error().message));
}

// ---- The end of a VM ------------------------------------------------------------------

void SupervisorLauncher::watch_end(const VmPtr& vm)
{
    if (!vm->pidfd) {  // no pidfd (an old kernel): nothing to wait on but the ready pipe
        log_.info("domain '" + vm->name + "': cannot watch its supervisor (no pidfd)");
        return;
    }
    std::weak_ptr<Vm> weak = vm;
    vm->pidfd_op = loop_.poll(vm->pidfd.get(), POLLIN, [this, weak](int) {
        auto vm = weak.lock();
        if (!vm) return;
        vm->pidfd_op = 0;
        on_end(vm);
    });
}

void SupervisorLauncher::on_end(const VmPtr& vm)
{
    if (vm->own_child) ::waitpid(vm->supervisor, nullptr, WNOHANG);
    if (vm->ready_op) loop_.cancel(std::exchange(vm->ready_op, 0));
    if (vm->starting) {  // died before a ready line: say why first
        vm->ready_line = "error the supervisor ended before the guest was ready";
        auto rec = store_.inspect(vm->name);
        if (rec && !rec->exit_message.empty()) vm->ready_line = "error " + rec->exit_message;
        on_ready_line(vm);
    }
    auto rec = store_.inspect(vm->name);
    // No ending in the record: the supervisor died without writing one
    // (killed behind our back). Its QEMU gets SIGKILL with it; make sure.
    if (rec && !rec->ended() && rec->pid > 0 && process_alive(rec->pid, rec->pid_start)) ::kill(rec->pid, SIGKILL);
    Ending ending;
    ending.kind = end_kind(rec && rec->ended() ? rec->exit_reason : vmm::ExitReason::crashed);
    if (rec && rec->ended()) {
        ending.detail =
            " (" + std::string(to_string(rec->exit_reason)) + ", status " + std::to_string(rec->exit_status) + ")";
        ending.status = rec->exit_status;
    }
    // The folder leaves the name now and is deleted once whoever waits for
    // this end has been answered (docs/cold-path.md, Teardown).
    auto retired = store_.retire(vm->name);
    if (!retired) (void)store_.remove(vm->name);
    if (o_.network) o_.network->detach(vm->name);  // its taps went with its QEMU
    vm->pidfd.reset();
    if (vm->resize_timer) loop_.cancel(std::exchange(vm->resize_timer, 0));
    if (find(vm->name) == vm) vms_.erase(vm->name);
    if (vm->watch.ended) vm->watch.ended(ending);
    if (retired)
        loop_.defer([&loop = loop_, store = store_, path = *retired] {
            loop.submit();  // the answers first
            store.remove_retired(path);
        });
}

// ---- Adoption ---------------------------------------------------------------------------

DomainResult<Adopted> SupervisorLauncher::adopt(const std::string& name, Watch watch)
{
    auto rec = store_.inspect(name);
    // Pinned before its start time is checked (base pin_process): the
    // process checked is the one later signalled. Without pidfds (an old
    // kernel) the check alone.
    auto pinned =
        rec && !rec->ended() ? pin_process(rec->supervisor_pid, rec->supervisor_start) : Result<Fd>(fail("ended"));
    bool alive = pinned || (rec && !rec->ended() && pinned.error().sys_errno == ENOSYS &&
                            process_alive(rec->supervisor_pid, rec->supervisor_start));
    if (!alive) {
        if (rec) (void)store_.remove(name);
        return domain_fail(Errc::not_found, "domain '" + name + "' is not running");
    }
    auto vm = std::make_shared<Vm>();
    vm->name = name;
    vm->watch = std::move(watch);
    vm->supervisor = rec->supervisor_pid;
    vm->supervisor_start = rec->supervisor_start;
    vm->qemu = rec->pid;
    if (pinned) vm->pidfd = std::move(*pinned);
    vms_[name] = vm;
    watch_end(vm);
    return Adopted{rec->state == vmm::VmState::paused};
}

void SupervisorLauncher::clear(const std::string& name)
{
    if (store_.inspect(name)) (void)store_.remove(name);
}

void SupervisorLauncher::detach()
{
    for (auto& [name, vm] : vms_) {
        if (vm->pidfd_op) loop_.cancel(std::exchange(vm->pidfd_op, 0));
        if (vm->ready_op) loop_.cancel(std::exchange(vm->ready_op, 0));
        if (vm->resize_timer) loop_.cancel(std::exchange(vm->resize_timer, 0));
    }
}

// ---- Stop and kill ------------------------------------------------------------------------

// A queued signal to a VM's supervisor: through its pidfd, which an adopted
// supervisor (not our child, so its pid could be reused once it ends) has
// too; by pid only where there is none (an old kernel). 0 or errno.
int SupervisorLauncher::signal_supervisor(const Vm& vm, int sig, int value)
{
    if (vm.pidfd) return queue_signal(vm.pidfd.get(), sig, value);
    sigval v{};
    v.sival_int = value;
    return ::sigqueue(vm.supervisor, sig, v) == 0 ? 0 : errno;
}

DomainResult<> SupervisorLauncher::shutdown(const std::string& name)
{
    auto vm = find(name);
    if (!vm) return domain_fail(Errc::invalid_state, "domain is not running");
    // SIGTERM to the program (images/README.md); if it has not ended by the
    // deadline, the power button, then a kill (vmm/supervisor.hpp).
    if (int e =
            signal_supervisor(*vm, vmm::program_signal_request, vmm::program_signal_value(SIGTERM, o_.stop_deadline));
        e != 0 && e != ESRCH)
        return cannot_signal();
    return {};
}

DomainResult<> SupervisorLauncher::kill(const std::string& name)
{
    auto vm = find(name);
    if (!vm) return domain_fail(Errc::invalid_state, "domain is not running");
    if (int e = signal_supervisor(*vm, SIGUSR1, 0); e != 0 && e != ESRCH) return cannot_signal();
    return {};
}

DomainResult<> SupervisorLauncher::resize_terminal(const std::string& name, std::uint16_t rows, std::uint16_t cols)
{
    auto vm = find(name);
    if (!vm) return domain_fail(Errc::invalid_state, "domain is not running");
    vm->resize_pending = std::pair{rows, cols};
    if (vm->resize_timer) return {};  // it sends the latest size
    auto now = std::chrono::steady_clock::now();
    if (now >= vm->resized_at + resize_spacing) return send_terminal_size(*vm);
    auto wait = std::chrono::ceil<std::chrono::milliseconds>(vm->resized_at + resize_spacing - now);
    std::weak_ptr<Vm> weak = vm;
    vm->resize_timer = loop_.timer(wait, [this, weak](int) {
        auto vm = weak.lock();
        if (!vm) return;
        vm->resize_timer = 0;
        if (find(vm->name) == vm) (void)send_terminal_size(*vm);
    });
    return {};
}

DomainResult<> SupervisorLauncher::send_terminal_size(Vm& vm)
{
    if (!vm.resize_pending) return {};
    auto [rows, cols] = *std::exchange(vm.resize_pending, std::nullopt);
    vm.resized_at = std::chrono::steady_clock::now();
    log_.debug("domain '" + vm.name + "': terminal " + std::to_string(rows) + "x" + std::to_string(cols));
    // Through its pidfd where there is one: a real-time signal to a pid
    // reused meanwhile would end that process.
    int e = vmm::request_terminal_size(vm.pidfd ? vm.pidfd.get() : -1, vm.supervisor, rows, cols);
    if (e != 0 && e != ESRCH) {
        errno = e;
        return cannot_signal();
    }
    return {};
}

// ---- Facts --------------------------------------------------------------------------------

std::string SupervisorLauncher::console_socket(const std::string& name) const
{
    return store_.path(name, "console.sock");
}

std::uint64_t SupervisorLauncher::cpu_time_ns(const std::string& name) const
{
    auto vm = find(name);
    if (!vm || vm->qemu <= 0) return 0;
    std::ifstream in("/proc/" + std::to_string(vm->qemu) + "/stat");
    std::stringstream ss;
    ss << in.rdbuf();
    std::string stat = ss.str();
    auto close = stat.rfind(')');
    if (close == std::string::npos) return 0;
    std::istringstream fields(stat.substr(close + 2));
    std::string field;
    std::uint64_t utime = 0, stime = 0;
    for (int i = 3; i <= 15 && fields >> field; ++i) {
        if (i == 14) utime = std::strtoull(field.c_str(), nullptr, 10);
        if (i == 15) stime = std::strtoull(field.c_str(), nullptr, 10);
    }
    long hz = ::sysconf(_SC_CLK_TCK);
    return (utime + stime) * (1000000000ull / static_cast<std::uint64_t>(hz > 0 ? hz : 100));
}

pid_t SupervisorLauncher::qemu_pid(const std::string& name) const
{
    auto vm = find(name);
    return vm && vm->qemu > 0 ? vm->qemu : 0;
}

std::uint64_t SupervisorLauncher::rss_kib(const std::string& name) const
{
    auto vm = find(name);
    if (!vm || vm->qemu <= 0) return 0;
    std::ifstream in("/proc/" + std::to_string(vm->qemu) + "/status");
    for (std::string line; std::getline(in, line);)
        if (line.starts_with("VmRSS:")) return std::strtoull(line.c_str() + 6, nullptr, 10);
    return 0;
}

std::vector<InterfaceAddress> SupervisorLauncher::interface_addresses(const std::string& name) const
{
    return o_.network ? o_.network->addresses(name) : std::vector<InterfaceAddress>{};
}

DomainResult<Tap> SupervisorLauncher::attach_vm(const std::string& name, bool outbound, const Principal& by)
{
    if (!o_.network) return Launcher::attach_vm(name, outbound, by);
    return o_.network->attach_vm(name, outbound, by.administrator() ? "" : by.record());
}

std::uint64_t SupervisorLauncher::image_memory_kib(const std::string& image) const
{
    auto it = image_memory_.find(image);
    if (it != image_memory_.end()) return it->second;
    std::uint64_t kib = 64 * 1024;
    if (!image.empty())
        if (auto resolved = vmm::resolve_image(image, catalog_)) kib = resolved->memory_mib * 1024;
    image_memory_[image] = kib;
    return kib;
}

}  // namespace fleet::router
