// fleet-router — the daemon's state: domains, clients, listeners, one Loop.
//
// Every domain that runs has its own supervisor process (the launcher's,
// vmm/supervisor.hpp: the same one `fleet-vmm start` uses), forked by the
// router and watched through a pidfd. The supervisor owns QEMU; the router
// owns the definitions, the libvirt façade and the events. A router that
// stops or dies leaves its VMs running; the next one adopts them from the
// runtime folder (router/live/<name>.xml beside the launcher's vms/<name>/).
#pragma once

#include <fleet/router/domain.hpp>
#include <fleet/vmm/catalog.hpp>
#include <fleet/base/fd.hpp>
#include <fleet/base/loop.hpp>
#include <fleet/base/sink.hpp>
#include <fleet/vmm/store.hpp>
#include <fleet/wire/assembler.hpp>
#include <fleet/wire/message.hpp>
#include <fleet/wire/types.hpp>

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace fleet::router {

struct Options {
    std::string runtime_dir;  // resolved
    std::string state_dir;    // resolved
    std::string images;       // catalog folders flag (colon-separated), may be empty
    std::string socket_path;  // empty: none
    std::string tcp_host = "127.0.0.1";
    int tcp_port = 16509;     // -1: no TCP listener
    bool allow_remote = false;
    bool mdns = true;
    std::string mdns_name;    // default "fleet on HOSTNAME"
    bool autostart = true;
    std::string qemu = "qemu-system-x86_64";
    std::chrono::milliseconds stop_deadline{10000};
    bool verbose = false;
};

// An error as the client will see it: a libvirt error code and domain.
struct RpcError {
    std::int32_t code;
    std::string message;
    std::int32_t domain = wire::errdom::qemu;
};
template <class T = void>
using RpcResult = std::expected<T, RpcError>;
inline std::unexpected<RpcError> rpc_fail(std::int32_t code, std::string message)
{
    return std::unexpected(RpcError{code, std::move(message)});
}

struct Domain {
    DomainDef def;
    bool persistent = false;
    std::optional<DomainDef> next_def;  // redefined while running: used at the next start
    mutable std::optional<std::string> image_memory_for;  // the image whose default memory is cached
    mutable std::uint64_t image_memory_kib = 0;
    int id = -1;
    std::int32_t state = wire::state::shutoff;
    std::int32_t reason = wire::reason::unknown;

    // While it runs.
    bool starting = false;
    enum class Stop { none, shutdown, destroy } stop = Stop::none;
    pid_t supervisor = 0;
    std::uint64_t supervisor_start = 0;
    bool own_child = false;
    pid_t qemu = 0;
    Fd pidfd;
    OpId pidfd_op = 0;
    Fd ready;
    OpId ready_op = 0;
    std::string ready_line;
    std::vector<std::function<void(RpcResult<>)>> started;  // waiting for ready
    std::vector<std::function<void()>> stopped;             // waiting for the end

    [[nodiscard]] bool active() const { return id >= 0; }
    [[nodiscard]] wire::NonnullDomain ref() const;
};

class Connection;
class MdnsGlue;

// ps shows this instead of the router's command line (forked supervisors).
void set_process_title(const std::string& title);

class Router {
public:
    Router(Loop& loop, Options options, vmm::Store store, DefinitionStore defs);
    ~Router();

    // Load definitions, adopt running VMs, listen, announce, boot the manifest.
    Result<> start();
    // Stop listening and withdraw the announcement; VMs keep running.
    void shutdown();
    [[nodiscard]] bool done() const { return done_; }
    void log(const std::string& line) const;
    void debug(const std::string& line) const;

    Loop& loop() { return loop_; }
    const Options& options() const { return o_; }

    // ---- Domains (domains.cpp) ----
    RpcResult<std::shared_ptr<Domain>> by_name(const std::string& name) const;
    RpcResult<std::shared_ptr<Domain>> by_uuid(const Uuid& uuid) const;
    RpcResult<std::shared_ptr<Domain>> by_id(int id) const;
    RpcResult<std::shared_ptr<Domain>> lookup(const wire::NonnullDomain& ref) const;
    std::vector<std::shared_ptr<Domain>> all() const;  // sorted by name

    RpcResult<std::shared_ptr<Domain>> define(const std::string& xml);
    RpcResult<> undefine(const std::shared_ptr<Domain>& d);
    void create(const std::string& xml, bool paused, std::function<void(RpcResult<std::shared_ptr<Domain>>)> done);
    void start_domain(const std::shared_ptr<Domain>& d, bool paused, std::function<void(RpcResult<>)> done);
    RpcResult<> shutdown_domain(const std::shared_ptr<Domain>& d);
    void destroy(const std::shared_ptr<Domain>& d, std::function<void(RpcResult<>)> done);
    void suspend(const std::shared_ptr<Domain>& d, bool pause, std::function<void(RpcResult<>)> done);
    bool autostart(const Domain& d) const;
    RpcResult<> set_autostart(const std::shared_ptr<Domain>& d, bool on);
    std::string console_socket(const Domain& d) const;
    std::uint64_t cpu_time_ns(const Domain& d) const;
    std::uint64_t memory_kib(const Domain& d) const;

    // ---- Events ----
    void emit(const Domain& d, std::int32_t event, std::int32_t detail);
    void add_connection(std::shared_ptr<Connection> c);
    void drop_connection(Connection* c);

    // ---- Host facts (host.cpp) ----
    std::string capabilities_xml() const;
    std::uint64_t hypervisor_version();

private:
    Result<> listen();
    void accept_on(int fd);
    void load_definitions();
    void adopt();
    void boot_manifest();
    void boot_next(std::shared_ptr<std::vector<std::string>> names, std::size_t i);
    std::vector<std::string> read_manifest() const;
    Result<> write_manifest(const std::vector<std::string>& names) const;

    RpcResult<> launch(const std::shared_ptr<Domain>& d, bool paused);
    void watch_ready(const std::shared_ptr<Domain>& d);
    void on_ready_line(const std::shared_ptr<Domain>& d);
    void watch_end(const std::shared_ptr<Domain>& d);
    void on_end(const std::shared_ptr<Domain>& d);
    void save_live(const Domain& d) const;
    void forget(const std::shared_ptr<Domain>& d);  // a transient domain that stopped
    std::string live_dir() const;  // <runtime>/router/live
    std::string live_path(const std::string& name) const;
    void reap_children();
    void watch_signals();
    Result<> write_info() const;

    Loop& loop_;
    Options o_;
    vmm::Store store_;
    DefinitionStore defs_;
    std::vector<std::string> catalog_;
    std::map<std::string, std::shared_ptr<Domain>> domains_;
    int next_id_ = 1;
    std::vector<Fd> listeners_;
    std::vector<OpId> accept_ops_;
    std::set<std::shared_ptr<Connection>> connections_;
    Fd signal_fd_;
    OpId signal_op_ = 0;
    Fd lock_fd_;
    std::uint64_t hv_version_ = 0;
    int tcp_port_bound_ = -1;
    bool done_ = false;
    std::unique_ptr<MdnsGlue> mdns_;
};

// One client: its packets in, replies and events out, its event
// registrations and its console streams.
class Connection : public std::enable_shared_from_this<Connection> {
public:
    Connection(Router& router, Fd fd, std::string peer);
    ~Connection();
    void start();
    void close();
    [[nodiscard]] bool closed() const { return closed_; }

    void send(Result<std::string> packet);
    void reply_error(const wire::Header& call, const RpcError& e);
    template <class T>
    void reply(const wire::Header& call, const T& ret)
    {
        send(wire::encode_reply(call, ret));
    }
    void lifecycle_event(const Domain& d, std::int32_t event, std::int32_t detail);
    void domain_ended(const std::string& name);  // end its console streams

private:
    friend struct Rpc;
    struct Registration {
        std::int32_t event_id;
        std::optional<Uuid> dom;
    };
    struct Stream;

    void read_more();
    void on_packet(wire::Packet p);
    void on_stream_packet(const wire::Packet& p);
    void open_console(const wire::Header& call, const std::shared_ptr<Domain>& d);
    void pump_console(std::uint32_t serial);
    void hold_input(std::uint32_t serial);
    void watch_stall(std::uint32_t serial, std::size_t queued_before);
    void end_stream(std::uint32_t serial);

    Router& router_;
    Fd fd_;
    std::string peer_;
    std::unique_ptr<Sink> out_;
    wire::PacketAssembler in_;
    OpId read_op_ = 0;
    bool closed_ = false;
    bool input_held_ = false;  // reading paused: a guest is not reading its console input
    OpId stall_timer_ = 0;
    bool open_ = false;
    bool read_only_ = false;
    std::map<std::int32_t, Registration> callbacks_;  // callback id -> registration
    std::set<std::int32_t> old_style_;                // event ids (old registration form)
    std::int32_t next_callback_ = 1;
    std::map<std::uint32_t, std::unique_ptr<Stream>> streams_;
};

}  // namespace fleet::router
