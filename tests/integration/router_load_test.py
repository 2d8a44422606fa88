#!/usr/bin/python3
"""fleet-router under load: 32 python3-libvirt clients, each with its own
connection, each making 200 lifecycle calls (define/undefine of its own
domains, lookups, info, state, XMLDesc, listings, and a few real boots:
createXML + destroy of `hello hold`), half of them also listening to every
lifecycle event. Zero errors allowed; every answer is checked against what
the client itself did.

Throughout, a probe opens a NEW connection every 0.5 s and must get an
answer to getHostname within 2 s: a busy router (or one starting VMs) still
accepts and answers.

Memory: the router's RSS (VmRSS) is taken after a warm-up round (the same
mix, the same 32 concurrent clients, so allocator arenas, buffers and the
event fan-out have reached their working size) and again after the main
round, once every client has disconnected. The main round makes ~6400
calls; the allowed growth, max(4 MiB, 20% of the warm RSS), would be
exceeded by a leak of ~650 bytes per call (or ~1 KiB per connection-plus-
domain lifecycle), while leaving room for heap fragmentation from the
bursts of 32 connections' buffers (up to 256 KiB read buffers each).
"""
import os
import random
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET

sys.path.append(os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "lib"))  # run by hand: HACKING.md
from fleet_test.check import Failure, check, check_memory, wait_until  # noqa: E402
from fleet_test.libvirt_client import need_libvirt_python, start_event_loop  # noqa: E402
from fleet_test.router import Router, domain_xml, need_router  # noqa: E402

libvirt = need_libvirt_python()

CLIENTS = int(os.environ.get("FLEET_LOAD_CLIENTS", "32"))
CALLS = int(os.environ.get("FLEET_LOAD_CALLS", "200"))
WARMUP_CALLS = int(os.environ.get("FLEET_LOAD_WARMUP_CALLS", "60"))
BOOTS = int(os.environ.get("FLEET_LOAD_BOOTS", "2"))  # VM boots per client in the main round
PROBE_EVERY = 0.5
PROBE_LIMIT = 2.0
RSS_SLACK_KIB = 4096
RSS_SLACK_RATIO = 0.20
WATCHDOG = 300


