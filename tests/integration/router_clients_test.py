#!/usr/bin/python3
"""fleet-router judged by the clients people already use, without editing
what they send: virt-install's own domain XML (run for real), virt-xml's
edit of it, libvirt-tck's plain domain (its <features><apic/>, <disk> and
<rng>) through python3-libvirt, disks and rng that reach QEMU as
virtio-blk and virtio-rng, seen through the VM's own QMP monitor, the
host's memory as virsh freecell/nodememstats and getFreeMemory ask for it,
domcapabilities, QEMU monitor commands refused as not supported, the
network lists of a router without a bridge (empty), virt-install --import --disk PATH through the
read-only storage pools (and what a stranger may not learn from them), and
a domain's title, description, max memory, vCPUs and memory stats.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

sys.path.append(os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "lib"))  # run by hand: HACKING.md
from fleet_test import paths  # noqa: E402
from fleet_test import router as routers  # noqa: E402
from fleet_test.check import Failure, check, skip, wait_until  # noqa: E402
from fleet_test.libvirt_client import need_libvirt_python  # noqa: E402
from fleet_test.qmp import Qmp  # noqa: E402
from fleet_test.router import domain_xml, need_router, xml_escape  # noqa: E402
from fleet_test.runner import main  # noqa: E402
from fleet_test.virsh import need_virsh, virsh, virsh_fails, virsh_ok  # noqa: E402

libvirt = need_libvirt_python()
SAMPLES = os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "..", "router", "domain", "tests", "samples")
HELLO = os.path.join(paths.IMAGES, "hello", "hello.elf")


def qemu_img(*args):
    subprocess.run(["qemu-img", *args], check=True, capture_output=True, timeout=30)


def make_disks(router):
    """A raw and a qcow2 image in the test's folder: their paths."""
    raw, qcow2 = router.folder.path("data.raw"), router.folder.path("root.qcow2")
    qemu_img("create", "-f", "raw", raw, "8M")
    qemu_img("create", "-f", "qcow2", qcow2, "64M")
    return raw, qcow2


def running(uri, name, timeout=20):
    wait_until(lambda: virsh_ok(uri, "domstate", name).strip() == "running", timeout, f"{name} running")


def qmp_of(router, name):
    return Qmp(os.path.join(router.vms_dir(), name, "qmp.sock"), timeout=10)


def block_devices(router, name):
    """QMP query-block: file -> (format, read-only) of every inserted drive."""
    with qmp_of(router, name) as q:
        return {b["inserted"]["file"]: (b["inserted"]["drv"], b["inserted"]["ro"])
                for b in q.execute("query-block") if "inserted" in b}


def test_disks_and_rng_reach_qemu(router):
    """virsh create with a writable raw disk, a read-only qcow2 disk and a
    rate-limited rng: QEMU has exactly those drives with those formats and
    modes on virtio-mmio, the rng reads the named host device with the
    rate, and dumpxml gives back what was defined."""
    uri = router.uri_unix
    raw, qcow2 = make_disks(router)
    devices = (f"<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
               f"<source file='{xml_escape(raw)}'/><target dev='vda' bus='virtio'/></disk>"
               f"<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
               f"<source file='{xml_escape(qcow2)}'/><target dev='vdb' bus='virtio'/><readonly/></disk>"
               "<rng model='virtio'><rate bytes='2048' period='1000'/>"
               "<backend model='random'>/dev/urandom</backend></rng>")
    xml = domain_xml("disks", args=["hold"], devices=devices)
    path = router.folder.path("disks.xml")
    with open(path, "w") as f:
        f.write(xml)
    virsh_ok(uri, "create", path)
    running(uri, "disks")
    drives = block_devices(router, "disks")
    # A confined QEMU (root router: docs/SECURITY.md) gets each disk as an fd
    # set the launcher opened, in the order of the definition.
    names = ["/dev/fdset/1", "/dev/fdset/2"] if os.geteuid() == 0 else [raw, qcow2]
    check(drives == {names[0]: ("raw", False), names[1]: ("qcow2", True)}, f"QEMU's drives: {drives}")
    with qmp_of(router, "disks") as q:
        check(q.execute("qom-get", {"path": "/objects/fleet-rng", "property": "filename"}) == "/dev/urandom",
              "the rng backend's file")
        kinds = {d["type"] for d in q.execute("qom-list", {"path": "/machine/peripheral-anon"})
                 if d["type"].startswith("child<")}
        check("child<virtio-blk-device>" in kinds and "child<virtio-rng-device>" in kinds,
              f"virtio-mmio devices: {sorted(kinds)}")
    back = ET.fromstring(virsh_ok(uri, "dumpxml", "disks"))
    disks = [(d.find("source").get("file"), d.find("driver").get("type"), d.find("readonly") is not None)
             for d in back.iter("disk")]
    check(disks == [(raw, "raw", False), (qcow2, "qcow2", True)], f"dumpxml's disks: {disks}")
    rng = back.find("devices/rng")
    check(rng is not None and rng.find("backend").text == "/dev/urandom" and
          rng.find("rate").get("bytes") == "2048", f"dumpxml's rng: {ET.tostring(rng) if rng is not None else None}")
    virsh_ok(uri, "destroy", "disks")


