// fleet-router — the DomainRegistry: every domain the router knows, its
// definition and its run state, and the transitions between states.
//
// Definitions persist in a DefinitionStore (<state>/domains), each with its
// owner beside it (<name>.owner); the boot manifest is <state>/boot; a
// running domain's live XML (with its id) is <runtime>/router/live/<name>.xml
// (and <name>.owner), which the next router adopts. VMs are run by a
// Launcher. Every domain has an owner (the Principal that defined or
// created it, never taken from its XML): only the owner or an administrator
// may change it, and the quotas count per owner. Errors are DomainErrors
// and events are Lifecycle values: the registry knows nothing of libvirt's
// numbers or wording.
#pragma once

#include <fleet/base/loop.hpp>
#include <fleet/router/domain.hpp>
#include <fleet/router/domain_error.hpp>
#include <fleet/router/launcher.hpp>
#include <fleet/router/limits.hpp>
#include <fleet/router/log.hpp>
#include <fleet/router/principal.hpp>

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fleet::router {

enum class RunState { shutoff, running, paused };

// Why a domain is in its state.
enum class Reason {
    unknown,
    booted,     // running: started
    unpaused,   // running: resumed
    user,       // paused: by a client (or started paused)
    shutdown,   // shutoff: it powered off, or was shut down
    destroyed,  // shutoff: destroyed
    crashed,    // shutoff: died, or was killed behind the router's back
    failed,     // shutoff: could not start
};

// What happened to a domain: the events clients may subscribe to.
enum class Lifecycle {
    defined_added,
    defined_updated,
    undefined,
    started,
    suspended,
    resumed,
    stopped_shutdown,
    stopped_destroyed,
    stopped_crashed,
    stopped_failed,
};

// "started", "stopped_destroyed", ...: for logs.
std::string_view to_string(Lifecycle e);

class DomainRegistry;

struct Domain {
    DomainDef def;
    Principal owner = Principal::router();  // who defined or created it
    bool persistent = false;
    std::optional<DomainDef> next_def;  // redefined while running: used at the next start
    int id = -1;                        // >= 0 while it runs
    RunState state = RunState::shutoff;
    Reason reason = Reason::unknown;
    bool starting = false;  // launched, not ready yet
    // A pause (true) or resume (false) asked of the launcher and not yet
    // answered, the last one asked: what the state will be. A resume right
    // after a pause (Ctrl-Z, then fg at once) goes after it, not refused.
    std::optional<bool> pausing;
    unsigned pause_asks = 0;
    int exit_status = 0;  // how its last run ended, as a shell's $? (set before the stopped event)
    // A run's stage (create with stdio): its pipes until the launcher has
    // its copies. A stage lives no longer than its client: a router that
    // adopts one (its live record says run) destroys it.
    std::shared_ptr<RunStdio> run_stdio;
    bool run_stage = false;

    [[nodiscard]] bool active() const { return id >= 0; }

private:
    friend class DomainRegistry;
    enum class Stop { none, shutdown, destroy };
    Stop stop_ = Stop::none;                                    // what the router asked for
    std::vector<std::function<void(DomainResult<>)>> started_;  // waiting for ready
    std::vector<std::function<void()>> stopped_;                // waiting for the end
};

using DomainPtr = std::shared_ptr<Domain>;

struct RegistryOptions {
    std::string state_dir;  // the boot manifest: <state_dir>/boot
    std::string live_dir;   // running domains' live XML: <runtime>/router/live
    Quotas quotas{};        // resolved (Quotas::resolved)
};

class DomainRegistry {
public:
    using Observer = std::function<void(const Domain&, Lifecycle)>;
    using Done = std::function<void(DomainResult<>)>;

    DomainRegistry(Loop& loop, Launcher& launcher, DefinitionStore defs, RegistryOptions options, Log log);
    ~DomainRegistry();
    DomainRegistry(const DomainRegistry&) = delete;
    DomainRegistry& operator=(const DomainRegistry&) = delete;

    // Every lifecycle event, synchronously, as it happens (a stopped event
    // still carries the id the domain ran under).
    void on_event(Observer observer) { observer_ = std::move(observer); }

    // ---- Start-up and the end (registry.cpp, live.cpp, manifest.cpp) ----
    void load_definitions();  // every <state>/domains/*.xml that parses
    void adopt();             // the running VMs an earlier router left
    void boot_manifest();     // start the manifest's domains, one after another
    void stop();              // the router is stopping: no more boots, VMs keep running

    // ---- Lookups ----
    DomainResult<DomainPtr> by_name(const std::string& name) const;
    DomainResult<DomainPtr> by_uuid(const Uuid& uuid) const;
    DomainResult<DomainPtr> by_id(int id) const;
    // What a client holds (a uuid, and a name for the message): by uuid,
    // as libvirtd does, so a domain redefined under its name is the same one.
    DomainResult<DomainPtr> lookup(const Uuid& uuid, const std::string& name) const;
    std::vector<DomainPtr> all() const;  // sorted by name

    // ---- Ownership and quotas (quota.cpp) ----
    // The owner, or an administrator; anyone else is Errc::denied.
    DomainResult<> may_change(const Domain& d, const Principal& by) const;

    // ---- Definitions ----
    // by: who asks; a new domain is theirs, a redefined one keeps its owner.
    DomainResult<DomainPtr> define(const std::string& xml, const Principal& by = Principal::router());
    DomainResult<> undefine(const DomainPtr& d);
    bool autostart(const Domain& d) const;  // in the boot manifest?
    DomainResult<> set_autostart(const DomainPtr& d, bool on);

    // ---- Running (run.cpp) ----
    // A transient domain: started at once, forgotten when it stops. stdio:
    // a run's stage (its program's stdin, stdout and stderr), else none.
    void create(const std::string& xml, bool paused, std::function<void(DomainResult<DomainPtr>)> done,
                const Principal& by = Principal::router(), std::shared_ptr<RunStdio> stdio = nullptr);
    // done once the guest is ready, or failed to start.
    void start(const DomainPtr& d, bool paused, Done done);
    // Asks the guest to power off; its end comes later.
    DomainResult<> shutdown(const DomainPtr& d);
    // done once the VM is gone.
    void destroy(const DomainPtr& d, Done done);
    void suspend(const DomainPtr& d, bool pause, Done done);
    // Its program's terminal is now rows x cols (fleet:terminal; each 1 to
    // DomainTerminal::max_size, as the caller has checked).
    DomainResult<> resize_terminal(const DomainPtr& d, std::uint16_t rows, std::uint16_t cols);

private:
    void emit(const Domain& d, Lifecycle event);
    void on_ready(const DomainPtr& d, DomainResult<> r);
    void on_end(const DomainPtr& d, const Ending& how);
    Launcher::Watch watch(const DomainPtr& d);
    DomainResult<> check_new(const DomainDef& def) const;
    // Quotas (quota.cpp): one more definition; one more domain for owner;
    // a start of d.
    DomainResult<> check_definitions() const;
    DomainResult<> check_user_domains(const Principal& owner) const;
    DomainResult<> check_start_quota(const Domain& d) const;
    std::uint64_t memory_mib(const DomainDef& def) const;
    // Owners on disk (owners.cpp): beside the definition, or (live) beside
    // the live record.
    DomainResult<> save_owner(const std::string& name, const Principal& owner, bool live) const;
    void drop_owner(const std::string& name, bool live) const;
    Principal load_owner(const std::string& dir, const std::string& name) const;
    // Live records (live.cpp).
    void save_live(const Domain& d) const;
    void drop_live(const std::string& name) const;
    // <live>/NAME.xml; ".run": the marker of a run's stage.
    std::string live_path(const std::string& name, std::string_view suffix = ".xml") const;
    DomainPtr adopt_one(const std::string& name);
    // The boot manifest (manifest.cpp).
    std::vector<std::string> read_manifest() const;
    DomainResult<> write_manifest(const std::vector<std::string>& names) const;
    void boot_next(std::shared_ptr<std::vector<std::string>> names, std::size_t i);

    Loop& loop_;
    Launcher& launcher_;
    DefinitionStore defs_;
    RegistryOptions o_;
    Log log_;
    Observer observer_;
    std::map<std::string, DomainPtr> domains_;
    int next_id_ = 1;
    bool stopping_ = false;
};

// The launcher's verdict and what the router asked for -> the domain's
// shutoff reason (the rule, pure, for tests).
Reason stop_reason(EndKind how, bool asked_shutdown, bool asked_destroy);

}  // namespace fleet::router
