#!/usr/bin/python3
"""fleet-router through python3-libvirt (Debian 12, 9.0): connections on both
URIs, the domain API, lifecycle events through libvirt's default event loop,
console streams, keepalive, one connection shared by many threads, and the
libvirtError codes a program sees.
"""
import os
import random
import signal
import struct
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET

sys.path.append(os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "lib"))  # run by hand: HACKING.md
from fleet_test import router as routers  # noqa: E402
from fleet_test.check import Failure, check, check_memory, sanitized, wait_until  # noqa: E402
from fleet_test.libvirt_client import need_libvirt_python, start_event_loop  # noqa: E402
from fleet_test.procs import alive  # noqa: E402
from fleet_test.router import FLEET_NS, domain_xml, need_router  # noqa: E402
from fleet_test.runner import main, variant  # noqa: E402

import router_wire_test as wire  # noqa: E402  (its raw-packet client)

libvirt = need_libvirt_python()  # errors are checked, not printed


def expect_error(code, fn, *args, codes=None, needles=()):
    """fn(*args) must raise libvirtError with the code (or one of codes)."""
    want = set(codes or [code])
    try:
        fn(*args)
    except libvirt.libvirtError as e:
        got = e.get_error_code()
        msg = e.get_error_message() or ""
        check(got in want, f"{getattr(fn, '__name__', fn)}: error code {got} ({msg!r}), wanted {sorted(want)}")
        for n in needles:
            check(n.lower() in msg.lower(), f"{getattr(fn, '__name__', fn)}: {msg!r} does not mention {n!r}")
        return e
    raise Failure(f"{getattr(fn, '__name__', fn)}{args!r}: no error, wanted code {sorted(want)}")


def state_of(dom):
    return tuple(dom.state())


def wait_state(dom, want, timeout=20):
    last = [None]

    def ok():
        last[0] = state_of(dom)
        return last[0] == want
    try:
        wait_until(ok, timeout, f"{dom.name()} in state {want}", interval=0.05)
    except Failure:
        raise Failure(f"{dom.name()} is in state {last[0]} after {timeout}s, wanted {want}") from None


RUNNING_BOOTED = (libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_RUNNING_BOOTED)
PAUSED_USER = (libvirt.VIR_DOMAIN_PAUSED, libvirt.VIR_DOMAIN_PAUSED_USER)
SHUTOFF_SHUTDOWN = (libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_SHUTOFF_SHUTDOWN)
SHUTOFF_DESTROYED = (libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_SHUTOFF_DESTROYED)
SHUTOFF_CRASHED = (libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_SHUTOFF_CRASHED)


class Events:
    """Lifecycle events as (name, uuid, event, detail), from a callback."""

    def __init__(self):
        self.seen = []
        self.cond = threading.Condition()

    def callback(self, conn, dom, event, detail, opaque):
        with self.cond:
            self.seen.append((dom.name(), dom.UUIDString(), event, detail))
            self.cond.notify_all()

    def of(self, name):
        with self.cond:
            return [(e, d) for n, _, e, d in self.seen if n == name]

    def wait_for(self, name, event, detail, timeout=20):
        deadline = time.monotonic() + timeout
        with self.cond:
            while (event, detail) not in [(e, d) for n, _, e, d in self.seen if n == name]:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Failure(f"no event ({event}, {detail}) for '{name}' in {timeout}s; saw {self.seen}")
                self.cond.wait(left)


# ---- connections and host facts --------------------------------------------------------

def test_open(router, kind):
    uri = router.uri(kind)
    conn = libvirt.open(uri)
    check(conn.isAlive() == 1, "isAlive")
    check(conn.getType() == "QEMU", f"getType {conn.getType()!r}")
    check(conn.getVersion() >= 7000000, f"getVersion {conn.getVersion()}")
    check(conn.getLibVersion() > 0, "getLibVersion")
    check(conn.getHostname() == os.uname().nodename, f"getHostname {conn.getHostname()!r}")
    check(conn.getURI() == uri, f"getURI {conn.getURI()!r}, wanted {uri!r}")
    info = conn.getInfo()
    check(info[0] == "x86_64" and info[1] > 0 and info[2] == os.cpu_count(), f"getInfo {info}")
    caps = ET.fromstring(conn.getCapabilities())
    check(caps.findtext("host/cpu/arch") == "x86_64", "getCapabilities")
    check(conn.listAllDomains() == [], "a fresh router has domains")
    check(conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE) == [], "listAllDomains(ACTIVE)")
    check(conn.numOfDomains() == 0 and conn.numOfDefinedDomains() == 0, "numOf*Domains")
    ro = libvirt.openReadOnly(uri)
    check(ro.getHostname() == conn.getHostname(), "a read-only connection")
    expect_error(libvirt.VIR_ERR_OPERATION_DENIED, ro.defineXML, domain_xml("ro"), needles=["read only"])
    check(conn.listAllDomains() == [], "a read-only connection defined a domain")
    check(ro.close() == 0, "close of the read-only connection")
    check(conn.close() == 0, "close")