def test_rng_domain_restores_from_a_snapshot(router):
    """virt-install gives every domain an <rng>: a Linux domain with one
    starts from a snapshot like one without (the rng's source and rate are
    in the snapshot's key), twice from the one snapshot, its rng there."""
    uri = router.uri_unix
    rng = "<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>"
    path = router.folder.path("rngsnap.xml")
    with open(path, "w") as f:
        f.write(domain_xml("rngsnap", image="linux-sh", args=["-c", "sleep 600"], devices=rng))
    virsh_ok(uri, "define", path)
    sources = []
    for _ in range(2):  # the first start makes the snapshot, the second finds it
        virsh_ok(uri, "start", "rngsnap", timeout=120)
        running(uri, "rngsnap", timeout=60)
        with open(os.path.join(router.vms_dir(), "rngsnap", "vmm.log"), errors="replace") as f:
            log = f.read()
        m = re.search(r"restoring from snapshot (\S+)", log)
        check(m is not None, f"a domain with an rng booted cold: {log[-800:]}")
        sources.append(m.group(1))
        with qmp_of(router, "rngsnap") as q:
            kinds = {d["type"] for d in q.execute("qom-list", {"path": "/machine/peripheral-anon"})}
            check("child<virtio-rng-device>" in kinds, f"the restored VM's devices: {sorted(kinds)}")
        virsh_ok(uri, "destroy", "rngsnap")
    check(sources[0] == sources[1], f"two snapshots for one domain: {sources}")
    with open(sources[0][: -len(".vmstate")] + ".json") as f:
        check("virtio-rng-device" in json.load(f)["key"], "the snapshot's key lacks the rng")
    virsh_ok(uri, "undefine", "rngsnap")


def test_disk_refusals(router):
    """A disk that is not there fails the start with its path; a display is
    libvirt's 'unsupported configuration'; neither leaves a VM behind."""
    uri = router.uri_unix
    missing = router.folder.path("missing.qcow2")
    xml = domain_xml("nodisk", args=["hold"], devices=(
        f"<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
        f"<source file='{missing}'/><target dev='vda' bus='virtio'/></disk>"))
    path = router.folder.path("nodisk.xml")
    with open(path, "w") as f:
        f.write(xml)
    virsh_ok(uri, "define", path)
    virsh_fails(uri, "start", "nodisk", needles=[missing])
    check(virsh_ok(uri, "domstate", "nodisk").strip() == "shut off", "a refused start")
    with open(path, "w") as f:
        f.write(domain_xml("vnc", devices="<graphics type='vnc' port='-1'/>"))
    virsh_fails(uri, "define", path, needles=["unsupported configuration", "<devices/graphics>", "no display"])
    check(router.qemu_processes() == [], f"QEMUs left: {router.qemu_processes()}")


def test_tck_domain(router):
    """libvirt-tck's plain domain, with its own paths swapped for real ones
    (the hello kernel, a qcow2 image): python3-libvirt defines it, starts
    it, the guest runs its program to the end (shut off, reason shutdown:
    the guest's own exit, not a failure or crash), and XMLDesc keeps
    <apic/>, the disk and the rng."""
    _, qcow2 = make_disks(router)
    with open(os.path.join(SAMPLES, "tck.xml")) as f:
        xml = f.read()
    xml = (xml.replace("/var/cache/libvirt-tck/os-images/vmlinuz", HELLO)
              .replace("    <initrd>/var/cache/libvirt-tck/os-images/initrd</initrd>\n", "")
              .replace("/var/cache/libvirt-tck/images/tck.qcow2", qcow2))
    conn = libvirt.open(router.uri_unix)
    dom = conn.defineXML(xml)
    dom.create()
    ended = (libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_SHUTOFF_SHUTDOWN)
    wait_until(lambda: tuple(dom.state()) == ended, 30, "the tck guest's own end")
    back = ET.fromstring(dom.XMLDesc(0))
    check(back.find("features/apic") is not None and back.find("features/acpi") is not None, "features kept")
    check(back.find("devices/disk/source").get("file") == qcow2, "the disk kept")
    check(back.find("devices/rng/backend").text == "/dev/urandom", "the rng kept")
    dom.undefine()
    conn.close()


