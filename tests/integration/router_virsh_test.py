#!/usr/bin/python3
"""fleet-router through the real virsh (Debian 12, libvirt 9.0): host facts,
the whole domain lifecycle on both URIs (TCP and unix socket), the console,
events, transient domains, the boot manifest, adoption after a router
restart, a QEMU killed behind the router's back, and the errors a user sees.
"""
import os
import re
import signal
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

sys.path.append(os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "lib"))  # run by hand: HACKING.md
from fleet_test import router as routers  # noqa: E402
from fleet_test.check import Failure, check, wait_until  # noqa: E402
from fleet_test.paths import VIRSH  # noqa: E402
from fleet_test.procs import alive  # noqa: E402
from fleet_test.router import FLEET_NS, domain_xml, free_port, need_router  # noqa: E402
from fleet_test.runner import main, variant  # noqa: E402
from fleet_test.terminal import PtyProcess  # noqa: E402
from fleet_test.virsh import need_virsh, virsh, virsh_fails, virsh_ok  # noqa: E402


# ---- helpers -------------------------------------------------------------------

def write_xml(router, name, text):
    path = os.path.join(router.root, name + ".xml")
    with open(path, "w") as f:
        f.write(text)
    return path


def define(router, uri, name, **kw):
    out = virsh_ok(uri, "define", write_xml(router, name, domain_xml(name, **kw)))
    check(f"Domain '{name}' defined" in out, f"define {name}: {out!r}")


def create(router, uri, name, *flags, **kw):
    out = virsh_ok(uri, "create", write_xml(router, name, domain_xml(name, **kw)), *flags)
    check(f"Domain '{name}' created" in out, f"create {name}: {out!r}")


def parse_list(out):
    """virsh -q list output -> {name: (id, state)}."""
    out = "\n".join(l for l in out.splitlines() if not re.match(r"\s*(Id\s+Name|-+$)", l))
    doms = {}
    for line in out.splitlines():
        parts = line.split(None, 2)
        if len(parts) < 3:
            continue
        doms[parts[1]] = (parts[0], parts[2].strip())
    return doms


def listing(uri, *flags):
    return parse_list(virsh_ok(uri, "-q", "list", *flags))


def domstate(uri, name, reason=False):
    args = ["domstate", name] + (["--reason"] if reason else [])
    return virsh_ok(uri, *args).strip()


def wait_state(uri, name, want, timeout=20, reason=False):
    last = [None]

    def now():
        last[0] = domstate(uri, name, reason)
        return last[0] == want
    try:
        wait_until(now, timeout, f"'{name}' to be {want!r}", interval=0.1)
    except Failure:
        raise Failure(f"'{name}' is {last[0]!r} after {timeout}s, wanted {want!r}") from None


def dominfo(uri, name):
    info = {}
    for line in virsh_ok(uri, "dominfo", name).splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            info[k.strip()] = v.strip()
    return info


def gone(uri, name):
    p = virsh(uri, "domstate", name)
    return p.returncode != 0 and f"failed to get domain '{name}'" in p.stderr


class EventWatcher:
    """`virsh event --all --loop` on a terminal (line-buffered), in the background."""

    def __init__(self, router, uri, *extra):
        self.uri = uri
        self.router = router
        self.p = PtyProcess([VIRSH, "-c", uri, "event", "--all", "--loop", *extra],
                            env=dict(os.environ, LC_ALL="C"))
        # Registration has no visible answer: define a sentinel domain until its
        # event shows, so that nothing after this point is missed.
        n = 0
        deadline = time.monotonic() + 20
        while True:
            n += 1
            name = f"sentinel{n}"
            define(router, router.uri_unix, name)
            virsh_ok(router.uri_unix, "undefine", name)
            try:
                self.p.expect(f"domain '{name}': Undefined", 1.0)
                break
            except Failure:
                if time.monotonic() > deadline:
                    raise Failure(f"virsh event showed nothing in 20 s: {self.p.buf!r}") from None

    def lines(self):
        self.p.read_some(0)
        return [l.strip() for l in self.p.buf.decode(errors="replace").splitlines()]

    def events(self, name):
        """The lifecycle events seen for one domain, e.g. ['Started Booted', ...]."""
        out = []
        pat = re.compile(r"event 'lifecycle' for domain '([^']*)': (.*)$")
        for l in self.lines():
            m = pat.search(l)
            if m and m.group(1) == name:
                out.append(m.group(2).strip())
        return out

    def wait_for(self, name, event, timeout=20):
        def seen():
            self.p.read_some(0.1)
            return event in self.events(name)
        try:
            wait_until(seen, timeout, f"event '{event}' for '{name}'", interval=0.01)
        except Failure:
            raise Failure(f"no '{event}' event for '{name}' in {timeout}s; saw {self.events(name)}") from None

    def stop(self):
        """Ctrl-C: virsh deregisters and exits 0."""
        try:
            os.kill(self.p.pid, signal.SIGINT)
            rc = self.p.wait(10)
            check(rc == 0, f"virsh event exited {rc} on SIGINT: {self.p.buf[-400:]!r}")
        finally:
            self.p.close()


# ---- host facts -------------------------------------------------------------------

