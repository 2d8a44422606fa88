// fleet-router — warm pools (the `pool` setting): VMs of catalog images
// booted in advance, each waiting for one program, so that a domain start
// takes one instead of booting.
//
// The pools are the launcher's own (vmm/pool.hpp, vmm/pool_daemon.hpp): one
// pool daemon per image in <runtime>/pool/<image>/, forked by the router,
// exactly the daemon `fleet-vmm pool start` runs, so `fleet-vmm pool ls`
// lists them with their memory. A start whose spec the pool may serve
// (vmm::pool_key) claims a waiting VM with a detached claim
// (vmm/claim.hpp): the pooled supervisor becomes the domain's supervisor,
// with its console, record and ready pipe, exactly as one the router forks.
//
// Lifetime: the router keeps each configured pool's daemon running (one
// that dies is started again after a second); SIGTERM to the router ends
// its pools; a router killed with -9 leaves them, and the next router
// adopts a running pool whose key and size are what it would start, and
// ends any other pool the router started (the `router` marker in its
// folder) that its configuration no longer names.
#pragma once

#include <fleet/base/fd.hpp>
#include <fleet/base/loop.hpp>
#include <fleet/router/log.hpp>
#include <fleet/router/supervisor_launcher.hpp>
#include <fleet/vmm/pool.hpp>
#include <fleet/vmm/store.hpp>
#include <fleet/vmm/supervisor.hpp>

#include <sys/types.h>

#include <expected>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fleet::router {

struct PoolSetting {
    std::string image;                              // a catalog name
    unsigned size = 1;                              // VMs kept waiting
    vmm::PoolBoot boot = vmm::PoolBoot::automatic;  // the `pool-boot` setting
    bool operator==(const PoolSetting&) const = default;
};

inline constexpr unsigned max_pool_size = 64;

// The `pool` setting: "IMAGE[:SIZE], ..." (SIZE 1 to 64; default_size
// where it is left out; "none" or "": no pools). The error is one phrase
// without a location; the caller adds file:line.
std::expected<std::vector<PoolSetting>, std::string> parse_pool_setting(std::string_view text, unsigned default_size);

// A claimed VM: its supervisor (not the router's child) and the read end
// of the ready pipe the claim handed it.
struct ClaimedVm {
    pid_t supervisor = 0;
    Fd pidfd;
    Fd ready;
};

class WarmPools {
public:
    // `launcher` says how the router builds a domain's VM (images, QEMU,
    // stop deadline, console logs); the pools boot the VM a domain of
    // type 'qemu' naming only the image would get.
    WarmPools(Loop& loop, vmm::Store store, std::vector<PoolSetting> settings, LauncherOptions launcher, Log log);
    ~WarmPools();
    WarmPools(const WarmPools&) = delete;
    WarmPools& operator=(const WarmPools&) = delete;

    // Adopt or start every configured pool; end the router's pools that
    // are no longer configured. Does not wait for the VMs to boot.
    void start();
    // End the pools (the router stops): their waiting VMs go, claimed ones
    // run on. Waits for each daemon at most a few seconds.
    void stop();

    // Take a waiting VM for `o` (a domain's options, its store folder
    // created): nullopt when no pool holds VMs of its key or none waits.
    // stdio: a run's stage's stdin, stdout and stderr (all three or none).
    std::optional<ClaimedVm> claim(const vmm::SupervisorOptions& o, const std::vector<int>& stdio = {});

private:
    struct Pool;
    void start_pool(Pool& p);
    void watch(Pool& p);
    Result<bool> adopt(Pool& p);

    Loop& loop_;
    vmm::Store store_;
    LauncherOptions o_;
    Log log_;
    std::map<std::string, Pool> pools_;
    bool stopping_ = false;
};

}  // namespace fleet::router
