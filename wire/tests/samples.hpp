// wire-unit — one sample value of every message type, used by the
// round-trip tests, the procedure tests and to write the fuzz corpus.
//
// sample<T>() is declared for every payload type; a type without a sample
// fails to link, so a new message type cannot go untested.
#pragma once

#include <fleet/wire/procedures.hpp>

#include <string>

namespace fleet::wire::testing {

template <class T>
T sample();

inline Uuid sample_uuid()
{
    Uuid u{};
    for (std::size_t i = 0; i < u.size(); ++i) u[i] = static_cast<std::uint8_t>(0xf0 + i);
    return u;
}

inline NonnullDomain sample_domain(std::string name = "web-1", std::int32_t id = 7)
{
    return NonnullDomain{std::move(name), sample_uuid(), id};
}

// clang-format off
template <> inline Void sample<Void>() { return {}; }
template <> inline NonnullDomain sample<NonnullDomain>() { return sample_domain(); }
template <> inline RemoteError sample<RemoteError>()
{
    RemoteError e = make_error(err::no_domain, errdom::qemu, "Domain not found: no domain with matching name 'x'");
    e.dom = sample_domain("x", -1);
    e.str2 = "second";
    e.net = NonnullNetwork{"default", sample_uuid()};
    return e;
}

template <> inline ConnectOpenArgs sample<ConnectOpenArgs>() { return {"qemu:///system", flags::connect_ro}; }
template <> inline ConnectSupportsFeatureArgs sample<ConnectSupportsFeatureArgs>() { return {feature::program_keepalive}; }
template <> inline ConnectSupportsFeatureRet sample<ConnectSupportsFeatureRet>() { return {1}; }
template <> inline AuthListRet sample<AuthListRet>() { return {{auth::none, auth::polkit}}; }
template <> inline ConnectGetTypeRet sample<ConnectGetTypeRet>() { return {"QEMU"}; }
template <> inline ConnectGetVersionRet sample<ConnectGetVersionRet>() { return {7002000}; }
template <> inline ConnectGetLibVersionRet sample<ConnectGetLibVersionRet>() { return {9000000}; }
template <> inline ConnectGetHostnameRet sample<ConnectGetHostnameRet>() { return {"fleet-host"}; }
template <> inline ConnectGetUriRet sample<ConnectGetUriRet>() { return {"qemu:///system"}; }
template <> inline ConnectGetCapabilitiesRet sample<ConnectGetCapabilitiesRet>() { return {"<capabilities/>"}; }
template <> inline NodeGetInfoRet sample<NodeGetInfoRet>() { return {"x86_64", 16u << 20, 8, 2400, 1, 1, 4, 2}; }
template <> inline ConnectGetDomainCapabilitiesArgs sample<ConnectGetDomainCapabilitiesArgs>()
{
    return {std::nullopt, "x86_64", "microvm", std::nullopt, 0};
}
template <> inline NetworkLookupByNameArgs sample<NetworkLookupByNameArgs>() { return {"default"}; }
template <> inline NetworkLookupByUuidArgs sample<NetworkLookupByUuidArgs>() { return {sample_uuid()}; }
template <> inline NetworkRet sample<NetworkRet>() { return {NonnullNetwork{"fleet", sample_uuid()}}; }
template <> inline ConnectListAllNetworksRet sample<ConnectListAllNetworksRet>() { return {{NonnullNetwork{"fleet", sample_uuid()}}, 1}; }
template <> inline NodeGetCellsFreeMemoryArgs sample<NodeGetCellsFreeMemoryArgs>() { return {0, 1}; }
template <> inline NodeGetCellsFreeMemoryRet sample<NodeGetCellsFreeMemoryRet>() { return {{123456789012ull, 7}}; }
template <> inline NodeGetFreeMemoryRet sample<NodeGetFreeMemoryRet>() { return {8ull << 30}; }
template <> inline NodeGetMemoryStatsArgs sample<NodeGetMemoryStatsArgs>() { return {4, -1, 0}; }
template <> inline NodeGetMemoryStatsRet sample<NodeGetMemoryStatsRet>()
{
    return {{{{"total", 16u << 20}, {"free", 1u << 20}, {"buffers", 4096}, {"cached", 2u << 20}}}, 4};
}
template <> inline NodeGetSecurityModelRet sample<NodeGetSecurityModelRet>()
{
    return {std::string("none\0", 5), std::string("0\0", 2)};
}
template <> inline ConnectNumOfDomainsRet sample<ConnectNumOfDomainsRet>() { return {3}; }
template <> inline ConnectListDomainsArgs sample<ConnectListDomainsArgs>() { return {16384}; }
template <> inline ConnectListDomainsRet sample<ConnectListDomainsRet>() { return {{1, 7, 42}}; }
template <> inline ConnectListDefinedDomainsArgs sample<ConnectListDefinedDomainsArgs>() { return {2}; }
template <> inline ConnectListDefinedDomainsRet sample<ConnectListDefinedDomainsRet>() { return {{"db", "cache-é"}}; }
template <> inline ConnectListAllDomainsArgs sample<ConnectListAllDomainsArgs>() { return {1, flags::list_domains_active | flags::list_domains_inactive}; }
template <> inline ConnectListAllDomainsRet sample<ConnectListAllDomainsRet>()
{
    return {{sample_domain("web-1", 7), sample_domain("db", -1)}, 2};
}

template <> inline DomainArgs sample<DomainArgs>() { return {sample_domain()}; }
template <> inline DomainFlagsArgs sample<DomainFlagsArgs>() { return {sample_domain(), 0x8000000bu}; }
template <> inline DomainRet sample<DomainRet>() { return {sample_domain("made", 12)}; }
template <> inline IntRet sample<IntRet>() { return {-2}; }
template <> inline StringRet sample<StringRet>() { return {"<domain type='kvm'><name>web-1</name></domain>"}; }
template <> inline DomainLookupByIdArgs sample<DomainLookupByIdArgs>() { return {7}; }
template <> inline DomainLookupByNameArgs sample<DomainLookupByNameArgs>() { return {"web-1"}; }
template <> inline DomainLookupByUuidArgs sample<DomainLookupByUuidArgs>() { return {sample_uuid()}; }
template <> inline DomainCreateXmlArgs sample<DomainCreateXmlArgs>() { return {"<domain/>", flags::create_paused}; }
template <> inline DomainDefineXmlArgs sample<DomainDefineXmlArgs>() { return {"<domain><name>d</name></domain>"}; }
template <> inline DomainDefineXmlFlagsArgs sample<DomainDefineXmlFlagsArgs>() { return {"<domain/>", 1}; }
template <> inline DomainSetAutostartArgs sample<DomainSetAutostartArgs>() { return {sample_domain(), 1}; }
template <> inline DomainGetInfoRet sample<DomainGetInfoRet>() { return {state::running, 1u << 20, 512u << 10, 2, 123456789012ull}; }
template <> inline DomainGetStateRet sample<DomainGetStateRet>() { return {state::shutoff, reason::shutoff_destroyed}; }
template <> inline DomainGetSecurityLabelRet sample<DomainGetSecurityLabelRet>() { return {std::string("unconfined\0", 11), 0}; }
template <> inline DomainGetMessagesRet sample<DomainGetMessagesRet>() { return {{"tainted: custom-argv", "deprecated"}}; }
template <> inline DomainOpenConsoleArgs sample<DomainOpenConsoleArgs>() { return {sample_domain(), std::nullopt, flags::console_safe}; }
template <> inline DomainInterfaceAddressesArgs sample<DomainInterfaceAddressesArgs>() { return {sample_domain(), flags::ifaddr_source_lease, 0}; }
template <> inline DomainInterfaceAddressesRet sample<DomainInterfaceAddressesRet>()
{
    DomainInterface eth0{"vnet0", "52:54:00:12:34:56",
                         {{flags::ip_addr_ipv4, "10.0.0.2", 24}, {flags::ip_addr_ipv6, "fe80::1", 64}}};
    DomainInterface lo{"lo", std::nullopt, {}};
    return {{eth0, lo}};
}

template <> inline ConnectDomainEventCallbackRegisterAnyArgs sample<ConnectDomainEventCallbackRegisterAnyArgs>() { return {event_id::lifecycle, sample_domain()}; }
template <> inline ConnectDomainEventCallbackRegisterAnyRet sample<ConnectDomainEventCallbackRegisterAnyRet>() { return {5}; }
template <> inline ConnectDomainEventCallbackDeregisterAnyArgs sample<ConnectDomainEventCallbackDeregisterAnyArgs>() { return {5}; }
template <> inline ConnectDomainEventRegisterAnyArgs sample<ConnectDomainEventRegisterAnyArgs>() { return {event_id::lifecycle}; }
template <> inline DomainEventLifecycleMsg sample<DomainEventLifecycleMsg>() { return {sample_domain(), event::stopped, detail::stopped_destroyed}; }
template <> inline DomainEventCallbackLifecycleMsg sample<DomainEventCallbackLifecycleMsg>()
{
    return {5, {sample_domain(), event::started, detail::started_booted}};
}
template <> inline ConnectEventConnectionClosedMsg sample<ConnectEventConnectionClosedMsg>() { return {close_reason::keepalive}; }
template <> inline FleetDomainRunArgs sample<FleetDomainRunArgs>() { return {{"<domain type='kvm'><name>a</name></domain>", "<domain/>"}, 0}; }
template <> inline FleetDomainRunRet sample<FleetDomainRunRet>() { return {{sample_domain("fsh-1-0", 3), sample_domain("fsh-1-1", 4)}}; }
template <> inline FleetDomainOpenStdioArgs sample<FleetDomainOpenStdioArgs>() { return {sample_domain(), 1, 0}; }
template <> inline FleetDomainEventExitedMsg sample<FleetDomainEventExitedMsg>() { return {sample_domain(), 130}; }
template <> inline FleetDomainResizeTerminalArgs sample<FleetDomainResizeTerminalArgs>() { return {sample_domain(), 40, 120, 0}; }
template <> inline FleetNetAttachArgs sample<FleetNetAttachArgs>() { return {"web", net_attach_outbound}; }
template <> inline FleetNetAttachRet sample<FleetNetAttachRet>() { return {"fl0e0011223344", "0e:00:11:22:33:44", "10.77.0.2/24", "10.77.0.1"}; }
template <> inline StringArgs sample<StringArgs>() { return {"/var/lib/fleet/disks/root.qcow2"}; }
template <> inline UuidArgs sample<UuidArgs>() { return {sample_uuid()}; }
template <> inline StoragePoolRet sample<StoragePoolRet>() { return {{"/var/lib/fleet/disks", sample_uuid()}}; }
template <> inline StoragePoolArgs sample<StoragePoolArgs>() { return {{"/srv/images", sample_uuid()}}; }
template <> inline StoragePoolFlagsArgs sample<StoragePoolFlagsArgs>() { return {{"/srv/images", sample_uuid()}, 3}; }
template <> inline StoragePoolGetInfoRet sample<StoragePoolGetInfoRet>() { return {2, 100ull << 30, 40ull << 30, 60ull << 30}; }
template <> inline StoragePoolListVolumesArgs sample<StoragePoolListVolumesArgs>() { return {{"/srv/images", sample_uuid()}, 2}; }
template <> inline StoragePoolListVolumesRet sample<StoragePoolListVolumesRet>() { return {{"a.raw", "root.qcow2"}}; }
template <> inline StorageVolLookupByNameArgs sample<StorageVolLookupByNameArgs>() { return {{"/srv/images", sample_uuid()}, "root.qcow2"}; }
template <> inline StorageVolRet sample<StorageVolRet>() { return {{"/srv/images", "root.qcow2", "/srv/images/root.qcow2"}}; }
template <> inline StorageVolArgs sample<StorageVolArgs>() { return {{"/srv/images", "a.raw", "/srv/images/a.raw"}}; }
template <> inline StorageVolFlagsArgs sample<StorageVolFlagsArgs>() { return {{"/srv/images", "a.raw", "/srv/images/a.raw"}, 1}; }
template <> inline StorageVolGetInfoRet sample<StorageVolGetInfoRet>() { return {1, 64ull << 20, 196608}; }
template <> inline ConnectListAllStoragePoolsRet sample<ConnectListAllStoragePoolsRet>() { return {{{"/srv/images", sample_uuid()}}, 1}; }
template <> inline ConnectGetMaxVcpusArgs sample<ConnectGetMaxVcpusArgs>() { return {"kvm"}; }
template <> inline DomainGetMaxMemoryRet sample<DomainGetMaxMemoryRet>() { return {65536}; }
template <> inline DomainMemoryStatsArgs sample<DomainMemoryStatsArgs>() { return {sample_domain(), 13, 0}; }
template <> inline DomainMemoryStatsRet sample<DomainMemoryStatsRet>() { return {{{6, 65536}, {7, 41234}}}; }
template <> inline DomainSetMetadataArgs sample<DomainSetMetadataArgs>() { return {sample_domain(), 2, "<a/>", "app", "https://example.org/app", 2}; }
template <> inline DomainGetMetadataArgs sample<DomainGetMetadataArgs>() { return {sample_domain(), 0, std::nullopt, 0}; }
template <> inline DomainGetVcpusArgs sample<DomainGetVcpusArgs>() { return {sample_domain(), 2, 1}; }
template <> inline DomainGetVcpusRet sample<DomainGetVcpusRet>() { return {{{0, 1, 123456789, 1}, {1, 1, 42, 0}}, std::string("\x03\x03", 2)}; }
template <> inline DomainGetVcpuPinInfoArgs sample<DomainGetVcpuPinInfoArgs>() { return {sample_domain(), 2, 1, 2}; }
template <> inline CpumapsRet sample<CpumapsRet>() { return {std::string("\x03\x03", 2), 2}; }
template <> inline DomainGetEmulatorPinInfoArgs sample<DomainGetEmulatorPinInfoArgs>() { return {sample_domain(), 1, 0}; }
template <> inline ConnectGetAllDomainStatsArgs sample<ConnectGetAllDomainStatsArgs>() { return {{sample_domain()}, 1, 0}; }
template <> inline ConnectGetAllDomainStatsRet sample<ConnectGetAllDomainStatsRet>()
{
    return {{{sample_domain(), {TypedParam::i32("state.state", 1), TypedParam::u64("cpu.time", 5000000000ull),
                                TypedParam::u32("vcpu.current", 2), TypedParam::text("s", "x"),
                                TypedParam{"d", typed_param::dbl, 0, 0.5, {}}, TypedParam{"b", typed_param::boolean, 1, 0, {}}}}}};
}
template <> inline NodeGetCpuMapArgs sample<NodeGetCpuMapArgs>() { return {1, 1, 0}; }
template <> inline NodeGetCpuMapRet sample<NodeGetCpuMapRet>() { return {std::string("\x03", 1), 2, 2}; }
template <> inline NetworkArgs sample<NetworkArgs>() { return {NonnullNetwork{"fleet", sample_uuid()}}; }
template <> inline NetworkFlagsArgs sample<NetworkFlagsArgs>() { return {NonnullNetwork{"fleet", sample_uuid()}, 1}; }
// clang-format on

}  // namespace fleet::wire::testing
