#!/usr/bin/python3
"""What monitoring and management clients ask of a running domain, with
the real virsh and python3-libvirt: vcpuinfo (QEMU's vCPU threads, their
CPU time from /proc), vcpupin and emulatorpin read back, domstats and
getAllDomainStats/domainListGetStats (the groups fleet can tell; others
omitted, or refused with --enforce), metadata elements set and removed
(persistently for a defined domain, live for a running one, with size
limits), reboot and reset refused as not supported (a fleet guest runs one
program once), and ttyconsole (fleet has no pty: no path is printed).
"""
import os
import sys
import xml.etree.ElementTree as ET

sys.path.append(os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "lib"))  # run by hand: HACKING.md
from fleet_test import router as routers  # noqa: E402
from fleet_test.check import Failure, check, wait_until  # noqa: E402
from fleet_test.libvirt_client import need_libvirt_python  # noqa: E402
from fleet_test.qmp import Qmp  # noqa: E402
from fleet_test.router import domain_xml, need_router  # noqa: E402
from fleet_test.runner import main  # noqa: E402
from fleet_test.virsh import need_virsh, virsh, virsh_fails, virsh_ok  # noqa: E402

libvirt = need_libvirt_python()
NS = "https://example.org/app"


def start(router, name, vcpus=1, **kw):
    path = router.folder.path(name + ".xml")
    xml = domain_xml(name, args=["hold"], **kw)
    if vcpus != 1:
        xml = xml.replace("<vcpu>1</vcpu>", f"<vcpu>{vcpus}</vcpu>")
        check(f"<vcpu>{vcpus}</vcpu>" in xml, "the sample's <vcpu> element")
    with open(path, "w") as f:
        f.write(xml)
    virsh_ok(router.uri_unix, "define", path)
    virsh_ok(router.uri_unix, "start", name)
    wait_until(lambda: virsh_ok(router.uri_unix, "domstate", name).strip() == "running", 20, f"{name} running")


def qemu_threads(router, name):
    with Qmp(os.path.join(router.vms_dir(), name, "qmp.sock"), timeout=10) as q:
        return {c["cpu-index"]: c["thread-id"] for c in q.execute("query-cpus-fast")}


