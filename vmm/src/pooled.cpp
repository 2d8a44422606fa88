// fleet — the supervisor of a pooled VM (supervisor.hpp, PoolSlot): boot
// without the exec block, publish the claim socket once the guest waits,
// take one claim and run the claimant's program as `fleet-vmm run` would.
#include "supervisor_impl.hpp"

#include <fleet/base/process.hpp>
#include <fleet/base/socket.hpp>
#include <fleet/vmm/pool.hpp>

#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

namespace fleet::vmm::detail {

namespace {

// A claimant that has connected has at most this long to send its request.
constexpr std::chrono::milliseconds claim_timeout{2000};

}  // namespace

Result<> Supervisor::setup_pool()
{
    if (::mkdir(dir_.c_str(), 0700) != 0) return fail_errno("cannot create " + dir_);
    auto listener = listen_unix(dir_ + "/claim.sock");
    if (!listener) return std::unexpected(listener.error());
    claim_listen_ = std::move(*listener);
    return {};
}

void Supervisor::tell_pool(const std::string& line)
{
    if (o_.pool.notify_fd < 0) return;
    write_all(o_.pool.notify_fd, line + "\n");
}

// The guest waits for its program: only now may anyone claim it.
void Supervisor::publish_idle()
{
    SlotInfo info{rec_.pid, rec_.pid_start, ::getpid()};
    if (auto w = write_slot(o_.pool.dir, o_.pool.slot, info); !w) return vm_->kill();
    std::string idle = o_.pool.dir + "/idle/" + o_.pool.slot;
    if (::rename((dir_ + "/claim.sock").c_str(), idle.c_str()) != 0) return vm_->kill();
    tell_pool("idle");
    accept_claim();
}

void Supervisor::accept_claim()
{
    claim_op_ = loop_->accept(claim_listen_.get(), [this](int res) {
        claim_op_ = 0;
        if (res < 0 || ended_) {
            if (res >= 0) ::close(res);
            if (!ended_) vm_->kill();  // cannot be claimed any more: a VM nobody can use
            return;
        }
        Fd conn(res);
        auto peer = peer_credentials(conn.get());
        if (!peer || peer->uid != ::geteuid()) return accept_claim();  // not the pool owner: refused
        take_claim(std::move(conn));
    });
}

// One claim, read at once (the claimant sends it whole). A bad one ends
// the VM: its entry is gone, and a VM is never offered twice.
void Supervisor::take_claim(Fd conn)
{
    std::vector<Fd> fds;
    auto head = recv_with_fds(conn.get(), claim_header_size, fds, 4, claim_timeout);
    auto size = head ? claim_body_size(*head) : Result<std::size_t>(fail("claim: " + head.error().what()));
    auto body = size ? recv_with_fds(conn.get(), *size, fds, 4, claim_timeout)
                     : Result<std::string>(std::unexpected(size.error()));
    if (!body && size) body = fail("claim: " + body.error().what());
    auto req = body ? decode_claim(*head + *body) : Result<ClaimRequest>(std::unexpected(body.error()));
    if (req && !req->detached && fds.size() != 3) req = fail("claim: stdin, stdout and stderr must come with it");
    if (req && req->detached && fds.size() != 1 && fds.size() != 4)
        req = fail("claim: a detached claim brings its ready pipe, alone or with stdin, stdout and stderr");
    claim_listen_.reset();
    claimant_ = std::move(conn);
    if (!req) {
        write_all(vmm_log_.get(), "fleet-vmm: " + req.error().what() + "\n");
        write_all(claimant_.get(), format_event({ClaimEvent::exit, 125, true, req.error().what()}));
        return vm_->kill();
    }
    if (auto a = adopt_claim(*req, fds); !a) {
        write_all(claimant_.get(), format_event({ClaimEvent::exit, 125, true, a.error().what()}));
        return vm_->kill();
    }
}

// The VM becomes the claimant's: its name and folder, its stdio, its program.
Result<> Supervisor::adopt_claim(const ClaimRequest& req, std::vector<Fd>& fds)
{
    std::string to = store_.dir(req.name);
    struct stat st {};
    if (::lstat(to.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != ::geteuid())
        return fail("claim: VM '" + req.name + "' has no folder of its own in the runtime folder");
    ::prctl(PR_SET_PDEATHSIG, 0);  // no longer the pool's: it ends with its claimant (read_claimant)
    o_.spec.name = req.name;
    o_.spec.args = req.args;
    o_.spec.env = req.env;
    o_.spec.workdir = req.workdir;
    o_.spec.tty = req.tty;
    o_.forward_stdin = req.forward_stdin;
    o_.auto_remove = req.auto_remove;
    o_.stop_deadline = req.stop_deadline;
    claimed_ = true;
    if (req.detached && fds.size() == 4) {  // a router's run: its pipes are the stdio
        o_.stdio_fds = true;
        claimed_stdio_.clear();
        for (std::size_t i = 1; i < 4; ++i) claimed_stdio_.push_back(std::move(fds[i]));
        in_fd_ = claimed_stdio_[0].get();
    }
    if (req.detached) {
        take_folder(to);  // its console goes there
        return adopt_detached(fds[0].release());
    }
    claimed_stdio_ = std::move(fds);
    in_fd_ = claimed_stdio_[0].get();
    setup_foreground_io();
    // The block first, handed to the kernel at once: the guest reads it
    // while the folder and the record are done (~0.15 ms of a warm start).
    auto delivered = deliver_now();
    take_folder(to);
    fill_record();
    save();
    if (!delivered) return delivered;
    read_claimant();
    if (o_.forward_stdin)
        read_stdin();
    else
        vm_->close_stdin();
    return {};
}

// The claimed VM's files move from the pool's slot into the claimant's
// folder, and the pool hears the VM is gone from it.
void Supervisor::take_folder(const std::string& to)
{
    tell_pool("claimed");
    for (const char* f : {"qmp.sock", "vmm.log", "kernel.log"})
        (void)::rename((dir_ + "/" + f).c_str(), (to + "/" + f).c_str());
    ::unlink((dir_ + "/slot.json").c_str());
    ::rmdir(dir_.c_str());
    dir_ = to;
    if (kernel_log_)
        if (auto k = RotatingLog::open(dir_ + "/kernel.log", o_.log_max_size, o_.log_backups))
            kernel_log_ = std::move(*k);
}

// The program's exec block to the guest, handed to the kernel now.
Result<> Supervisor::deliver_now()
{
    auto d = vm_->deliver_exec(o_.spec);
    if (d) loop_->submit();
    return d;
}

// A detached claim (fleet-router's): from here on as `fleet-vmm start`'s
// supervisor, its console in the VM's folder, its starter told on the pipe;
// the claimant's connection is not its lifeline.
Result<> Supervisor::adopt_detached(int ready_fd)
{
    o_.detached = true;
    o_.ready_fd = ready_fd;
    claimant_.reset();
    if (o_.stdio_fds)
        setup_foreground_io();
    else if (auto s = setup_detached(); !s)
        return s;
    auto delivered = deliver_now();
    fill_record();
    save();
    if (!delivered) return delivered;
    if (o_.stdio_fds && o_.forward_stdin)
        read_stdin();
    else if (!o_.forward_stdin)
        vm_->close_stdin();
    return {};
}

// The claimant's signals, as lines; its end of file means it is gone.
void Supervisor::read_claimant()
{
    claimant_op_ = loop_->read(claimant_.get(), 1024, [this](int res, std::span<const char> d) {
        claimant_op_ = 0;
        if (res <= 0) {
            if (vm_ && !ended_) vm_->kill();  // nobody stands in for the VM any more
            return;
        }
        for (char c : d) {
            if (c != '\n') {
                if (claimant_line_.size() < claim_line_max) claimant_line_ += c;
                continue;
            }
            auto s = parse_signal_line(claimant_line_);
            claimant_line_.clear();
            if (!s) continue;
            signalfd_siginfo si{};
            si.ssi_signo = static_cast<std::uint32_t>(s->sig);
            si.ssi_code = s->value >= 0 ? SI_QUEUE : SI_USER;
            si.ssi_int = s->value;
            on_signal(si);
        }
        if (!ended_) read_claimant();
    });
}

void Supervisor::tell_claimant(const ClaimEvent& e)
{
    if (claimant_) write_all(claimant_.get(), format_event(e));
}

}  // namespace fleet::vmm::detail