def test_read_only_write_is_denied(router):
    """A write on a read-only connection gets libvirt's own code,
    VIR_ERR_OPERATION_DENIED. libvirt's clients refuse such a call before
    sending it (test_open), so a raw client sends it anyway."""
    c = wire.Client(router.socket_path)
    ro_flag = struct.pack(">I", libvirt.VIR_CONNECT_RO)
    h, p = c.call(1, struct.pack(">I", 1) + wire.xdr_string("qemu:///system") + ro_flag)  # CONNECT_OPEN
    check(h[5] == wire.OK, f"read-only CONNECT_OPEN: {h} {p!r}")
    h, p = c.call(11, wire.xdr_string(domain_xml("ro-raw")))  # DOMAIN_DEFINE_XML
    check(h[5] == wire.ERROR, f"a define on a read-only connection was answered {h}")
    check(wire.error_code(p) == libvirt.VIR_ERR_OPERATION_DENIED,
          f"error code {wire.error_code(p)}, wanted VIR_ERR_OPERATION_DENIED ({libvirt.VIR_ERR_OPERATION_DENIED}): {p!r}")
    check(b"read only" in p, f"the message does not say why: {p!r}")
    h, p = c.call(23, wire.xdr_string("ro-raw"))  # DOMAIN_LOOKUP_BY_NAME: reading is allowed
    check(h[5] == wire.ERROR and wire.error_code(p) == libvirt.VIR_ERR_NO_DOMAIN, f"ro-raw was defined: {h} {p!r}")
    c.close()


# ---- the domain API -------------------------------------------------------------------