class Client:
    """One connection, its own domains, a fixed random mix of calls."""

    def __init__(self, uri, tid, round_name, calls, boots, listen):
        self.uri, self.tid, self.round, self.calls, self.boots, self.listen = uri, tid, round_name, calls, boots, listen
        self.rnd = random.Random(f"{round_name}-{tid}")
        self.errors = []
        self.done_calls = 0
        self.defined = {}  # name -> (uuid, memory MiB)
        self.serial = 0
        self.events = []
        self.boot_times = []
        self.callback_id = None
        # the boots of different clients are spread over the round
        self.boot_at = sorted({int(calls * (b + 1) / (boots + 1)) + tid % 7 for b in range(boots)})

    def fail(self, what):
        self.errors.append(f"client {self.tid} ({self.round}): {what}")

    def call(self, what, fn, *args):
        self.done_calls += 1
        return fn(*args)

    def event(self, conn, dom, event, detail, opaque):
        self.events.append((dom.name(), event, detail))

    def define_one(self, conn):
        self.serial += 1
        name = f"{self.round}-c{self.tid}-d{self.serial}"
        mem = 16 + (self.tid + self.serial) % 32
        dom = self.call("defineXML", conn.defineXML, domain_xml(name, args=["hold"], memory_mib=mem))
        check(dom.name() == name and dom.ID() == -1, f"defineXML {name} -> {dom.name()} id {dom.ID()}")
        self.defined[name] = (dom.UUIDString(), mem)

    def one_of_mine(self):
        return self.rnd.choice(sorted(self.defined))

    def run(self):
        conn = None
        try:
            conn = libvirt.open(self.uri)
            if self.listen:
                self.callback_id = conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                                               self.event, None)
            self.define_one(conn)
            while self.done_calls < self.calls:
                if self.boot_at and self.done_calls >= self.boot_at[0]:
                    self.boot_at.pop(0)
                    self.boot(conn)
                    continue
                self.step(conn)
            for name in sorted(self.defined):
                self.call("undefine", conn.lookupByName(name).undefine)
            self.defined.clear()
            if self.callback_id is not None:
                # a registration holds a reference to the connection: without this,
                # close() would leave it open (libvirt's client refcount)
                conn.domainEventDeregisterAny(self.callback_id)
        except libvirt.libvirtError as e:
            self.fail(f"libvirtError {e.get_error_code()}: {e.get_error_message()} (after {self.done_calls} calls)")
        except Failure as e:
            self.fail(str(e))
        except Exception as e:  # noqa: BLE001
            self.fail(f"{type(e).__name__}: {e}")
        finally:
            if conn is not None:
                try:
                    conn.close()
                except libvirt.libvirtError as e:
                    self.fail(f"close: {e}")

    def step(self, conn):
        r = self.rnd.random()
        if r < 0.10:  # define another of its own (at most 4), or undefine one
            if len(self.defined) < 4 and (r < 0.06 or len(self.defined) <= 1):
                self.define_one(conn)
            else:
                name = self.one_of_mine()
                dom = self.call("lookupByName", conn.lookupByName, name)
                self.call("undefine", dom.undefine)
                del self.defined[name]
                self.expect_gone(conn, name, "undefine")
        elif r < 0.30:
            name = self.one_of_mine()
            dom = self.call("lookupByName", conn.lookupByName, name)
            check(dom.UUIDString() == self.defined[name][0], f"lookupByName({name}) uuid {dom.UUIDString()}")
        elif r < 0.45:
            name = self.one_of_mine()
            info = self.call("info", conn.lookupByName(name).info)
            self.done_calls += 1
            check(info[0] == libvirt.VIR_DOMAIN_SHUTOFF and info[1] == self.defined[name][1] * 1024,
                  f"info({name}) {info}")
        elif r < 0.60:
            name = self.one_of_mine()
            st = self.call("state", conn.lookupByName(name).state)
            self.done_calls += 1
            check(st[0] == libvirt.VIR_DOMAIN_SHUTOFF, f"state({name}) {st}")
        elif r < 0.75:
            name = self.one_of_mine()
            x = ET.fromstring(self.call("XMLDesc", conn.lookupByName(name).XMLDesc, 0))
            self.done_calls += 1
            check(x.findtext("name") == name and x.findtext("uuid") == self.defined[name][0], f"XMLDesc({name})")
        elif r < 0.90:
            doms = self.call("listAllDomains", conn.listAllDomains, 0)
            names = {d.name() for d in doms}
            missing = set(self.defined) - names
            check(not missing, f"listAllDomains lacks {missing}")
        elif r < 0.95:
            check(self.call("getHostname", conn.getHostname) == os.uname().nodename, "getHostname")
        else:
            check(self.call("getVersion", conn.getVersion) > 0, "getVersion")

    def boot(self, conn):
        name = f"{self.round}-c{self.tid}-vm{len(self.boot_times)}"
        t0 = time.monotonic()
        dom = self.call("createXML", conn.createXML, domain_xml(name, args=["hold"]), 0)
        self.boot_times.append(time.monotonic() - t0)
        check(dom.ID() > 0, f"createXML {name}: id {dom.ID()}")
        st = self.call("state", dom.state)
        check(st[0] == libvirt.VIR_DOMAIN_RUNNING, f"state of the new {name}: {st}")
        self.call("destroy", dom.destroy)
        self.expect_gone(conn, name, "destroy")

    def expect_gone(self, conn, name, after):
        """A lookup of name (one call) must find nothing."""
        try:
            conn.lookupByName(name)
            self.fail(f"{name} still found after {after}")
        except libvirt.libvirtError as e:
            check(e.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN, f"lookup of {name} after {after}: {e}")
        self.done_calls += 1


class Probe:
    """Another process (no GIL shared with the clients) opens a NEW connection
    every PROBE_EVERY s and asks getHostname; each must answer within
    PROBE_LIMIT s. Also samples the router's RSS."""

    def __init__(self, uri, router):
        self.uri, self.router = uri, router
        self.stop = threading.Event()
        self.times = []
        self.details = []
        self.errors = []
        self.rss = []
        self.last = None
        self.proc = None
        self.reader = threading.Thread(target=self.read, daemon=True)
        self.watch = threading.Thread(target=self.watchdog, daemon=True)

    def read(self):
        for line in self.proc.stdout:
            self.last = time.monotonic()
            kind, _, rest = line.strip().partition(" ")
            if kind == "took":
                took = float(rest.split()[0])
                self.times.append(took)
                self.details.append((took, rest))
                if took > PROBE_LIMIT:
                    self.errors.append(f"probe: a new connection's getHostname took {took:.2f}s "
                                       f"(limit {PROBE_LIMIT}s; {rest.split(None, 1)[1]}; machine load "
                                       f"{os.getloadavg()[0]:.1f})")
            elif kind == "error":
                self.errors.append(f"probe: {rest}")
            elif kind == "hung":
                self.errors.append(f"probe: no answer to a new connection's getHostname within {PROBE_LIMIT}s "
                                   f"({rest}; machine load {os.getloadavg()[0]:.1f})")

    def watchdog(self):
        """RSS samples; and a probe process that says nothing at all for long has stalled.
        (A single slow attempt is reported by the probe itself, which times it.)"""
        while not self.stop.is_set():
            if self.last and time.monotonic() - self.last > 30:
                self.errors.append("probe: the probe process said nothing for 30 s")
                self.last = None
            try:
                self.rss.append(self.router.rss_kib())
            except (OSError, Failure):
                pass
            self.stop.wait(0.1)

    def __enter__(self):
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--probe", self.uri],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.last = time.monotonic()
        self.reader.start()
        self.watch.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.proc.stdin.close()  # the probe ends when its stdin does
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.reader.join(5)
        self.watch.join(2)


