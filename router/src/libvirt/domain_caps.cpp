// fleet-router — `virsh domcapabilities`: what a microvm domain may ask
// for, as libvirt's domainCapabilities XML. Only what fleet honours is
// marked supported (docs/domain-xml.md has each choice): virtio-blk disks,
// virtio-rng, 9p shares, no display, no PCI host devices, no firmware.
#include "host.hpp"

#include <sstream>

namespace fleet::router::libvirt {

std::string Host::domain_capabilities_xml(bool kvm_type) const
{
    std::ostringstream x;
    x << "<domainCapabilities>\n"
         "  <path>"
      << emulator()
      << "</path>\n"
         "  <domain>"
      << (kvm_type ? "kvm" : "qemu")
      << "</domain>\n"
         "  <machine>microvm</machine>\n"
         "  <arch>x86_64</arch>\n"
         "  <vcpu max='"
      << microvm_max_vcpus
      << "'/>\n"
         "  <iothreads supported='no'/>\n"
         "  <os supported='yes'>\n"
         "    <enum name='firmware'/>\n"
         "    <loader supported='no'/>\n"
         "  </os>\n"
         "  <cpu>\n"
         "    <mode name='host-passthrough' supported='yes'/>\n"
         "    <mode name='maximum' supported='yes'/>\n"
         "    <mode name='host-model' supported='no'/>\n"
         "    <mode name='custom' supported='no'/>\n"
         "  </cpu>\n"
         "  <memoryBacking supported='no'/>\n"
         "  <devices>\n"
         "    <disk supported='yes'>\n"
         "      <enum name='diskDevice'>\n"
         "        <value>disk</value>\n"
         "      </enum>\n"
         "      <enum name='bus'>\n"
         "        <value>virtio</value>\n"
         "      </enum>\n"
         "      <enum name='model'/>\n"
         "    </disk>\n"
         "    <graphics supported='no'/>\n"
         "    <video supported='yes'>\n"
         "      <enum name='modelType'>\n"
         "        <value>none</value>\n"
         "      </enum>\n"
         "    </video>\n"
         "    <hostdev supported='no'/>\n"
         "    <rng supported='yes'>\n"
         "      <enum name='model'>\n"
         "        <value>virtio</value>\n"
         "      </enum>\n"
         "      <enum name='backendModel'>\n"
         "        <value>random</value>\n"
         "      </enum>\n"
         "    </rng>\n"
         "    <filesystem supported='yes'>\n"
         "      <enum name='driverType'>\n"
         "        <value>path</value>\n"
         "      </enum>\n"
         "    </filesystem>\n"
         "    <tpm supported='no'/>\n"
         "    <redirdev supported='no'/>\n"
         "    <channel supported='no'/>\n"
         "  </devices>\n"
         "  <features>\n"
         "    <gic supported='no'/>\n"
         "    <vmcoreinfo supported='no'/>\n"
         "    <genid supported='no'/>\n"
         "    <sev supported='no'/>\n"
         "  </features>\n"
         "</domainCapabilities>\n";
    return x.str();
}

}  // namespace fleet::router::libvirt
