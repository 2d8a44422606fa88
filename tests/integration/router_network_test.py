#!/usr/bin/python3
"""The fleet network as libvirt clients see it: a router started with
--bridge serves one libvirt network, `fleet` (virsh net-list --all,
net-info, net-dumpxml with the bridge and its subnets, python3-libvirt's
network calls), the same UUID after a restart, none other, and a domain's
<interface type='network'> / <interface type='bridge'> as virt-install
--network writes them, round-tripped through dumpxml.

The bridge lives in a network namespace of the test's own (the test process
moves into it first), so it dies with the test. Not root: exit 77.
"""
import ctypes
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

sys.path.append(os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "lib"))  # run by hand: HACKING.md
from fleet_test.check import Failure, check, skip  # noqa: E402
from fleet_test.libvirt_client import need_libvirt_python  # noqa: E402
from fleet_test import router as routers  # noqa: E402
from fleet_test.router import domain_xml, need_router  # noqa: E402
from fleet_test.runner import main  # noqa: E402
from fleet_test.virsh import need_virsh, virsh_fails, virsh_ok  # noqa: E402

libvirt = need_libvirt_python()
BRIDGE = "fleet0"


def enter_own_netns():
    if os.geteuid() != 0:
        skip("not root: the router's bridge needs CAP_NET_ADMIN in a namespace of the test's own")
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(0x40000000) != 0:  # CLONE_NEWNET
        skip("unshare(CLONE_NEWNET): " + os.strerror(ctypes.get_errno()))
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True, timeout=10)


def test_the_fleet_network(router):
    """net-list --all, net-info and net-dumpxml: one network, active,
    persistent and autostarted, on the router's bridge with its subnets."""
    uri = router.uri_unix
    rows = [l.split() for l in virsh_ok(uri, "net-list", "--all").splitlines()[2:] if l.strip()]
    check(rows == [["fleet", "active", "yes", "yes"]], f"net-list --all: {rows}")
    info = virsh_ok(uri, "net-info", "fleet")
    for needle in ("Name:           fleet", "Active:         yes", "Persistent:     yes", "Autostart:      yes",
                   f"Bridge:         {BRIDGE}"):
        check(needle in info, f"net-info lacks {needle!r}: {info!r}")
    xml = ET.fromstring(virsh_ok(uri, "net-dumpxml", "fleet"))
    check(xml.find("name").text == "fleet" and xml.find("bridge").get("name") == BRIDGE, "name and bridge")
    ips = {(ip.get("family", "ipv4"), ip.get("address"), ip.get("prefix")) for ip in xml.findall("ip")}
    check(("ipv4", "10.79.0.1", "24") in ips and any(f == "ipv6" for f, _, _ in ips), f"subnets: {ips}")
    check(xml.find("forward") is None, "a <forward> fleet does not do")
    uuid = virsh_ok(uri, "net-uuid", "fleet").strip()
    check(virsh_ok(uri, "net-name", uuid).strip() == "fleet", "lookup by UUID")
    virsh_fails(uri, "net-info", "default", needles=["network not found"])
    virsh_fails(uri, "net-destroy", "fleet", needles=["not supported", "--bridge"])
    router.restart()
    check(virsh_ok(router.uri_unix, "net-uuid", "fleet").strip() == uuid, "the UUID after a restart")


test_the_fleet_network.router_kwargs = {"extra_args": ["--bridge", BRIDGE, "--bridge-ipv4", "10.79.0.1/24"]}


def test_python_network_calls(router):
    """python3-libvirt: counts, names, listAllNetworks with its filters,
    bridgeName, isActive, isPersistent, autostart, XMLDesc; read-only too."""
    conn = libvirt.openReadOnly(router.uri_ro)
    check(conn.numOfNetworks() == 1 and conn.numOfDefinedNetworks() == 0, "network counts")
    check(conn.listNetworks() == ["fleet"] and conn.listDefinedNetworks() == [], "network names")
    check([n.name() for n in conn.listAllNetworks(0)] == ["fleet"], "listAllNetworks")
    check(conn.listAllNetworks(libvirt.VIR_CONNECT_LIST_NETWORKS_INACTIVE) == [], "no inactive network")
    check(conn.listAllNetworks(libvirt.VIR_CONNECT_LIST_NETWORKS_NO_AUTOSTART) == [], "no network without autostart")
    net = conn.networkLookupByName("fleet")
    check(net.bridgeName() == BRIDGE and net.isActive() == 1 and net.isPersistent() == 1 and net.autostart() == 1,
          "bridgeName, isActive, isPersistent, autostart")
    check(conn.networkLookupByUUIDString(net.UUIDString()).name() == "fleet", "networkLookupByUUIDString")
    check(f"<bridge name='{BRIDGE}'" in net.XMLDesc(0), "XMLDesc")
    try:
        conn.networkLookupByName("default")
        raise Failure("networkLookupByName('default') found a network")
    except libvirt.libvirtError as e:
        check(e.get_error_code() == libvirt.VIR_ERR_NO_NETWORK, f"lookup: {e.get_error_code()} {e}")
    conn.close()


test_python_network_calls.router_kwargs = test_the_fleet_network.router_kwargs


def test_interfaces_as_virt_install_writes_them(router):
    """<interface type='network'><source network='fleet'/> and
    <interface type='bridge'><source bridge='fleet0'/>, as virt-install
    --network network=fleet / bridge=fleet0 write them, define and come
    back from dumpxml with their source and a MAC."""
    uri = router.uri_unix
    for name, nic, kind, attr, value in (
            ("net", "<interface type='network'><source network='fleet'/><model type='virtio'/></interface>",
             "network", "network", "fleet"),
            ("br", f"<interface type='bridge'><source bridge='{BRIDGE}'/><model type='virtio'/></interface>",
             "bridge", "bridge", BRIDGE)):
        path = router.folder.path(name + ".xml")
        with open(path, "w") as f:
            f.write(domain_xml(name, args=["hold"], devices=nic))
        virsh_ok(uri, "define", path)
        back = ET.fromstring(virsh_ok(uri, "dumpxml", "--inactive", name))
        iface = back.find("devices/interface")
        check(iface is not None and iface.get("type") == kind and iface.find("source").get(attr) == value
              and iface.find("mac") is not None, f"{name}: {ET.tostring(back).decode()}")
        again = router.folder.path(name + "-again.xml")
        with open(again, "w") as f:
            f.write(virsh_ok(uri, "dumpxml", "--inactive", name))
        virsh_ok(uri, "define", again)
        check(virsh_ok(uri, "dumpxml", "--inactive", name) == open(again).read(), f"{name}: dumpxml round trip")


test_interfaces_as_virt_install_writes_them.router_kwargs = test_the_fleet_network.router_kwargs


if __name__ == "__main__":
    need_router()
    need_virsh()
    enter_own_netns()
    main([test_the_fleet_network, test_python_network_calls, test_interfaces_as_virt_install_writes_them],
         routers.fixture(), timeout=routers.TEST_TIMEOUT)