def test_host_facts(router, kind):
    uri = router.uri(kind)
    out = virsh_ok(uri, "version")
    qemu = subprocess.run(["qemu-system-x86_64", "--version"], capture_output=True, text=True).stdout
    m = re.search(r"version (\d+)\.(\d+)\.(\d+)", qemu)
    check(m is not None, f"qemu --version: {qemu!r}")
    check(f"Running hypervisor: QEMU {m.group(1)}.{m.group(2)}.{m.group(3)}" in out, f"version: {out!r}")
    check("Using API: QEMU" in out, f"version: {out!r}")
    out = virsh_ok(uri, "version", "--daemon")
    check("Running against daemon:" in out, f"version --daemon: {out!r}")

    host = virsh_ok(uri, "hostname").strip()
    check(host == socket.gethostname(), f"hostname {host!r}, wanted {socket.gethostname()!r}")
    check(virsh_ok(uri, "uri").strip() == uri, f"virsh uri does not echo {uri!r}")

    info = {}
    for line in virsh_ok(uri, "nodeinfo").splitlines():
        k, _, v = line.partition(":")
        info[k.strip()] = v.strip()
    check(info.get("CPU model") == "x86_64", f"nodeinfo {info}")
    check(info.get("CPU(s)") == str(os.cpu_count()), f"nodeinfo CPU(s) {info.get('CPU(s)')} != {os.cpu_count()}")
    with open("/proc/meminfo") as f:
        total = int(f.readline().split()[1])
    check(info.get("Memory size") == f"{total} KiB", f"nodeinfo memory {info.get('Memory size')}, wanted {total} KiB")

    caps = ET.fromstring(virsh_ok(uri, "capabilities"))
    check(caps.tag == "capabilities", "capabilities root")
    check(caps.findtext("host/cpu/arch") == "x86_64", "capabilities host arch")
    guests = caps.findall("guest")
    check(any(g.findtext("os_type") == "hvm" and g.find("arch").get("name") == "x86_64" and
              any(d.get("type") == "qemu" for d in g.findall("arch/domain")) for g in guests),
          "capabilities: no hvm x86_64 guest with domain type qemu")
    machines = [mm.text for g in guests for mm in g.findall("arch/machine")]
    check("microvm" in machines, f"capabilities machines {machines}")
    if not os.path.exists("/dev/kvm"):
        check(not any(d.get("type") == "kvm" for g in guests for d in g.findall("arch/domain")),
              "capabilities offer kvm on a host without /dev/kvm")


# ---- the whole lifecycle ---------------------------------------------------------------

