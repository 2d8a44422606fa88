// fleet — the pool daemon: keeps a pool's VMs booted (pool_daemon.hpp, pool.hpp).
#include <fleet/base/process.hpp>
#include <fleet/base/rotating_log.hpp>
#include <fleet/vmm/pool.hpp>
#include <fleet/vmm/pool_daemon.hpp>
#include <fleet/vmm/supervisor.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <list>
#include <optional>

namespace fs = std::filesystem;

namespace fleet::vmm {

namespace {

// When the pool starts the boot that refills it after a claim: once the VMs
// claimed since the last refill have ended, but not before refill_after_claim
// (the claimant is still taking the status in) nor after refill_at_most. A
// boot started with the claim takes a CPU from the VM just claimed: on a
// 2-CPU host it held a warm hello's start from 3.8 ms to 5-8 ms (p50), and a
// Linux `echo hi` under TCG (~40 ms, outliving a fixed 20 ms wait) 6-9 ms
// longer (docs/cold-path.md). The cap keeps a long program from holding the
// pool short.
constexpr std::chrono::milliseconds refill_after_claim{20};
constexpr std::chrono::milliseconds refill_at_most{250};

// pool.log's cap (and one older file): a pool whose boots keep failing
// logs a line each, every 5 s at the slowest, for as long as it runs.
constexpr std::size_t pool_log_max = 1u << 20;

struct Slot {
    pid_t pid = 0;
    Fd notify;  // the slot's lines ("idle", "claimed", "error ...")
    std::string name, partial;
    enum { booting, idle, claimed } state = booting;
    bool holds_refill = false;  // claimed since the last refill, still running
};

class Daemon {
public:
    Daemon(const Store& store, PoolDaemon d) : store_(store), d_(std::move(d)) {}
    int run();

private:
    Result<> setup();
    void spawn();
    void fill();
    [[nodiscard]] long waiting() const;
    [[nodiscard]] int poll_timeout() const;
    void on_line(Slot& s, const std::string& line);
    void read_slot(Slot& s);
    void reap();
    void back_off();
    void tell_starter(const std::string& line);
    void log(const std::string& line);
    int shut_down(int status);