def test_domains(router, kind):
    conn = libvirt.open(router.uri(kind))
    dom = conn.defineXML(domain_xml("p1", args=["hold"], memory_mib=32))
    check(dom.name() == "p1" and dom.ID() == -1, f"defineXML: {dom.name()} id {dom.ID()}")
    check(dom.isActive() == 0 and dom.isPersistent() == 1, "defined: active/persistent")
    uuid = dom.UUIDString()
    check(conn.lookupByName("p1").UUIDString() == uuid, "lookupByName")
    check(conn.lookupByUUIDString(uuid).name() == "p1", "lookupByUUIDString")
    check(state_of(dom)[0] == libvirt.VIR_DOMAIN_SHUTOFF, f"state {dom.state()}")
    check([d.name() for d in conn.listAllDomains()] == ["p1"], "listAllDomains")
    check([d.name() for d in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_INACTIVE)] == ["p1"], "INACTIVE")
    check(conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE) == [], "ACTIVE")
    check(conn.listDefinedDomains() == ["p1"], "listDefinedDomains")

    # defineXML + create
    check(dom.create() == 0, "create")
    check(dom.ID() > 0 and dom.isActive() == 1, f"after create: id {dom.ID()}")
    dom_id = dom.ID()
    check(conn.lookupByID(dom_id).name() == "p1", "lookupByID")
    check(conn.listDomainsID() == [dom_id], f"listDomainsID {conn.listDomainsID()}")
    check(state_of(dom) == RUNNING_BOOTED, f"state {dom.state()}")
    st, maxmem, mem, ncpu, cputime = dom.info()
    check(st == libvirt.VIR_DOMAIN_RUNNING and maxmem == 32768 and mem == 32768 and ncpu == 1, f"info {dom.info()}")
    check(cputime > 0, f"info cpuTime {cputime} of a running guest")
    live = ET.fromstring(dom.XMLDesc(0))
    check(live.get("id") == str(dom_id) and live.findtext("uuid") == uuid, f"XMLDesc root {live.attrib}")
    check(live.findtext(f"metadata/{{{FLEET_NS}}}image") == "hello", "XMLDesc lacks fleet:image")
    check(ET.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)).get("id") is None, "XMLDesc(INACTIVE) has an id")
    check(dom.OSType() == "hvm", "OSType")
    check(dom.autostart() == 0, "autostart")
    dom.setAutostart(1)
    check(dom.autostart() == 1, "setAutostart(1)")
    dom.setAutostart(0)
    check(dom.autostart() == 0, "setAutostart(0)")

    # suspend / resume
    dom.suspend()
    check(state_of(dom) == PAUSED_USER, f"after suspend {dom.state()}")
    check(dom.info()[0] == libvirt.VIR_DOMAIN_PAUSED, "info after suspend")
    dom.resume()
    check(state_of(dom) == (libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_RUNNING_UNPAUSED), f"after resume {dom.state()}")

    # shutdown (asynchronous), then start and destroy (synchronous)
    dom.shutdown()
    wait_state(dom, SHUTOFF_SHUTDOWN)
    check(dom.ID() == -1 or conn.lookupByName("p1").ID() == -1, "a shut-off domain keeps an id")
    dom.createWithFlags(libvirt.VIR_DOMAIN_START_PAUSED)
    check(state_of(dom) == PAUSED_USER, f"createWithFlags(PAUSED): {dom.state()}")
    dom.resume()
    qemu = router.record("p1")["pid"]
    check(dom.destroy() == 0, "destroy")
    check(state_of(dom) == SHUTOFF_DESTROYED, f"after destroy {dom.state()}")
    check(not alive(qemu), "QEMU outlived destroy")

    # a changed definition while running takes effect at the next start
    dom.create()
    conn.defineXML(domain_xml("p1", args=["hold"], memory_mib=48, uuid=uuid))
    check(dom.info()[1] == 32768, f"redefining changed the running domain's memory: {dom.info()}")
    check("49152" in dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE), "XMLDesc(INACTIVE) lacks the next definition")
    dom.destroy()
    dom.create()
    check(dom.info()[1] == 49152, f"the new definition did not apply at the next start: {dom.info()}")
    dom.destroy()

    # undefine
    check(dom.undefine() == 0, "undefine")
    expect_error(libvirt.VIR_ERR_NO_DOMAIN, conn.lookupByName, "p1")
    expect_error(libvirt.VIR_ERR_NO_DOMAIN, dom.info)
    # undefine of a running persistent domain: it becomes transient and vanishes when it ends
    d2 = conn.defineXML(domain_xml("p2", args=["hold"]))
    d2.create()
    d2.undefine()
    check(d2.isPersistent() == 0 and d2.isActive() == 1, "undefine of a running domain")
    d2.destroy()
    expect_error(libvirt.VIR_ERR_NO_DOMAIN, conn.lookupByName, "p2")

    # createXML: transient
    t = conn.createXML(domain_xml("t1", args=["hold"]), 0)
    check(t.ID() > 0 and t.isPersistent() == 0 and state_of(t) == RUNNING_BOOTED, f"createXML: {t.ID()} {t.state()}")
    check([d.name() for d in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_TRANSIENT)] == ["t1"], "TRANSIENT")
    t.destroy()
    expect_error(libvirt.VIR_ERR_NO_DOMAIN, conn.lookupByName, "t1")
    # Its folder is gone too: renamed away before the answer, deleted after.
    left = sorted(os.listdir(os.path.join(router.runtime, "vms")))
    check(left == [".lock"], f"runtime folder after destroy: {left}")
    t = conn.createXML(domain_xml("t2", args=["hold"]), libvirt.VIR_DOMAIN_START_PAUSED)
    check(state_of(t) == PAUSED_USER, f"createXML(PAUSED): {t.state()}")
    t.destroy()
    # a transient guest that exits by itself vanishes
    t = conn.createXML(domain_xml("t3"), 0)
    wait_until(lambda: "t3" not in [d.name() for d in conn.listAllDomains()], 15, "t3 to vanish")
    check(router.qemu_processes() == [], f"QEMUs left: {router.qemu_processes()}")
    conn.close()


# ---- events ----------------------------------------------------------------------