def test_lifecycle(router, kind):
    uri = router.uri(kind)
    check(listing(uri, "--all") == {}, "a fresh router lists domains")

    # define -> listed shut off, inactive, persistent
    define(router, uri, "t1", args=["hold"], memory_mib=64)
    check(listing(uri, "--all") == {"t1": ("-", "shut off")}, f"list --all {listing(uri, '--all')}")
    check(listing(uri) == {}, "list (active only) shows a shut-off domain")
    check("t1" in listing(uri, "--inactive"), "list --inactive lacks t1")
    check("t1" in listing(uri, "--all", "--persistent"), "list --persistent lacks t1")
    check("t1" not in listing(uri, "--all", "--transient"), "list --transient shows t1")
    check(os.path.exists(os.path.join(router.state, "domains", "t1.xml")), "no definition file in the state folder")
    info = dominfo(uri, "t1")
    check(info.get("Name") == "t1" and info.get("State") == "shut off" and info.get("Id") == "-", f"dominfo {info}")
    check(info.get("Persistent") == "yes" and info.get("Autostart") == "disable", f"dominfo {info}")
    check(info.get("OS Type") == "hvm" and info.get("CPU(s)") == "1", f"dominfo {info}")
    check(info.get("Max memory") == "65536 KiB", f"dominfo {info}")
    check(domstate(uri, "t1", reason=True).startswith("shut off"), "domstate before start")

    # start -> running (booted)
    out = virsh_ok(uri, "start", "t1")
    check("Domain 't1' started" in out, f"start: {out!r}")
    check(domstate(uri, "t1") == "running", "domstate after start")
    check(domstate(uri, "t1", reason=True) == "running (booted)", f"--reason: {domstate(uri, 't1', True)!r}")
    lst = listing(uri)
    check("t1" in lst and lst["t1"][1] == "running", f"list {lst}")

    # domid / domname / domuuid / dominfo while running
    dom_id = virsh_ok(uri, "domid", "t1").strip()
    check(dom_id.isdigit() and int(dom_id) >= 1, f"domid {dom_id!r}")
    check(lst["t1"][0] == dom_id, f"list shows id {lst['t1'][0]}, domid {dom_id}")
    check(virsh_ok(uri, "domname", dom_id).strip() == "t1", "domname by id")
    uuid = virsh_ok(uri, "domuuid", "t1").strip()
    check(re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", uuid), f"domuuid {uuid!r}")
    check(virsh_ok(uri, "domname", uuid).strip() == "t1", "domname by uuid")
    check(domstate(uri, dom_id) == "running", "domstate by id")
    check(domstate(uri, uuid) == "running", "domstate by uuid")
    info = dominfo(uri, "t1")
    check(info.get("State") == "running" and info.get("Id") == dom_id and info.get("UUID") == uuid, f"dominfo {info}")
    check(re.fullmatch(r"[0-9.]+s", info.get("CPU time", "")), f"dominfo CPU time {info.get('CPU time')!r}")

    # dumpxml: live (with id), inactive (without), and the inactive one round-trips
    live = ET.fromstring(virsh_ok(uri, "dumpxml", "t1"))
    check(live.get("type") == "qemu" and live.get("id") == dom_id, f"dumpxml root {live.attrib}")
    check(live.findtext("name") == "t1" and live.findtext("uuid") == uuid, "dumpxml name/uuid")
    check(live.findtext(f"metadata/{{{FLEET_NS}}}image") == "hello", "dumpxml lacks fleet:image")
    check([a.text for a in live.findall(f"metadata/{{{FLEET_NS}}}arg")] == ["hold"], "dumpxml fleet:arg")
    check(live.find("memory") is not None and live.find("os/type").text == "hvm", "dumpxml memory/os")
    inactive_text = virsh_ok(uri, "dumpxml", "--inactive", "t1")
    inactive = ET.fromstring(inactive_text)
    check(inactive.get("id") is None, f"dumpxml --inactive has an id: {inactive.attrib}")
    out = virsh_ok(uri, "define", write_xml(router, "t1-dumped", inactive_text))
    check("Domain 't1' defined" in out, f"redefine from dumpxml --inactive: {out!r}")
    check(virsh_ok(uri, "domuuid", "t1").strip() == uuid, "redefining changed the uuid")
    check(virsh_ok(uri, "dumpxml", "--inactive", "t1") == inactive_text, "dumpxml --inactive changed by a round trip")
    check(list(listing(uri, "--all")) == ["t1"], "redefining added a domain")
    check(domstate(uri, "t1") == "running", "redefining disturbed the running domain")

    # suspend / resume
    out = virsh_ok(uri, "suspend", "t1")
    check("Domain 't1' suspended" in out, f"suspend: {out!r}")
    check(domstate(uri, "t1", reason=True) == "paused (user)", f"after suspend: {domstate(uri, 't1', True)!r}")
    check(listing(uri, "--all")["t1"][1] == "paused", "list after suspend")
    out = virsh_ok(uri, "resume", "t1")
    check("Domain 't1' resumed" in out, f"resume: {out!r}")
    check(domstate(uri, "t1") == "running", "domstate after resume")

    # console: a guest that echoes its input (the runtime cat)
    create(router, uri, "echo1", image="cat")
    console_echo(uri, "echo1")
    virsh_ok(uri, "destroy", "echo1")
    wait_until(lambda: gone(uri, "echo1"), 10, "the destroyed transient domain to vanish")

    # shutdown of a `hello hold` guest: ACPI power button, asynchronous
    out = virsh_ok(uri, "shutdown", "t1")
    check("is being shutdown" in out, f"shutdown: {out!r}")
    wait_state(uri, "t1", "shut off (shutdown)", timeout=20, reason=True)
    check(virsh_ok(uri, "domid", "t1").strip() == "-", "domid of a shut-off domain")
    check(router.records().get("t1") is None, "the launcher's folder of t1 remains after shutdown")

    # destroy of another: synchronous
    define(router, uri, "t2", args=["hold"])
    virsh_ok(uri, "start", "t2")
    qemu = router.record("t2")["pid"]
    check(alive(qemu), "t2's QEMU is not running")
    out = virsh_ok(uri, "destroy", "t2")
    check("Domain 't2' destroyed" in out, f"destroy: {out!r}")
    check(domstate(uri, "t2", reason=True) == "shut off (destroyed)", f"after destroy: {domstate(uri, 't2', True)!r}")
    check(not alive(qemu), "QEMU survived a (synchronous) destroy")

    # the domain starts again after a shutdown
    virsh_ok(uri, "start", "t1")
    new_id = virsh_ok(uri, "domid", "t1").strip()
    check(new_id.isdigit() and new_id != dom_id, f"a restarted domain reuses id {dom_id} (got {new_id})")
    virsh_ok(uri, "destroy", "t1")

    # undefine both
    for name in ("t1", "t2"):
        out = virsh_ok(uri, "undefine", name)
        check(f"Domain '{name}' has been undefined" in out, f"undefine: {out!r}")
        check(gone(uri, name), f"{name} is still there after undefine")
        check(not os.path.exists(os.path.join(router.state, "domains", name + ".xml")), f"{name}.xml left behind")
    check(listing(uri, "--all") == {}, f"list --all after undefine: {listing(uri, '--all')}")
    check(router.qemu_processes() == [], f"QEMU processes left: {router.qemu_processes()}")


def console_echo(uri, name):
    con = PtyProcess([VIRSH, "-c", uri, "console", name], env=dict(os.environ, LC_ALL="C"))
    try:
        con.expect("Escape character", 15, "virsh console to connect")
        time.sleep(0.3)  # virsh has put the terminal in raw mode by now
        seen = len(con.buf)
        con.write("fleet-console-echo-42\n")
        con.expect(b"fleet-console-echo-42", 15, "the guest's echo")
        time.sleep(0.3)
        echoed = con.buf[seen:].count(b"fleet-console-echo-42")
        check(echoed == 1, f"the line came back {echoed} times (a local echo?): {con.buf[seen:]!r}")
        con.write(b"\x1d")  # Ctrl-]
        rc = con.wait(10)
        check(rc == 0, f"virsh console after Ctrl-]: exit {rc}, output {con.buf!r}")
    finally:
        con.close()


# ---- transient domains ---------------------------------------------------------------

def test_transient(router):
    uri = router.uri_tls
    ev = EventWatcher(router, router.uri_unix)
    try:
        # plain hello: it runs, exits by itself, and vanishes
        create(router, uri, "h")
        ev.wait_for("h", "Started Booted")
        ev.wait_for("h", "Stopped Shutdown")
        wait_until(lambda: gone(uri, "h"), 10, "the transient 'h' to vanish")
        check("h" not in listing(uri, "--all"), "list --all shows the ended transient domain")
        check(router.records().get("h") is None, "the launcher's folder of 'h' remains")

        # a transient that holds: listed as transient, not persistent
        create(router, uri, "th", args=["hold"])
        check(listing(uri, "--transient") .get("th", ("", ""))[1] == "running", "list --transient lacks th")
        check("th" not in listing(uri, "--all", "--persistent"), "list --persistent shows th")
        check(dominfo(uri, "th").get("Persistent") == "no", "dominfo Persistent of a transient domain")
        check(ET.fromstring(virsh_ok(uri, "dumpxml", "th")).get("id") is not None, "transient dumpxml lacks id")
        virsh_fails(uri, "autostart", "th", needles=["transient"])
        virsh_fails(uri, "undefine", "th", needles=["transient"])
        virsh_ok(uri, "shutdown", "th")
        ev.wait_for("th", "Stopped Shutdown")
        wait_until(lambda: gone(uri, "th"), 10, "the transient 'th' to vanish after shutdown")

        # create --paused
        create(router, uri, "tp", "--paused", args=["hold"])
        check(domstate(uri, "tp", reason=True) == "paused (user)", f"create --paused: {domstate(uri, 'tp', True)!r}")
        ev.wait_for("tp", "Suspended Paused")
        virsh_ok(uri, "resume", "tp")
        check(domstate(uri, "tp") == "running", "resumed after create --paused")
        virsh_ok(uri, "destroy", "tp")
        check(gone(uri, "tp"), "destroyed transient 'tp' remains")
        check(ev.events("tp")[-1:] == ["Stopped Destroyed"], f"tp events {ev.events('tp')}")
        # a transient domain of a name that was used before
        create(router, uri, "h")
        wait_until(lambda: gone(uri, "h"), 10, "the second transient 'h' to vanish")
    finally:
        ev.stop()


# ---- events ------------------------------------------------------------------------

def test_events(router):
    uri = router.uri_tls
    ev = EventWatcher(router, router.uri_unix)
    only_e1 = None
    try:
        define(router, uri, "e1", args=["hold"])
        define(router, uri, "e2", args=["hold"])
        only_e1 = EventWatcher.__new__(EventWatcher)  # a second watcher, filtered to e1
        only_e1.p = PtyProcess([VIRSH, "-c", uri, "event", "--all", "--loop", "--domain", "e1"],
                               env=dict(os.environ, LC_ALL="C"))
        # sync it: e1 redefined shows "Defined Updated" there
        e1_uuid = virsh_ok(uri, "domuuid", "e1").strip()
        redefined = 0
        deadline = time.monotonic() + 20
        while True:
            virsh_ok(uri, "define", write_xml(router, "e1", domain_xml("e1", args=["hold"], uuid=e1_uuid)))
            redefined += 1
            try:
                only_e1.p.expect("Defined Updated", 1)
                break
            except Failure:
                check(time.monotonic() < deadline, f"the filtered watcher saw nothing: {only_e1.p.buf!r}")

        virsh_ok(uri, "start", "e1")
        virsh_ok(uri, "suspend", "e1")
        virsh_ok(uri, "resume", "e1")
        virsh_ok(uri, "destroy", "e1")
        virsh_ok(uri, "start", "e2")
        virsh_ok(uri, "shutdown", "e2")
        ev.wait_for("e2", "Stopped Shutdown")
        virsh_ok(uri, "undefine", "e1")
        ev.wait_for("e1", "Undefined Removed")
        want = ["Defined Added"] + ["Defined Updated"] * redefined + ["Started Booted", "Suspended Paused", "Resumed Unpaused",
                "Stopped Destroyed", "Undefined Removed"]
        check(ev.events("e1") == want, f"e1 events {ev.events('e1')}, wanted {want}")
        check(ev.events("e2") == ["Defined Added", "Started Booted", "Stopped Shutdown"], f"e2 events {ev.events('e2')}")
        only_e1.wait_for("e1", "Undefined Removed")
        check(only_e1.events("e1")[-5:] == want[-5:], f"filtered e1 events {only_e1.events('e1')}")
        check(only_e1.events("e2") == [], f"a watcher of e1 got e2's events: {only_e1.events('e2')}")
        check(not any("sentinel" in l for l in only_e1.lines()), "a watcher of e1 got others' events")
    finally:
        ev.stop()
        if only_e1 is not None:
            only_e1.stop()
    virsh_ok(uri, "undefine", "e2")


# ---- the boot manifest -----------------------------------------------------------------

def test_autostart_boot_manifest(router):
    uri = router.uri_tls
    for n in ("a1", "a2", "a3"):
        define(router, uri, n, args=["hold"])
    for n in ("a2", "a1", "a3"):
        out = virsh_ok(uri, "autostart", n)
        check(f"Domain '{n}' marked as autostarted" in out, f"autostart: {out!r}")
    check(dominfo(uri, "a1").get("Autostart") == "enable", "dominfo Autostart after autostart")
    check(set(listing(uri, "--all", "--autostart")) == {"a1", "a2", "a3"}, "list --autostart")
    check(listing(uri, "--all", "--no-autostart") == {}, "list --no-autostart")
    boot = os.path.join(router.state, "boot")

    def manifest():
        with open(boot) as f:
            return [l.strip() for l in f if l.strip() and not l.startswith("#")]
    check(manifest() == ["a2", "a1", "a3"], f"boot manifest {manifest()}")
    out = virsh_ok(uri, "autostart", "--disable", "a3")
    check("unmarked as autostarted" in out, f"autostart --disable: {out!r}")
    check(manifest() == ["a2", "a1"], f"boot manifest after --disable {manifest()}")
    check(dominfo(uri, "a3").get("Autostart") == "disable", "dominfo Autostart after --disable")
    check(listing(uri) == {}, "autostart started something")

    router.restart()
    uri = router.uri_tls
    wait_state(uri, "a2", "running", timeout=30)
    wait_state(uri, "a1", "running", timeout=30)
    check(domstate(uri, "a3") == "shut off", "a3 (not in the manifest) was started")
    check(int(virsh_ok(uri, "domid", "a2")) < int(virsh_ok(uri, "domid", "a1")), "boot order: a2 before a1")
    check(len(router.qemu_processes()) == 2, f"QEMUs after boot: {router.qemu_processes()}")
    for n in ("a1", "a2"):
        virsh_ok(uri, "destroy", n)
    virsh_ok(uri, "undefine", "a1")
    check(manifest() == ["a2"], f"undefine left a1 in the manifest: {manifest()}")

    # a manifest edited by hand: comments, a name that is not defined, and a
    # domain that cannot start do not stop the boot of the others
    define(router, uri, "broken", image="no-such-image")
    with open(boot, "w") as f:
        f.write("# edited by hand\n\nnot-defined\nbroken   # cannot start\n  a2  \n")
    router.restart(signal.SIGINT)  # SIGINT stops a router as SIGTERM does
    uri = router.uri_tls
    wait_state(uri, "a2", "running", timeout=30)
    check(domstate(uri, "broken") == "shut off", "a domain that cannot start is not shut off")
    check(dominfo(uri, "a2").get("Autostart") == "enable", "a hand-written manifest entry is not autostart")
    log = router.log_text().rsplit("---- router #", 1)[1]
    check("not-defined" in log, f"the router did not say it skipped 'not-defined': {log!r}")
    virsh_ok(uri, "destroy", "a2")


# ---- restarts ----------------------------------------------------------------------

def test_restart_adoption(router):
    uri = router.uri_unix
    define(router, uri, "r1", args=["hold"])
    virsh_ok(uri, "start", "r1")
    create(router, uri, "r2", args=["hold"])  # transient: adopted too
    define(router, uri, "r3", args=["hold"])  # stays shut off
    before = listing(uri, "--all")
    qemus = router.qemu_processes()
    check(len(qemus) == 2, f"QEMU processes before: {qemus}")
    old_pid = router.pid

    router.kill(signal.SIGKILL)
    check(not alive(old_pid), "the old router still runs")
    for q in qemus:
        check(alive(q), f"QEMU {q} died with the router")
    # An ended domain's folder, renamed away from its name, that a router
    # killed before it deleted it: the next router deletes it.
    retired = os.path.join(router.runtime, "vms", f".retired-gone-{old_pid}-0")
    os.makedirs(retired)
    with open(os.path.join(retired, "console.log"), "w") as f:
        f.write("left behind\n")
    router.start()
    check(not os.path.exists(retired), f"{retired} outlived a router restart")
    uri = router.uri_unix
    after = listing(uri, "--all")
    check(after == before, f"after a kill -9 restart: {after}, before: {before}")
    check(domstate(uri, "r1", reason=True).startswith("running"), "r1 after adoption")
    check(dominfo(uri, "r2").get("Persistent") == "no", "r2 is not transient after adoption")
    check(router.qemu_processes() == qemus, f"QEMUs after adoption {router.qemu_processes()}, before {qemus}")
    # an adopted domain still has its console and can be paused
    virsh_ok(uri, "suspend", "r1")
    check(domstate(uri, "r1") == "paused", "suspend an adopted domain")
    virsh_ok(uri, "resume", "r1")

    # a graceful stop (SIGTERM) and one more adoption: paused state survives too
    virsh_ok(uri, "suspend", "r2")
    router.restart()
    uri = router.uri_unix  # root's domains: a TLS client is an owner, not an administrator
    check(listing(uri, "--all") == {k: (v[0], "paused" if k == "r2" else v[1]) for k, v in before.items()},
          f"after a SIGTERM restart: {listing(uri, '--all')}")
    check(router.qemu_processes() == qemus, "QEMUs changed across a SIGTERM restart")
    virsh_ok(uri, "resume", "r2")

    # destroy and shutdown work on adopted domains; ended ones are noticed
    r1_qemu = router.record("r1")["pid"]
    virsh_ok(uri, "destroy", "r1")
    check(domstate(uri, "r1", reason=True) == "shut off (destroyed)", "destroy of an adopted domain")
    check(not alive(r1_qemu), "r1's QEMU survived destroy after adoption")
    virsh_ok(uri, "shutdown", "r2")
    wait_until(lambda: gone(uri, "r2"), 20, "the adopted transient r2 to vanish after shutdown")
    check(router.qemu_processes() == [], f"QEMUs left: {router.qemu_processes()}")
    # fresh ids do not collide with adopted ones
    virsh_ok(uri, "start", "r3")
    old_ids = {int(v[0]) for v in before.values() if v[0] != "-"}
    new_id = int(virsh_ok(uri, "domid", "r3"))
    check(new_id not in old_ids, f"a new domain got id {new_id}, used before by {old_ids}")
    virsh_ok(uri, "destroy", "r3")


def test_restart_keeps_port(router):
    """A router restarted on its fixed TLS port (as in production: 16514) while
    a VM it started runs: the old router's sockets are gone with it, so clients
    see the end at once and the new router can listen on the same port."""
    import socket as _socket
    port = free_port()
    router.tls = f"127.0.0.1:{port}"
    router.start()
    uri = router.uri_tls
    define(router, uri, "fp", args=["hold"])
    virsh_ok(uri, "start", "fp")
    for sig in (signal.SIGKILL, signal.SIGTERM):
        idle = _socket.create_connection(("127.0.0.1", port))
        idle.settimeout(0.5)
        time.sleep(0.2)
        router.kill(sig)
        t0 = time.monotonic()
        eof = None
        while time.monotonic() - t0 < 3:
            try:
                if idle.recv(4096) == b"":
                    eof = time.monotonic() - t0
                    break
            except _socket.timeout:
                continue
            except ConnectionResetError:
                eof = time.monotonic() - t0
                break
        idle.close()
        try:
            router.start(timeout=10)
        except Failure as e:
            raise Failure(f"after {signal.Signals(sig).name} of a router whose VM still runs, a new router cannot "
                          f"listen on the same port {port} (a client of the old one saw "
                          f"{'EOF after %.1fs' % eof if eof is not None else 'no EOF in 3 s'}): {e}") from None
        check(eof is not None, f"a client of a router that died ({signal.Signals(sig).name}) saw no end of its "
                               "connection in 3 s")
        check(router.info["tls_port"] == port, f"the new router listens on {router.info['tls_port']}, not {port}")
        check(domstate(uri, "fp") == "running", f"fp after a {signal.Signals(sig).name} restart")
    virsh_ok(uri, "destroy", "fp")


test_restart_keeps_port.manual_start = True


def test_vm_ends_while_no_router(router):
    uri = router.uri_tls
    define(router, uri, "n1", args=["hold"])
    virsh_ok(uri, "start", "n1")
    qemu = router.record("n1")["pid"]
    router.stop()
    os.kill(qemu, signal.SIGKILL)
    wait_until(lambda: not alive(qemu), 5, "QEMU to die")
    time.sleep(0.5)
    router.start()
    uri = router.uri_tls
    wait_state(uri, "n1", "shut off", timeout=10)
    check(router.qemu_processes() == [], "QEMU processes after restart")
    virsh_ok(uri, "start", "n1")
    check(domstate(uri, "n1") == "running", "n1 does not start again")
    virsh_ok(uri, "destroy", "n1")


def test_router_files(router):
    """router.json says how to reach the router. Root's router: the
    read-write socket is 0660 group fleet (0600 where tools/setup did not
    create the group), the read-only one 0666, in a runtime folder of mode
    0755 that only root writes."""
    import grp as _grp
    import json as _json
    import stat as _stat
    try:
        fleet_gid = _grp.getgrnam("fleet").gr_gid
    except KeyError:
        fleet_gid = None
    with open(os.path.join(router.runtime, "router.json")) as f:
        info = _json.load(f)
    check(info.get("pid") == router.pid, f"router.json pid {info.get('pid')} != {router.pid}")
    check(isinstance(info.get("version"), str) and info["version"], f"router.json version {info.get('version')!r}")
    check(info.get("socket") == os.path.join(router.runtime, "libvirt-sock"), f"router.json socket {info.get('socket')!r}")
    check(info.get("socket_ro") == os.path.join(router.runtime, "libvirt-sock-ro"),
          f"router.json socket_ro {info.get('socket_ro')!r}")
    check(info.get("tcp_host") == "127.0.0.1", f"router.json tcp_host {info.get('tcp_host')!r}")
    check(info.get("tcp_uri") == f"qemu+tcp://127.0.0.1:{info.get('tcp_port')}/system",
          f"router.json tcp_uri {info.get('tcp_uri')!r}")
    check(virsh_ok(info["tcp_uri"], "-r", "hostname").strip() != "", "the tcp_uri in router.json does not answer")
    check(info.get("tls_host") == "127.0.0.1" and info.get("tls_port", 0) > 0, f"router.json TLS: {info}")
    rw_mode = 0o600 if fleet_gid is None else 0o660
    for path, mode in ((info["socket"], rw_mode), (info["socket_ro"], 0o666)):
        st = os.stat(path)
        check(_stat.S_ISSOCK(st.st_mode) and _stat.S_IMODE(st.st_mode) == mode,
              f"{path}: mode {oct(_stat.S_IMODE(st.st_mode))}, wanted {oct(mode)}")
    if fleet_gid is not None:
        check(os.stat(info["socket"]).st_gid == fleet_gid, "the read-write socket's group is not fleet")
    st = os.stat(router.runtime)
    check(st.st_uid == 0 and _stat.S_IMODE(st.st_mode) == 0o755,
          f"the runtime folder: uid {st.st_uid} mode {oct(_stat.S_IMODE(st.st_mode))}")
    out = subprocess.run([router.command()[0], "--help"], capture_output=True, text=True, timeout=10)
    check(out.returncode == 0 and "--runtime-dir" in out.stdout and "--listen-tls" in out.stdout, "fleet-router --help")
    out = subprocess.run([router.command()[0], "--no-such-flag"], capture_output=True, text=True, timeout=10)
    check(out.returncode == 1 and out.stderr.startswith("fleet-router: "), f"a bad flag: {out.returncode} {out.stderr!r}")


def test_one_router_per_runtime_dir(router):
    p = router.spawn()
    try:
        rc = p.wait(timeout=15)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        raise Failure("a second router on the same runtime folder kept running")
    check(rc == 1, f"a second router exited {rc}, wanted 1")
    log = router.log_text().split("---- router #2 ----", 1)[1]
    check("another fleet-router" in log and str(router.pid) in log, f"second router said {log!r}")
    check(virsh_ok(router.uri_tls, "hostname").strip() != "", "the first router stopped answering")
    check(virsh_ok(router.uri_tcp, "-r", "hostname").strip() != "", "the first router's TCP stopped answering")
    check(virsh_ok(router.uri_unix, "hostname").strip() != "", "the first router's socket was taken over")


# ---- a QEMU killed behind the router's back --------------------------------------------

def test_qemu_killed(router):
    uri = router.uri_tls
    ev = EventWatcher(router, uri)
    try:
        define(router, uri, "k1", args=["hold"])
        virsh_ok(uri, "start", "k1")
        rec = router.record("k1")
        os.kill(rec["pid"], signal.SIGKILL)
        wait_state(uri, "k1", "shut off (crashed)", timeout=15, reason=True)
        ev.wait_for("k1", "Stopped Crashed")
        check(not alive(rec["supervisor_pid"]), "the supervisor outlived its QEMU")
        # and it starts again
        virsh_ok(uri, "start", "k1")
        check(domstate(uri, "k1") == "running", "k1 does not start after a crash")
        # a transient one vanishes
        create(router, uri, "k2", args=["hold"])
        os.kill(router.record("k2")["pid"], signal.SIGKILL)
        ev.wait_for("k2", "Stopped Crashed")
        wait_until(lambda: gone(uri, "k2"), 10, "the crashed transient k2 to vanish")
        virsh_ok(uri, "destroy", "k1")
    finally:
        ev.stop()


# ---- errors ---------------------------------------------------------------------

def test_errors(router):
    uri = router.uri_tls
    for cmd in ("domstate", "dominfo", "start", "destroy", "shutdown", "dumpxml", "undefine", "console", "suspend"):
        virsh_fails(uri, cmd, "nosuch", needles=["failed to get domain 'nosuch'"])
    virsh_fails(uri, "domname", "4242", needles=["failed to get domain '4242'"])
    virsh_fails(uri, "domstate", "00000000-0000-4000-8000-000000000000",
                needles=["failed to get domain '00000000-0000-4000-8000-000000000000'"])

    # the same name twice
    create(router, uri, "dup", args=["hold"])
    virsh_fails(uri, "create", os.path.join(router.root, "dup.xml"), needles=["dup", "already"])
    check(len(router.qemu_processes()) == 1, f"a refused create started a VM: {router.qemu_processes()}")
    virsh_fails(uri, "define", os.path.join(router.root, "dup.xml"), needles=["dup", "already"])

    # bad XML
    for text, needle in (("<domain type='qemu'><name>bad</name>", "domain XML"), ("not xml at all", "domain XML"),
                         ("<domain type='qemu'></domain>", "missing <name>"),
                         ("<domain type='qemu'><name>bad</name><os><type>hvm</type></os></domain>", "nothing to boot"),
                         (domain_xml("bad bad"), "bad domain name")):
        virsh_fails(uri, "define", write_xml(router, "bad", text), needles=[needle])
        virsh_fails(uri, "create", write_xml(router, "bad", text), needles=[needle])
    check("bad" not in listing(uri, "--all"), "bad XML left a domain")

    # what a microvm cannot have: refused as libvirt's unsupported configuration, named
    unsupported = domain_xml("u1", args=["hold"], devices="<graphics type='spice'/>")
    virsh_fails(uri, "define", write_xml(router, "u1", unsupported), needles=["unsupported configuration", "graphics"])
    virsh_fails(uri, "create", write_xml(router, "u1", unsupported), needles=["unsupported configuration", "graphics"])
    virsh_fails(uri, "define", write_xml(router, "u1", domain_xml("u1", extra="<cputune><shares>9</shares></cputune>")),
                needles=["unsupported configuration", "cputune"])
    # a disk fleet accepts, whose image is not there: the create fails naming it
    no_image = domain_xml("u1", args=["hold"], devices="<disk type='file' device='disk'><source file='/x.img'/>"
                                                       "<target dev='vda'/></disk>")
    virsh_fails(uri, "create", write_xml(router, "u1", no_image), needles=["/x.img"])
    check("u1" not in listing(uri, "--all"), "an unsupported definition left a domain")
    check(router.qemu_processes() == [router.record("dup")["pid"]], "an unsupported create started a VM")

    # reboot
    virsh_fails(uri, "reboot", "dup", needles=["not supported"])
    check(domstate(uri, "dup") == "running", "a refused reboot disturbed the domain")

    # start of a running domain; operations on a shut-off one
    define(router, uri, "p1", args=["hold"])
    virsh_ok(uri, "start", "p1")
    virsh_fails(uri, "start", "p1", needles=["already"])
    check(domstate(uri, "p1") == "running", "a second start disturbed p1")
    virsh_ok(uri, "destroy", "p1")
    for cmd in ("destroy", "shutdown", "suspend", "resume", "console"):
        virsh_fails(uri, cmd, "p1", needles=["not running"] if cmd != "resume" else [])

    # interfaces are accepted in definitions; starting one is refused (no bridge yet)
    define(router, uri, "net1", args=["hold"],
           devices="<interface type='network'><source network='default'/><model type='virtio'/></interface>")
    x = ET.fromstring(virsh_ok(uri, "dumpxml", "net1"))
    mac = x.find("devices/interface/mac")
    check(mac is not None and re.fullmatch(r"0e(:[0-9a-f]{2}){5}", mac.get("address", "")),
          f"no MAC derived from the UUID in {ET.tostring(x)!r}")
    virsh_fails(uri, "start", "net1", needles=["interface"])
    check(domstate(uri, "net1") == "shut off", "a refused start left net1 running")
    check(router.records().get("net1") is None, "a refused start left a launcher folder")

    # an image that does not exist; a kvm domain on a host without KVM
    define(router, uri, "noimg", image="no-such-image")
    virsh_fails(uri, "start", "noimg", needles=["no-such-image"])
    check(domstate(uri, "noimg") == "shut off", "noimg is not shut off")
    if not os.path.exists("/dev/kvm"):
        define(router, uri, "kvm1", args=["hold"], type="kvm")
        virsh_fails(uri, "start", "kvm1", needles=["kvm"])
        check(domstate(uri, "kvm1") == "shut off", "kvm1 is not shut off")

    # a hypervisor the router does not serve
    port = router.info["tcp_port"]
    virsh_fails(f"xen+tcp://127.0.0.1:{port}/system", "list", needles=["failed to connect"])
    # nothing listens after the router stopped
    router.stop()
    virsh_fails(uri, "list", needles=["failed to connect"], timeout=30)
    check(not os.path.exists(router.socket_path), "the unix socket remains after SIGTERM")
    check(not os.path.exists(os.path.join(router.runtime, "router.json")), "router.json remains after SIGTERM")


def test_read_only(router):
    uri = router.uri_tls
    define(router, uri, "ro1", args=["hold"])
    p = virsh(uri, "-r", "list", "--all")  # -r: virsh opens the connection read-only
    check(p.returncode == 0 and "ro1" in p.stdout, f"read-only list: {p.stdout!r} {p.stderr!r}")
    p = virsh(uri, "-r", "start", "ro1")
    check(p.returncode != 0 and "read only" in p.stderr.lower(), f"read-only start: {p.returncode} {p.stderr!r}")
    check(domstate(uri, "ro1") == "shut off", "a read-only connection started a domain")
    # The read-only listeners (the -ro socket, plain TCP) serve reads, and
    # refuse a read-write open with OPERATION_DENIED whatever the client asks.
    for ro in (router.uri_ro, router.uri_tcp):
        p = virsh(ro, "-r", "list", "--all")
        check(p.returncode == 0 and "ro1" in p.stdout, f"{ro}: read-only list: {p.stdout!r} {p.stderr!r}")
        p = virsh(ro, "start", "ro1")
        check(p.returncode != 0 and "forbidden" in p.stderr.lower(), f"{ro}: read-write start: {p.returncode} {p.stderr!r}")
    check(domstate(uri, "ro1") == "shut off", "a read-only listener started a domain")


if __name__ == "__main__":
    need_virsh()
    need_router()
    tests = [variant(test_host_facts, "host_facts[tls]", "tls"), variant(test_host_facts, "host_facts[unix]", "unix"),
             variant(test_lifecycle, "lifecycle[tls]", "tls"), variant(test_lifecycle, "lifecycle[unix]", "unix"),
             test_transient, test_events, test_autostart_boot_manifest, test_restart_adoption, test_restart_keeps_port,
             test_vm_ends_while_no_router, test_router_files, test_one_router_per_runtime_dir, test_qemu_killed, test_errors,
             test_read_only]
    main(tests, routers.fixture(), timeout=routers.TEST_TIMEOUT)