def probe_main(uri):
    """The probe process: a new connection, getHostname, close; every PROBE_EVERY s until stdin closes."""
    try:  # above the load generator (nice 5) and the router (0): what is timed is the router, not us
        os.setpriority(os.PRIO_PROCESS, 0, -5)
    except OSError:
        pass
    stop = threading.Event()

    def watch_stdin():
        sys.stdin.read()
        stop.set()
    threading.Thread(target=watch_stdin, daemon=True).start()
    current = [None]

    def watchdog():  # an attempt that does not return at all is reported while it hangs
        reported = None
        while not stop.is_set():
            t = current[0]
            if t is not None and t != reported and time.monotonic() - t > PROBE_LIMIT:
                print(f"hung for more than {PROBE_LIMIT}s", flush=True)
                reported = t
            stop.wait(0.05)
    threading.Thread(target=watchdog, daemon=True).start()
    while not stop.is_set():
        t0 = time.monotonic()
        current[0] = t0
        try:
            c = libvirt.open(uri)
            t1 = time.monotonic()
            host = c.getHostname()
            t2 = time.monotonic()
            c.close()
            took = time.monotonic() - t0
            print(f"took {took:.4f} open {t1 - t0:.3f}s getHostname {t2 - t1:.3f}s close {t0 + took - t2:.3f}s"
                  if host == os.uname().nodename else f"error getHostname said {host!r}", flush=True)
        except libvirt.libvirtError as e:
            took = time.monotonic() - t0
            print(f"error {e.get_error_code()}: {e.get_error_message()}", flush=True)
        current[0] = None
        stop.wait(max(0.0, PROBE_EVERY - took))
    os._exit(0)


def run_round(router, name, calls, boots):
    clients = [Client(router.uri_tls if i % 2 == 0 else router.uri_unix, i, name, calls, boots, listen=(i % 2 == 1))
               for i in range(CLIENTS)]
    threads = [threading.Thread(target=c.run, name=f"client-{c.tid}") for c in clients]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(WATCHDOG)
    took = time.monotonic() - t0
    hung = [t.name for t in threads if t.is_alive()]
    check(not hung, f"{name}: clients still running after {WATCHDOG}s: {hung}")
    return clients, took


def settle_rss(router):
    """RSS once the router is idle (no clients, no VMs): the lowest of a few samples."""
    time.sleep(1.0)
    samples = []
    for _ in range(5):
        samples.append(router.rss_kib())
        time.sleep(0.2)
    return min(samples)


def settled_fds(router, at_most=None, wait=5.0):
    """The router's open fds at rest: the lowest of samples every 20 ms for
    a second (the probe's own connection comes and goes every PROBE_EVERY
    s, and a VM's watcher closes just after its supervisor ends). With
    at_most, keeps sampling up to `wait` s until the count is that low; a
    leaked fd stays, so the lowest count stays over it."""
    low = None
    deadline = time.monotonic() + max(wait if at_most is not None else 0, 1.0)
    start = time.monotonic()
    while True:
        n = len(os.listdir(f"/proc/{router.pid}/fd"))
        low = n if low is None else min(low, n)
        now = time.monotonic()
        if now >= deadline or (at_most is not None and low <= at_most and now - start >= 1.0):
            return low
        time.sleep(0.02)


def run_delay(pid):
    """Seconds the process has waited on a run queue (schedstat): CPU contention, not its own work."""
    try:
        with open(f"/proc/{pid}/schedstat") as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def minor_faults(pid):
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[7])


