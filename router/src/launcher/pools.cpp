// fleet-router — warm pools (pools.hpp): the `pool` setting, the pool
// daemons the router keeps, and claims for domain starts.
#include "vm_options.hpp"

#include <fleet/base/file.hpp>
#include <fleet/base/process.hpp>
#include <fleet/base/socket.hpp>
#include <fleet/router/pools.hpp>
#include <fleet/router/process_title.hpp>
#include <fleet/vmm/catalog.hpp>
#include <fleet/vmm/claim.hpp>
#include <fleet/vmm/pool.hpp>
#include <fleet/vmm/pool_daemon.hpp>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <filesystem>
#include <set>

namespace fleet::router {

namespace {

constexpr std::chrono::milliseconds restart_delay{1000};
constexpr std::chrono::milliseconds stop_wait{5000};
constexpr const char* router_marker = "router";  // in a pool's folder: the router started it

std::string_view trim(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// End a pool daemon and wait (bounded) for it: its waiting VMs go with it.
void end_daemon(pid_t pid, std::uint64_t start, const std::string& dir)
{
    if (auto pidfd = pin_process(pid, start)) (void)vmm::end_pool_daemon(pidfd->get(), dir, stop_wait);
}

}  // namespace

std::expected<std::vector<PoolSetting>, std::string> parse_pool_setting(std::string_view text, unsigned default_size)
{
    std::vector<PoolSetting> out;
    text = trim(text);
    if (text.empty() || text == "none") return out;
    std::set<std::string> seen;
    while (true) {
        auto comma = text.find(',');
        std::string_view item = trim(text.substr(0, comma));
        auto colon = item.find(':');
        PoolSetting p{std::string(trim(item.substr(0, colon))), default_size};
        if (p.image.empty()) return std::unexpected("pool: an empty image name (IMAGE[:SIZE], ...)");
        if (!vmm::validate_name(p.image) || p.image.find('/') != std::string::npos)
            return std::unexpected("pool: '" + p.image + "' is not a catalog image name");
        if (colon != std::string_view::npos) {
            std::string_view n = trim(item.substr(colon + 1));
            auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), p.size);
            if (n.empty() || ec != std::errc() || end != n.data() + n.size())
                return std::unexpected("pool: bad size '" + std::string(n) + "' for '" + p.image + "'");
        }
        if (p.size < 1 || p.size > max_pool_size)
            return std::unexpected("pool: the size of '" + p.image + "' must be 1 to " + std::to_string(max_pool_size));
        if (!seen.insert(p.image).second) return std::unexpected("pool: '" + p.image + "' is named twice");
        out.push_back(std::move(p));
        if (comma == std::string_view::npos) break;
        text = text.substr(comma + 1);
    }
    return out;
}

struct WarmPools::Pool {
    PoolSetting setting;
    std::string dir;
    vmm::SupervisorOptions base;
    std::string key;
    pid_t pid = 0;
    std::uint64_t start = 0;
    Fd pidfd, ready;
    OpId pidfd_op = 0, ready_op = 0, timer_op = 0;
};

WarmPools::WarmPools(Loop& loop, vmm::Store store, std::vector<PoolSetting> settings, LauncherOptions launcher, Log log)
    : loop_(loop), store_(std::move(store)), o_(std::move(launcher)), log_(std::move(log))
{
    o_.network = nullptr;
    for (auto& s : settings) {
        std::string image = s.image;
        Pool p;
        p.dir = vmm::pool_dir(o_.runtime_dir, image);
        p.setting = std::move(s);
        pools_.emplace(image, std::move(p));
    }
}

WarmPools::~WarmPools()
{
    for (auto& [image, p] : pools_)
        for (OpId op : {p.pidfd_op, p.ready_op, p.timer_op})
            if (op) loop_.cancel(op);
}

