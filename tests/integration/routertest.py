"""Helpers for fleet-router's integration tests: the real fleet-router, the
real virsh and python3-libvirt, real QEMU guests under TCG.

Each test gets its own Router: private runtime and state folders (the
runtime folder on /dev/shm, as /run is on a host), a router listening on
127.0.0.1 on a port of its own choosing and on a unix socket. On exit the
router is stopped by pid and every VM it left is killed by the pids in the
launcher's records (R/vms/*/state.json) — never by name.

Environment (meson sets it): FLEET_ROUTER (the daemon), FLEET_IMAGES (the
build tree's image catalog). Exit 77 = skipped, with the reason.
"""
import json
import os
import pty
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback

SKIP = 77
HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.dirname(os.path.dirname(HERE))
ROUTER = os.environ.get("FLEET_ROUTER") or os.path.join(SOURCE_ROOT, "build", "router", "src", "fleet-router")
IMAGES = os.environ.get("FLEET_IMAGES") or os.path.join(SOURCE_ROOT, "build", "images")
VIRSH = shutil.which("virsh") or "/usr/bin/virsh"
FLEET_NS = "https://fleet.dev/xmlns/domain/1"


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def skip(reason):
    print(f"SKIP: {reason}", flush=True)
    sys.exit(SKIP)


def need_router():
    if not os.access(ROUTER, os.X_OK):
        skip(f"no fleet-router at {ROUTER} (build it: meson compile -C build fleet-router)")
    if not os.path.isdir(IMAGES):
        skip(f"no image catalog at {IMAGES}")
    if not shutil.which("qemu-system-x86_64"):
        skip("qemu-system-x86_64 is not installed")


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def need_virsh():
    if not os.access(VIRSH, os.X_OK):
        skip("virsh is not installed (apt-get install libvirt-clients)")


def need_libvirt_python():
    try:
        import libvirt  # noqa: F401
    except ImportError:
        skip(f"python3-libvirt is not importable by {sys.executable} (apt-get install python3-libvirt)")


def start_time(pid):
    """/proc/PID/stat field 22 (clock ticks after boot), or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def alive(pid, started=None):
    """True if pid runs and is not a zombie (kill(pid, 0) passes zombies);
    with started, only if it is still the process that started then."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        if fields[0] in ("Z", "X"):
            return False
        return started is None or int(fields[19]) == started
    except (OSError, IndexError, ValueError):
        return False


def wait_until(cond, timeout, what, interval=0.05):
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise Failure(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def xml_escape(s):
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
             .replace("'", "&apos;").replace('"', "&quot;"))