def main():
    need_router()
    start_event_loop(libvirt)
    # Half the clients share one TLS certificate, hence one owner: its
    # per-owner quotas (docs/SECURITY.md) are raised to the load's size.
    router = Router(verbose=False, name="load",
                    extra_args=["--user-max-vcpus", "256", "--user-max-running", "256", "--user-max-domains", "1024"])
    failures = []
    timer = threading.Timer(WATCHDOG + 60, lambda: (print("FAIL load: watchdog: the test hung", flush=True),
                                                    router.cleanup(), os._exit(1)))
    timer.daemon = True
    timer.start()
    try:
        router.start()
        rss_start = router.rss_kib()
        # The 32 client threads are the load, not the subject: below the router
        # (and its VMs) in priority, so that on a small shared machine the
        # router's answers are timed, not the Python clients' scheduling.
        os.nice(5)
        with Probe(router.uri_tls, router) as probe:
            warm, warm_took = run_round(router, "warm", WARMUP_CALLS, 1)
            for c in warm:
                failures += c.errors
            wait_until(lambda: router.qemu_processes() == [], 20, "the warm-up's VMs to end")
            rss_before = settle_rss(router)
            fds_before = settled_fds(router)
            cpu0 = cpu_seconds(router.pid)
            wait0 = run_delay(router.pid)
            faults0 = minor_faults(router.pid)

            clients, took = run_round(router, "main", CALLS, BOOTS)
            cpu1 = cpu_seconds(router.pid)
            wait1 = run_delay(router.pid)
            faults1 = minor_faults(router.pid)
            for c in clients:
                failures += c.errors
            wait_until(lambda: router.qemu_processes() == [], 20, "the main round's VMs to end")
            rss_after = settle_rss(router)
            fds_after = settled_fds(router, at_most=fds_before)
        failures += probe.errors
        if fds_after > fds_before:
            failures.append(f"the router holds {fds_after} fds after the main round, {fds_before} before: "
                            "connections or VM watchers not closed")

        conn = libvirt.open(router.uri_unix)
        left = [d.name() for d in conn.listAllDomains()]
        conn.close()
        if left:
            failures.append(f"domains left after every client cleaned up: {left}")
        if router.proc.poll() is not None:
            failures.append(f"the router exited ({router.proc.returncode}) during the test")

        total = sum(c.done_calls for c in clients)
        boots = [t for c in clients for t in c.boot_times]
        listeners = [c for c in clients if c.listen]
        events = sum(len(c.events) for c in listeners)
        for c in listeners:  # a listener sees at least its own domains' definitions
            own = {n for n, e, _ in c.events if e == libvirt.VIR_DOMAIN_EVENT_DEFINED and f"-c{c.tid}-" in n}
            if c.serial and not own and not c.errors:
                failures.append(f"client {c.tid} registered for events but got none for its {c.serial} domains")
        growth = rss_after - rss_before
        allowed = max(RSS_SLACK_KIB, int(rss_before * RSS_SLACK_RATIO))
        pt = sorted(probe.times)
        print(f"clients {CLIENTS} x {CALLS} calls: {total} calls in {took:.1f}s = {total / took:.0f} calls/s "
              f"(warm-up: {sum(c.done_calls for c in warm)} calls in {warm_took:.1f}s)")
        print(f"router CPU in the main round: {cpu1 - cpu0:.2f}s ({(cpu1 - cpu0) / total * 1e6:.0f} us/call); "
              f"waited {wait1 - wait0:.2f}s for a CPU; {faults1 - faults0} page faults "
              f"({(faults1 - faults0) / total:.1f}/call); machine load average {os.getloadavg()[0]:.1f}")
        if boots:
            bs = sorted(boots)
            print(f"VM boots (createXML until ready): {len(bs)}, median {bs[len(bs) // 2]:.2f}s, max {bs[-1]:.2f}s")
        print(f"lifecycle events delivered to {len(listeners)} listening clients: {events}")
        print(f"probes: {len(pt)}, median {pt[len(pt) // 2] * 1000:.0f} ms, max {pt[-1] * 1000:.0f} ms "
              f"(limit {PROBE_LIMIT * 1000:.0f} ms); slowest: "
              + "; ".join(d for _, d in sorted(probe.details, reverse=True)[:2]))
        print(f"router RSS: start {rss_start} KiB, after warm-up {rss_before} KiB, after the main round {rss_after} KiB "
              f"(growth {growth:+d} KiB, allowed {allowed} KiB), peak {max(probe.rss or [0])} KiB")
        # The try's last check: its Failure joins the others below.
        check_memory(growth <= allowed,
                     f"router RSS grew {growth} KiB over the main round (allowed {allowed} KiB): a leak?")
    except Failure as e:
        failures.append(str(e))
    finally:
        tail = router.log_tail(30)
        router.cleanup()
    for f in failures[:50]:
        print(f"FAIL {f}")
    if len(failures) > 50:
        print(f"FAIL ... and {len(failures) - 50} more")
    if failures:
        print("router log (last lines):\n" + tail)
    print("load: " + ("FAIL" if failures else "ok"), flush=True)
    os._exit(1 if failures else 0)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--probe"]:
        probe_main(sys.argv[2])
    main()
