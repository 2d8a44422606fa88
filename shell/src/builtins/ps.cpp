// fleet shell — `ps [-a]`: the VMs of fsh's jobs, or (-a) every VM: the
// router's domains when a router is in use, else the local launcher's.
//
// A job's VMs are the router's domains of its runs (named fsh-PID-N-I,
// PID a process of the job: the run's stand-in, router_run.hpp), and the
// local launcher's records whose supervisor (the `fleet-vmm run` process)
// is one of the job's processes or descends from one (a pipeline stage is
// a forked fsh that starts the launcher).
#include "builtins.hpp"

#include <fleet/shell/router_session.hpp>
#include <fleet/vmm/exit.hpp>
#include <fleet/vmm/store.hpp>

#include <fstream>
#include <set>

namespace fleet::shell {

namespace {

// The parent of pid from /proc/PID/stat (0 if it cannot be read).
pid_t parent_of(pid_t pid)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), {});
    auto close = stat.rfind(')');
    if (close == std::string::npos) return 0;
    char state = 0;
    long ppid = 0;
    if (std::sscanf(stat.c_str() + close + 1, " %c %ld", &state, &ppid) != 2) return 0;
    return static_cast<pid_t>(ppid);
}

// The job (its id) that pid is, or descends from; 0 if none.
int job_of(const std::map<pid_t, int>& job_pids, pid_t pid)
{
    for (int depth = 0; pid > 1 && depth < 4; ++depth, pid = parent_of(pid)) {
        auto it = job_pids.find(pid);
        if (it != job_pids.end()) return it->second;
    }
    return 0;
}

Result<std::vector<vmm::VmRecord>> launcher_vms(const Shell& sh)
{
    auto store = vmm::Store::open(vmm::default_runtime_dir(sh.settings.runtime_dir));
    if (!store) return std::unexpected(store.error());
    return store->list();
}

// The pid in a run's domain name (fsh-PID-N-I); 0 for any other name.
pid_t run_pid(const std::string& name)
{
    if (!name.starts_with("fsh-")) return 0;
    long pid = 0;
    std::size_t i = 4;
    for (; i < name.size() && i < 14 && name[i] >= '0' && name[i] <= '9'; ++i) pid = pid * 10 + (name[i] - '0');
    return i > 4 && i < name.size() && name[i] == '-' ? static_cast<pid_t>(pid) : 0;
}

// The router fsh's runs go to, if one is in use or this host has one.
std::vector<RouterDomain> router_job_domains(Shell& sh)
{
    RouterSession* session = sh.settings.routers;
    if (session == nullptr) return {};
    if (session->chosen() || session->current()) {
        auto client = session->client();
        if (!client) return {};
        auto d = (*client)->domains();
        return d ? *d : std::vector<RouterDomain>{};
    }
    auto local =
        connect_local_router(vmm::default_runtime_dir(sh.settings.runtime_dir), std::chrono::milliseconds(2000));
    if (!local) return {};
    auto d = local->client->domains();
    return d ? *d : std::vector<RouterDomain>{};
}

int job_vms(Shell& sh)
{
    std::map<pid_t, int> job_pids;
    for (const auto& job : sh.jobs)
        for (const auto& p : job->procs)
            if (!p.done) job_pids[p.pid] = job->id;
    std::vector<std::vector<std::string>> rows{{"JOB", "NAME", "STATE", "IMAGE"}};
    if (!job_pids.empty()) {
        auto vms = launcher_vms(sh);
        if (!vms) {
            sh.error("ps: " + vms.error().what());
            return 1;
        }
        for (const auto& vm : *vms) {
            if (vm.ended()) continue;
            if (int id = job_of(job_pids, vm.supervisor_pid))
                rows.push_back({"%" + std::to_string(id), vm.name, std::string(vmm::to_string(vm.state)), vm.image});
        }
        for (const auto& d : router_job_domains(sh)) {
            pid_t pid = run_pid(d.name);
            if (int id = pid > 0 ? job_of(job_pids, pid) : 0)
                rows.push_back({"%" + std::to_string(id), d.name, d.state, d.image});
        }
    }
    out(format_columns(rows));
    return 0;
}

int router_domains(Shell& sh, RouterSession& session, RouterClient& client)
{
    auto domains = client.domains();
    if (!domains) {
        session.drop();
        sh.error("ps: " + session.current()->name + ": " + domains.error().what());
        return 1;
    }
    std::vector<std::vector<std::string>> rows{{"NAME", "ID", "STATE", "IMAGE"}};
    for (const auto& d : *domains) rows.push_back({d.name, d.id >= 0 ? std::to_string(d.id) : "-", d.state, d.image});
    out(format_columns(rows));
    return 0;
}

int all_vms(Shell& sh)
{
    RouterSession* session = sh.settings.routers;
    if (session != nullptr) {
        auto client = session->client();
        if (client) return router_domains(sh, *session, **client);
        if (session->chosen()) {
            sh.error("ps: " + client.error().message);
            return 1;
        }
    }
    // No router anywhere: what the local launcher runs (fleet-vmm ls).
    auto vms = launcher_vms(sh);
    if (!vms) {
        sh.error("ps: " + vms.error().what());
        return 1;
    }
    std::vector<std::vector<std::string>> rows{{"NAME", "PID", "STATE", "IMAGE"}};
    for (const auto& vm : *vms)
        rows.push_back({vm.name, std::to_string(vm.supervisor_pid), std::string(vmm::to_string(vm.state)), vm.image});
    out(format_columns(rows));
    return 0;
}

}  // namespace

int builtin_ps(Shell& sh, Args& args)
{
    if (args.size() == 1) return job_vms(sh);
    if (args.size() == 2 && args[1] == "-a") return all_vms(sh);
    return usage_error(sh, args, "usage: ps [-a]");
}

}  // namespace fleet::shell