def need_virt_install():
    for tool in ("virt-install", "virt-xml"):
        if not shutil.which(tool):
            skip(f"{tool} is not installed (apt-get install virtinst)")


def virt_tool(*argv, timeout=120):
    env = {k: v for k, v in os.environ.items() if k not in ("LIBVIRT_DEFAULT_URI", "VIRSH_DEFAULT_CONNECT_URI")}
    env["LC_ALL"] = "C"
    p = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, env=env, stdin=subprocess.DEVNULL)
    if p.returncode != 0:
        raise Failure(f"{' '.join(argv)}: exit {p.returncode}\nstdout: {p.stdout[-2000:]}\nstderr: {p.stderr[-2000:]}")
    return p.stdout


def test_virt_install_import(router):
    """virt-install --import --boot kernel=... as a user types it, nothing
    edited: its XML (features, clock timers, pm, USB controllers) is
    defined and started, the guest runs its program to the end (status 0 in
    the router's record); virt-xml then edits the memory and the
    definition keeps everything else virt-install wrote."""
    need_virt_install()
    uri = router.uri_unix
    out = virt_tool("virt-install", "--connect", uri, "--name", "vi", "--memory", "64", "--vcpus", "1",
                    "--import", "--disk", "none", "--boot", f"kernel={HELLO}", "--osinfo", "generic",
                    "--graphics", "none", "--network", "none", "--noautoconsole")
    check("Domain creation completed" in out, f"virt-install said: {out!r}")
    # virt-install creates the domain, then defines it: the guest (hello,
    # no arguments) may end before or after the define, so the reason
    # libvirt shows differs; the router's record says how it ended.
    wait_until(lambda: virsh_ok(uri, "domstate", "vi").strip() == "shut off", 30, "vi shut off")
    wait_until(lambda: "domain 'vi' stopped (exit, status 0)" in router.log_text(), 10, "the guest's own end, status 0")
    check("yes" in virsh_ok(uri, "dominfo", "vi").split("Persistent:")[1].splitlines()[0], "vi is persistent")
    before = ET.fromstring(virsh_ok(uri, "dumpxml", "--inactive", "vi"))
    timers = {t.get("name") for t in before.iter("timer")}
    check(timers == {"rtc", "pit", "hpet"}, f"virt-install's timers kept: {timers}")
    check(len(before.findall("devices/controller[@type='usb']")) == 4, "virt-install's USB controllers kept")
    check(before.find("pm") is not None, "virt-install's <pm> kept")
    virt_tool("virt-xml", "--connect", uri, "vi", "--edit", "--memory", "96")
    after = ET.fromstring(virsh_ok(uri, "dumpxml", "--inactive", "vi"))
    check(after.find("memory").text == str(96 * 1024), f"virt-xml's memory: {after.find('memory').text}")
    for part in ("features", "clock", "pm", "devices"):
        check(ET.tostring(after.find(part)) == ET.tostring(before.find(part)), f"virt-xml changed <{part}>")
    p = virsh(uri, "destroy", "vi")  # the guest may have ended already
    check(p.returncode == 0 or "not running" in p.stderr, f"destroy: {p.stderr!r}")
    virsh_ok(uri, "undefine", "vi")


def meminfo_kib(key):
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise Failure(f"no {key} in /proc/meminfo")


