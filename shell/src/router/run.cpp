// fleet shell — a run through the router: its domains' definitions, the
// RUN call, and the relay of its ends (router_run.hpp).
#include "exec_internal.hpp"  // write_all

#include <fleet/base/terminal.hpp>
#include <fleet/router/domain.hpp>
#include <fleet/shell/router_run.hpp>
#include <fleet/vmm/spec.hpp>
#include <fleet/wire/connect_messages.hpp>
#include <fleet/wire/domain_messages.hpp>
#include <fleet/wire/message.hpp>

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

namespace fleet::shell {

namespace {

using wire::Header;
using wire::MessageType;
using wire::Packet;
using wire::RemoteProc;
using wire::Status;

void say(const std::string& line)
{
    (void)write_all(2, "fsh: " + line + "\n");
}

constexpr std::size_t stdin_chunk = 64 * 1024;
constexpr std::size_t max_unsent = 256 * 1024;  // queued for the router before fsh stops reading stdin

// The relay's state: the connection, the three streams, each stage's status.
class Relay {
public:
    // raw: the terminal the run's only stage has (fleet:terminal), or null.
    Relay(RouterClient& client, std::vector<wire::NonnullDomain> doms, bool pipefail, RawTerminal* raw)
        : c_(client), doms_(std::move(doms)), status_(doms_.size()), pipefail_(pipefail), raw_(raw)
    {
    }

    Result<> open_streams(bool forward_stdin);
    // The terminal's size to the program's (SIGWINCH, or a resize missed).
    void send_terminal_size();
    // Until every stage ended and stdout and stderr reached their ends.
    int run(int signal_fd);

private:
    Result<> queue(Result<std::string> packet);
    Result<> flush_some(bool wait);
    void on_packet(const Packet& p);
    void suspend(bool pause);
    bool done() const;
    Header stream_header(std::uint32_t serial) const
    {
        return Header{wire::remote_program,
                      wire::protocol_version,
                      wire::to_int(RemoteProc::fleet_domain_open_stdio),
                      MessageType::call,
                      serial,
                      Status::ok};
    }

