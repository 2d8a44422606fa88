// fleet-router — a domain's vCPUs and the bulk statistics (the `stats`
// group of wire/procedures.def): `virsh vcpuinfo`, `vcpupin` (read),
// `emulatorpin` (read) and `virsh domstats` / virConnectGetAllDomainStats /
// virDomainListGetStats. vCPU threads come from QEMU (query-cpus-fast),
// their CPU time, last CPU and affinity from /proc; fleet pins nothing, so
// every vCPU may run on every host CPU the router may use.
//
// domstats groups fleet reports: state, cpu-total (cpu.time: QEMU's whole
// process), balloon (current = maximum = the definition's memory: no
// balloon device; rss from /proc) and vcpu. Others (interface, block,
// perf, iothread, memory, dirtyrate, vm) are omitted, as libvirt omits what
// a driver cannot tell; asked for with --enforce they are refused.
#include "dispatch.hpp"
#include "host.hpp"

#include <fleet/wire/stats_messages.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <fstream>
#include <memory>
#include <sstream>

namespace fleet::router::libvirt {

using namespace fleet::wire;

namespace {

// virDomainStatsTypes fleet serves, and GET_ALL_DOMAINS_STATS' own flags.
enum : std::uint32_t {
    stats_state = 1,
    stats_cpu_total = 2,
    stats_balloon = 4,
    stats_vcpu = 8,
    stats_served = stats_state | stats_cpu_total | stats_balloon | stats_vcpu,
    stats_enforce = 1u << 31,
    stats_filters = 0xff,  // active ... other: virConnectListAllDomains' low bits
};
constexpr std::int32_t vcpu_running = 1;                     // virVcpuState
constexpr std::uint32_t affect_live = 1, affect_config = 2;  // virDomainModificationImpact
constexpr std::int32_t max_maplen = 2048;                    // REMOTE_CPUMAP_MAX: one map's bytes

std::uint64_t memory_kib(const Call& call, const DomainDef& def)
{
    return def.memory_kib > 0 ? def.memory_kib : call.launcher().image_memory_kib(def.image);
}

// The host CPUs, as nodeinfo counts them.
std::size_t host_cpus()
{
    return static_cast<std::size_t>(std::max(Host::node_info().cpus, 1));
}

// One map of maplen bytes: bit n set if host CPU n may be used. Unknown
// affinity (empty): every host CPU.
std::string cpumap(const std::vector<bool>& affinity, std::int32_t maplen)
{
    std::string map(static_cast<std::size_t>(maplen), '\0');
    std::size_t n = affinity.empty() ? host_cpus() : affinity.size();
    for (std::size_t i = 0; i < n && i / 8 < map.size(); ++i)
        if (affinity.empty() || affinity[i]) map[i / 8] = static_cast<char>(map[i / 8] | (1 << (i % 8)));
    return map;
}

std::string hex(std::uint32_t v)
{
    std::array<char, 16> buf{};
    auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v, 16);
    return "0x" + std::string(buf.data(), ec == std::errc{} ? end : buf.data());
}

LibvirtError bad_maps(const std::string& what)
{
    return LibvirtError{err::invalid_arg, "invalid argument: " + what};
}

// The online host CPUs (/sys/devices/system/cpu/online: "0-3,6"), a bit
// each; empty if it cannot be read.
std::vector<bool> online_cpus()
{
    std::ifstream in("/sys/devices/system/cpu/online");
    std::string list;
    std::vector<bool> out;
    if (!std::getline(in, list)) return out;
    std::istringstream ranges(list);
    for (std::string r; std::getline(ranges, r, ',');) {
        unsigned long first = std::strtoul(r.c_str(), nullptr, 10), last = first;
        if (auto dash = r.find('-'); dash != std::string::npos) last = std::strtoul(r.c_str() + dash + 1, nullptr, 10);
        if (last >= 8 * 2048 || first > last) return {};
        if (out.size() <= last) out.resize(last + 1);
        for (auto i = first; i <= last; ++i) out[i] = true;
    }
    return out;
}

}  // namespace

void node_get_cpu_map(const Call& call, const NodeGetCpuMapArgs& a)
{
    auto online = online_cpus();
    if (online.empty())
        return call.fail(
            LibvirtError{err::internal_error, "internal error: cannot read /sys/devices/system/cpu/online"});
    NodeGetCpuMapRet r;
    r.ret = static_cast<std::int32_t>(std::max(online.size(), host_cpus()));
    if (a.need_map) r.cpumap = cpumap(online, static_cast<std::int32_t>((online.size() + 7) / 8));
    if (a.need_online) r.online = static_cast<std::uint32_t>(std::count(online.begin(), online.end(), true));
    call.reply(r);
}

void domain_get_vcpus(const Call& call, const DomainGetVcpusArgs& a)
{
    if (a.maxinfo < 0 || a.maplen < 0 || a.maplen > max_maplen ||
        static_cast<std::uint64_t>(a.maxinfo) * static_cast<std::uint64_t>(a.maplen) > cpumaps_max)
        return call.fail(bad_maps("maxinfo and maplen must be positive and their maps fit 8 MiB"));
    if (a.maxinfo > static_cast<std::int32_t>(vcpuinfo_max)) return call.fail(bad_maps("maxinfo over 16384"));
    with_domain(call, a.dom, [&](const DomainPtr& d) {
        if (!d->active()) return call.fail(not_running());
        call.launcher().vcpus(d->def.name, [call, a](DomainResult<std::vector<VcpuFacts>> r) {
            if (!r) return call.fail(r.error());
            DomainGetVcpusRet out;
            for (const VcpuFacts& v : *r) {
                if (out.info.size() >= static_cast<std::size_t>(a.maxinfo)) break;
                out.info.push_back(VcpuInfo{v.number, vcpu_running, v.cpu_time_ns, v.host_cpu});
                out.cpumaps += cpumap(v.affinity, a.maplen);
            }
            call.reply(out);
        });
    });
}

