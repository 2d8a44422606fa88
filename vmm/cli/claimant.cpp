// fleet-vmm — `run` from a warm pool: the claimant stands in for the VM
// (see pool.hpp). It keeps the role a cold `run` has for a shell: its exit
// status is the program's, its signals reach the program, Ctrl-Z stops it.
#include "pool.hpp"

#include <fleet/base/process.hpp>
#include <fleet/base/socket.hpp>
#include <fleet/base/terminal.hpp>
#include <fleet/vmm/claim.hpp>
#include <fleet/vmm/pool.hpp>

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

namespace fleet::cli {

using namespace fleet::vmm;

namespace {

// Lines from the pooled supervisor until its `exit`; signals go the other way.
// With `tty`, the terminal is raw while the program runs, as a cold run's.
int stand_in(Fd sock, Fd sigfd, bool tty, bool& vanished)
{
    std::string line;
    std::optional<RawTerminal> raw;
    auto forward = [&](ClaimSignal s) {
        std::string text = format_signal(s);
        (void)!::send(sock.get(), text.data(), text.size(), MSG_NOSIGNAL);
    };
    for (;;) {
        pollfd p[2] = {{sock.get(), POLLIN, 0}, {sigfd.get(), POLLIN, 0}};
        if (::poll(p, 2, -1) < 0) {
            if (errno == EINTR) continue;
            return report(Error{"poll", errno});
        }
        if (p[1].revents & POLLIN) {
            signalfd_siginfo si;
            if (::read(sigfd.get(), &si, sizeof si) == sizeof si)
                forward(ClaimSignal{static_cast<int>(si.ssi_signo), si.ssi_code == SI_QUEUE ? si.ssi_int : -1});
        }
        if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        char buf[1024];
        ssize_t n = ::read(sock.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            vanished = true;
            return report("the pooled VM's supervisor went away before the program ended");
        }
        for (char c : std::string_view(buf, static_cast<std::size_t>(n))) {
            if (c != '\n') {
                if (line.size() < claim_line_max) line += c;
                continue;
            }
            auto e = parse_event(line);
            line.clear();
            if (!e) return report(e.error());
            // Our end is the program's end to the shell: quick, with our
            // memory torn down after (base spawn_exit_heir).
            if (e->kind == ClaimEvent::ready) (void)spawn_exit_heir("fleet-vmm-heir");
            if (e->kind == ClaimEvent::ready && tty) {
                raw.emplace(0, true);
                forward(ClaimSignal{SIGWINCH, -1});  // a resize while the claim went through: the size again
            }
            if (e->kind == ClaimEvent::stopped) {
                if (raw) raw->restore();
                ::raise(SIGSTOP);  // as a cold run stops itself
                if (raw) raw->apply();
            }
            if (e->kind != ClaimEvent::exit) continue;
            raw.reset();
            if (e->report) std::fprintf(stderr, "fleet-vmm: %s\n", e->message.c_str());
            return e->status;
        }
    }
}

// A supervisor that died before it took the VM's folder over leaves it to
// us: no record in it, or one that ended and was to be removed.
void forget(const Context& ctx, const ClaimRequest& req)
{
    auto store = Store::open(ctx.runtime_dir);
    if (!store) return;
    auto r = store->inspect(req.name);
    if (!r || (r->ended() && req.auto_remove)) (void)store->remove(req.name);
}

Result<Fd> forwarded_signals()
{
    sigset_t set;
    sigemptyset(&set);
    for (int s : {SIGTERM, SIGINT, SIGHUP, SIGUSR1, program_signal_request, SIGTSTP, SIGCONT, SIGWINCH})
        sigaddset(&set, s);
    if (::sigprocmask(SIG_BLOCK, &set, nullptr) != 0) return fail_errno("cannot block signals");
    Fd fd(::signalfd(-1, &set, SFD_CLOEXEC));
    if (!fd) return fail_errno("cannot create a signalfd");
    ::signal(SIGPIPE, SIG_IGN);
    return fd;
}

}  // namespace

std::optional<int> run_from_pool(const Context& ctx, const SupervisorOptions& o, bool verbose)
{
    std::string key = pool_key(o.spec);
    if (key.empty()) return std::nullopt;
    std::string dir = pool_dir(ctx.runtime_dir, o.image);
    auto info = read_pool_info(dir);
    if (!info || info->key != key) return std::nullopt;
    // Signals are ours to forward from before the claim: none may be lost.
    auto sigfd = forwarded_signals();
    if (!sigfd) return report(sigfd.error());
    auto sock = claim_idle(dir);
    if (!sock) {
        sigset_t set;
        ::sigprocmask(SIG_SETMASK, nullptr, &set);
        for (int s : {SIGTERM, SIGINT, SIGHUP, SIGUSR1, program_signal_request, SIGTSTP, SIGCONT, SIGWINCH})
            sigdelset(&set, s);
        ::sigprocmask(SIG_SETMASK, &set, nullptr);  // the cold supervisor sets up its own
        return std::nullopt;
    }
    const ClaimRequest req = claim_request(o, false);
    auto bytes = encode_claim(req);
    if (!bytes) return report(bytes.error());
    bool vanished = false;
    // Said before the claim goes: once it has, the program may write to the
    // same stderr at any moment, and this line would land after its words.
    if (verbose)
        std::fprintf(stderr, "fleet-vmm: %s runs in a VM from the warm pool of %s\n", req.name.c_str(),
                     o.image.c_str());
    if (auto s = send_with_fds(sock->get(), *bytes, {0, 1, 2}); !s) {
        forget(ctx, req);
        return report(s.error());
    }
    int status = stand_in(std::move(*sock), std::move(*sigfd), req.tty.has_value(), vanished);
    if (vanished) forget(ctx, req);
    return status;
}

}  // namespace fleet::cli