def test_events(router):
    conn = libvirt.open(router.uri_tls)
    ev = Events()
    cb_all = conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, ev.callback, None)
    check(cb_all >= 0, f"domainEventRegisterAny: {cb_all}")
    other = conn.defineXML(domain_xml("ev-other", args=["hold"]))
    dom = conn.defineXML(domain_xml("ev1", args=["hold"]))
    ev_one = Events()  # a registration for one domain only, on another connection
    conn2 = libvirt.open(router.uri_unix)
    cb_one = conn2.domainEventRegisterAny(conn2.lookupByName("ev1"), libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                          ev_one.callback, None)
    ev.wait_for("ev1", libvirt.VIR_DOMAIN_EVENT_DEFINED, libvirt.VIR_DOMAIN_EVENT_DEFINED_ADDED)

    dom.create()
    dom.suspend()
    dom.resume()
    other.create()
    dom.destroy()
    ev.wait_for("ev1", libvirt.VIR_DOMAIN_EVENT_STOPPED, libvirt.VIR_DOMAIN_EVENT_STOPPED_DESTROYED)
    E = libvirt
    want = [(E.VIR_DOMAIN_EVENT_DEFINED, E.VIR_DOMAIN_EVENT_DEFINED_ADDED),
            (E.VIR_DOMAIN_EVENT_STARTED, E.VIR_DOMAIN_EVENT_STARTED_BOOTED),
            (E.VIR_DOMAIN_EVENT_SUSPENDED, E.VIR_DOMAIN_EVENT_SUSPENDED_PAUSED),
            (E.VIR_DOMAIN_EVENT_RESUMED, E.VIR_DOMAIN_EVENT_RESUMED_UNPAUSED),
            (E.VIR_DOMAIN_EVENT_STOPPED, E.VIR_DOMAIN_EVENT_STOPPED_DESTROYED)]
    check(ev.of("ev1") == want, f"ev1 events {ev.of('ev1')}, wanted {want}")
    uuids = {u for n, u, _, _ in ev.seen if n == "ev1"}
    check(uuids == {dom.UUIDString()}, f"ev1 events name uuids {uuids}")
    ev_one.wait_for("ev1", E.VIR_DOMAIN_EVENT_STOPPED, E.VIR_DOMAIN_EVENT_STOPPED_DESTROYED)
    check(ev_one.of("ev1") == want[1:], f"filtered ev1 events {ev_one.of('ev1')}")

    # shutdown, and a QEMU killed behind the router's back
    other.shutdown()
    ev.wait_for("ev-other", E.VIR_DOMAIN_EVENT_STOPPED, E.VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN)
    dom.create()
    os.kill(router.record("ev1")["pid"], signal.SIGKILL)
    ev.wait_for("ev1", E.VIR_DOMAIN_EVENT_STOPPED, E.VIR_DOMAIN_EVENT_STOPPED_CRASHED)
    check(state_of(dom) == SHUTOFF_CRASHED, f"state after QEMU was killed: {dom.state()}")
    # a transient guest that exits by itself
    conn.createXML(domain_xml("ev-hello"), 0)
    ev.wait_for("ev-hello", E.VIR_DOMAIN_EVENT_STOPPED, E.VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN)
    check(ev.of("ev-hello")[0] == (E.VIR_DOMAIN_EVENT_STARTED, E.VIR_DOMAIN_EVENT_STARTED_BOOTED),
          f"ev-hello events {ev.of('ev-hello')}")
    # redefine, undefine
    conn.defineXML(dom.XMLDesc(E.VIR_DOMAIN_XML_INACTIVE))
    ev.wait_for("ev1", E.VIR_DOMAIN_EVENT_DEFINED, E.VIR_DOMAIN_EVENT_DEFINED_UPDATED)
    dom.undefine()
    ev.wait_for("ev1", E.VIR_DOMAIN_EVENT_UNDEFINED, E.VIR_DOMAIN_EVENT_UNDEFINED_REMOVED)
    check(all(n == "ev1" for n, _, _, _ in ev_one.seen), f"a registration for ev1 got {ev_one.seen}")

    # deregistered: nothing more
    conn.domainEventDeregisterAny(cb_all)
    conn2.domainEventDeregisterAny(cb_one)
    n_all = len(ev.seen)
    other.create()
    other.destroy()
    check_later = conn.createXML(domain_xml("ev-late"), 0)
    del check_later
    ev2 = Events()  # a registration made later still works, on the same connection
    conn.domainEventRegisterAny(None, E.VIR_DOMAIN_EVENT_ID_LIFECYCLE, ev2.callback, None)
    conn.createXML(domain_xml("ev-late2"), 0)
    ev2.wait_for("ev-late2", E.VIR_DOMAIN_EVENT_STOPPED, E.VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN)
    check(len(ev.seen) == n_all, f"events after deregistering: {ev.seen[n_all:]}")
    other.undefine()
    conn2.close()
    conn.close()


def test_keepalive(router):
    """With an event loop, clients ping after silence; an unanswered ping closes them."""
    conn = libvirt.open(router.uri_tls)
    closed = []
    conn.registerCloseCallback(lambda c, reason, opaque: closed.append(reason), None)
    conn.setKeepAlive(1, 2)  # a ping after 1 s of silence; dead after 2 more unanswered
    time.sleep(6)
    check(closed == [], f"the connection was closed (reason {closed}) during silence: keepalive not answered?")
    check(conn.isAlive() == 1, "not alive after 6 s of silence")
    check(conn.getHostname() == os.uname().nodename, "getHostname after silence")
    conn.unregisterCloseCallback()
    conn.close()


# ---- console streams -----------------------------------------------------------------

