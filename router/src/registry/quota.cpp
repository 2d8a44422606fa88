// fleet-router — the registry's ownership and quotas: who may change a
// domain, how much each owner may hold and run, and the host's budget
// (limits.hpp). Counted from the domains themselves, never a running tally
// that could drift.
#include <fleet/router/registry.hpp>

#include <unistd.h>

#include <algorithm>

namespace fleet::router {

Quotas Quotas::resolved() const
{
    Quotas q = *this;
    long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
    std::uint64_t ram_mib = pages > 0 && page > 0 ? static_cast<std::uint64_t>(pages) * page / (1u << 20) : 1024;
    long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
    unsigned host_cpus = cpus > 0 ? static_cast<unsigned>(cpus) : 1;
    if (q.host_memory_mib == 0) q.host_memory_mib = ram_mib > 1024 ? ram_mib - 512 : ram_mib / 2;
    if (q.user_memory_mib == 0) q.user_memory_mib = std::max<std::uint64_t>(q.host_memory_mib / 2, 64);
    if (q.domain_vcpus == 0) q.domain_vcpus = host_cpus;
    if (q.user_vcpus == 0) q.user_vcpus = 4 * host_cpus;
    return q;
}

namespace {

std::unexpected<DomainError> over(const std::string& message)
{
    return domain_fail(Errc::limit, message);
}

}  // namespace

DomainResult<> DomainRegistry::may_change(const Domain& d, const Principal& by) const
{
    if (by.administrator() || by == d.owner) return {};
    return domain_fail(Errc::denied, "domain '" + d.def.name + "' belongs to " + d.owner.describe() +
                                         "; only its owner or an administrator may change it");
}

std::uint64_t DomainRegistry::memory_mib(const DomainDef& def) const
{
    std::uint64_t kib = def.memory_kib > 0 ? def.memory_kib : launcher_.image_memory_kib(def.image);
    return (kib + 1023) / 1024;
}

DomainResult<> DomainRegistry::check_definitions() const
{
    auto defined = std::count_if(domains_.begin(), domains_.end(), [](const auto& e) { return e.second->persistent; });
    if (static_cast<std::size_t>(defined) >= o_.quotas.max_definitions)
        return over("the router holds " + std::to_string(defined) + " definitions, the most allowed (max-definitions)");
    return {};
}

DomainResult<> DomainRegistry::check_user_domains(const Principal& owner) const
{
    if (owner.administrator()) return {};
    auto mine =
        std::count_if(domains_.begin(), domains_.end(), [&](const auto& e) { return e.second->owner == owner; });
    if (static_cast<std::size_t>(mine) >= o_.quotas.user_domains)
        return over(owner.describe() + " has " + std::to_string(mine) +
                    " domains, the most allowed (user-max-domains)");
    return {};
}

DomainResult<> DomainRegistry::check_start_quota(const Domain& d) const
{
    const Quotas& q = o_.quotas;
    const std::string name = "domain '" + d.def.name + "'";
    if (d.def.vcpus > q.domain_vcpus)
        return over(name + " asks for " + std::to_string(d.def.vcpus) + " vCPUs; a domain may have at most " +
                    std::to_string(q.domain_vcpus) + " (max-domain-vcpus)");
    const std::uint64_t mem = memory_mib(d.def);
    std::uint64_t host_used = 0, user_used = 0;
    std::size_t user_running = 0;
    unsigned user_vcpus = 0;
    for (const auto& [n, other] : domains_) {
        if (!other->active() || other.get() == &d) continue;
        std::uint64_t m = memory_mib(other->def);
        host_used += m;
        if (other->owner == d.owner) {
            user_used += m;
            user_vcpus += other->def.vcpus;
            ++user_running;
        }
    }
    if (mem > q.host_memory_mib || host_used + mem > q.host_memory_mib)
        return over(name + " needs " + std::to_string(mem) + " MiB of memory; the host's budget for guests is " +
                    std::to_string(q.host_memory_mib) + " MiB, " + std::to_string(host_used) +
                    " MiB of it in use (host-memory-budget)");
    if (d.owner.administrator()) return {};
    const std::string who = d.owner.describe();
    if (user_running >= q.user_running)
        return over(who + " runs " + std::to_string(user_running) + " domains, the most allowed (user-max-running)");
    if (user_used + mem > q.user_memory_mib)
        return over(name + " needs " + std::to_string(mem) + " MiB; " + who + " uses " + std::to_string(user_used) +
                    " MiB of a quota of " + std::to_string(q.user_memory_mib) + " MiB (user-max-memory)");
    if (user_vcpus + d.def.vcpus > q.user_vcpus)
        return over(name + " asks for " + std::to_string(d.def.vcpus) + " vCPUs; " + who + " runs " +
                    std::to_string(user_vcpus) + " of a quota of " + std::to_string(q.user_vcpus) +
                    " (user-max-vcpus)");
    return {};
}

}  // namespace fleet::router