void domain_get_vcpu_pin_info(const Call& call, const DomainGetVcpuPinInfoArgs& a)
{
    if (a.ncpumaps < 0 || a.maplen <= 0 || a.maplen > max_maplen ||
        static_cast<std::uint64_t>(a.ncpumaps) * static_cast<std::uint64_t>(a.maplen) > cpumaps_max)
        return call.fail(bad_maps("ncpumaps and maplen must be positive and their maps fit 8 MiB"));
    with_domain(call, a.dom, [&](const DomainPtr& d) {
        if ((a.flags & affect_live) && !d->active()) return call.fail(not_running());
        const DomainDef& def = (a.flags & affect_config) && d->next_def ? *d->next_def : d->def;
        const auto n = std::min<std::int32_t>(static_cast<std::int32_t>(def.vcpus), a.ncpumaps);
        CpumapsRet r;
        for (std::int32_t i = 0; i < n; ++i) r.cpumaps += cpumap({}, a.maplen);
        r.num = n;
        call.reply(r);
    });
}

void domain_get_emulator_pin_info(const Call& call, const DomainGetEmulatorPinInfoArgs& a)
{
    if (a.maplen <= 0 || a.maplen > max_maplen) return call.fail(bad_maps("maplen must be 1 to 2048"));
    with_domain(call, a.dom, [&](const DomainPtr&) { call.reply(CpumapsRet{cpumap({}, a.maplen), 1}); });
}

// ---- domstats ---------------------------------------------------------------------

namespace {

// What one record holds before its vCPUs are known.
DomainStatsRecord base_record(const Call& call, const Domain& d, std::uint32_t groups)
{
    DomainStatsRecord rec{ref(d), {}};
    auto& p = rec.params;
    if (groups & stats_state) {
        p.push_back(TypedParam::i32("state.state", state_number(d.state)));
        p.push_back(TypedParam::i32("state.reason", reason_number(d.state, d.reason)));
    }
    if ((groups & stats_cpu_total) && d.active())
        p.push_back(TypedParam::u64("cpu.time", call.launcher().cpu_time_ns(d.def.name)));
    if (groups & stats_balloon) {
        const std::uint64_t kib = memory_kib(call, d.def);
        p.push_back(TypedParam::u64("balloon.current", kib));
        p.push_back(TypedParam::u64("balloon.maximum", kib));
        if (d.active())
            if (auto rss = call.launcher().rss_kib(d.def.name)) p.push_back(TypedParam::u64("balloon.rss", rss));
    }
    if (groups & stats_vcpu) {
        p.push_back(TypedParam::u32("vcpu.current", d.def.vcpus));
        p.push_back(TypedParam::u32("vcpu.maximum", d.def.vcpus));
    }
    return rec;
}

void add_vcpus(DomainStatsRecord& rec, const std::vector<VcpuFacts>& vcpus)
{
    for (const VcpuFacts& v : vcpus) {
        const std::string n = "vcpu." + std::to_string(v.number);
        rec.params.push_back(TypedParam::i32(n + ".state", vcpu_running));
        rec.params.push_back(TypedParam::u64(n + ".time", v.cpu_time_ns));
    }
}

// The records, answered once every running domain's vCPUs are in (each
// monitor query has its own 5 s deadline; one that fails leaves that
// domain's per-vCPU fields out, as libvirt does for a domain it cannot ask).
struct Gather {
    Call call;
    ConnectGetAllDomainStatsRet ret;
    std::size_t waiting = 0;
    explicit Gather(Call c) : call(std::move(c)) {}
    void done()
    {
        if (--waiting == 0) call.reply(ret);
    }
};

}  // namespace

void connect_get_all_domain_stats(const Call& call, const ConnectGetAllDomainStatsArgs& a)
{
    std::uint32_t groups = a.stats == 0 ? stats_served : a.stats;
    if ((a.flags & stats_enforce) && (groups & ~stats_served))
        return call.fail(LibvirtError{
            err::operation_unsupported,
            "Operation not supported: stats types " + hex(groups & ~stats_served) + " are not supported by fleet"});
    if (!a.doms.empty() && (a.flags & stats_filters))
        return call.fail(LibvirtError{err::invalid_arg, "invalid argument: filter flags with a list of domains"});
    groups &= stats_served;
    std::vector<DomainPtr> doms;
    if (a.doms.empty()) {
        for (const auto& d : call.registry().all())
            if (list_keeps(call.registry(), *d, a.flags & stats_filters)) doms.push_back(d);
    } else {
        for (const auto& want : a.doms) {
            auto d = call.registry().lookup(want.uuid, want.name);
            if (!d) return call.fail(d.error());
            doms.push_back(*d);
        }
    }
    auto g = std::make_shared<Gather>(call);
    g->waiting = 1;  // this function's own turn
    for (const auto& d : doms) {
        g->ret.records.push_back(base_record(call, *d, groups));
        if (!(groups & stats_vcpu) || !d->active()) continue;
        const std::size_t at = g->ret.records.size() - 1;
        ++g->waiting;
        call.launcher().vcpus(d->def.name, [g, at](DomainResult<std::vector<VcpuFacts>> r) {
            if (r) add_vcpus(g->ret.records[at], *r);
            g->done();
        });
    }
    g->done();
}

FLEET_SERVE_GROUP(stats)

}  // namespace fleet::router::libvirt