// What a domain of type 'qemu' naming only the image gets: its key is the
// pool's (vm_options.cpp builds both).
static DomainResult<vmm::SupervisorOptions> pool_options(const PoolSetting& setting, const LauncherOptions& o)
{
    const std::string& image = setting.image;
    DomainDef def;
    def.name = "pool";
    def.image = image;
    def.type = "qemu";
    auto so = supervisor_options(def, vmm::catalog_dirs(o.images), o, std::nullopt);  // catalog files: the router's
    if (!so) return so;
    so->spec.args.clear();  // each claim brings its program's
    so->detached = false;   // until a claim says how it runs (pooled.cpp)
    vmm::settle_pool_boot(so->spec, setting.boot);
    so->launch.rehearse = true;  // under TCG (vm.hpp)
    return so;
}

void WarmPools::start()
{
    if (!pools_.empty())
        if (auto r = ensure_private_dir(vmm::pool_root(o_.runtime_dir)); !r) {
            log_.info("warm pools: " + r.error().what());
            return;
        }
    // Pools an earlier router started that the configuration no longer names.
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(vmm::pool_root(o_.runtime_dir), ec)) {
        std::string dir = e.path().string(), image = e.path().filename().string();
        if (pools_.contains(image) || ::access((dir + "/" + router_marker).c_str(), F_OK) != 0) continue;
        if (auto alive = vmm::pool_alive(dir, true); alive && *alive)
            if (auto info = vmm::read_pool_info(dir)) {
                log_.info("warm pool '" + image + "': not configured any more, ended");
                end_daemon(info->pid, info->pid_start, dir);
            }
        ::unlink((dir + "/" + router_marker).c_str());
    }
    for (auto& [image, p] : pools_) {
        auto so = pool_options(p.setting, o_);
        if (!so) {
            log_.info("warm pool '" + image + "': " + so.error().message);
            continue;
        }
        p.base = std::move(*so);
        p.key = vmm::pool_key(p.base.spec);
        if (auto r = ensure_private_dir(p.dir); !r) {
            log_.info("warm pool '" + image + "': " + r.error().what());
            continue;
        }
        auto adopted = adopt(p);
        if (adopted && *adopted) {
            log_.info("warm pool '" + image + "': adopted (daemon " + std::to_string(p.pid) + ")");
            watch(p);
            continue;
        }
        start_pool(p);
    }
}

// A running pool of this image: adopted if it is what we would start, else ended.
Result<bool> WarmPools::adopt(Pool& p)
{
    auto alive = vmm::pool_alive(p.dir, true);
    if (!alive) return std::unexpected(alive.error());
    if (!*alive) return false;
    auto info = vmm::read_pool_info(p.dir);
    if (!info) return std::unexpected(info.error());
    auto pinned = pin_process(info->pid, info->pid_start);  // watched through it: never a reused pid
    auto owner = proc_info(info->pid);
    if (!pinned || !owner || owner->uid != ::geteuid()) return fail("its daemon is gone or not the router's user's");
    if (info->key == p.key && info->size == p.setting.size && info->boot == vmm::pool_boot(p.base.spec)) {
        p.pid = info->pid;
        p.start = info->pid_start;
        p.pidfd = std::move(*pinned);
        (void)replace_file(p.dir, router_marker, "", Sync::no);
        return true;
    }
    log_.info("warm pool '" + p.setting.image + "': the running one differs from the configuration; replaced");
    end_daemon(info->pid, info->pid_start, p.dir);
    return false;
}

