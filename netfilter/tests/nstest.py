"""Network namespaces for netfilter's tests: the test process moves itself
into a network namespace of its own (the "host", where fleet's bridge and
tables live) and starts one holder process per endpoint, each in a new
network namespace, standing in for a VM and joined to the bridge by a veth.

Everything dies with the test, even with kill -9: the host namespace is the
test process's own, and every holder gets SIGKILL when the test dies
(PR_SET_PDEATHSIG). Nothing is made in the namespace the test started in.

    ns = enter_own_netns()         # raises Unavailable (exit 77) without root
    web = Endpoint("web", 2, ...)  # a holder, a veth to the bridge, addresses
    web.run(["nc", "-z", ...])     # a command inside it (nsenter)
"""
import ctypes
import os
import signal
import subprocess
import time

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


class Unavailable(Exception):
    """The machine cannot do this; the message says why."""


def enter_own_netns():
    """This process (single-threaded: call it first) into a new netns."""
    if os.geteuid() != 0:
        raise Unavailable("not root: network namespaces need CAP_SYS_ADMIN and CAP_NET_ADMIN")
    if _libc.unshare(CLONE_NEWNET) != 0:
        raise Unavailable("unshare(CLONE_NEWNET): " + os.strerror(ctypes.get_errno()))
    sh("ip link set lo up")


def _die_with_test():
    _libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG


def sh(command, check=True, timeout=30):
    """A shell command in the host namespace; its output."""
    r = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError(f"{command}: exit {r.returncode}: {r.stdout}{r.stderr}")
    return r.stdout


class Endpoint:
    """A stand-in VM: a holder process in its own netns, eth0 (a veth whose
    peer `port` is on `bridge`), the given MAC and addresses, a default route."""

    def __init__(self, name, mac, ipv4, ipv6=None, prefix4=24, gateway4=None, bridge="fleet0", port=None):
        self.name, self.mac, self.ipv4, self.ipv6 = name, mac, ipv4, ipv6
        self.port = port or ("v" + name)[:15]
        self.holder = subprocess.Popen(["unshare", "--net", "sleep", "infinity"], preexec_fn=_die_with_test)
        self.ns = f"/proc/{self.holder.pid}/ns/net"
        own = os.readlink("/proc/self/ns/net")
        deadline = time.monotonic() + 5
        while os.readlink(self.ns) == own:  # until unshare has made its namespace
            if time.monotonic() > deadline or self.holder.poll() is not None:
                raise Unavailable("unshare --net did not make a network namespace")
            time.sleep(0.005)
        sh(f"ip link add {self.port} type veth peer name eth0 netns {self.holder.pid}")
        if bridge:
            sh(f"ip link set {self.port} master {bridge}")
        sh(f"ip link set {self.port} up")
        self.sh(f"ip link set lo up && ip link set eth0 address {mac} && ip link set eth0 up")
        self.sh(f"ip addr add {ipv4}/{prefix4} dev eth0")
        if ipv6:
            self.sh(f"ip -6 addr add {ipv6}/64 dev eth0 nodad")
        if gateway4:
            self.sh(f"ip route add default via {gateway4}")

    def argv(self, argv):
        return ["nsenter", f"--net={self.ns}"] + list(argv)

    def run(self, argv, timeout=10, **kw):
        return subprocess.run(self.argv(argv), capture_output=True, text=True, timeout=timeout, **kw)

    def sh(self, command, check=True):
        r = self.run(["sh", "-c", command])
        if check and r.returncode != 0:
            raise RuntimeError(f"[{self.name}] {command}: exit {r.returncode}: {r.stdout}{r.stderr}")
        return r.stdout

    def popen(self, argv, **kw):
        return subprocess.Popen(self.argv(argv), preexec_fn=_die_with_test, **kw)

    def close(self):
        if self.holder.poll() is None:
            self.holder.kill()
            self.holder.wait()