def stream_read_until(stream, needle, timeout):
    """Read a non-blocking stream until needle arrives; everything read."""
    buf = b""
    deadline = time.monotonic() + timeout
    while needle not in buf:
        if time.monotonic() > deadline:
            raise Failure(f"timed out after {timeout}s waiting for {needle!r} on the console; got {buf[-300:]!r}")
        data = stream.recv(65536)
        if data == -2:
            time.sleep(0.01)
            continue
        if data == b"" or data == -1:
            raise Failure(f"the console ended before {needle!r}; got {buf[-300:]!r}")
        buf += data
    return buf


def stream_send_all(stream, data, timeout=20):
    deadline = time.monotonic() + timeout
    while data:
        n = stream.send(data)
        if n == -2:
            check(time.monotonic() < deadline, "the console did not take the input")
            time.sleep(0.01)
            continue
        check(n > 0, f"stream.send returned {n}")
        data = data[n:]


def test_console(router):
    conn = libvirt.open(router.uri_tls)
    # upper: the input comes back transformed, so it surely went through the guest
    dom = conn.createXML(domain_xml("up", image="upper"), 0)
    st = conn.newStream(libvirt.VIR_STREAM_NONBLOCK)
    check(dom.openConsole(None, st, 0) == 0, "openConsole")
    stream_send_all(st, b"through the guest\n")
    stream_read_until(st, b"THROUGH THE GUEST\n", 15)
    st.finish()
    dom.destroy()

    # cat: a larger amount back byte for byte
    dom = conn.createXML(domain_xml("cat1", image="cat"), 0)
    st = conn.newStream(libvirt.VIR_STREAM_NONBLOCK)
    dom.openConsole(None, st, 0)
    rnd = random.Random(7)
    lines = b"".join(b"%05d %s\n" % (i, bytes(rnd.choice(b"abcdefghij") for _ in range(60))) for i in range(1500))
    got = b""
    sent = 0
    deadline = time.monotonic() + 60
    while len(got) < len(lines):  # interleaved, as a terminal would: never more than 16 KiB in flight
        check(time.monotonic() < deadline, f"console: {len(got)} of {len(lines)} bytes back in 60 s")
        if sent < len(lines) and sent - len(got) < 16384:
            n = st.send(lines[sent:sent + 4096])
            if n > 0:
                sent += n
        data = st.recv(65536)
        if data == -2:
            time.sleep(0.002)
            continue
        check(data not in (b"", -1), f"the console ended after {len(got)} bytes")
        got += data
    if got != lines:
        diff = next((i for i in range(min(len(got), len(lines))) if got[i] != lines[i]), min(len(got), len(lines)))
        raise Failure(f"cat's output differs from its input: {len(got)} bytes back for {len(lines)} sent, "
                      f"first difference at {diff}: got {got[max(0, diff - 80):diff + 80]!r}, "
                      f"sent {lines[max(0, diff - 80):diff + 80]!r}")
    st.abort()  # the client aborts: the router acknowledges, the domain keeps running
    check(state_of(dom)[0] == libvirt.VIR_DOMAIN_RUNNING, "aborting the console stopped the domain")
    # a second console on the same domain, after the first
    st = conn.newStream(libvirt.VIR_STREAM_NONBLOCK)
    dom.openConsole(None, st, 0)
    stream_send_all(st, b"again\n")
    stream_read_until(st, b"again\n", 15)
    st.finish()
    dom.destroy()

    # the guest's end ends the stream (EOF), after its last words
    dom = conn.createXML(domain_xml("hold1", args=["hold"]), 0)
    st = conn.newStream(0)  # blocking
    dom.openConsole(None, st, 0)
    dom.shutdown()
    buf = b""
    t0 = time.monotonic()
    while True:
        data = st.recv(65536)
        if not data:
            break
        buf += data
        check(time.monotonic() - t0 < 20, "no end of stream")
    # shutdown is SIGTERM to the program (images/README.md): hello says so as it ends.
    check(b"hello: signal 15" in buf, f"the console missed the guest's last words: {buf!r}")
    st.finish()
    # a console of a domain that does not run
    d = conn.defineXML(domain_xml("off1", args=["hold"]))
    expect_error(libvirt.VIR_ERR_OPERATION_INVALID, d.openConsole, None, conn.newStream(0), 0, needles=["not running"])
    d.undefine()
    conn.close()


# ---- threads sharing one connection --------------------------------------------------------