void WarmPools::start_pool(Pool& p)
{
    if (stopping_) return;
    vmm::PoolDaemon d{p.dir, p.setting.image, p.setting.size, p.base, -1};
    std::string title = "fleet-router: pool " + p.setting.image;
    auto started = vmm::start_pool_daemon(
        store_, std::move(d), vmm::DetachOptions{.orphan = false, .in_child = [&] { set_process_title(title); }});
    if (!started) {
        log_.info("warm pool '" + p.setting.image + "': " + started.error().what());
        return;
    }
    p.pid = started->pid;
    p.start = proc_info(p.pid).value_or(ProcInfo{}).start_time;
    p.ready = std::move(started->ready);
    if (auto fd = open_pidfd(p.pid)) p.pidfd = std::move(*fd);
    (void)replace_file(p.dir, router_marker, "", Sync::no);
    log_.debug("warm pool '" + p.setting.image + "': daemon " + std::to_string(p.pid) + " keeps " +
               std::to_string(p.setting.size) + " waiting");
    std::string image = p.setting.image;
    p.ready_op = loop_.read(p.ready.get(), 512, [this, image](int res, std::span<const char> data) {
        auto& q = pools_.at(image);
        q.ready_op = 0;
        q.ready.reset();
        std::string line(data.data(), res > 0 ? data.size() : 0);
        auto ready = vmm::parse_ready_line(line.substr(0, line.find('\n')), "its daemon ended");
        log_.info("warm pool '" + image + "': " + (ready ? "full" : "not filled: " + ready.error().message));
    });
    watch(p);
}

// A daemon that ends while the router runs is started again.
void WarmPools::watch(Pool& p)
{
    if (!p.pidfd) return;
    std::string image = p.setting.image;
    p.pidfd_op = loop_.poll(p.pidfd.get(), POLLIN, [this, image](int) {
        auto& q = pools_.at(image);
        q.pidfd_op = 0;
        q.pidfd.reset();
        q.pid = 0;
        if (stopping_) return;
        (void)vmm::pool_alive(q.dir, true);
        log_.info("warm pool '" + image + "': its daemon ended; starting it again");
        q.timer_op = loop_.timer(restart_delay, [this, image](int) {
            auto& r = pools_.at(image);
            r.timer_op = 0;
            start_pool(r);
        });
    });
}

void WarmPools::stop()
{
    stopping_ = true;
    for (auto& [image, p] : pools_) {
        for (OpId* op : {&p.pidfd_op, &p.ready_op, &p.timer_op})
            if (*op) loop_.cancel(std::exchange(*op, 0));
        if (p.pid > 0) end_daemon(p.pid, p.start, p.dir);
        ::unlink((p.dir + "/" + router_marker).c_str());
        p.pid = 0;
    }
}

std::optional<ClaimedVm> WarmPools::claim(const vmm::SupervisorOptions& o, const std::vector<int>& stdio)
{
    auto it = pools_.find(o.image);
    if (it == pools_.end() || it->second.key.empty()) return std::nullopt;
    if (vmm::pool_key(o.spec) != it->second.key) return std::nullopt;
    auto info = vmm::read_pool_info(it->second.dir);
    if (!info || info->key != it->second.key) return std::nullopt;
    while (auto sock = vmm::claim_idle(it->second.dir)) {
        // The claim socket's listener is the pooled supervisor itself.
        auto peer = peer_credentials(sock->get());
        if (!peer || peer->uid != ::geteuid()) continue;
        auto pidfd = open_pidfd(peer->pid);
        if (!pidfd) continue;
        int p[2];
        if (::pipe2(p, O_CLOEXEC) != 0) return std::nullopt;
        Fd ready(p[0]), ready_w(p[1]);
        auto bytes = vmm::encode_claim(vmm::claim_request(o, true));
        if (!bytes) return std::nullopt;
        // Bounded: a pooled supervisor reads its claim at once, or gives up
        // within 2 s and closes (the send then fails).
        timeval tv{2, 0};
        ::setsockopt(sock->get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        std::vector<int> fds{ready_w.get()};
        fds.insert(fds.end(), stdio.begin(), stdio.end());
        if (auto s = send_with_fds(sock->get(), *bytes, fds); !s) continue;
        return ClaimedVm{peer->pid, std::move(*pidfd), std::move(ready)};
    }
    return std::nullopt;
}

}  // namespace fleet::router
