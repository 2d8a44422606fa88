// fleet — warm pools: the folder, the key, claiming (see pool.hpp).
#include <fleet/vmm/pool.hpp>

#include <fleet/base/file.hpp>
#include <fleet/base/process.hpp>
#include <fleet/base/socket.hpp>
#include <fleet/vmm/snapshot.hpp>

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;
using nlohmann::json;

namespace fleet::vmm {

namespace {

// Path, inode, size and mtime: a rebuilt kernel is another kernel.
std::string identity(const std::string& path)
{
    if (path.empty()) return "-";
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return path + "@missing";
    return path + "@" + std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) + ":" +
           std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
}

Result<json> read_json(const std::string& path)
{
    std::ifstream in(path);
    if (!in) return fail_errno("cannot read " + path);
    std::stringstream ss;
    ss << in.rdbuf();
    json j = json::parse(ss.str(), nullptr, false);
    if (!j.is_object()) return fail(path + " is not a JSON object");
    return j;
}

}  // namespace

std::string pool_root(const std::string& runtime_dir)
{
    return runtime_dir + "/pool";
}

std::string pool_dir(const std::string& runtime_dir, const std::string& image)
{
    // Image names are catalog names ([A-Za-z0-9_.-]); anything else is not a pool.
    return pool_root(runtime_dir) + "/" + (validate_name(image) ? image : std::string(".invalid-name"));
}

std::string pool_key(const VmSpec& s)
{
    if (!s.shares.empty() || !s.disks.empty() || !s.nets.empty() || !s.hypervisor_fds.empty() || s.rng ||
        !s.workdir.empty() || s.start_paused)
        return "";
    std::string key = "kernel=" + identity(s.kernel) + "\ninitrd=" + identity(s.initrd);
    key += "\ncmdline=" + kernel_cmdline(s) + "\nmemory=" + std::to_string(s.memory_mib);
    key += "\nvcpus=" + std::to_string(s.vcpus) + "\naccel=" + std::string(to_string(s.accel));
    key += "\ncpu=" + s.cpu + "\nstdio=" + std::string(to_string(s.stdio)) + "\ndrain=" + (s.drain ? "1" : "0");
    return key;
}

void settle_pool_boot(VmSpec& spec, PoolBoot how)
{
    switch (how) {
        case PoolBoot::automatic:  // the image's
            break;
        case PoolBoot::snapshot:
            spec.snapshot = true;
            break;
        case PoolBoot::cold:
            spec.snapshot = false;
            break;
    }
}

Result<PoolBoot> parse_pool_boot(std::string_view word)
{
    if (word == "auto") return PoolBoot::automatic;
    if (word == "snapshot") return PoolBoot::snapshot;
    if (word == "cold") return PoolBoot::cold;
    return fail("'" + std::string(word) + "' is not a pool boot: auto, snapshot or cold");
}

std::string pool_boot(const VmSpec& spec)
{
    // Its accelerator may be settled only as each VM launches (a router's
    // pool): which one it is does not change whether a snapshot may serve.
    VmSpec settled = spec;
    if (settled.accel == Accel::automatic) settled.accel = Accel::tcg;
    if (settled.cpu.empty()) settled.cpu = "max";
    return settled.snapshot && snapshot_unfit(settled).empty() ? "snapshot" : "cold";
}

Result<PoolInfo> read_pool_info(const std::string& dir)
{
    auto j = read_json(dir + "/pool.json");
    if (!j) return std::unexpected(j.error());
    PoolInfo p;
    p.image = j->value("image", "");
    p.size = j->value("size", 0u);
    p.pid = j->value("pid", 0);
    p.pid_start = j->value("pid_start", std::uint64_t{0});
    p.key = j->value("key", "");
    p.memory_mib = j->value("memory_mib", std::uint64_t{0});
    p.accel = j->value("accel", "");
    p.boot = j->value("boot", "cold");
    if (p.pid <= 0 || p.key.empty()) return fail(dir + "/pool.json is incomplete");
    return p;
}

Result<> write_pool_info(const std::string& dir, const PoolInfo& p)
{
    json j{{"image", p.image},           {"size", p.size}, {"pid", p.pid},
           {"pid_start", p.pid_start},   {"key", p.key},   {"accel", p.accel},
           {"memory_mib", p.memory_mib}, {"boot", p.boot}};
    return replace_file(dir, "pool.json", j.dump(2) + "\n", Sync::no);
}

Result<SlotInfo> read_slot(const std::string& dir, const std::string& slot)
{
    auto j = read_json(dir + "/slots/" + slot + "/slot.json");
    if (!j) return std::unexpected(j.error());
    return SlotInfo{j->value("pid", 0), j->value("pid_start", std::uint64_t{0}), j->value("supervisor_pid", 0)};
}

Result<> write_slot(const std::string& dir, const std::string& slot, const SlotInfo& s)
{
    json j{{"pid", s.pid}, {"pid_start", s.pid_start}, {"supervisor_pid", s.supervisor_pid}};
    return replace_file(dir + "/slots/" + slot, "slot.json", j.dump() + "\n", Sync::no);
}

std::vector<std::string> idle_slots(const std::string& dir)
{
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir + "/idle", ec)) {
        std::string name = e.path().filename().string();
        if (validate_name(name)) out.push_back(name);
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::optional<Fd> claim_idle(const std::string& dir)
{
    auto idle = idle_slots(dir);
    if (idle.empty()) return std::nullopt;
    // Racing claimants start at different entries, so most first tries win.
    std::size_t start = static_cast<std::size_t>(::getpid()) % idle.size();
    for (std::size_t i = 0; i < idle.size(); ++i) {
        const std::string& slot = idle[(start + i) % idle.size()];
        std::string taken = dir + "/taken/" + slot + "." + std::to_string(::getpid());
        if (::rename((dir + "/idle/" + slot).c_str(), taken.c_str()) != 0) continue;  // another claimant's
        auto fd = connect_unix(taken, "pooled VM " + slot);
        ::unlink(taken.c_str());
        if (fd) return std::move(*fd);  // else its VM is gone: the entry was stale
    }
    return std::nullopt;
}

Result<bool> pool_alive(const std::string& dir, bool reconcile)
{
    std::string path = dir + "/lock";
    Fd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW));
    if (!fd) return errno == ENOENT ? Result<bool>(false) : fail_errno("cannot open " + path);
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK) return true;
        return fail_errno("cannot lock " + path);
    }
    if (!reconcile) return false;
    std::error_code ec;
    for (const char* sub : {"idle", "taken", "slots"}) fs::remove_all(dir + "/" + sub, ec);
    ::unlink((dir + "/pool.json").c_str());
    return false;
}

int end_pool_daemon(int pidfd, const std::string& dir, std::chrono::milliseconds wait)
{
    if (int e = send_signal(pidfd, SIGTERM); e != 0) return e;
    if (!wait_ended(pidfd, static_cast<int>(wait.count()))) {
        send_signal(pidfd, SIGKILL);
        (void)pool_alive(dir, true);
    }
    return 0;
}

}  // namespace fleet::vmm