def test_shared_connection(router):
    """Calls from many threads overlap on one connection; every answer is its own."""
    conn = libvirt.open(router.uri_unix)
    for i in range(8):
        conn.defineXML(domain_xml(f"s{i}", args=["hold"], memory_mib=16 + i))
    errors = []

    def worker(i):
        try:
            name = f"s{i}"
            for k in range(60):
                d = conn.lookupByName(name)
                check(d.name() == name, f"lookupByName({name}) -> {d.name()}")
                check(d.info()[1] == (16 + i) * 1024, f"{name} info {d.info()}")
                check(ET.fromstring(d.XMLDesc(0)).findtext("name") == name, f"{name} XMLDesc")
                if k == 20 and i < 3:
                    d.create()  # slow calls among the quick ones
                if k == 40 and i < 3:
                    d.destroy()
        except Exception as e:  # noqa: BLE001
            errors.append(f"thread {i}: {type(e).__name__}: {e}")
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    check(not any(t.is_alive() for t in threads), "threads did not finish in 120 s")
    check(errors == [], f"errors: {errors}")
    for d in conn.listAllDomains():
        d.undefine()
    conn.close()


# ---- the router stays responsive and bounded -------------------------------------------------

def new_connection_latency(uri):
    t0 = time.monotonic()
    c = libvirt.open(uri)
    c.getHostname()
    c.close()
    return time.monotonic() - t0


def test_stuck_qemu_does_not_block_router(router):
    """A QEMU that does not answer its monitor (stopped here with SIGSTOP; a
    starved or wedged one in life) must cost the caller of suspend, not every
    other client of the router."""
    conn = libvirt.open(router.uri_tls)
    dom = conn.createXML(domain_xml("stuck", args=["hold"]), 0)
    qemu = router.record("stuck")["pid"]
    os.kill(qemu, signal.SIGSTOP)
    try:
        result = {}

        def suspend():
            t0 = time.monotonic()
            try:
                dom.suspend()
                result["outcome"] = "ok"
            except libvirt.libvirtError as e:
                result["outcome"] = f"error {e.get_error_code()}: {e.get_error_message()}"
            result["took"] = time.monotonic() - t0
        t = threading.Thread(target=suspend)
        t.start()
        time.sleep(0.3)  # the suspend is in the router now
        took = new_connection_latency(router.uri_unix)
        t.join(60)
        check(not t.is_alive(), "suspend of a stuck QEMU never returned")
        check(took < 2.0, f"a new connection's getHostname took {took:.2f}s while one client's suspend waited on "
                          f"a stuck QEMU monitor ({result}): the router's loop blocks on QMP")
        check(result.get("outcome") != "ok" or state_of(dom) == PAUSED_USER, f"suspend said {result}")
    finally:
        os.kill(qemu, signal.SIGCONT)
    dom.destroy()
    conn.close()


def test_console_input_is_bounded(router):
    """A client that sends faster than its guest reads (here a guest that never
    reads stdin) must be slowed down, not buffered without end in the router.
    The flood comes from another process (a flow-controlled libvirt client
    blocks in send), stopped after 8 s."""
    conn = libvirt.open(router.uri_tls)
    dom = conn.createXML(domain_xml("deaf", args=["hold"]), 0)
    time.sleep(0.3)
    rss0 = router.rss_kib()
    flooder = subprocess.Popen([sys.executable, "-c", FLOODER, router.uri_tls, "deaf"], stdout=subprocess.PIPE,
                               text=True)
    peak = rss0
    t0 = time.monotonic()
    while time.monotonic() - t0 < 8 and flooder.poll() is None:
        peak = max(peak, router.rss_kib())
        time.sleep(0.05)
    took = new_connection_latency(router.uri_unix)
    peak = max(peak, router.rss_kib())
    flooder.kill()
    out = flooder.communicate()[0].split()
    sent = int(out[-1]) if out else 0
    check(sent > 0, "the flooder sent nothing")
    check(took < 2.0, f"a new connection's getHostname took {took:.2f}s during the flood")
    growth = (peak - rss0) // 1024
    check_memory(growth <= 32, f"the router's RSS grew {growth} MiB (from {rss0 // 1024} MiB) while a client sent "
                               f"{sent // 2**20} MiB to a guest that does not read: console input is not flow-controlled")
    print(f"     flood: {sent // 2**20} MiB sent in 8 s, router RSS {rss0} -> peak {peak} KiB, "
          f"new connection {took * 1000:.0f} ms", flush=True)
    # the router is still fine, and so is the domain
    check(state_of(dom)[0] == libvirt.VIR_DOMAIN_RUNNING, "the flood stopped the domain")
    dom.destroy()
    if not sanitized():  # ASan's quarantine keeps freed memory
        wait_until(lambda: router.rss_kib() - rss0 < 16 * 1024, 10,
                   "the router's memory to come back after the flood")
    conn.close()


