"""Router: a fleet-router of the test's own, and everything it starts.

Each Router has private runtime and state folders (folder.py: on /dev/shm,
marked, guarded) and listens on its read-write and read-only unix sockets,
on read-only plain TCP and on TLS (with the test PKI, wire/tests/data/pki),
both on 127.0.0.1 at ports of its own choosing (`--listen-tcp 127.0.0.1:0`,
`--listen-tls 127.0.0.1:0`, read back from router.json), without mDNS and
without a config file. uri_tls is the read-write network URI (virsh and
python-libvirt with the test client certificate); uri_tcp is read-only. Cleanup stops the router by pid and kills
every VM it left by the pids in the launcher's records and by the test's
marker: never by name.
"""
import json
import os
import shutil
import signal
import socket
import subprocess

from . import paths, procs
from .check import Failure, check, skip, wait_until
from .folder import MARKER, TestFolder

FLEET_NS = "https://fleet.dev/xmlns/domain/1"
PKI = os.path.join(paths.SOURCE_ROOT, "wire", "tests", "data", "pki")  # the test CA, server and client


def need_router():
    if not os.access(paths.ROUTER, os.X_OK):
        skip(f"no fleet-router at {paths.ROUTER} (build it: meson compile -C build fleet-router)")
    if not os.path.isdir(paths.IMAGES):
        skip(f"no image catalog at {paths.IMAGES}")
    if not shutil.which("qemu-system-x86_64"):
        skip("qemu-system-x86_64 is not installed")


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def xml_escape(s):
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
             .replace("'", "&apos;").replace('"', "&quot;"))


def domain_xml(name, image="hello", args=(), memory_mib=None, uuid=None, kernel=None,
               type="qemu", devices="", extra="", metadata=""):
    """A minimal domain in the subset fleet-router accepts.

    image: a catalog name (None: no fleet:image, give kernel=); args: the
    program's arguments; devices: raw XML inside <devices>; extra: raw XML
    inside <domain>; metadata: raw XML inside <metadata> (the prefix
    fleet: is bound to fleet's namespace).
    """
    parts = [f"<domain type='{type}'>", f"<name>{xml_escape(name)}</name>"]
    if uuid:
        parts.append(f"<uuid>{uuid}</uuid>")
    if memory_mib is not None:
        parts.append(f"<memory unit='MiB'>{memory_mib}</memory>")
    parts.append("<vcpu>1</vcpu>")
    parts.append("<os><type arch='x86_64' machine='microvm'>hvm</type>")
    if kernel:
        parts.append(f"<kernel>{xml_escape(kernel)}</kernel>")
    parts.append("</os>")
    if devices:
        parts.append(f"<devices>{devices}</devices>")
    if image is not None or args or metadata:
        parts.append(f"<metadata xmlns:fleet='{FLEET_NS}'>")
        if image is not None:
            parts.append(f"<fleet:image>{xml_escape(image)}</fleet:image>")
        for a in args:
            parts.append(f"<fleet:arg>{xml_escape(a)}</fleet:arg>")
        parts.append(metadata)
        parts.append("</metadata>")
    parts.append(extra)
    parts.append("</domain>")
    return "\n".join(parts) + "\n"


def _popen(argv, env, **kw):
    return subprocess.Popen(argv, env={**os.environ, **env}, **kw)