def test_host_memory(router):
    """The host's memory as Ansible's freemem, virsh freecell and
    nodememstats ask for it: real numbers, one NUMA cell, never zeros."""
    uri = router.uri_unix
    total = meminfo_kib("MemTotal")

    def kib(text, label):
        for line in text.splitlines():
            if line.strip().startswith(label):
                return int(line.split(":")[1].split()[0])
        raise Failure(f"no {label!r} line in {text!r}")

    free = kib(virsh_ok(uri, "freecell"), "Total")
    check(0 < free <= total, f"freecell: {free} KiB of {total}")
    every = virsh_ok(uri, "freecell", "--all")
    check(0 < kib(every, "0") <= total and 0 < kib(every, "Total") <= total, f"freecell --all: {every!r}")
    stats = virsh_ok(uri, "nodememstats")
    check(kib(stats, "total") == total, f"nodememstats total: {stats!r} (MemTotal {total})")
    for field in ("free", "buffers", "cached"):
        check(0 <= kib(stats, field) <= total, f"nodememstats {field}: {stats!r}")
    caps = ET.fromstring(virsh_ok(uri, "capabilities"))
    cell = caps.find("host/topology/cells/cell")
    check(cell is not None and cell.get("id") == "0" and int(cell.find("memory").text) == total,
          "capabilities: one cell with the host's memory")
    check(len(cell.findall("cpus/cpu")) == os.cpu_count(), "capabilities: the cell's CPUs")

    conn = libvirt.open(router.uri_unix)
    free_bytes = conn.getFreeMemory()
    check(0 < free_bytes <= total * 1024, f"getFreeMemory(): {free_bytes}")
    cells = conn.getCellsFreeMemory(0, 1)
    check(len(cells) == 1 and 0 < cells[0] <= total * 1024, f"getCellsFreeMemory(0, 1): {cells}")
    ms = conn.getMemoryStats(libvirt.VIR_NODE_MEMORY_STATS_ALL_CELLS)
    check(set(ms) == {"total", "free", "buffers", "cached"} and ms["total"] == total, f"getMemoryStats: {ms}")
    try:
        conn.getCellsFreeMemory(1, 1)
        raise Failure("getCellsFreeMemory(1, 1) on a one-cell host did not fail")
    except libvirt.libvirtError as e:
        check("out of range" in (e.get_error_message() or ""), f"cell 1: {e.get_error_message()!r}")
    conn.close()


def test_domain_capabilities(router):
    """virsh domcapabilities (virt-install and virt-manager read it): the
    microvm facts, what fleet honours marked supported and what it refuses
    not; a machine or arch fleet does not run is an error, not a guess."""
    uri = router.uri_unix
    caps = ET.fromstring(virsh_ok(uri, "domcapabilities"))
    check(caps.find("machine").text == "microvm" and caps.find("arch").text == "x86_64", "machine and arch")
    check(caps.find("domain").text in ("qemu", "kvm"), f"domain type {caps.find('domain').text}")
    check(caps.find("path").text == shutil.which("qemu-system-x86_64"), f"path {caps.find('path').text}")
    devices = {d.tag: d.get("supported") for d in caps.find("devices")}
    check(devices["disk"] == "yes" and devices["rng"] == "yes" and devices["graphics"] == "no", f"{devices}")
    check([v.text for v in caps.findall("devices/disk/enum[@name='bus']/value")] == ["virtio"], "disk buses")
    qemu = ET.fromstring(virsh_ok(uri, "domcapabilities", "--virttype", "qemu", "--arch", "x86_64"))
    check(qemu.find("domain").text == "qemu", "--virttype qemu")
    virsh_fails(uri, "domcapabilities", "--machine", "pc-q35-7.2", needles=["machine 'pc-q35-7.2'", "microvm"])
    virsh_fails(uri, "domcapabilities", "--arch", "aarch64", needles=["aarch64"])
    conn = libvirt.open(router.uri_unix)
    check("<machine>microvm</machine>" in conn.getDomainCapabilities(None, "x86_64", None, "qemu", 0), "python")
    conn.close()


