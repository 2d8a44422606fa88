// fleet-router — what the host offers, as libvirt reports it: the
// capabilities XML, QEMU's version, the node's facts, the hostname.
#pragma once

#include <fleet/wire/connect_messages.hpp>

#include <cstdint>
#include <string>

namespace fleet::router::libvirt {

class Host {
public:
    explicit Host(std::string qemu) : qemu_(std::move(qemu)) {}

    std::string capabilities_xml() const;
    // major*10^6 + minor*10^3 + micro of `qemu --version`, asked once; 0 if unknown.
    std::uint64_t hypervisor_version();
    static wire::NodeGetInfoRet node_info();
    static std::string hostname();
    static std::uint64_t lib_version();  // fleet's own, as libvirt's library version

private:
    std::string qemu_;
    std::uint64_t hv_version_ = 0;
};

}  // namespace fleet::router::libvirt