class Router:
    """A fleet-router of the test's own.

    verbose: -v; extra_args: more flags; listen: --listen-tcp, read-only
    plain TCP ("none" or None: no TCP listener); tls: --listen-tls ("none"
    or None: no TLS listener), with --pki-dir PKI; mdns_name: announce under this name (default --no-mdns);
    images: --images (None: the router's own default); binary: the daemon;
    popen(argv, env, **kw): how to start it (env: what to add to the
    environment), e.g. inside a network namespace.
    """

    def __init__(self, verbose=True, extra_args=(), name="router", listen="127.0.0.1:0", tls="127.0.0.1:0",
                 mdns_name=None,
                 images=paths.IMAGES, binary=paths.ROUTER, popen=_popen):
        self.folder = TestFolder(name)
        self.root = self.folder.root
        self.runtime = self.folder.path("run")
        self.state = self.folder.path("state")
        self.log_path = self.folder.path("router.log")
        self.verbose = verbose
        self.extra_args = list(extra_args)
        self.listen = listen
        self.tls = tls
        self.mdns_name = mdns_name
        self.images = images
        self.binary = binary
        self.popen = popen
        self.proc = None
        self.info = None
        self.pids_seen = set()  # every VM (pid, start time) this runtime folder ever recorded
        self.generation = 0

    # ---- the daemon ----

    def command(self):
        cmd = [self.binary, "--runtime-dir", self.runtime, "--state-dir", self.state]
        if self.images is not None:
            cmd += ["--images", self.images]
        cmd += ["--config", "none"]
        if self.listen is not None:
            cmd += ["--listen-tcp", self.listen]
        if self.tls is not None:
            cmd += ["--listen-tls", self.tls, "--pki-dir", PKI]
        cmd += ["--mdns-name", self.mdns_name] if self.mdns_name else ["--no-mdns"]
        if self.verbose:
            cmd.append("-v")
        return cmd + self.extra_args

    def spawn(self, extra_args=()):
        """Start a fleet-router process on this runtime folder; do not wait."""
        log = open(self.log_path, "ab")
        self.generation += 1
        log.write(f"---- router #{self.generation} ----\n".encode())
        log.flush()
        env = {MARKER: self.root}
        if "FLEET_ACCEL" not in os.environ:
            env["FLEET_ACCEL"] = "tcg"
        p = self.popen(self.command() + list(extra_args), env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        log.close()
        return p

    def start(self, timeout=20):
        check(self.proc is None or self.proc.poll() is not None, "a router of this test still runs")
        self.proc = self.spawn()
        info_path = os.path.join(self.runtime, "router.json")

        def ready():
            if self.proc.poll() is not None:
                raise Failure(f"fleet-router exited {self.proc.returncode} before listening:\n{self.log_tail()}")
            try:
                with open(info_path) as f:
                    info = json.load(f)
            except (OSError, ValueError):
                return None
            return info if info.get("pid") == self.proc.pid else None

        self.info = wait_until(ready, timeout, "router.json from the new fleet-router")
        if self.listen not in (None, "none"):
            check(self.info.get("tcp_port", 0) > 0, f"router.json without a TCP port: {self.info}")
        if self.tls not in (None, "none"):
            check(self.info.get("tls_port", 0) > 0, f"router.json without a TLS port: {self.info}")
        check(os.path.exists(self.socket_path), f"no unix socket at {self.socket_path}")
        return self

    @property
    def pid(self):
        return self.proc.pid

    @property
    def socket_path(self):
        return (self.info or {}).get("socket") or os.path.join(self.runtime, "libvirt-sock")

    @property
    def socket_ro_path(self):
        return (self.info or {}).get("socket_ro") or os.path.join(self.runtime, "libvirt-sock-ro")

    @property
    def uri_tcp(self):
        """Plain TCP: read-only (virsh -r), as it has no authentication."""
        return f"qemu+tcp://127.0.0.1:{self.info['tcp_port']}/system"

    @property
    def uri_tls(self):
        """TLS with the test client certificate: read-write."""
        return f"qemu+tls://127.0.0.1:{self.info['tls_port']}/system?pkipath={PKI}"

    @property
    def uri_ro(self):
        return f"qemu+unix:///system?socket={self.socket_ro_path}"

    @property
    def uri_unix(self):
        return f"qemu+unix:///system?socket={self.socket_path}"

    def uri(self, kind):
        return {"tcp": self.uri_tcp, "tls": self.uri_tls, "ro": self.uri_ro}.get(kind, self.uri_unix)

    def kill(self, sig=signal.SIGKILL, timeout=15):
        """Signal the router and wait for it to exit; its exit status."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.remember_pids()
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise Failure(f"fleet-router ignored signal {sig} for {timeout}s")

    def stop(self, timeout=15):
        """SIGTERM: the router stops serving; VMs keep running."""
        rc = self.kill(signal.SIGTERM, timeout)
        if rc not in (0, None):
            raise Failure(f"fleet-router exited {rc} on SIGTERM:\n{self.log_tail()}")
        return rc

    def restart(self, sig=signal.SIGTERM):
        if sig == signal.SIGTERM:
            self.stop()
        else:
            self.kill(sig)
        return self.start()

    def rss_kib(self):
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise Failure("no VmRSS for the router")

    def log_text(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def log_tail(self, n=40):
        return "\n".join(self.log_text().splitlines()[-n:])

    def failure_notes(self):
        """What the runner prints under a failed test: the router's last words."""
        tail = self.log_tail(25)
        return "     router log (last lines):\n" + "\n".join("       " + l for l in tail.splitlines()) if tail else ""

    # ---- its VMs ----

    def vms_dir(self):
        return os.path.join(self.runtime, "vms")

    def records(self):
        """name -> the launcher's state.json record, for every VM folder."""
        return procs.records(self.runtime)

    def record(self, name):
        r = self.records().get(name)
        check(r is not None, f"no launcher record for '{name}' in {self.vms_dir()}")
        return r

    def remember_pids(self):
        """Note every supervisor and QEMU the records name, with its start time."""
        self.pids_seen |= procs.record_pids(self.records())

    def marked_processes(self):
        """pid -> argv of every live process started for this test: the
        routers, supervisors and QEMUs."""
        return self.folder.marked()

    def qemu_processes(self):
        """pids of this test's live QEMU processes."""
        return sorted(pid for pid, argv in self.marked_processes().items()
                      if argv and os.path.basename(argv[0]).startswith(b"qemu-system"))

    def cleanup(self):
        try:
            if self.proc is not None and self.proc.poll() is None:
                self.remember_pids()
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
        finally:
            self.remember_pids()
            self.folder.cleanup(self.pids_seen)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()
        return False



TEST_TIMEOUT = 240  # seconds a router test may take before the runner calls it hung


def fixture(**kwargs):
    """For runner.main: a fresh Router per test, made with kwargs and the
    test function's own router_kwargs (e.g. {"extra_args": [...]})."""
    return lambda test: Router(**{**kwargs, **getattr(test, "router_kwargs", {})})