    const Store& store_;
    PoolDaemon d_;
    Fd lock_, sigfd_;
    std::optional<RotatingLog> log_;  // pool.log, capped (pool_log_max)
    std::list<Slot> slots_;
    unsigned counter_ = 0, failures_ = 0;
    std::chrono::steady_clock::time_point retry_at_{};
    std::chrono::steady_clock::time_point refill_at_{}, refill_floor_{};
    bool stopping_ = false;
};

Result<> Daemon::setup()
{
    lock_ = Fd(::open((d_.dir + "/lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!lock_) return fail_errno("cannot open " + d_.dir + "/lock");
    if (::flock(lock_.get(), LOCK_EX | LOCK_NB) != 0) return fail("a pool for '" + d_.image + "' is already running");
    std::error_code ec;
    for (const char* sub : {"idle", "taken", "slots"}) {
        fs::remove_all(d_.dir + "/" + sub, ec);  // what a dead daemon left
        if (::mkdir((d_.dir + "/" + sub).c_str(), 0700) != 0) return fail_errno("cannot create " + d_.dir + "/" + sub);
    }
    if (auto log = RotatingLog::open(d_.dir + "/pool.log", pool_log_max, 1)) log_ = std::move(*log);
    sigset_t set;
    sigemptyset(&set);
    for (int s : {SIGTERM, SIGINT, SIGHUP, SIGCHLD}) sigaddset(&set, s);
    if (::sigprocmask(SIG_BLOCK, &set, nullptr) != 0) return fail_errno("cannot block signals");
    sigfd_ = Fd(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!sigfd_) return fail_errno("cannot create a signalfd");
    ::signal(SIGPIPE, SIG_IGN);
    PoolInfo info{d_.image,
                  d_.size,
                  ::getpid(),
                  proc_info(::getpid()).value_or(ProcInfo{}).start_time,
                  pool_key(d_.base.spec),
                  d_.base.spec.memory_mib,
                  std::string(to_string(d_.base.spec.accel)),
                  pool_boot(d_.base.spec)};
    return write_pool_info(d_.dir, info);
}

void Daemon::log(const std::string& line)
{
    if (log_) log_->write(line + "\n");
}

void Daemon::tell_starter(const std::string& line)
{
    if (d_.ready_fd < 0) return;
    (void)!::write(d_.ready_fd, (line + "\n").data(), line.size() + 1);
    ::close(std::exchange(d_.ready_fd, -1));
}

// One pooled supervisor, a child of ours that dies with us until claimed.
void Daemon::spawn()
{
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) {
        std::string why = std::strerror(errno);
        back_off();
        return log("cannot create a pipe: " + why);
    }
    std::string name =
        "pool-" + d_.image.substr(0, 40) + "-" + std::to_string(::getpid()) + "-" + std::to_string(++counter_);
    pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) {
        std::string why = std::strerror(errno);
        ::close(p[0]);
        ::close(p[1]);
        back_off();
        return log("cannot fork: " + why);
    }
    if (pid == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) ::_exit(125);
        // Nothing of the daemon's may live on in a VM that outlives it: the
        // lock above all (a claimed VM must not keep the pool "running").
        lock_.reset();
        sigfd_.reset();
        log_.reset();
        for (auto& s : slots_) s.notify.reset();
        if (d_.ready_fd >= 0) ::close(d_.ready_fd);
        ::close(p[0]);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        SupervisorOptions o = d_.base;
        o.spec.name = name;
        o.pool = PoolSlot{d_.dir, name, p[1]};
        ::_exit(supervise(store_, std::move(o)));
    }
    ::close(p[1]);
    auto& s = slots_.emplace_back();
    s.pid = pid;
    s.notify = Fd(p[0]);
    s.name = name;
}

// The slots not claimed: booting or idle.
long Daemon::waiting() const
{
    return std::count_if(slots_.begin(), slots_.end(), [](const Slot& s) { return s.state != Slot::claimed; });
}

void Daemon::fill()
{
    auto now = std::chrono::steady_clock::now();
    if (stopping_ || now < retry_at_ || now < refill_at_) return;
    for (auto& s : slots_) s.holds_refill = false;  // a later claim's VM holds the next one
    // A spawn that fails backs off (retry_at_): the others wait for it too,
    // so one round counts as one failure.
    for (auto n = waiting(); n < static_cast<long>(d_.size) && now >= retry_at_; ++n) spawn();
}

// How long the loop may sleep: while the pool is short, only until its
// refill or retry is due (0 if it already is: fill() may have looked just
// before), rounded up; else until a slot or a signal says something. A
// pool whose every VM was claimed has nothing else to wake it.
int Daemon::poll_timeout() const
{
    if (stopping_ || waiting() >= static_cast<long>(d_.size)) return -1;
    auto left = std::max(retry_at_, refill_at_) - std::chrono::steady_clock::now();
    if (left <= decltype(left)::zero()) return 0;
    return static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(left).count());
}

void Daemon::on_line(Slot& s, const std::string& line)
{
    if (line == "idle") {
        s.state = Slot::idle;
        failures_ = 0;
        auto idle = std::count_if(slots_.begin(), slots_.end(), [](const Slot& x) { return x.state == Slot::idle; });
        if (idle >= static_cast<long>(d_.size)) tell_starter("ready");
    } else if (line == "claimed") {
        s.state = Slot::claimed;
        s.notify.reset();  // its life is its claimant's now
        // The refill waits for this VM's end (refill_at_most): booting it at
        // once takes a CPU from the VM just claimed, whose program is
        // running. Claims meanwhile do not put it off further.
        s.holds_refill = true;
        auto now = std::chrono::steady_clock::now();
        if (refill_at_ <= now) {
            refill_at_ = now + refill_at_most;
            refill_floor_ = now + refill_after_claim;
        }
        fill();
    } else if (line.starts_with("error ")) {
        log(s.name + ": " + line.substr(6));
        if (d_.ready_fd >= 0) {  // the first boots fail: say so and give up
            tell_starter(line);
            stopping_ = true;
        }
    }
}

void Daemon::read_slot(Slot& s)
{
    char buf[1024];
    ssize_t n = ::read(s.notify.get(), buf, sizeof buf);
    if (n <= 0) {
        s.notify.reset();  // it ended; reap() tells
        return;
    }
    for (char c : std::string_view(buf, static_cast<std::size_t>(n))) {
        if (c != '\n') {
            if (s.partial.size() < 4096) s.partial += c;
            continue;
        }
        std::string line = std::exchange(s.partial, {});
        on_line(s, line);
        if (!s.notify) return;
    }
}

// Boots keep failing (or cannot start): wait longer before each next one.
void Daemon::back_off()
{
    ++failures_;
    auto wait = std::chrono::milliseconds(std::min(5000u, 100u << std::min(failures_, 6u)));
    retry_at_ = std::chrono::steady_clock::now() + wait;
}

void Daemon::reap()
{
    int st;
    pid_t pid;
    while ((pid = ::waitpid(-1, &st, WNOHANG)) > 0) {
        auto it = std::find_if(slots_.begin(), slots_.end(), [pid](const Slot& s) { return s.pid == pid; });
        if (it == slots_.end()) continue;
        if (it->state != Slot::claimed && !stopping_) back_off();  // ended unclaimed: a failed boot
        ::unlink((d_.dir + "/idle/" + it->name).c_str());
        std::error_code ec;
        fs::remove_all(d_.dir + "/slots/" + it->name, ec);
        slots_.erase(it);
    }
    // The VMs a refill waits for have all ended: it is due (at its floor).
    if (std::ranges::none_of(slots_, [](const Slot& s) { return s.holds_refill; }))
        refill_at_ = std::min(refill_at_, std::max(refill_floor_, std::chrono::steady_clock::now()));
}

int Daemon::shut_down(int status)
{
    for (auto& s : slots_)
        if (s.state != Slot::claimed) ::kill(s.pid, SIGKILL);
    for (auto& s : slots_)
        if (s.state != Slot::claimed) ::waitpid(s.pid, nullptr, 0);
    std::error_code ec;
    for (const char* sub : {"idle", "taken", "slots"}) fs::remove_all(d_.dir + "/" + sub, ec);
    ::unlink((d_.dir + "/pool.json").c_str());
    return status;
}

int Daemon::run()
{
    if (auto s = setup(); !s) {
        tell_starter("error " + s.error().what());
        return 125;
    }
    fill();
    while (!stopping_) {
        std::vector<pollfd> fds{{sigfd_.get(), POLLIN, 0}};
        std::vector<Slot*> who{nullptr};
        for (auto& s : slots_)
            if (s.notify) {
                fds.push_back({s.notify.get(), POLLIN, 0});
                who.push_back(&s);
            }
        if (::poll(fds.data(), fds.size(), poll_timeout()) < 0 && errno != EINTR) break;
        for (std::size_t i = 1; i < fds.size(); ++i)
            if (fds[i].revents) read_slot(*who[i]);
        signalfd_siginfo si;
        while (::read(sigfd_.get(), &si, sizeof si) == sizeof si)
            if (si.ssi_signo != SIGCHLD) stopping_ = true;
        reap();
        fill();
    }
    return shut_down(0);
}

}  // namespace

int run_pool_daemon(const Store& store, PoolDaemon d)
{
    Daemon daemon(store, std::move(d));
    return daemon.run();
}

Result<Detached> start_pool_daemon(const Store& store, PoolDaemon d, const DetachOptions& how)
{
    return fork_detached(how, {}, [&](int ready, const std::vector<int>&) {
        d.ready_fd = ready;
        return run_pool_daemon(store, std::move(d));
    });
}

}  // namespace fleet::vmm
