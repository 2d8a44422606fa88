"""A private avahi-daemon for tests: its own network namespace, its own D-Bus
system bus, nothing shared with the host's daemons (if it has any).

    from fleet_test.avahi import AvahiEnv, Unavailable

    with AvahiEnv() as env:                      # daemons=False: start them later
        p = env.popen([PUBLISHER, "fleet on test"], stdout=subprocess.PIPE)
        env.wait_line(p, "mdns: published")      # a line of p's stdout
        env.browse("_libvirt._tcp")              # the real avahi-browse -rpt
        # -> [{"interface": "lo", "protocol": "IPv4", "name": "fleet on test",
        #      "type": "_libvirt._tcp", "domain": "local", "host": "fleet-test.local",
        #      "address": "127.0.0.1", "port": 16509, "txt": ["impl=fleet"]}]
        env.stop(p)                              # SIGTERM by pid, then wait

How it is built (Debian 12: avahi 0.8, dbus 1.14, util-linux 2.38; root):
- A holder process, `unshare --net --mount`, owns a new network namespace
  whose only interface, lo, is brought up with the MULTICAST flag (avahi
  0.8 takes an interface that is up and multicast-capable or loopback:
  measured here, lo works with or without the flag, multicast included;
  it is set so lo looks like the link avahi is written for) and a new mount
  namespace in which a tmpfs covers /run/avahi-daemon (avahi's pid file and
  socket, compiled in: a second avahi-daemon would otherwise find the
  first's pid file) and an empty folder covers /etc/avahi/services (the
  host's static services stay out). /run/avahi-daemon is created on the
  host first if it is missing, as an empty folder (a mount needs a mount
  point); nothing else on the host changes.
- Everything else runs in those namespaces through
  `nsenter --target HOLDER --net --mount`: a dbus-daemon with a
  generated system-bus configuration listening on TMP/system_bus_socket
  (no activation, everything allowed: only the test's processes can reach
  it), and avahi-daemon -f TMP/avahi-daemon.conf (allow-interfaces=lo,
  use-ipv6=no, host-name=fleet-test, no workstation/HINFO records, no
  wide-area) with --no-drop-root --no-chroot --no-rlimits. avahi insists
  on the system bus, so every client gets DBUS_SYSTEM_BUS_ADDRESS (env.env).
- Every process started is stopped by its pid (SIGTERM, then SIGKILL) at
  exit, and dies with the test anyway (PR_SET_PDEATHSIG); the holder ends
  when its stdin (a pipe from the test) closes. The temp folder is removed
  (FLEET_KEEP_TMP=1 keeps it, with the daemons' logs).

Unavailable is raised (exit 77 in a test) when the machine cannot do this:
not root, tools missing, unshare refused.
"""
import ctypes
import json
import os
import re
import select
import shutil
import signal
import subprocess
import tempfile
import time

from . import paths
from .check import Failure

AVAHI_RUN_DIR = "/run/avahi-daemon"
AVAHI_SERVICES_DIR = "/etc/avahi/services"
HOST_NAME = "fleet-test"
TOOLS = ["unshare", "nsenter", "ip", "dbus-daemon", "avahi-daemon", "avahi-browse"]

_libc = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1


class Unavailable(Exception):
    """The machine cannot host the environment; the message says why."""


def _die_with_parent():
    # Runs in the child between fork and exec: SIGTERM when the test dies.
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_type="method_return"/>
    <allow send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="signal"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
  </policy>
</busconfig>
"""

AVAHI_CONFIG = """[server]
host-name={host_name}
use-ipv4=yes
use-ipv6=no
allow-interfaces=lo
enable-dbus=yes
ratelimit-interval-usec=1000000
ratelimit-burst=1000

[wide-area]
enable-wide-area=no

[publish]
publish-addresses=yes
publish-hinfo=no
publish-workstation=no
publish-domain=no

[reflector]
enable-reflector=no