    RouterClient& c_;
    std::vector<wire::NonnullDomain> doms_;
    std::vector<std::optional<int>> status_;
    bool pipefail_;
    RawTerminal* raw_;
    std::uint32_t serial_[3] = {0, 0, 0};
    bool reading_stdin_ = false;
    bool ended_[3] = {true, false, false};  // stdout and stderr: their end of file came
    bool broken_pipe_ = false;              // fd 1 or 2 would take no more
    std::string unsent_;
    std::deque<Packet> early_;  // came with the replies
};

Result<> Relay::queue(Result<std::string> packet)
{
    if (!packet) return std::unexpected(packet.error());
    auto sealed = c_.seal(*packet);
    if (!sealed) return std::unexpected(sealed.error());
    unsent_ += *sealed;
    return {};
}

// Write what the router will take now (wait: until all of it is written).
Result<> Relay::flush_some(bool wait)
{
    while (!unsent_.empty()) {
        ssize_t n = ::send(c_.fd(), unsent_.data(), unsent_.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            unsent_.erase(0, static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!wait) return {};
            pollfd p{c_.fd(), POLLOUT, 0};
            if (::poll(&p, 1, 5000) <= 0) return fail("the router takes no more data");
            continue;
        }
        return fail("lost the router", errno);
    }
    return {};
}

Result<> Relay::open_streams(bool forward_stdin)
{
    // The three opens go at once; their answers come in order.
    for (int fd = 0; fd < 3; ++fd) {
        auto sent =
            c_.send_call(RemoteProc::fleet_domain_open_stdio, wire::FleetDomainOpenStdioArgs{doms_.front(), fd, 0});
        if (!sent) return std::unexpected(sent.error());
        serial_[fd] = *sent;  // the stream's packets carry its call's serial
    }
    for (int fd = 0; fd < 3; ++fd) {
        auto ok = c_.reply<wire::Void>(RemoteProc::fleet_domain_open_stdio, serial_[fd]);
        if (!ok) return fail("cannot open the run's fd " + std::to_string(fd) + ": " + ok.error().message);
    }
    early_ = c_.take_unsolicited();
    if (forward_stdin) {
        reading_stdin_ = true;
        ended_[0] = false;
    } else {
        // No stdin: its end at once.
        if (auto q = queue(wire::encode_stream(stream_header(serial_[0]), Status::ok, {})); !q) return q;
    }
    return {};
}

bool Relay::done() const
{
    bool all = std::all_of(status_.begin(), status_.end(), [](const auto& s) { return s.has_value(); });
    return all && ended_[1] && ended_[2];
}

void Relay::on_packet(const Packet& p)
{
    const Header& h = p.header;
    if (wire::is_ping(h)) {
        (void)queue(wire::encode_pong());
        return;
    }
    if (h.type == MessageType::message && h.proc == wire::to_int(RemoteProc::fleet_domain_event_exited)) {
        auto m = wire::decode_payload<wire::FleetDomainEventExitedMsg>(p.payload);
        if (!m) return;
        for (std::size_t i = 0; i < doms_.size(); ++i)
            if (doms_[i].name == m->dom.name) status_[i] = m->status;
        return;
    }
    if (h.type != MessageType::stream) return;  // replies to suspend/resume, other events
    for (int fd = 1; fd <= 2; ++fd) {
        if (h.serial != serial_[fd] || ended_[fd]) continue;
        if (h.status == Status::continue_ && !p.payload.empty()) {
            if (!broken_pipe_ && !write_all(fd, p.payload)) broken_pipe_ = fd == 1;
            return;
        }
        if (h.status == Status::error) say("the run's fd " + std::to_string(fd) + " broke");
        ended_[fd] = true;
        // Finished on our side too, as virStreamFinish does after end of file.
        if (h.status == Status::continue_) (void)queue(wire::encode_stream(stream_header(serial_[fd]), Status::ok, {}));
        return;
    }
    if (h.serial == serial_[0] && h.status == Status::error) reading_stdin_ = false;  // the router ended stdin
}

// Ctrl-Z: pause every stage still running; SIGCONT: resume them.
void Relay::suspend(bool pause)
{
    for (std::size_t i = 0; i < doms_.size(); ++i) {
        if (status_[i]) continue;
        auto proc = pause ? RemoteProc::domain_suspend : RemoteProc::domain_resume;
        (void)queue(wire::encode_call(proc, c_.next_serial(), wire::DomainArgs{doms_[i]}));
    }
}

// SIGWINCH: the run's terminal takes the size of fsh's.
void Relay::send_terminal_size()
{
    auto size = terminal_size(0);
    if (!raw_ || status_.front() || !size) return;
    (void)queue(wire::encode_call(RemoteProc::fleet_domain_resize_terminal, c_.next_serial(),
                                  wire::FleetDomainResizeTerminalArgs{doms_.front(), size->rows, size->cols, 0}));
}

int Relay::run(int signal_fd)
{
    for (auto& p : early_) on_packet(p);
    early_.clear();
    std::string reply;
    while (!done()) {
        if (auto f = flush_some(false); !f) {
            say(f.error().message);
            return 125;
        }
        if (broken_pipe_) return 141;  // nobody reads the run's output: SIGPIPE's status, as a shell sees it
        pollfd fds[3] = {{c_.fd(), static_cast<short>(POLLIN | (unsent_.empty() ? 0 : POLLOUT)), 0},
                         {signal_fd, POLLIN, 0},
                         {reading_stdin_ && unsent_.size() < max_unsent ? 0 : -1, POLLIN, 0}};
        if (::poll(fds, 3, -1) < 0) {
            if (errno == EINTR) continue;
            say(std::string("poll: ") + std::strerror(errno));
            return 125;
        }
        if (fds[1].revents & POLLIN) {
            signalfd_siginfo si{};
            if (::read(signal_fd, &si, sizeof si) == sizeof si) {
                int sig = static_cast<int>(si.ssi_signo);
                if (sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU) {
                    suspend(true);
                    (void)flush_some(true);
                    if (raw_) raw_->restore();  // the shell gets its terminal back as it left it
                    ::raise(SIGSTOP);           // the stop the default action would have been
                } else if (sig == SIGCONT) {
                    suspend(false);
                    if (raw_ && !raw_->active() && raw_->apply()) send_terminal_size();  // resized while stopped?
                } else if (sig == SIGWINCH) {
                    send_terminal_size();
                } else {
                    return -sig;  // the caller closes the connection and dies of it
                }
            }
        }
        if (fds[2].revents & (POLLIN | POLLHUP | POLLERR)) {
            char buf[stdin_chunk];
            ssize_t n = ::read(0, buf, sizeof buf);
            if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
            if (n > 0) {
                (void)queue(wire::encode_stream(stream_header(serial_[0]), Status::continue_,
                                                std::string_view(buf, static_cast<std::size_t>(n))));
            } else {  // end of file (or an error reading it): the run's stdin ends
                reading_stdin_ = false;
                (void)queue(wire::encode_stream(stream_header(serial_[0]), Status::ok, {}));
            }
        }
        if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            char buf[65536];
            ssize_t n = ::read(c_.fd(), buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                say("lost the router in the middle of the run" +
                    (n < 0 ? std::string(": ") + std::strerror(errno) : std::string()));
                return 125;
            }
            auto packets = c_.unseal(std::string_view(buf, static_cast<std::size_t>(n)), reply);
            if (!packets) {
                say(packets.error().message);
                return 125;
            }
            if (!reply.empty()) unsent_ += std::exchange(reply, {});
            for (const auto& p : *packets) on_packet(p);
        }
    }
    (void)flush_some(true);
    std::vector<int> statuses;
    for (const auto& s : status_) statuses.push_back(*s);
    return run_status(statuses, pipefail_);
}

[[noreturn]] void die_of(int sig)
{
    ::signal(sig, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    ::sigprocmask(SIG_UNBLOCK, &set, nullptr);
    ::raise(sig);
    ::_exit(128 + sig);
}

}  // namespace

int run_status(const std::vector<int>& statuses, bool pipefail)
{
    if (statuses.empty()) return 0;
    if (pipefail)
        for (auto it = statuses.rbegin(); it != statuses.rend(); ++it)
            if (*it != 0) return *it;
    return statuses.back();
}

namespace {

// The command's FLEET_ACCEL (unset: auto), read as fleet-vmm reads it.
Result<vmm::Accel> accel_of(const VmCommand& command)
{
    auto a = vmm::parse_accel(command.accel.empty() ? "auto" : command.accel);
    if (!a) return fail(std::string(accel_variable) + ": '" + command.accel + "' is not kvm, tcg or auto");
    return a;
}

}  // namespace

Result<std::string> stage_xml(const VmCommand& command, const std::string& name, bool router_kvm,
                              const std::optional<router::DomainTerminal>& terminal)
{
    router::DomainDef def;
    if (!command.refused.empty()) return fail(command.refused);
    auto accel = accel_of(command);
    if (!accel) return std::unexpected(accel.error());
    bool kvm = *accel == vmm::Accel::kvm || (*accel == vmm::Accel::automatic && router_kvm);
    def.type = kvm ? "kvm" : "qemu";
    def.name = name;
    def.uuid = router::random_uuid();
    def.image = command.image;
    def.args = command.args;
    for (const auto& e : command.env) {
        auto eq = e.find('=');
        def.env.emplace_back(e.substr(0, eq), eq == std::string::npos ? "" : e.substr(eq + 1));
    }
    def.workdir = command.workdir;
    def.terminal = terminal;
    for (const auto& s : command.shares)
        def.filesystems.push_back(router::Filesystem{s.host, s.at, !command.share_writable});
    if (!command.hypervisor.empty()) {
        auto q = router::parse_hypervisor_quota(command.hypervisor);
        if (!q) return fail(std::string(hypervisor_variable) + ": " + q.error().message);
        def.hypervisor = *q;
    }
    return router::format_domain_xml(def);
}

int run_stages(const RouterUri& uri, const std::string& runtime_dir, const std::vector<VmCommand>& stages,
               const RunOptions& o)
{
    // Ctrl-Z and SIGCONT wait (blocked, pending) until the relay can suspend
    // and resume the run's domains; until the run has started, SIGINT,
    // SIGTERM and SIGHUP kill this process at once, and with its connection
    // the router destroys whatever of the run has started.
    sigset_t stops, set;
    sigemptyset(&stops);
    for (int s : {SIGTSTP, SIGTTIN, SIGTTOU, SIGCONT}) sigaddset(&stops, s);
    struct Mask {  // the caller's mask again on the way out
        sigset_t old;
        ~Mask() { ::sigprocmask(SIG_SETMASK, &old, nullptr); }
    } mask{};
    ::sigprocmask(SIG_BLOCK, &stops, &mask.old);
    auto client = RouterClient::connect(uri, runtime_dir, o.timeout);
    if (!client) {
        say("cannot reach the router: " + client.error().message);
        return 125;
    }
    RouterClient& c = **client;
    c.keep_unsolicited();
    // A stage left to the host's best accelerator is 'kvm' where the router
    // offers it (its capabilities list a kvm domain only where KVM boots).
    bool router_kvm = false;
    if (std::any_of(stages.begin(), stages.end(), [](const VmCommand& s) {
            auto a = accel_of(s);
            return a && *a == vmm::Accel::automatic;
        })) {
        auto caps = c.call<wire::ConnectGetCapabilitiesRet>(RemoteProc::connect_get_capabilities, wire::Void{});
        router_kvm = caps && caps->capabilities.find("<domain type='kvm'") != std::string::npos;
    }
    // The terminal of a Linux command alone on fsh's, by fleet-vmm's rule.
    std::optional<router::DomainTerminal> terminal;
    if (o.terminal && stages.size() == 1 && stages[0].linux && vmm::in_front_of_terminal()) {
        vmm::Terminal t = vmm::terminal_here();
        terminal = router::DomainTerminal{t.rows, t.cols, t.stderr_too};
    }
    wire::FleetDomainRunArgs args;
    for (std::size_t i = 0; i < stages.size(); ++i) {
        auto xml = stage_xml(stages[i], o.name_prefix + "-" + std::to_string(i), router_kvm, terminal);
        if (!xml) {
            say(xml.error().message);
            return 125;
        }
        args.xml.push_back(std::move(*xml));
    }
    // Until every stage is ready: a Linux image boots for seconds under TCG.
    c.set_timeout(o.start_timeout);
    auto ran = c.call<wire::FleetDomainRunRet>(RemoteProc::fleet_domain_run, args);
    c.set_timeout(o.timeout);
    if (!ran) {
        say(ran.error().message);
        return 125;
    }
    std::vector<wire::NonnullDomain> doms(ran->doms.begin(), ran->doms.end());
    if (doms.size() != stages.size()) {
        say("the router answered the run with " + std::to_string(doms.size()) + " domains for " +
            std::to_string(stages.size()) + " stages");
        return 125;
    }
    // From here the relay takes the signals a job gets, through a signalfd.
    set = stops;
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&set, s);
    if (terminal) sigaddset(&set, SIGWINCH);
    ::sigprocmask(SIG_BLOCK, &set, nullptr);
    Fd signal_fd(::signalfd(-1, &set, SFD_CLOEXEC));
    std::optional<RawTerminal> raw;
    if (terminal) raw.emplace(0, true);
    Relay relay(c, std::move(doms), o.pipefail, raw ? &*raw : nullptr);
    if (auto ok = relay.open_streams(o.forward_stdin); !ok) {
        say(ok.error().message);
        return 125;
    }
    if (raw && raw->apply()) {        // from here the keys are the program's: Ctrl-C reaches its terminal as a byte
        auto now = terminal_size(0);  // resized while it booted?
        if (now && (now->rows != terminal->rows || now->cols != terminal->cols)) relay.send_terminal_size();
    }
    int status = relay.run(signal_fd.get());
    if (raw) raw->restore();
    if (status < 0) {
        client->reset();  // the connection closes: the router destroys the run
        die_of(-status);
    }
    return status;
}

}  // namespace fleet::shell