def domain_xml(name, image="hello", args=(), memory_mib=None, uuid=None, kernel=None,
               type="qemu", devices="", extra=""):
    """A minimal domain in the subset fleet-router accepts.

    image: a catalog name (None: no fleet:image, give kernel=); args: the
    program's arguments; devices: raw XML inside <devices>; extra: raw XML
    inside <domain>.
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
    if image is not None or args:
        parts.append(f"<metadata xmlns:fleet='{FLEET_NS}'>")
        if image is not None:
            parts.append(f"<fleet:image>{xml_escape(image)}</fleet:image>")
        for a in args:
            parts.append(f"<fleet:arg>{xml_escape(a)}</fleet:arg>")
        parts.append("</metadata>")
    parts.append(extra)
    parts.append("</domain>")
    return "\n".join(parts) + "\n"


def virsh(uri, *args, timeout=30, input=None):
    """Run the real virsh against uri; a CompletedProcess with text output."""
    env = dict(os.environ)
    env.pop("LIBVIRT_DEFAULT_URI", None)
    env.pop("VIRSH_DEFAULT_CONNECT_URI", None)
    env["LC_ALL"] = "C"
    try:
        return subprocess.run([VIRSH, "-c", uri, *args], capture_output=True, text=True,
                              timeout=timeout, input=input if input is not None else "", env=env)
    except subprocess.TimeoutExpired as e:
        raise Failure(f"virsh {' '.join(args)} did not finish in {timeout}s "
                      f"(stdout {e.stdout!r}, stderr {e.stderr!r})") from None


def virsh_ok(uri, *args, timeout=30, input=None):
    p = virsh(uri, *args, timeout=timeout, input=input)
    if p.returncode != 0:
        raise Failure(f"virsh {' '.join(args)}: exit {p.returncode}\nstdout: {p.stdout!r}\nstderr: {p.stderr!r}")
    return p.stdout


def virsh_fails(uri, *args, needles=(), timeout=30, input=None):
    """virsh must fail and its stderr must contain every needle (case-insensitive)."""
    p = virsh(uri, *args, timeout=timeout, input=input)
    check(p.returncode != 0, f"virsh {' '.join(args)}: expected a failure, got exit 0 (stdout {p.stdout!r})")
    err = p.stderr
    for n in needles:
        check(n.lower() in err.lower(), f"virsh {' '.join(args)}: error {err.strip()!r} does not mention {n!r}")
    return err


class Router:
    """A fleet-router of the test's own, and everything it starts."""

    def __init__(self, verbose=True, extra_args=(), name="router", listen="127.0.0.1:0"):
        base = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
        self.root = tempfile.mkdtemp(prefix=f"fleet-{name}-test-", dir=base)
        self.runtime = os.path.join(self.root, "run")
        self.state = os.path.join(self.root, "state")
        self.log_path = os.path.join(self.root, "router.log")
        self.verbose = verbose
        self.extra_args = list(extra_args)
        self.listen = listen
        self.proc = None
        self.info = None
        self.pids_seen = set()  # every VM pid this runtime folder ever recorded
        self.generation = 0
        self.guard = self._start_guard()


    # A test killed where no Python code runs (meson's timeout while a
    # libvirt call hangs) cannot clean up; VMs outlive their router by
    # design. So a guard process, in its own session, waits for this test
    # to go (its stdin pipe closes) and then kills every process carrying
    # this test's marker and removes the test's folder.
    _GUARD = r"""
import os, signal, shutil, sys
signal.signal(signal.SIGTERM, signal.SIG_IGN)
signal.signal(signal.SIGINT, signal.SIG_IGN)
sys.stdin.buffer.read()
marker = ("FLEET_ROUTER_TEST=" + sys.argv[1]).encode()
for p in os.listdir("/proc"):
    if not p.isdigit() or int(p) == os.getpid():
        continue
    try:
        with open(f"/proc/{p}/environ", "rb") as f:
            if marker in f.read().split(b"\0"):
                os.kill(int(p), signal.SIGKILL)
    except OSError:
        pass
shutil.rmtree(sys.argv[1], ignore_errors=True)
"""

    def _start_guard(self):
        r, w = os.pipe()
        subprocess.Popen(["/usr/bin/python3", "-c", self._GUARD, self.root], stdin=r, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True, close_fds=True)
        os.close(r)
        os.set_inheritable(w, False)
        return w

    # ---- the daemon ----

    def command(self):
        cmd = [ROUTER, "--runtime-dir", self.runtime, "--state-dir", self.state, "--images", IMAGES,
               "--listen", self.listen, "--no-mdns"]
        if self.verbose:
            cmd.append("-v")
        return cmd + self.extra_args

    def spawn(self, extra_args=()):
        """Start a fleet-router process on this runtime folder; do not wait."""
        log = open(self.log_path, "ab")
        self.generation += 1
        log.write(f"---- router #{self.generation} ----\n".encode())
        log.flush()
        env = dict(os.environ)
        env.setdefault("FLEET_ACCEL", "tcg")
        env["FLEET_ROUTER_TEST"] = self.root  # marks every process it starts (cleanup)
        p = subprocess.Popen(self.command() + list(extra_args), stdin=subprocess.DEVNULL,
                             stdout=log, stderr=log, env=env)
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
        check(self.info.get("tcp_port", 0) > 0, f"router.json without a TCP port: {self.info}")
        check(os.path.exists(self.socket_path), f"no unix socket at {self.socket_path}")
        return self

    @property
    def pid(self):
        return self.proc.pid

    @property
    def socket_path(self):
        return (self.info or {}).get("socket") or os.path.join(self.runtime, "libvirt-sock")

    @property
    def uri_tcp(self):
        return f"qemu+tcp://127.0.0.1:{self.info['tcp_port']}/system"

    @property
    def uri_unix(self):
        return f"qemu+unix:///system?socket={self.socket_path}"

    def uri(self, kind):
        return self.uri_tcp if kind == "tcp" else self.uri_unix

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

    # ---- its VMs ----

    def vms_dir(self):
        return os.path.join(self.runtime, "vms")

    def records(self):
        """name -> the launcher's state.json record, for every VM folder."""
        out = {}
        d = self.vms_dir()
        for name in os.listdir(d) if os.path.isdir(d) else []:
            try:
                with open(os.path.join(d, name, "state.json")) as f:
                    out[name] = json.load(f)
            except (OSError, ValueError):
                pass
        return out

    def record(self, name):
        r = self.records().get(name)
        check(r is not None, f"no launcher record for '{name}' in {self.vms_dir()}")
        return r

    def remember_pids(self):
        """Note every supervisor and QEMU the records name, with its start time."""
        for r in self.records().values():
            for pid_key, start_key in (("pid", "pid_start"), ("supervisor_pid", "supervisor_start")):
                if r.get(pid_key):
                    self.pids_seen.add((r[pid_key], r.get(start_key) or None))

    def marked_processes(self):
        """pid -> argv of every live process that carries this router's marker in
        its environment: the routers, supervisors and QEMUs started for this test
        (the launcher passes its environment on; QEMU's command line has no path
        of ours to recognise it by)."""
        marker = f"FLEET_ROUTER_TEST={self.root}".encode()
        out = {}
        for p in os.listdir("/proc"):
            if not p.isdigit():
                continue
            try:
                with open(f"/proc/{p}/environ", "rb") as f:
                    if marker not in f.read().split(b"\0"):
                        continue
                with open(f"/proc/{p}/cmdline", "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if alive(int(p)):
                out[int(p)] = argv
        return out

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
            victims = set(self.pids_seen) | {(pid, start_time(pid)) for pid in self.marked_processes()}
            victims = {(pid, st) for pid, st in victims if alive(pid, st)}
            for pid, _ in victims:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            for pid, st in victims:
                try:
                    wait_until(lambda: not alive(pid, st), 5, f"pid {pid} to die")
                except Failure:
                    pass
            shutil.rmtree(self.root, ignore_errors=True)
            if self.guard is not None:  # nothing left for it: let it go
                os.close(self.guard)
                self.guard = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()
        return False


# ---- a program on a pseudo-terminal (virsh console needs one) ----

class PtyProcess:
    """argv run with a pty as its controlling terminal; read and write its master."""

    def __init__(self, argv, env=None):
        self.buf = b""
        pid, fd = pty.fork()
        if pid == 0:
            try:
                os.execvpe(argv[0], argv, env or os.environ)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        self.status = None

    def read_some(self, timeout):
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return False
        try:
            data = os.read(self.fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            data = b""
        if not data:
            return None
        self.buf += data
        return True

    def expect(self, needle, timeout, what=None):
        deadline = time.monotonic() + timeout
        needle = needle.encode() if isinstance(needle, str) else needle
        while needle not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failure(f"timed out after {timeout}s waiting for {what or needle!r}; got {self.buf!r}")
            if self.read_some(min(left, 0.2)) is None:
                raise Failure(f"the terminal closed before {what or needle!r}; got {self.buf!r}")
        return self.buf

    def write(self, data):
        os.write(self.fd, data.encode() if isinstance(data, str) else data)

    def wait(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid, st = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(st)
                return self.status
            self.read_some(0.05)
        return None

    def close(self):
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                os.waitpid(self.pid, 0)
            except ChildProcessError:
                pass
        try:
            os.close(self.fd)
        except OSError:
            pass


# ---- running tests ----

def run_tests(tests, router_kwargs=None):
    """Run test functions, each with a fresh Router (started); report and exit.

    A test function takes the router; one that wants to start it itself
    has the attribute manual_start = True; router_kwargs (a dict) adds to
    the Router's arguments, e.g. {"extra_args": ["--stop-timeout", "1"]}.
    """
    failed = 0

    def on_term(signum, frame):  # meson's timeout: clean up on the way out
        raise SystemExit(f"killed by signal {signum}")
    signal.signal(signal.SIGTERM, on_term)
    for t in tests:
        name = getattr(t, "test_name", t.__name__)
        router = Router(**{**(router_kwargs or {}), **getattr(t, "router_kwargs", {})})
        start = time.monotonic()
        limit = getattr(t, "timeout", 240)

        def hung(name=name, router=router, limit=limit):  # a test stuck in a C call: report, clean up, leave
            print(f"FAIL {name}: still running after {limit}s (hung)", flush=True)
            tail = router.log_tail(25)
            if tail:
                print("     router log (last lines):\n" + "\n".join("       " + l for l in tail.splitlines()), flush=True)
            router.cleanup()
            os._exit(1)
        watchdog = threading.Timer(limit, hung)
        watchdog.daemon = True
        watchdog.start()
        try:
            if not getattr(t, "manual_start", False):
                router.start()
            t(router)
            print(f"ok   {name} ({time.monotonic() - start:.2f}s)", flush=True)
        except SystemExit:
            raise
        except Exception as e:  # a failure or an unexpected error
            failed += 1
            print(f"FAIL {name}: {type(e).__name__}: {e}", flush=True)
            if not isinstance(e, Failure):
                traceback.print_exc()
            tail = router.log_tail(25)
            if tail:
                print("     router log (last lines):\n" + "\n".join("       " + l for l in tail.splitlines()), flush=True)
        finally:
            watchdog.cancel()
            router.cleanup()
    print(f"{len(tests) - failed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


def variant(fn, name, *args):
    """fn bound to extra arguments, reported under its own name."""
    def t(router):
        return fn(router, *args)
    t.test_name = name
    t.manual_start = getattr(fn, "manual_start", False)
    if hasattr(fn, "router_kwargs"):
        t.router_kwargs = fn.router_kwargs
    return t