[rlimits]
"""

# The holder: set the namespaces up, say so, then wait for stdin to close.
HOLDER_SCRIPT = """set -e
ip link set lo up multicast on
mount -t tmpfs -o mode=0755,size=1m fleet-avahi-run {run_dir}
if [ -d {services_dir} ]; then mount --bind {empty} {services_dir}; fi
echo ready
exec cat >/dev/null
"""


def unescape_label(label):
    """avahi-browse -p escapes names as DNS labels: \\DDD (decimal byte)
    and backslash before '.' and '\\'."""
    out = bytearray()
    raw = label.encode()
    i = 0
    while i < len(raw):
        if raw[i] == 0x5C and raw[i + 1:i + 4].isdigit() and len(raw[i + 1:i + 4]) == 3:
            out.append(int(raw[i + 1:i + 4]))
            i += 4
        elif raw[i] == 0x5C and i + 1 < len(raw):
            out.append(raw[i + 1])
            i += 2
        else:
            out.append(raw[i])
            i += 1
    return out.decode("utf-8", "replace")


def parse_browse(output):
    """avahi-browse -rpt lines: '=' (resolved) entries as dicts."""
    found = []
    for line in output.splitlines():
        if not line.startswith("="):
            continue
        f = line.split(";", 9)
        if len(f) < 10:
            continue
        found.append({
            "interface": f[1],
            "protocol": f[2],
            "name": unescape_label(f[3]),
            "type": f[4],
            "domain": f[5],
            "host": f[6],
            "address": f[7],
            "port": int(f[8]),
            "txt": re.findall(r'"([^"]*)"', f[9]),
        })
    return found


class AvahiEnv:
    def __init__(self, daemons=True, host_name=HOST_NAME):
        self.start_daemons = daemons
        self.host_name = host_name
        self.dir = None
        self.holder = None
        self.dbus = None
        self.avahi = None
        self._procs = []      # started by popen, stopped at exit
        self._buffers = {}    # pid -> (partial line bytes, [lines])

    # --- set-up and tear-down -------------------------------------------

    def __enter__(self):
        if os.geteuid() != 0:
            raise Unavailable("needs root (network and mount namespaces, avahi-daemon)")
        missing = [t for t in TOOLS if shutil.which(t) is None]
        if missing:
            raise Unavailable("missing " + ", ".join(missing) + " (apt-get install avahi-daemon avahi-utils dbus)")
        self.dir = tempfile.mkdtemp(prefix="fleet-avahi-")
        try:
            self._write_configs()
            self._start_holder()
            if self.start_daemons:
                self.start_dbus()
                self.start_avahi()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None and self.dir is not None:
            # The daemons' side of a failure, before the folder goes.
            for name in ("avahi-daemon.log", "dbus-daemon.log"):
                if self.log(name):
                    print(f"--- {name} ---\n{self.log(name).rstrip()}\n--- end of {name} ---", flush=True)
        for p in reversed(self._procs):
            self.stop(p)
        self.stop_avahi()
        self.stop_dbus()
        if self.holder is not None:
            self.holder.stdin.close()
            self.stop(self.holder)
            self.holder = None
        if self.dir is not None and os.environ.get("FLEET_KEEP_TMP") != "1":
            shutil.rmtree(self.dir, ignore_errors=True)
        return False

    def _write_configs(self):
        with open(self.path("system-bus.conf"), "w") as f:
            f.write(BUS_CONFIG.format(socket=self.bus_socket))
        with open(self.path("avahi-daemon.conf"), "w") as f:
            f.write(AVAHI_CONFIG.format(host_name=self.host_name))
        os.mkdir(self.path("empty"))

    def _start_holder(self):
        # A mount point for the private tmpfs (see the module's notes).
        os.makedirs(AVAHI_RUN_DIR, mode=0o755, exist_ok=True)
        script = HOLDER_SCRIPT.format(run_dir=AVAHI_RUN_DIR, services_dir=AVAHI_SERVICES_DIR, empty=self.path("empty"))
        self.holder = subprocess.Popen(
            ["unshare", "--net", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", script],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            preexec_fn=_die_with_parent)
        ready, _, _ = select.select([self.holder.stdout], [], [], 10)
        line = self.holder.stdout.readline() if ready else b""
        if line.strip() != b"ready":
            holder, self.holder = self.holder, None
            try:
                _, err = holder.communicate(timeout=5)  # closes its stdin: cat ends
            except subprocess.TimeoutExpired:
                os.kill(holder.pid, signal.SIGKILL)
                _, err = holder.communicate()
            raise Unavailable("cannot make a network and mount namespace: "
                              + (err.decode(errors="replace").strip() or "no answer from unshare"))

    # --- paths and the environment clients need --------------------------

    def path(self, name):
        return os.path.join(self.dir, name)

    @property
    def bus_socket(self):
        return self.path("system_bus_socket")

    @property
    def bus_address(self):
        return "unix:path=" + self.bus_socket

    @property
    def env(self):
        """os.environ plus the private system bus (and no session bus)."""
        e = dict(os.environ)
        e["DBUS_SYSTEM_BUS_ADDRESS"] = self.bus_address
        e.pop("DBUS_SESSION_BUS_ADDRESS", None)
        return e

    def command(self, argv, cwd=None):
        """argv run inside the namespaces (nsenter; it execs, the pid stays)."""
        return ["nsenter", f"--target={self.holder.pid}", "--net", "--mount",
                f"--wd={cwd or os.getcwd()}", "--", *argv]

    # --- running things inside ---------------------------------------------

    def popen(self, argv, env=None, cwd=None, **kw):
        """Start argv inside; env adds to (or, with None values, removes
        from) self.env. Stopped at exit if still running."""
        p = subprocess.Popen(self.command(argv, cwd), env=self._merge(env), preexec_fn=_die_with_parent, **kw)
        self._procs.append(p)
        return p

    def run(self, argv, env=None, cwd=None, timeout=60, **kw):
        """Run argv inside to its end; output captured as text unless told."""
        if "stdout" not in kw and "capture_output" not in kw:
            kw["capture_output"] = True
        kw.setdefault("text", True)
        return subprocess.run(self.command(argv, cwd), env=self._merge(env), timeout=timeout,
                              preexec_fn=_die_with_parent, **kw)

    def _merge(self, extra):
        e = self.env
        for k, v in (extra or {}).items():
            if v is None:
                e.pop(k, None)
            else:
                e[k] = v
        return e

    def stop(self, p, sig=signal.SIGTERM, timeout=10):
        """Signal p by its pid, wait for it (SIGKILL after timeout); its exit
        status. What it wrote to a stdout pipe stays readable by lines()."""
        if p.poll() is None:
            try:
                os.kill(p.pid, sig)
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(p.pid, signal.SIGKILL)
                p.wait()
            except ProcessLookupError:
                p.wait()
        if p.stdout is not None and not p.stdout.closed:
            self.lines(p, wait=1.0, to_end=True)
        for stream in (p.stdin, p.stdout, p.stderr):
            if stream is not None and not stream.closed:
                stream.close()
        return p.returncode

    # --- reading a process's output line by line -------------------------

    def lines(self, p, wait=0.0, to_end=False):
        """Every stdout line of p so far (p needs stdout=subprocess.PIPE):
        reads what is there, waiting up to wait seconds for one more line
        (to_end: for the end of the output)."""
        buffer = self._buffers.setdefault(p.pid, [b"", []])
        if p.stdout is None or p.stdout.closed:
            return list(buffer[1])
        fd = p.stdout.fileno()
        deadline = time.monotonic() + wait
        while True:
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                break
            chunk = os.read(fd, 65536)
            if not chunk:
                if buffer[0]:
                    buffer[1].append(buffer[0].decode(errors="replace"))
                    buffer[0] = b""
                break
            *done, buffer[0] = (buffer[0] + chunk).split(b"\n")
            buffer[1].extend(d.decode(errors="replace") for d in done)
            if done and wait and not to_end:
                break
        return list(buffer[1])

    def wait_line(self, p, text, timeout=15, after=0):
        """The first stdout line of p (from index after) containing text;
        Failure with what came if none does within timeout."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.lines(p)
            for line in got[after:]:
                if text in line:
                    return line
            left = deadline - time.monotonic()
            if left <= 0 or (p.poll() is not None and not self._readable(p)):
                raise Failure(f"no line with {text!r} within {timeout}s; got {got!r}")
            self.lines(p, wait=min(left, 0.5))

    @staticmethod
    def _readable(p):
        ready, _, _ = select.select([p.stdout.fileno()], [], [], 0)
        return bool(ready)

    # --- the daemons ----------------------------------------------------------

    def start_dbus(self):
        """The private system bus, listening when this returns."""
        if self.dbus is not None:
            return
        log = open(self.path("dbus-daemon.log"), "ab")
        self.dbus = subprocess.Popen(
            self.command(["dbus-daemon", f"--config-file={self.path('system-bus.conf')}", "--nofork",
                          "--nopidfile", "--print-address"]),
            stdout=subprocess.PIPE, stderr=log, preexec_fn=_die_with_parent)
        log.close()
        ready, _, _ = select.select([self.dbus.stdout], [], [], 10)
        if not ready or not self.dbus.stdout.readline().startswith(b"unix:"):
            self.stop_dbus()
            raise RuntimeError("dbus-daemon did not start: " + self.log("dbus-daemon.log"))

    def stop_dbus(self):
        if self.dbus is not None:
            self.stop(self.dbus)
            self.dbus = None

    def start_avahi(self, timeout=15):
        """avahi-daemon on the private bus, its start-up complete (its host
        name registered on lo) when this returns."""
        if self.avahi is not None:
            return
        log_path = self.path("avahi-daemon.log")
        start = os.path.getsize(log_path) if os.path.exists(log_path) else 0
        log = open(log_path, "ab")
        self.avahi = subprocess.Popen(
            self.command(["avahi-daemon", "-f", self.path("avahi-daemon.conf"), "--no-drop-root", "--no-chroot",
                          "--no-rlimits", "--no-proc-title"]),
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=self.env, preexec_fn=_die_with_parent)
        log.close()
        deadline = time.monotonic() + timeout
        while "Server startup complete" not in self.log("avahi-daemon.log")[start:]:
            if self.avahi.poll() is not None or time.monotonic() > deadline:
                self.stop_avahi()
                raise RuntimeError("avahi-daemon did not start: " + self.log("avahi-daemon.log")[start:])
            time.sleep(0.05)

    def stop_avahi(self):
        if self.avahi is not None:
            self.stop(self.avahi)
            self.avahi = None

    def log(self, name):
        """A log file of the environment's (dbus-daemon.log, avahi-daemon.log)."""
        try:
            with open(self.path(name), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    # --- what clients see ------------------------------------------------------

    def browse(self, service_type="_libvirt._tcp", timeout=30):
        """Resolved services of a type, through the real avahi-browse -rptk
        (parseable, resolve, stop when the cache is read, raw type names)."""
        r = self.run(["avahi-browse", "-r", "-p", "-t", "-k", service_type], timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError(f"avahi-browse failed ({r.returncode}): {r.stderr.strip()}")
        return parse_browse(r.stdout)

    def wait_browse(self, predicate, service_type="_libvirt._tcp", timeout=20):
        """browse() until predicate(services) is true; those services."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.browse(service_type)
            if predicate(found):
                return found
            if time.monotonic() > deadline:
                raise Failure(f"avahi-browse never satisfied the test within {timeout}s; last: {found!r}")
            time.sleep(0.2)

    def txt_on_wire(self, instance, service_type="_libvirt._tcp", timeout=3):
        """The TXT strings of instance as the daemon sends them, in packet
        order: one legacy-unicast mDNS query (RFC 6762 6.7) to 224.0.0.251
        on lo, inside the namespace. None if nobody answers."""
        r = self.run([paths.PYTHON, "-c", _TXT_QUERY, f"{instance}.{service_type}.local", str(timeout)],
                     timeout=timeout + 10)
        if r.returncode != 0:
            raise RuntimeError(f"TXT query failed: {r.stderr.strip()}")
        return json.loads(r.stdout)


# Runs inside the namespace: argv[1] is the full service name.
_TXT_QUERY = r"""
import json, socket, struct, sys
labels = sys.argv[1].split(".")
instance, rest = ".".join(labels[:-3]), labels[-3:]   # the instance may hold dots
qname = b"".join(bytes([len(l)]) + l for l in [instance.encode()] + [x.encode() for x in rest]) + b"\0"
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("127.0.0.1"))
s.settimeout(float(sys.argv[2]))
s.sendto(struct.pack("!6H", 0x4646, 0, 1, 0, 0, 0) + qname + struct.pack("!HH", 16, 1), ("224.0.0.251", 5353))
try:
    data, _ = s.recvfrom(9000)
except socket.timeout:
    print("null"); sys.exit(0)

def skip_name(i):
    while data[i]:
        if data[i] & 0xC0 == 0xC0:
            return i + 2
        i += 1 + data[i]
    return i + 1

qd, an = struct.unpack("!HH", data[4:8])
i = 12
for _ in range(qd):
    i = skip_name(i) + 4
for _ in range(an):
    i = skip_name(i)
    rtype, _, _, rdlen = struct.unpack("!HHIH", data[i:i + 10])
    i += 10
    if rtype == 16:
        rdata, j, out = data[i:i + rdlen], 0, []
        while j < len(rdata):
            out.append(rdata[j + 1:j + 1 + rdata[j]].decode("utf-8", "replace"))
            j += 1 + rdata[j]
        print(json.dumps(out)); sys.exit(0)
    i += rdlen
print("null")
"""
