// fleet — runtime folder (see store.hpp).
#include <fleet/vmm/store.hpp>

#include <fleet/vmm/spec.hpp>

#include <fleet/base/file.hpp>
#include <fleet/base/process.hpp>

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;
using nlohmann::json;

namespace fleet::vmm {

namespace {

json to_json(const VmRecord& r)
{
    json j{{"name", r.name},
           {"state", to_string(r.state)},
           {"image", r.image},
           {"kernel", r.kernel},
           {"accel", to_string(r.accel)},
           {"cpu", r.cpu},
           {"memory_mib", r.memory_mib},
           {"vcpus", r.vcpus},
           {"pid", r.pid},
           {"pid_start", r.pid_start},
           {"supervisor_pid", r.supervisor_pid},
           {"supervisor_start", r.supervisor_start},
           {"started_at_ms", r.started_at_ms},
           {"ended_at_ms", r.ended_at_ms},
           {"auto_remove", r.auto_remove},
           {"detached", r.detached},
           {"tty", r.tty},
           {"networks", r.networks},
           {"exit_status", r.exit_status},
           {"exit_message", r.exit_message}};
    if (r.ended()) j["exit_reason"] = to_string(r.exit_reason);
    return j;
}

// The words of a record: only the spellings exit.hpp and spec.hpp define.
Result<> parse_words(const json& j, VmRecord& r)
{
    auto state = j.at("state").get<std::string>();
    auto s = parse_vm_state(state);
    if (!s) return fail("state record has an unknown state '" + state + "'");
    r.state = *s;
    auto accel = j.value("accel", "tcg");
    // Records of launches that failed, written before the record was typed,
    // left the accelerator empty; such a VM never ran, and tcg is what the
    // typed record says for it too.
    if (accel.empty() && r.ended()) accel = "tcg";
    auto a = parse_accel(accel);
    if (!a || *a == Accel::automatic) return fail("state record has an unknown accelerator '" + accel + "'");
    r.accel = *a;
    if (r.ended()) {
        auto reason = j.value("exit_reason", "");
        auto e = parse_exit_reason(reason);
        if (!e) return fail("state record has an unknown exit reason '" + reason + "'");
        r.exit_reason = *e;
    }
    return {};
}

Result<VmRecord> from_json(const json& j)
{
    if (!j.is_object()) return fail("state record is not a JSON object");
    VmRecord r;
    try {
        r.name = j.at("name").get<std::string>();
        if (auto w = parse_words(j, r); !w) return std::unexpected(w.error());
        r.image = j.value("image", "");
        r.kernel = j.value("kernel", "");
        r.cpu = j.value("cpu", "");
        r.memory_mib = j.value("memory_mib", std::uint64_t{0});
        r.vcpus = j.value("vcpus", 1u);
        r.pid = j.value("pid", 0);
        r.pid_start = j.value("pid_start", std::uint64_t{0});
        r.supervisor_pid = j.value("supervisor_pid", 0);
        r.supervisor_start = j.value("supervisor_start", std::uint64_t{0});
        r.started_at_ms = j.value("started_at_ms", std::int64_t{0});
        r.ended_at_ms = j.value("ended_at_ms", std::int64_t{0});
        r.auto_remove = j.value("auto_remove", false);
        r.detached = j.value("detached", false);
        r.tty = j.value("tty", false);
        r.networks = j.value("networks", std::vector<std::string>{});
        r.exit_status = j.value("exit_status", 0);
        r.exit_message = j.value("exit_message", "");
    } catch (const json::exception& e) {
        return fail(std::string("state record is malformed: ") + e.what());
    }
    return r;
}

std::int64_t now_ms()
{
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace

std::string default_runtime_dir(const std::string& flag)
{
    if (!flag.empty()) return flag;
    if (const char* e = std::getenv("FLEET_RUNTIME_DIR"); e && *e) return e;
    if (::geteuid() == 0) return "/run/fleet";
    if (const char* x = std::getenv("XDG_RUNTIME_DIR"); x && *x) return std::string(x) + "/fleet";
    return "/tmp/fleet-" + std::to_string(::geteuid());
}

Result<Store> Store::open(const std::string& runtime_dir)
{
    // Neither folder may be one another user planted (a predictable
    // /tmp/fleet-UID) or can write into: records name pids to signal.
    if (auto r = ensure_private_dir(runtime_dir, 0700); !r) return fail("unsafe runtime folder: " + r.error().what());
    std::string root = (fs::path(runtime_dir) / "vms").string();
    if (auto r = ensure_private_dir(root, 0700); !r) return fail("unsafe runtime folder: " + r.error().what());
    return Store(root);
}

// Every name that becomes a path is checked first: "../x" must never name a
// folder outside the store.
std::string Store::dir(const std::string& name) const
{
    return validate_name(name) ? root_ + "/" + name : root_ + "/.invalid-name";
}

std::string Store::path(const std::string& name, const char* file) const
{
    return dir(name) + "/" + file;
}

Result<Fd> Store::lock() const
{
    std::string p = root_ + "/.lock";
    Fd fd(::open(p.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd) return fail_errno("cannot open " + p);
    if (::flock(fd.get(), LOCK_EX) != 0) return fail_errno("cannot lock " + p);
    return fd;
}

Result<> Store::create(const std::string& name) const
{
    if (auto v = validate_name(name); !v) return v;
    auto held = lock();
    if (!held) return std::unexpected(held.error());
    if (::mkdir(dir(name).c_str(), 0700) == 0) return {};
    if (errno != EEXIST) return fail_errno("cannot create " + dir(name));
    // A record that never got written belongs to a claim whose process died.
    auto existing = read(name);
    std::string what = existing ? " (" + std::string(to_string(existing->state)) + ")" : "";
    return fail("VM '" + name + "' already exists" + what + "; pick another --name or remove it with 'fleet-vmm rm " +
                name + "'");
}

Result<VmRecord> Store::read(const std::string& name) const
{
    if (auto v = validate_name(name); !v) return std::unexpected(v.error());
    std::ifstream in(path(name, "state.json"));
    if (!in) {
        std::error_code ec;
        if (!fs::is_directory(dir(name), ec)) return fail("no VM named '" + name + "' (see 'fleet-vmm ls')");
        return fail("VM '" + name + "' has no state record yet");
    }
    std::stringstream text;
    text << in.rdbuf();
    json j = json::parse(text.str(), nullptr, false);
    if (j.is_discarded()) return fail("state record of VM '" + name + "' is not valid JSON");
    auto r = from_json(j);
    if (r && r->name != name) return fail("state record of VM '" + name + "' names another VM ('" + r->name + "')");
    return r;
}

Result<> Store::write(const VmRecord& record) const
{
    // The runtime folder is tmpfs and rebuilt each boot: only the atomic
    // replacement matters, not surviving power loss.
    return replace_file(dir(record.name), "state.json",
                        to_json(record).dump(2, ' ', false, json::error_handler_t::replace) + "\n", Sync::no);
}

Result<VmRecord> Store::reconcile(VmRecord r) const
{
    if (r.ended()) return r;
    if (r.supervisor_pid > 0 && process_alive(r.supervisor_pid, r.supervisor_start)) return r;
    // The owner is gone without writing an ending. Settle it under the lock,
    // re-reading in case the owner wrote its ending just now.
    auto held = lock();
    if (!held) return std::unexpected(held.error());
    auto fresh = read(r.name);
    if (!fresh) return fresh;
    if (fresh->ended()) return fresh;
    r = *fresh;
    if (r.pid > 0 && process_alive(r.pid, r.pid_start)) {
        // Its QEMU survived the owner (it should not: it gets SIGKILL when
        // the owner dies). Leave it running; it is still listed.
        return r;
    }
    r.state = VmState::exited;
    r.exit_reason = ExitReason::crashed;
    r.exit_status = 137;
    r.exit_message = "VM '" + r.name + "' died with its supervisor";
    r.ended_at_ms = now_ms();
    ::unlink(path(r.name, "qmp.sock").c_str());
    ::unlink(path(r.name, "console.sock").c_str());
    if (auto w = write(r); !w) return std::unexpected(w.error());
    return r;
}

Result<VmRecord> Store::inspect(const std::string& name) const
{
    auto r = read(name);
    if (!r) return r;
    return reconcile(std::move(*r));
}

Result<std::vector<VmRecord>> Store::list() const
{
    std::vector<VmRecord> out;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(root_, ec)) {
        std::string name = entry.path().filename().string();
        if (name.starts_with(".") || !entry.is_directory()) continue;
        auto r = inspect(name);
        if (r) out.push_back(std::move(*r));
        // A folder without a record is a claim in progress: not listed yet.
    }
    if (ec) return fail("cannot list " + root_ + ": " + ec.message());
    std::sort(out.begin(), out.end(), [](const VmRecord& a, const VmRecord& b) { return a.name < b.name; });
    return out;
}

Result<> Store::remove(const std::string& name) const
{
    if (auto v = validate_name(name); !v) return v;
    auto held = lock();
    if (!held) return std::unexpected(held.error());
    std::error_code ec;
    fs::remove_all(dir(name), ec);
    if (ec) return fail("cannot remove " + dir(name) + ": " + ec.message());
    return {};
}

namespace {
constexpr std::string_view retired_prefix = ".retired-";
}

Result<std::string> Store::retire(const std::string& name) const
{
    if (auto v = validate_name(name); !v) return std::unexpected(v.error());
    static std::atomic<unsigned> serial{0};
    std::string to = root_ + "/" + std::string(retired_prefix) + name + "-" + std::to_string(::getpid()) + "-" +
                     std::to_string(serial++);
    auto held = lock();
    if (!held) return std::unexpected(held.error());
    if (::rename(dir(name).c_str(), to.c_str()) != 0) return fail_errno("cannot retire " + dir(name));
    return to;
}

void Store::remove_retired(const std::string& path) const
{
    // Only ever a folder retire() made: a name in this store's root with
    // the prefix, so a wrong argument cannot delete anything else.
    auto slash = path.rfind('/');
    if (slash == std::string::npos || path.substr(0, slash) != root_ ||
        !std::string_view(path).substr(slash + 1).starts_with(retired_prefix))
        return;
    std::error_code ec;
    fs::remove_all(path, ec);
}

void Store::sweep_retired() const
{
    std::error_code ec;
    std::vector<std::string> found;
    for (const auto& entry : fs::directory_iterator(root_, ec)) {
        std::string name = entry.path().filename().string();
        if (name.starts_with(retired_prefix)) found.push_back(root_ + "/" + name);
    }
    for (const auto& p : found) remove_retired(p);
}

Result<> Store::clear(const std::string& name) const
{
    if (auto v = validate_name(name); !v) return v;
    auto held = lock();
    if (!held) return std::unexpected(held.error());
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir(name), ec)) {
        fs::remove_all(entry.path(), ec);
        if (ec) break;
    }
    if (ec) return fail("cannot empty " + dir(name) + ": " + ec.message());
    return {};
}

}  // namespace fleet::vmm