def test_vcpuinfo(router):
    """virsh vcpuinfo: one entry per vCPU, its host CPU and CPU time from
    /proc of the thread QEMU names, an affinity of every host CPU (fleet
    pins nothing); python's vcpus() the same; vcpupin and emulatorpin read."""
    uri = router.uri_unix
    start(router, "cpus", vcpus=2)
    threads = qemu_threads(router, "cpus")
    check(sorted(threads) == [0, 1], f"QEMU's vCPUs: {threads}")
    out = virsh_ok(uri, "vcpuinfo", "cpus")
    check(out.count("VCPU:") == 2 and out.count("running") == 2, f"vcpuinfo: {out!r}")
    ncpu = os.cpu_count()
    check(("y" * ncpu) in out.replace("-", ""), f"vcpuinfo affinity of {ncpu} host CPUs: {out!r}")
    conn = libvirt.open(uri)
    dom = conn.lookupByName("cpus")
    info, maps = dom.vcpus()
    check([i[0] for i in info] == [0, 1] and all(i[1] == libvirt.VIR_VCPU_RUNNING for i in info), f"vcpus: {info}")
    for number, _, cpu_time, cpu in info:
        tid = threads[number]
        with open(f"/proc/{router.record('cpus')['pid']}/task/{tid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])
        ns = ticks * 10**9 // os.sysconf("SC_CLK_TCK")
        check(abs(cpu_time - ns) <= 10**9, f"vCPU {number}: {cpu_time} ns, /proc says {ns}")
        check(0 <= cpu < ncpu, f"vCPU {number} on host CPU {cpu}")
    check(all(all(m) and len(m) == ncpu for m in maps), f"cpumaps: {maps}")
    pins = dom.vcpuPinInfo(libvirt.VIR_DOMAIN_AFFECT_CONFIG)
    check(len(pins) == 2 and all(all(p) for p in pins), f"vcpuPinInfo: {pins}")
    check(all(dom.emulatorPinInfo()), "emulatorPinInfo: every host CPU")
    check("0-" in virsh_ok(uri, "vcpupin", "cpus") or ncpu == 1, "virsh vcpupin")
    conn.close()
    virsh_ok(uri, "destroy", "cpus")
    stopped = virsh_ok(uri, "vcpuinfo", "cpus")  # shut off: virsh falls back to the pinning of the config
    check(stopped.count("VCPU:") == 2 and "N/A" in stopped, f"vcpuinfo of a stopped domain: {stopped!r}")


def params(record):
    return record[1]


def test_domstats(router):
    """virsh domstats and the python bulk stats: state for every domain,
    cpu.time, balloon and vcpu.N fields for a running one; groups fleet
    cannot tell are left out, and refused with --enforce."""
    uri = router.uri_unix
    start(router, "busy", memory_mib=64)
    path = router.folder.path("idle.xml")
    with open(path, "w") as f:
        f.write(domain_xml("idle", args=["hold"]))
    virsh_ok(uri, "define", path)
    out = virsh_ok(uri, "domstats")
    check("Domain: 'busy'" in out and "Domain: 'idle'" in out, f"domstats: {out!r}")
    check("state.state=1" in out and "state.state=5" in out, f"states: {out!r}")
    check("cpu.time=" in out and "balloon.current=65536" in out and "vcpu.0.time=" in out, f"fields: {out!r}")
    check("net." not in out and "block." not in out, f"unsupported groups listed: {out!r}")
    one = virsh_ok(uri, "domstats", "--state", "busy")
    check("state.state=1" in one and "cpu.time" not in one, f"domstats --state busy: {one!r}")
    running = virsh_ok(uri, "domstats", "--list-running", "--vcpu")
    check("busy" in running and "idle" not in running and "vcpu.current=1" in running, f"--list-running: {running!r}")
    virsh_fails(uri, "domstats", "--block", "--enforce", needles=["not supported"])
    conn = libvirt.open(uri)
    stats = dict((d.name(), s) for d, s in conn.getAllDomainStats(0, 0))
    check(stats["busy"]["state.state"] == libvirt.VIR_DOMAIN_RUNNING and stats["busy"]["cpu.time"] > 0,
          f"getAllDomainStats: {stats['busy']}")
    check(stats["idle"]["state.state"] == libvirt.VIR_DOMAIN_SHUTOFF and "cpu.time" not in stats["idle"],
          f"idle: {stats['idle']}")
    listed = conn.domainListGetStats([conn.lookupByName("busy")], libvirt.VIR_DOMAIN_STATS_BALLOON)
    check(len(listed) == 1 and listed[0][1]["balloon.maximum"] == 65536 and "state.state" not in listed[0][1],
          f"domainListGetStats: {listed}")
    conn.close()
    virsh_ok(uri, "destroy", "busy")


def test_metadata_elements(router):
    """virsh metadata --set: stored under the given key in the URI's
    namespace, persistently for a defined domain (dumpxml --inactive), live
    only for a running one; --remove takes it out; fleet's own namespace,
    a bad element and an oversized one are refused and change nothing."""
    uri = router.uri_unix
    path = router.folder.path("meta.xml")
    with open(path, "w") as f:
        f.write(domain_xml("meta", args=["hold"]))
    virsh_ok(uri, "define", path)
    virsh_ok(uri, "metadata", "meta", NS, "--key", "app", "--set", "<tier role='web'>front</tier>")
    got = virsh_ok(uri, "metadata", "meta", NS)
    check("<app:tier" in got and "role=" in got and ">front</app:tier>" in got, f"metadata read back: {got!r}")
    inactive = virsh_ok(uri, "dumpxml", "--inactive", "meta")
    root = ET.fromstring(inactive)
    check(root.find(f"metadata/{{{NS}}}tier").text == "front", f"dumpxml: {inactive}")
    virsh_ok(uri, "metadata", "meta", NS, "--key", "app", "--set", "<tier>back</tier>")
    check(virsh_ok(uri, "dumpxml", "meta").count(NS) == 1, "a second set replaced the element")
    virsh_ok(uri, "start", "meta")
    wait_until(lambda: virsh_ok(uri, "domstate", "meta").strip() == "running", 20, "meta running")
    virsh_ok(uri, "metadata", "meta", "https://example.org/live", "--key", "l", "--set", "<now/>", "--live")
    check("example.org/live" in virsh_ok(uri, "dumpxml", "meta"), "the live element")
    check("example.org/live" not in virsh_ok(uri, "dumpxml", "--inactive", "meta"), "live reached the config")
    virsh_fails(uri, "metadata", "meta", NS, "--key", "a", "--set", "<unclosed>", needles=["XML error"])
    virsh_fails(uri, "metadata", "meta", "https://fleet.dev/xmlns/domain/1", "--key", "f", "--set", "<image>x</image>",
                needles=["unsupported configuration"])
    virsh_fails(uri, "metadata", "meta", NS, "--key", "a", "--set", "<big>" + "x" * 70000 + "</big>",
                needles=["at most 64 KiB"])
    virsh_fails(uri, "desc", "meta", "--title", "--new-desc", "t" * 2000, needles=["at most 1024"])
    virsh_ok(uri, "destroy", "meta")
    check("back" in virsh_ok(uri, "metadata", "meta", NS) and "example.org/live" not in virsh_ok(uri, "dumpxml", "meta"),
          "after the end: the persistent element, not the live one")
    virsh_ok(uri, "metadata", "meta", NS, "--remove")
    virsh_fails(uri, "metadata", "meta", NS, needles=["metadata not found"])
    ro = libvirt.openReadOnly(router.uri_ro)
    try:
        ro.lookupByName("meta").setMetadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, "<x/>", "k", NS, 0)
        raise Failure("a read-only connection set metadata")
    except libvirt.libvirtError as e:
        check(e.get_error_code() == libvirt.VIR_ERR_OPERATION_DENIED, f"read-only: {e.get_error_code()} {e}")
    ro.close()


