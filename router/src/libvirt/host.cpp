// fleet-router — what the host offers: the capabilities XML and the
// hypervisor's version, both honest about the one machine type fleet runs;
// the node's facts and the names libvirt asks for.
#include "host.hpp"

#include <fleet/base/process.hpp>
#include <fleet/vmm/accel.hpp>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace fleet::router::libvirt {

namespace {

std::string host_uuid()
{
    std::ifstream in("/etc/machine-id");
    std::string id;
    in >> id;
    if (id.size() == 32)
        return id.substr(0, 8) + "-" + id.substr(8, 4) + "-" + id.substr(12, 4) + "-" + id.substr(16, 4) + "-" +
               id.substr(20);
    return "00000000-0000-0000-0000-000000000000";
}

// The host as one NUMA cell (libvirt's view of a host without NUMA): its
// memory and every online CPU, one core each.
std::string topology_xml()
{
    long n = ::sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1) n = 1;
    auto mem = Host::memory();
    std::ostringstream x;
    x << "    <topology>\n"
         "      <cells num='1'>\n"
         "        <cell id='0'>\n"
         "          <memory unit='KiB'>"
      << (mem ? mem->total_kib : 0)
      << "</memory>\n"
         "          <cpus num='"
      << n << "'>\n";
    for (long i = 0; i < n; ++i)
        x << "            <cpu id='" << i << "' socket_id='0' die_id='0' core_id='" << i << "' siblings='" << i
          << "'/>\n";
    x << "          </cpus>\n"
         "        </cell>\n"
         "      </cells>\n"
         "    </topology>\n";
    return x.str();
}

}  // namespace

bool Host::kvm() const
{
    // kvm only where KVM runs the hello guest (the launcher's verdict, vmm/accel.hpp)
    auto accel = vmm::choose_accel(vmm::Accel::automatic, vmm::VmSpec{}, vmm::GuestKind::tiny, accel_);
    return accel && accel->accel == vmm::Accel::kvm;
}

std::string Host::emulator() const
{
    auto qemu = find_program(qemu_);
    return qemu ? *qemu : qemu_;
}

std::string Host::capabilities_xml() const
{
    const bool kvm = this->kvm();
    std::ostringstream x;
    x << "<capabilities>\n"
         "  <host>\n"
         "    <uuid>"
      << host_uuid()
      << "</uuid>\n"
         "    <cpu>\n"
         "      <arch>x86_64</arch>\n"
         "    </cpu>\n"
         "    <power_management/>\n"
         "    <iommu support='no'/>\n"
      << topology_xml()
      << "  </host>\n"
         "  <guest>\n"
         "    <os_type>hvm</os_type>\n"
         "    <arch name='x86_64'>\n"
         "      <wordsize>64</wordsize>\n"
         "      <emulator>"
      << emulator()
      << "</emulator>\n"
         "      <machine maxCpus='64'>microvm</machine>\n"
         "      <domain type='qemu'/>\n";
    if (kvm) x << "      <domain type='kvm'/>\n";
    x << "    </arch>\n"
         "    <features>\n"
         "      <acpi default='on' toggle='no'/>\n"
         "    </features>\n"
         "  </guest>\n"
         "</capabilities>\n";
    return x.str();
}

// QEMU's version as libvirt reports a hypervisor's: major*10^6 + minor*10^3
// + micro. Asked once (`qemu --version`), on first use.
std::uint64_t Host::hypervisor_version()
{
    if (hv_version_) return hv_version_;
    auto qemu = find_program(qemu_);
    if (!qemu) return 0;
    std::string cmd = "'" + *qemu + "' --version 2>/dev/null";
    FILE* p = ::popen(cmd.c_str(), "r");
    if (!p) return 0;
    char line[256] = {};
    if (std::fgets(line, sizeof line, p)) {
        unsigned a = 0, b = 0, c = 0;
        if (const char* v = std::strstr(line, "version "); v && std::sscanf(v + 8, "%u.%u.%u", &a, &b, &c) >= 2)
            hv_version_ = a * 1000000ull + b * 1000ull + c;
    }
    ::pclose(p);
    return hv_version_;
}

std::uint64_t Host::lib_version()
{
    unsigned major = 0, minor = 0, micro = 0;
    std::sscanf(FLEET_VERSION, "%u.%u.%u", &major, &minor, &micro);
    return major * 1000000ull + minor * 1000ull + micro;
}

std::string Host::hostname()
{
    char buf[256] = {};
    ::gethostname(buf, sizeof buf - 1);
    return buf;
}

std::optional<Host::Memory> Host::memory()
{
    std::ifstream in("/proc/meminfo");
    if (!in) return std::nullopt;
    Memory m;
    int seen = 0;
    std::string key;
    std::uint64_t value = 0;
    while (in >> key >> value) {
        std::uint64_t* slot = key == "MemTotal:"  ? &m.total_kib
                              : key == "MemFree:" ? &m.free_kib
                              : key == "Buffers:" ? &m.buffers_kib
                              : key == "Cached:"  ? &m.cached_kib
                                                  : nullptr;
        if (slot) {
            *slot = value;
            ++seen;
        }
        in.ignore(1 << 10, '\n');
    }
    if (seen != 4 || m.total_kib == 0) return std::nullopt;
    return m;
}

wire::NodeGetInfoRet Host::node_info()
{
    wire::NodeGetInfoRet r;
    r.model = std::string("x86_64");
    std::ifstream mem("/proc/meminfo");
    std::string key;
    std::uint64_t value = 0;
    while (mem >> key >> value) {
        if (key == "MemTotal:") {
            r.memory = value;
            break;
        }
        mem.ignore(1 << 10, '\n');
    }
    long n = ::sysconf(_SC_NPROCESSORS_ONLN);
    r.cpus = static_cast<std::int32_t>(n > 0 ? n : 1);
    std::ifstream cpu("/proc/cpuinfo");
    std::string line;
    while (std::getline(cpu, line)) {
        if (line.starts_with("cpu MHz")) {
            if (auto c = line.find(':'); c != std::string::npos) r.mhz = std::atoi(line.c_str() + c + 1);
            break;
        }
    }
    r.nodes = 1;
    r.sockets = 1;
    r.cores = r.cpus;
    r.threads = 1;
    return r;
}

}  // namespace fleet::router::libvirt