FLOODER = """
import sys, libvirt
libvirt.registerErrorHandler(lambda c, e: None, None)
conn = libvirt.open(sys.argv[1])
st = conn.newStream(0)
conn.lookupByName(sys.argv[2]).openConsole(None, st, 0)
chunk = b"x" * 65536
sent = 0
while sent < 1 << 30:
    sent += st.send(chunk)
    print(sent, flush=True)
"""


def test_idle_connections_are_cheap(router):
    """Idle clients (a monitoring agent, virt-manager, shells left open) must
    not each pin a large buffer: 100 idle connections may cost the router at
    most 64 KiB each."""
    conns = []
    try:
        time.sleep(0.3)
        rss0 = router.rss_kib()
        for _ in range(100):
            c = libvirt.open(router.uri_unix)
            c.getHostname()
            conns.append(c)
        time.sleep(0.5)
        per = (router.rss_kib() - rss0) / 100
        check_memory(per <= 64, f"each idle connection costs the router {per:.0f} KiB of RSS (100 connections: "
                                f"{rss0} -> {router.rss_kib()} KiB); at most 64 KiB wanted")
    finally:
        for c in conns:
            c.close()


def test_supervisor_killed(router):
    """The domain's supervisor killed behind the router's back: its QEMU goes
    with it, and the domain is shut off (crashed), not (shutdown)."""
    conn = libvirt.open(router.uri_tls)
    ev = Events()
    conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, ev.callback, None)
    dom = conn.defineXML(domain_xml("sup", args=["hold"]))
    dom.create()
    rec = router.record("sup")
    os.kill(rec["supervisor_pid"], signal.SIGKILL)
    wait_until(lambda: state_of(dom)[0] == libvirt.VIR_DOMAIN_SHUTOFF, 15, "sup to be shut off")
    wait_until(lambda: not alive(rec["pid"]), 5, "QEMU to die with its supervisor")
    # The event travels on its own; the state read can see the stop first.
    wait_until(lambda: any(e == libvirt.VIR_DOMAIN_EVENT_STOPPED for e, _ in ev.of("sup")), 5, "a STOPPED event")
    stopped = [d for e, d in ev.of("sup") if e == libvirt.VIR_DOMAIN_EVENT_STOPPED]
    check(state_of(dom) == SHUTOFF_CRASHED and stopped == [libvirt.VIR_DOMAIN_EVENT_STOPPED_CRASHED],
          f"supervisor killed: state {dom.state()}, STOPPED details {stopped}; wanted shut off (crashed) and "
          f"STOPPED_CRASHED ({libvirt.VIR_DOMAIN_EVENT_STOPPED_CRASHED})")
    dom.create()  # it starts again
    check(state_of(dom) == RUNNING_BOOTED, "sup does not start again")
    dom.destroy()
    conn.close()


def test_shutdown_that_needs_a_kill(router):
    """shutdown of a guest that cannot answer the power button (paused): after
    --stop-timeout the router kills it. The user asked for the stop, so the
    domain is shut off as shutdown or destroyed — not crashed."""
    conn = libvirt.open(router.uri_tls)
    ev = Events()
    conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, ev.callback, None)
    dom = conn.defineXML(domain_xml("deaf", args=["hold"]))
    dom.createWithFlags(libvirt.VIR_DOMAIN_START_PAUSED)
    t0 = time.monotonic()
    dom.shutdown()
    wait_until(lambda: state_of(dom)[0] == libvirt.VIR_DOMAIN_SHUTOFF, 15, "the paused domain to be stopped")
    took = time.monotonic() - t0
    check(took < 5, f"shutdown with --stop-timeout 1 took {took:.1f}s")
    wait_until(lambda: any(e == libvirt.VIR_DOMAIN_EVENT_STOPPED for e, _ in ev.of("deaf")), 5, "a STOPPED event")
    stopped = [d for e, d in ev.of("deaf") if e == libvirt.VIR_DOMAIN_EVENT_STOPPED]
    check(state_of(dom) in (SHUTOFF_SHUTDOWN, SHUTOFF_DESTROYED) and
          stopped[0] in (libvirt.VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN, libvirt.VIR_DOMAIN_EVENT_STOPPED_DESTROYED),
          f"a requested shutdown that ended in a kill: state {dom.state()}, STOPPED details {stopped}; "
          "wanted shut off (shutdown|destroyed), not crashed")
    conn.close()


test_shutdown_that_needs_a_kill.router_kwargs = {"extra_args": ["--stop-timeout", "1"]}


# ---- errors ----------------------------------------------------------------------

