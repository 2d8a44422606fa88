// fleet-router — what the host offers, as libvirt reports it: the
// capabilities XML, QEMU's version, the node's facts, the hostname.
#pragma once

#include <fleet/vmm/accel.hpp>
#include <fleet/wire/connect_messages.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace fleet::router::libvirt {

// The most vCPUs fleet offers one microvm domain (domcapabilities,
// virConnectGetMaxVcpus).
inline constexpr int microvm_max_vcpus = 64;

class Host {
public:
    // accel: QEMU, the runtime folder and the catalog, for the launcher's
    // KVM verdict (vmm/accel.hpp) and QEMU's version.
    explicit Host(vmm::AccelContext accel) : accel_(std::move(accel)), qemu_(accel_.qemu) {}

    std::string capabilities_xml() const;
    // The image catalog's folders (a hypervisor channel's children name an image of it).
    const std::vector<std::string>& catalog() const { return accel_.catalog; }
    // Whether KVM runs the hello guest here (the launcher's verdict).
    bool kvm() const;
    // The QEMU fleet runs, as a path when it is on PATH.
    std::string emulator() const;
    // virsh domcapabilities: what a microvm domain of this type may ask for
    // (docs/domain-xml.md), honestly: no graphics, virtio-blk disks only.
    std::string domain_capabilities_xml(bool kvm_type) const;
    // major*10^6 + minor*10^3 + micro of `qemu --version`, asked once; 0 if unknown.
    std::uint64_t hypervisor_version();
    static wire::NodeGetInfoRet node_info();
    // /proc/meminfo's MemTotal, MemFree, Buffers and Cached (KiB); nullopt
    // when it cannot be read (an error to the client, never zeros). fleet
    // reports the host as one NUMA cell, 0, as libvirt does without NUMA.
    struct Memory {
        std::uint64_t total_kib = 0, free_kib = 0, buffers_kib = 0, cached_kib = 0;
    };
    static std::optional<Memory> memory();
    static std::string hostname();
    static std::uint64_t lib_version();  // fleet's own, as libvirt's library version

private:
    vmm::AccelContext accel_;
    std::string qemu_;
    std::uint64_t hv_version_ = 0;
};

}  // namespace fleet::router::libvirt
