// fleet-router — what the host offers: the capabilities XML and the
// hypervisor's version, both honest about the one machine type fleet runs.
#include "router.hpp"

#include <fleet/vmm/accel.hpp>
#include <fleet/base/process.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace fleet::router {

namespace {

std::string host_uuid()
{
    std::ifstream in("/etc/machine-id");
    std::string id;
    in >> id;
    if (id.size() == 32) return id.substr(0, 8) + "-" + id.substr(8, 4) + "-" + id.substr(12, 4) + "-" + id.substr(16, 4) + "-" + id.substr(20);
    return "00000000-0000-0000-0000-000000000000";
}

}  // namespace

std::string Router::capabilities_xml() const
{
    auto qemu = find_program(o_.qemu);
    bool kvm = vmm::probe_kvm().has_value();
    std::ostringstream x;
    x << "<capabilities>\n"
         "  <host>\n"
         "    <uuid>" << host_uuid() << "</uuid>\n"
         "    <cpu>\n"
         "      <arch>x86_64</arch>\n"
         "    </cpu>\n"
         "    <power_management/>\n"
         "    <iommu support='no'/>\n"
         "  </host>\n"
         "  <guest>\n"
         "    <os_type>hvm</os_type>\n"
         "    <arch name='x86_64'>\n"
         "      <wordsize>64</wordsize>\n"
         "      <emulator>" << (qemu ? *qemu : o_.qemu) << "</emulator>\n"
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
std::uint64_t Router::hypervisor_version()
{
    if (hv_version_) return hv_version_;
    auto qemu = find_program(o_.qemu);
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

}  // namespace fleet::router
