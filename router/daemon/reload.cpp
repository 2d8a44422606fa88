// fleet-router — policy reloads: the status file and `fleet-router reload`
// (reload.hpp).
#include "reload.hpp"

#include <fleet/base/fd.hpp>
#include <fleet/base/file.hpp>
#include <fleet/base/process.hpp>
#include <fleet/vmm/store.hpp>

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string_view>
#include <thread>

namespace fleet::router {

namespace {

constexpr const char* status_name = "policy-status";

struct Status {
    long generation = -1;
    bool ok = false;
    std::string message;
};

std::optional<Status> read_status(const std::string& runtime_dir)
{
    std::ifstream in(runtime_dir + "/router/" + status_name);
    if (!in) return std::nullopt;
    auto j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return std::nullopt;
    Status s;
    s.generation = j.value("generation", -1L);
    s.ok = j.value("ok", false);
    s.message = j.value("message", std::string());
    return s;
}

// The pid of the router that holds <runtime>/router.lock.
Result<pid_t> router_pid(const std::string& runtime_dir)
{
    const std::string lock = runtime_dir + "/router.lock";
    Fd fd(::open(lock.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY));
    if (!fd) return fail_errno("no fleet-router serves " + runtime_dir + ": cannot open " + lock);
    if (::flock(fd.get(), LOCK_SH | LOCK_NB) == 0) {
        ::flock(fd.get(), LOCK_UN);
        return fail("no fleet-router serves " + runtime_dir + " (nobody holds " + lock + ")");
    }
    char buf[32] = {};
    const ssize_t n = ::pread(fd.get(), buf, sizeof buf - 1, 0);
    char* end = nullptr;
    const long pid = n > 0 ? std::strtol(buf, &end, 10) : 0;
    if (pid <= 0 || (end && *end && *end != '\n')) return fail(lock + " names no pid");
    return static_cast<pid_t>(pid);
}

int usage(const std::string& message)
{
    std::fprintf(stderr,
                 "fleet-router reload: %s\nusage: fleet-router reload [--runtime-dir DIR] [--timeout SECONDS]\n",
                 message.c_str());
    return 2;
}

struct ReloadArgs {
    std::string runtime_dir;
    double timeout = 10;
};

std::optional<int> parse_args(int argc, char** argv, ReloadArgs& a)
{
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "-h" || arg == "--help") {
            std::printf(
                "usage: fleet-router reload [--runtime-dir DIR] [--timeout SECONDS]\n\n"
                "Asks the running fleet-router to read STATE/policy again (as SIGHUP does) and prints\n"
                "the result: 0 loaded; 1 refused (FILE:LINE:COLUMN: reason; the running rules stay)\n"
                "or no router answered.\n");
            return 0;
        }
        if ((arg != "--runtime-dir" && arg != "--timeout") || i + 1 == argc)
            return usage(i + 1 == argc && arg.starts_with("--") ? std::string(arg) + " needs a value"
                                                                : "unknown argument '" + std::string(arg) + "'");
        const std::string value = argv[++i];
        if (arg == "--runtime-dir") {
            a.runtime_dir = value;
            continue;
        }
        char* end = nullptr;
        a.timeout = std::strtod(value.c_str(), &end);
        if (*end || !(a.timeout > 0) || a.timeout > 3600)
            return usage("--timeout: '" + value + "' is not 0 < seconds <= 3600");
    }
    return std::nullopt;
}

}  // namespace

Result<> write_policy_status(const std::string& runtime_dir, unsigned generation, const Result<>& loaded)
{
    nlohmann::json j;
    j["generation"] = generation;
    j["ok"] = loaded.has_value();
    j["message"] = loaded ? std::string("policy loaded") : loaded.error().what();
    return replace_file(runtime_dir + "/router", status_name, j.dump() + "\n", Sync::no);
}

int reload_command(int argc, char** argv)
{
    ReloadArgs a;
    if (auto done = parse_args(argc, argv, a)) return *done;
    const std::string runtime_dir = vmm::default_runtime_dir(a.runtime_dir);
    auto pid = router_pid(runtime_dir);
    if (!pid) {
        std::fprintf(stderr, "fleet-router reload: %s\n", pid.error().what().c_str());
        return 1;
    }
    const long before = read_status(runtime_dir).value_or(Status{}).generation;
    // Through a pidfd opened before the lock is read again: the process
    // signalled is the one holding router.lock, never whoever got the pid
    // of a router that ended meanwhile.
    auto pidfd = open_pidfd(*pid);
    auto again = router_pid(runtime_dir);
    if (!pidfd || !again || *again != *pid) {
        std::fprintf(stderr, "fleet-router reload: the router of %s ended or changed while it was being signalled\n",
                     runtime_dir.c_str());
        return 1;
    }
    if (int e = send_signal(pidfd->get(), SIGHUP); e != 0) {
        std::fprintf(stderr, "fleet-router reload: cannot signal pid %d: %s\n", *pid, std::strerror(e));
        return 1;
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(a.timeout);
    while (std::chrono::steady_clock::now() < deadline) {
        if (auto s = read_status(runtime_dir); s && s->generation > before) {
            std::fprintf(s->ok ? stdout : stderr, "fleet-router reload: %s\n", s->message.c_str());
            return s->ok ? 0 : 1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::fprintf(stderr, "fleet-router reload: pid %d wrote no result in %g s\n", *pid, a.timeout);
    return 1;
}

}  // namespace fleet::router
