// fleet-router — what the host offers, as libvirt reports it: the
// capabilities XML, QEMU's version, the node's facts, the hostname.
#pragma once

#include <fleet/vmm/accel.hpp>
#include <fleet/wire/connect_messages.hpp>

#include <cstdint>
#include <string>

namespace fleet::router::libvirt {

class Host {
public:
    // accel: QEMU, the runtime folder and the catalog, for the launcher's
    // KVM verdict (vmm/accel.hpp) and QEMU's version.
    explicit Host(vmm::AccelContext accel) : accel_(std::move(accel)), qemu_(accel_.qemu) {}

    std::string capabilities_xml() const;
    // major*10^6 + minor*10^3 + micro of `qemu --version`, asked once; 0 if unknown.
    std::uint64_t hypervisor_version();
    static wire::NodeGetInfoRet node_info();
    static std::string hostname();
    static std::uint64_t lib_version();  // fleet's own, as libvirt's library version

private:
    vmm::AccelContext accel_;
    std::string qemu_;
    std::uint64_t hv_version_ = 0;
};

}  // namespace fleet::router::libvirt