def test_qemu_commands_are_not_supported(router):
    """qemu-monitor-command and qemu-agent-command: fleet owns its QEMU's
    monitor and passes nothing through; virsh says 'not supported' (libvirt's
    NO_SUPPORT), not a broken connection, and the domain runs on."""
    uri = router.uri_unix
    path = router.folder.path("q.xml")
    with open(path, "w") as f:
        f.write(domain_xml("q", args=["hold"]))
    virsh_ok(uri, "create", path)
    virsh_fails(uri, "qemu-monitor-command", "q", '{"execute":"query-status"}',
                needles=["not supported", "QEMU monitor"])
    virsh_fails(uri, "qemu-agent-command", "q", '{"execute":"guest-ping"}', needles=["not supported"])
    check(virsh_ok(uri, "domstate", "q").strip() == "running", "the domain after refused QEMU commands")
    conn = libvirt.open(router.uri_unix)
    try:
        import libvirt_qemu
        libvirt_qemu.qemuMonitorCommand(conn.lookupByName("q"), '{"execute":"query-status"}', 0)
        raise Failure("qemuMonitorCommand answered")
    except libvirt.libvirtError as e:
        check(e.get_error_code() == libvirt.VIR_ERR_NO_SUPPORT, f"python: {e.get_error_code()} {e}")
    conn.close()
    virsh_ok(uri, "destroy", "q")


def test_networks_are_honestly_empty(router):
    """libvirt-tck lists networks during set-up, virt-manager and virsh
    net-list ask too: a router without --bridge has no network, so the
    lists are empty (not 'unknown procedure') and a lookup is libvirt's
    not-found (router_network_test has the fleet network of a bridge)."""
    uri = router.uri_unix
    out = virsh_ok(uri, "net-list", "--all")
    check("Name" in out and len([l for l in out.splitlines() if l.strip()]) == 2, f"net-list --all: {out!r}")
    virsh_fails(uri, "net-info", "default", needles=["network not found"])
    conn = libvirt.open(router.uri_unix)
    check(conn.numOfNetworks() == 0 and conn.numOfDefinedNetworks() == 0, "network counts")
    check(conn.listNetworks() == [] and conn.listDefinedNetworks() == [], "network names")
    check(conn.listAllNetworks(0) == [], "listAllNetworks")
    try:
        conn.networkLookupByName("default")
        raise Failure("networkLookupByName('default') found a network")
    except libvirt.libvirtError as e:
        check(e.get_error_code() == libvirt.VIR_ERR_NO_NETWORK, f"lookup: {e.get_error_code()} {e}")
    conn.close()


def test_virt_install_import_disk(router):
    """virt-install --import --disk PATH of an existing qcow2 image: it finds
    the file as a volume of the folder's directory pool (its format from
    the image's header, never guessed), the domain gets it as a qcow2
    virtio-blk disk, and virsh start boots it under TCG; virsh sees the
    folder as a pool and the image as a volume, and a path that does not
    exist is 'not found'."""
    need_virt_install()
    uri = router.uri_unix
    _, qcow2 = make_disks(router)
    folder = os.path.dirname(qcow2)
    out = virt_tool("virt-install", "--connect", uri, "--name", "vd", "--memory", "64", "--vcpus", "1",
                    "--import", "--disk", f"{qcow2},bus=virtio", "--boot", f"kernel={HELLO}",
                    "--osinfo", "generic", "--graphics", "none", "--network", "none", "--noautoconsole")
    check("Domain creation completed" in out, f"virt-install said: {out!r}")
    wait_until(lambda: virsh_ok(uri, "domstate", "vd").strip() == "shut off", 30, "vd's first run ended")
    disk = ET.fromstring(virsh_ok(uri, "dumpxml", "--inactive", "vd")).find("devices/disk")
    check(disk is not None and disk.find("source").get("file") == qcow2 and
          disk.find("driver").get("type") == "qcow2" and disk.find("target").get("bus") == "virtio",
          f"virt-install's disk: {ET.tostring(disk) if disk is not None else None}")
    virsh_ok(uri, "start", "vd")
    wait_until(lambda: router.log_text().count("domain 'vd' stopped (exit, status 0)") >= 2, 30,
               "vd booted with its disk and its program ended (status 0), twice")
    info = virsh_ok(uri, "vol-info", qcow2)
    check("Capacity:       64.00 MiB" in info and "Type:           file" in info, f"vol-info: {info!r}")
    vol = ET.fromstring(virsh_ok(uri, "vol-dumpxml", qcow2))
    check(vol.find("target/format").get("type") == "qcow2" and vol.find("key").text == qcow2, "vol-dumpxml")
    check(folder in virsh_ok(uri, "pool-list", "--all"), "the disk's folder is a pool")
    pool = virsh_ok(uri, "pool-info", folder)
    check("State:          running" in pool, f"pool-info: {pool!r}")
    check(set(virsh_ok(uri, "vol-list", folder).split()) >= {"root.qcow2", "data.raw"}, "vol-list")
    virsh_fails(uri, "vol-info", router.folder.path("missing.qcow2"), needles=["storage volume not found"])
    virsh_ok(uri, "undefine", "vd")


