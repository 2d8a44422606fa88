// fleet — the supervisor's insides, shared by supervisor.cpp (foreground
// and detached VMs) and pooled.cpp (a VM that waits in a warm pool for its
// claimant). Private to libfleet-vmm.
#pragma once

#include <fleet/base/rotating_log.hpp>
#include <fleet/base/sink.hpp>
#include <fleet/base/terminal.hpp>
#include <fleet/vmm/claim.hpp>
#include <fleet/vmm/supervisor.hpp>

#include <sys/signalfd.h>

#include <chrono>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace fleet::vmm::detail {

std::int64_t now_ms();
void write_all(int fd, std::string_view bytes);

// One `fleet-vmm console` connection: guest output to it, its input to the guest.
struct ConsoleClient {
    Fd fd;
    std::unique_ptr<Sink> sink;
    OpId read_op = 0;
    bool dead = false;
};

// Output queued for a slow reader before the guest is made to wait.
constexpr std::size_t max_queued = 1u << 20;

class Supervisor {
public:
    Supervisor(const Store& store, SupervisorOptions o) : store_(store), o_(std::move(o)) {}

    int run();

private:
    int fail_start(const Error& e);
    Result<> prepare();
    Result<> launch();
    void fill_record();
    int serve();
    Result<> setup_signals();
    void watch_signals();
    void on_signal(const signalfd_siginfo& si);
    void deliver(int sig, std::chrono::milliseconds stop_after);
    Result<> setup_detached();
    void end_stdio();  // a run's stage: its pipes closed (replaced by /dev/null) at once
    // The guest's stdio fd n (0, 1, 2): the claimant's when claimed, else ours.
    int stdio_fd(int n) const { return claimed_ ? claimed_stdio_[static_cast<std::size_t>(n)].get() : n; }
    void setup_foreground_io();
    void accept_console();
    void read_console(ConsoleClient& c);
    void read_stdin();
    void after_stdin_taken(std::function<void()> resume);
    void on_output(int stream, std::string_view bytes);
    void on_exit(const ExitInfo& info);
    void save();
    void tell_starter(const std::string& line);
    void suspend_self();
    void hasten_own_end();
    void kill_now();
    void unlink_sockets() const;
    void resume_self();
    void send_terminal_size(bool again);
    void resize_terminal(int value);
    void tell_terminal_size(std::pair<std::uint16_t, std::uint16_t> size, bool again);
    std::optional<std::pair<std::uint16_t, std::uint16_t>> told_;  // the size the program was last told

    // pooled.cpp: boot, wait at `waiting`, publish, take one claim.
    [[nodiscard]] bool pooled() const { return !o_.pool.dir.empty(); }
    Result<> setup_pool();
    void publish_idle();
    void accept_claim();
    void take_claim(Fd conn);
    Result<> adopt_claim(const ClaimRequest& req, std::vector<Fd>& fds);
    Result<> adopt_detached(int ready_fd);
    void take_folder(const std::string& to);
    Result<> deliver_now();
    void read_claimant();
    void tell_claimant(const ClaimEvent& e);
    void tell_pool(const std::string& line);

    const Store& store_;
    SupervisorOptions o_;
    std::string dir_;  // the VM's folder: the store's, or (pooled, unclaimed) its slot
    std::unique_ptr<Loop> loop_;
    std::unique_ptr<Vm> vm_;
    VmRecord rec_;
    Fd signal_fd_, console_listen_, vmm_log_;
    std::optional<RotatingLog> console_log_, kernel_log_;  // capped (SupervisorOptions::log_max_size)
    std::chrono::milliseconds accept_backoff_{0};
    OpId signal_op_ = 0, accept_op_ = 0, stdin_op_ = 0;
    int in_fd_ = 0;  // the guest's stdin when forwarded (foreground: 0; pooled: the claimant's)
    std::unique_ptr<Sink> out_, err_;
    std::list<ConsoleClient> clients_;
    std::vector<std::function<void()>> stdin_waiting_;  // readers paused until the guest takes its stdin
    bool stdin_wait_armed_ = false;
    std::optional<ExitInfo> ended_;
    bool interrupted_ = false;
    bool heir_asked_ = false;  // hasten_own_end
    bool sigint_delivered_ = false;
    // Ctrl-Z (foreground): pause the guest, then stop this process; SIGCONT
    // resumes the guest. QEMU is in a session of its own (vm.cpp).
    bool suspending_ = false, paused_for_tstp_ = false;
    // A foreground run whose program has a terminal (VmSpec::tty): ours,
    // raw while the guest has it. A claimant keeps its own (claimant.cpp).
    std::optional<RawTerminal> raw_;
    OpId stop_timer_ = 0;

    // Pooled: the claim socket until claimed, then the claimant's connection.
    Fd claim_listen_, claimant_;
    std::vector<Fd> claimed_stdio_;
    std::unique_ptr<Sink> claimant_sink_;
    OpId claim_op_ = 0, claimant_op_ = 0;
    std::string claimant_line_;
    bool claimed_ = false;
};

}  // namespace fleet::vmm::detail