def test_errors(router):
    conn = libvirt.open(router.uri_tls)
    E = libvirt
    e = expect_error(E.VIR_ERR_NO_DOMAIN, conn.lookupByName, "nosuch", needles=["nosuch"])
    check(e.get_error_level() == E.VIR_ERR_ERROR, f"level {e.get_error_level()}")
    expect_error(E.VIR_ERR_NO_DOMAIN, conn.lookupByID, 4242)
    expect_error(E.VIR_ERR_NO_DOMAIN, conn.lookupByUUIDString, "00000000-0000-4000-8000-000000000000")

    # duplicates
    conn.createXML(domain_xml("dup", args=["hold"]), 0)
    dup_codes = [E.VIR_ERR_DOM_EXIST, E.VIR_ERR_OPERATION_FAILED, E.VIR_ERR_OPERATION_INVALID]
    expect_error(None, conn.createXML, domain_xml("dup", args=["hold"]), 0, codes=dup_codes, needles=["dup"])
    expect_error(None, conn.defineXML, domain_xml("dup", args=["hold"]), codes=dup_codes, needles=["dup"])
    d1 = conn.defineXML(domain_xml("same-uuid-1"))
    expect_error(None, conn.defineXML, domain_xml("same-uuid-2", uuid=d1.UUIDString()), codes=dup_codes,
                 needles=["same-uuid-1"])
    check(len(router.qemu_processes()) == 1, f"a refused create started a VM: {router.qemu_processes()}")

    # bad XML and elements outside the subset
    xml_codes = [E.VIR_ERR_XML_ERROR, E.VIR_ERR_XML_DETAIL]
    for bad in ("<domain type='qemu'><name>x</name>", "", "<<<", "<domain type='qemu'></domain>"):
        expect_error(None, conn.defineXML, bad, codes=xml_codes)
        expect_error(None, conn.createXML, bad, 0, codes=xml_codes)
    unsupported_codes = [E.VIR_ERR_XML_ERROR, E.VIR_ERR_CONFIG_UNSUPPORTED, E.VIR_ERR_OPERATION_UNSUPPORTED,
                         E.VIR_ERR_XML_DETAIL]
    expect_error(None, conn.defineXML, domain_xml("u1", devices="<disk type='file'/>"), codes=unsupported_codes,
                 needles=["disk"])
    expect_error(E.VIR_ERR_CONFIG_UNSUPPORTED, conn.defineXML, domain_xml("u1", devices="<graphics type='vnc'/>"),
                 needles=["unsupported configuration", "graphics", "no display"])
    expect_error(None, conn.createXML, domain_xml("u1", devices="<disk type='file'/>"), 0, codes=unsupported_codes,
                 needles=["disk"])
    expect_error(E.VIR_ERR_NO_DOMAIN, conn.lookupByName, "u1")

    # operations that do not fit the state
    dup = conn.lookupByName("dup")
    expect_error(E.VIR_ERR_NO_SUPPORT, dup.reboot, 0, needles=["not supported"])
    expect_error(E.VIR_ERR_OPERATION_INVALID, dup.create, needles=["already running"])
    expect_error(E.VIR_ERR_OPERATION_INVALID, dup.undefine, needles=["transient"])
    off = conn.defineXML(domain_xml("off", args=["hold"]))
    for op in (off.destroy, off.shutdown, off.suspend, off.resume):
        expect_error(E.VIR_ERR_OPERATION_INVALID, op, needles=["not running"])
    # an unserved procedure is "not supported", not a broken connection
    expect_error(E.VIR_ERR_NO_SUPPORT, dup.reboot)
    check(conn.getHostname() != "", "the connection after an unserved procedure")
    # a stale handle: the domain was undefined meanwhile
    off.undefine()
    expect_error(E.VIR_ERR_NO_DOMAIN, off.create)
    dup.destroy()
    d1.undefine()
    conn.close()

    # a driver the router does not serve
    expect_error(None, libvirt.open, f"xen+tcp://127.0.0.1:{router.info['tcp_port']}/system",
                 codes=[E.VIR_ERR_INVALID_ARG, E.VIR_ERR_NO_CONNECT, E.VIR_ERR_OPERATION_FAILED])


if __name__ == "__main__":
    need_router()
    start_event_loop(libvirt)
    tests = [variant(test_open, "open[tls]", "tls"), variant(test_open, "open[unix]", "unix"),
             test_read_only_write_is_denied,
             variant(test_domains, "domains[tls]", "tls"), variant(test_domains, "domains[unix]", "unix"),
             test_events, test_keepalive, test_console, test_shared_connection, test_errors,
             test_stuck_qemu_does_not_block_router, test_console_input_is_bounded, test_idle_connections_are_cheap,
             test_supervisor_killed,
             test_shutdown_that_needs_a_kill]
    main(tests, routers.fixture(), timeout=routers.TEST_TIMEOUT, hard_exit=True)  # the event loop never returns