def test_storage_hidden_from_strangers(router):
    """A read-only client as another user learns nothing about a file it
    could not read itself: the volume is 'not found', as a missing one is;
    a file it can read is answered (needs root and setpriv)."""
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        skip("needs root and setpriv to ask as another user")
    secret = router.folder.path("secret.raw")
    qemu_img("create", "-f", "raw", secret, "1M")
    os.chmod(secret, 0o600)
    os.chmod(router.folder.root, 0o755)
    ro = f"qemu+unix:///system?socket={router.socket_ro_path}"
    env = {k: v for k, v in os.environ.items() if k not in ("LIBVIRT_DEFAULT_URI", "VIRSH_DEFAULT_CONNECT_URI")}
    env["LC_ALL"] = "C"

    def as_nobody(*args):
        return subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "virsh", "-r", "-c", ro,
                               *args], capture_output=True, text=True, timeout=30, env=env)
    p = as_nobody("vol-info", secret)
    check(p.returncode != 0 and "storage volume not found" in p.stderr.lower(), f"nobody's vol-info: {p.stderr!r}")
    os.chmod(secret, 0o644)
    p = as_nobody("vol-info", secret)
    check(p.returncode == 0 and "1.00 MiB" in p.stdout, f"a readable file: {p.stdout!r} {p.stderr!r}")


def test_domain_facts_and_description(router):
    """virsh desc and title round-trip through dumpxml (persistently, for a
    defined domain); dommemstat gives the memory and QEMU's RSS;
    vcpucount, maxmem and getMaxVcpus answer what the definition says."""
    uri = router.uri_unix
    path = router.folder.path("facts.xml")
    with open(path, "w") as f:
        f.write(domain_xml("facts", args=["hold"], memory_mib=64))
    virsh_ok(uri, "define", path)
    virsh_ok(uri, "desc", "facts", "--config", "--new-desc", "the web tier")
    virsh_ok(uri, "desc", "facts", "--config", "--title", "--new-desc", "web")
    check(virsh_ok(uri, "desc", "facts").strip() == "the web tier", "desc read back")
    back = ET.fromstring(virsh_ok(uri, "dumpxml", "--inactive", "facts"))
    check(back.find("description").text == "the web tier" and back.find("title").text == "web",
          "description and title in dumpxml")
    conn = libvirt.open(uri)
    dom = conn.lookupByName("facts")
    check(dom.metadata(libvirt.VIR_DOMAIN_METADATA_TITLE, None, 0) == "web", "metadata(TITLE)")
    check(dom.maxMemory() == 64 * 1024, f"maxMemory: {dom.maxMemory()}")
    check(conn.getMaxVcpus(None) >= 1, "getMaxVcpus")
    virsh_ok(uri, "start", "facts")
    running(uri, "facts")
    check(dom.maxVcpus() == 1 and dom.vcpusFlags(libvirt.VIR_DOMAIN_AFFECT_LIVE) == 1, "vcpus")
    stats = dom.memoryStats()
    check(stats.get("actual") == 64 * 1024 and stats.get("rss", 0) > 1024, f"memoryStats: {stats}")
    out = virsh_ok(uri, "dommemstat", "facts")
    check("actual 65536" in out and "rss " in out, f"dommemstat: {out!r}")
    try:
        dom.metadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, "https://example.org/none", 0)
        raise Failure("metadata of an absent namespace found")
    except libvirt.libvirtError as e:
        check(e.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN_METADATA, f"absent metadata: {e}")
    virsh_ok(uri, "destroy", "facts")
    conn.close()


if __name__ == "__main__":
    need_router()
    need_virsh()
    if not shutil.which("qemu-img"):
        skip("qemu-img is not installed (apt-get install qemu-utils)")
    tests = [test_disks_and_rng_reach_qemu, test_rng_domain_restores_from_a_snapshot,
             test_disk_refusals, test_tck_domain, test_virt_install_import, test_host_memory,
             test_domain_capabilities, test_qemu_commands_are_not_supported,
             test_networks_are_honestly_empty, test_virt_install_import_disk,
             test_storage_hidden_from_strangers, test_domain_facts_and_description]
    main(tests, routers.fixture(), timeout=routers.TEST_TIMEOUT)
