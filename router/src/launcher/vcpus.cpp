// fleet-router — a running VM's vCPUs: QEMU names each vCPU's host thread
// (query-cpus-fast on the public monitor); /proc/PID/task/TID/stat says
// where that thread last ran and its CPU time, sched_getaffinity which host
// CPUs it may use. Nothing is pinned by fleet, so that is every CPU the
// router may use, as libvirt reports an unpinned vCPU.
#include <fleet/router/supervisor_launcher.hpp>

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace fleet::router {

namespace {

// Fields 14, 15 (utime, stime: clock ticks) and 39 (processor) of a
// thread's stat line, counted as proc(5) does.
void read_thread_stat(pid_t qemu, int tid, VcpuFacts& v)
{
    std::ifstream in("/proc/" + std::to_string(qemu) + "/task/" + std::to_string(tid) + "/stat");
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string stat = ss.str();
    auto close = stat.rfind(')');
    if (close == std::string::npos || close + 2 > stat.size()) return;
    std::istringstream fields(stat.substr(close + 2));
    std::string field;
    std::uint64_t ticks = 0;
    for (int i = 3; i <= 39 && fields >> field; ++i) {
        if (i == 14 || i == 15) ticks += std::strtoull(field.c_str(), nullptr, 10);
        if (i == 39) v.host_cpu = static_cast<int>(std::strtol(field.c_str(), nullptr, 10));
    }
    long hz = ::sysconf(_SC_CLK_TCK);
    v.cpu_time_ns = ticks * (1000000000ull / static_cast<std::uint64_t>(hz > 0 ? hz : 100));
}

std::vector<bool> affinity_of(int tid)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    if (::sched_getaffinity(tid, sizeof set, &set) != 0) return {};
    long n = ::sysconf(_SC_NPROCESSORS_CONF);
    std::vector<bool> out(static_cast<std::size_t>(std::clamp(n, 1L, static_cast<long>(CPU_SETSIZE))));
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = CPU_ISSET(i, &set);
    return out;
}

// query-cpus-fast's answer: [{"cpu-index": N, "thread-id": T, ...}, ...].
DomainResult<std::vector<VcpuFacts>> parse_cpus(const vmm::json& reply, pid_t qemu)
{
    if (!reply.is_array()) return domain_fail(Errc::failed, "query-cpus-fast: not a list");
    std::vector<VcpuFacts> out;
    for (const auto& cpu : reply) {
        if (!cpu.is_object()) return domain_fail(Errc::failed, "query-cpus-fast: an entry is not an object");
        auto index = cpu.find("cpu-index");
        auto thread = cpu.find("thread-id");
        if (index == cpu.end() || !index->is_number_unsigned() || thread == cpu.end() || !thread->is_number_unsigned())
            return domain_fail(Errc::failed, "query-cpus-fast: an entry lacks cpu-index or thread-id");
        VcpuFacts v;
        v.number = index->get<unsigned>();
        v.thread = thread->get<int>();
        read_thread_stat(qemu, v.thread, v);
        v.affinity = affinity_of(v.thread);
        out.push_back(std::move(v));
    }
    std::sort(out.begin(), out.end(), [](const VcpuFacts& a, const VcpuFacts& b) { return a.number < b.number; });
    return out;
}

}  // namespace

void SupervisorLauncher::vcpus(const std::string& name, std::function<void(DomainResult<std::vector<VcpuFacts>>)> done)
{
    const pid_t qemu = qemu_pid(name);
    if (qemu <= 0) return done(domain_fail(Errc::invalid_state, "domain is not running"));
    monitor(name, "query-cpus-fast", [qemu, done = std::move(done)](DomainResult<vmm::json> r) {
        if (!r) return done(std::unexpected(r.error()));
        done(parse_cpus(*r, qemu));
    });
}

std::optional<NetworkFacts> SupervisorLauncher::network() const
{
    if (!o_.network) return std::nullopt;
    const NetworkOptions& n = o_.network->options();
    return NetworkFacts{n.bridge, n.ipv4, n.ipv6 == "none" ? "" : n.ipv6};
}

}  // namespace fleet::router