def test_reboot_reset_and_ttyconsole(router):
    """reboot and reset: NO_SUPPORT with the reason, and the domain runs on
    untouched (no lifecycle event); ttyconsole prints no made-up path."""
    uri = router.uri_unix
    start(router, "once")
    qemu = router.record("once")["pid"]
    virsh_fails(uri, "reboot", "once", needles=["not supported", "one program"])
    virsh_fails(uri, "reset", "once", needles=["not supported", "-no-reboot"])
    conn = libvirt.open(uri)
    dom = conn.lookupByName("once")
    for call in (lambda: dom.reset(0), lambda: dom.reboot(0)):
        try:
            call()
            raise Failure("reset/reboot answered")
        except libvirt.libvirtError as e:
            check(e.get_error_code() == libvirt.VIR_ERR_NO_SUPPORT, f"python: {e.get_error_code()} {e}")
    conn.close()
    check(virsh_ok(uri, "domstate", "once").strip() == "running" and router.record("once")["pid"] == qemu,
          "the domain after refused reboot and reset")
    p = virsh(uri, "ttyconsole", "once")
    check(p.returncode != 0 and "/dev/" not in p.stdout, f"ttyconsole: {p.returncode} {p.stdout!r} {p.stderr!r}")
    virsh_ok(uri, "destroy", "once")
    virsh_fails(uri, "reset", "once", needles=["not running"])


if __name__ == "__main__":
    need_router()
    need_virsh()
    main([test_vcpuinfo, test_domstats, test_metadata_elements, test_reboot_reset_and_ttyconsole],
         routers.fixture(), timeout=routers.TEST_TIMEOUT)
