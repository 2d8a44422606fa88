#!/usr/bin/python3
"""fleet's firewall judged by real packets.

Three stand-in VMs (web, db, dns: network namespaces joined to fleet's
bridge by veth, nstest.py) and an "outside" host behind a routed uplink,
all inside a network namespace this test makes for itself. fleet-net makes
the bridge and applies a policy; then a matrix of flows is tried with real
packets — TCP connects (OpenBSD nc), UDP datagrams (nc -u, seen or not by a
server), ICMP echo (busybox ping), IPv4 and IPv6 — and each must pass or be
dropped as the policy says. Then: the same after a reload with another
policy; a bad reload refused with file:line:column, the running rules
unchanged; spoofed IPv4 sources and a spoofed ARP dropped (and shown to
work without fleet's tables, so the test can fail); `nft list table` read
back with the real nft; masquerade to outside for the VM with outbound
access only; a fleet-net killed with -9 while its tap is in use, then a
restart that adopts the bridge and removes everything; nothing of fleet's
left at the end.

Exits 77 without root (network namespaces) or a tool it needs.
"""
import concurrent.futures
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nstest  # noqa: E402
from nstest import Endpoint, sh  # noqa: E402

FLEET_NET = os.environ.get("FLEET_NET", "build/netfilter/cli/fleet-net")
TOOLS = ["ip", "nft", "nc", "busybox", "nsenter"]

SERVER = r"""
import os, socket, select, sys
log = open(sys.argv[1], "a", buffering=1)
socks = []
for port in (22, 53, 5432, 8080):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::", port)); s.listen(64); socks.append(s)
for port in (53, 5000):
    u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    u.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    u.bind(("::", port)); socks.append(u)
print("ready", flush=True)
while True:
    for s in select.select(socks, [], [])[0]:
        if s.type == socket.SOCK_STREAM:
            c, addr = s.accept()
            log.write(f"tcp {s.getsockname()[1]} {addr[0].removeprefix('::ffff:')}\n"); c.close()
        else:
            data, addr = s.recvfrom(2048)
            log.write(f"udp {s.getsockname()[1]} {addr[0].removeprefix('::ffff:')} {data.decode(errors='replace').strip()}\n")
"""

POLICY_1 = """\
# traffic test, policy 1
group backend = db
allow web -> db tcp/5432
allow web -> dns udp/53
allow group:backend -> dns udp/53 tcp/53
allow web -> db icmp
allow web, db -> outside tcp/8080
deny *
"""

# The reload: web loses the database, db may call web, dns may ping everyone.
POLICY_2 = """\
# traffic test, policy 2
allow db -> web tcp/5432
allow dns -> * icmp
allow web -> dns udp/53
allow web -> outside tcp/8080
"""

BAD_POLICY = """\
allow db -> web tcp/5432
allow dns -> * icmpp
"""


class Test:
    def __init__(self, tmp):
        self.tmp = tmp
        self.token = 0
        self.failures = []

    def fleet_net(self, *args, check=True):
        r = subprocess_run([FLEET_NET, *args])
        if check and r.returncode != 0:
            raise RuntimeError(f"fleet-net {' '.join(args)}: exit {r.returncode}: {r.stderr}")
        return r

    # -- the flows -------------------------------------------------------
    def tcp(self, src, dst_addr, port):
        r = src.run(["nc", "-z", "-w", "1", dst_addr, str(port)])
        return r.returncode == 0

    def udp(self, src, dst, dst_addr, port, source=None):
        self.token += 1
        token = f"t{self.token}-{src.name}"
        argv = ["nc", "-u", "-w", "1"] + (["-s", source] if source else []) + [dst_addr, str(port)]
        src.run(argv, input=token + "\n")
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            if token in open(dst.log).read():
                return True
            time.sleep(0.05)
        return False

    def ping(self, src, dst_addr):
        return src.run(["busybox", "ping", "-c", "1", "-W", "1", dst_addr]).returncode == 0

    def matrix(self, title, cases):
        """cases: (label, expected, function, args); all run at once."""
        with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
            results = list(pool.map(lambda c: c[2](*c[3]), cases))
        for (label, expected, _, _), got in zip(cases, results):
            ok = got == expected
            print(f"  {'ok ' if ok else 'BAD'} {title}: {label}: {'pass' if got else 'dropped'}"
                  f" (expected {'pass' if expected else 'dropped'})")
            if not ok:
                self.failures.append(f"{title}: {label}")


def subprocess_run(argv, **kw):
    import subprocess
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, **kw)


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def start_server(ep, tmp):
    ep.log = os.path.join(tmp, ep.name + ".log")
    open(ep.log, "w").close()
    import subprocess
    ep.server = ep.popen(["/usr/bin/python3", "-c", SERVER, ep.log], stdout=subprocess.PIPE, text=True)
    if ep.server.stdout.readline().strip() != "ready":
        raise RuntimeError(f"the server in {ep.name} did not start")


def fleet_leftovers():
    links = [l for l in sh("ip -o link show").splitlines() if "fleet" in l or ": fl" in l]
    tables = [t for t in sh("nft list tables").splitlines() if "fleet" in t]
    return links + tables


def run(tmp):
    t = Test(tmp)
    nstest.enter_own_netns()
    # br_netfilter, where the kernel has it, is off for every bridge in this
    # namespace: fleet's bridge must switch it on for itself when it needs it.
    for name in ("bridge-nf-call-iptables", "bridge-nf-call-ip6tables"):
        if os.path.exists(f"/proc/sys/net/bridge/{name}"):
            write(f"/proc/sys/net/bridge/{name}", "0\n")
    write("/proc/sys/net/ipv4/ip_forward", "1\n")

    print(t.fleet_net("up", "--ipv4", "192.0.2.1/24", "--ipv6", "2001:db8::1/64").stdout.strip())
    bridge_index = sh("cat /sys/class/net/fleet0/ifindex", check=False).strip()
    web = Endpoint("web", "0e:00:00:00:00:02", "192.0.2.2", "2001:db8::2", gateway4="192.0.2.1")
    db = Endpoint("db", "0e:00:00:00:00:03", "192.0.2.3", "2001:db8::3", gateway4="192.0.2.1")
    dns = Endpoint("dns", "0e:00:00:00:00:04", "192.0.2.4", "2001:db8::4", gateway4="192.0.2.1")
    out = Endpoint("out", "0e:00:00:00:00:99", "198.51.100.2", bridge=None, port="uplink")
    sh("ip addr add 198.51.100.1/24 dev uplink")
    endpoints = [web, db, dns, out]
    try:
        for ep in endpoints:
            start_server(ep, tmp)
        inventory = write(os.path.join(tmp, "inventory"), "".join(
            f"{ep.name} port={ep.port} mac={ep.mac} ipv4={ep.ipv4} ipv6={ep.ipv6}"
            f"{' outbound=yes' if ep is web else ''}\n" for ep in (web, db, dns)))
        p1 = write(os.path.join(tmp, "policy-1.conf"), POLICY_1)
        p2 = write(os.path.join(tmp, "policy-2.conf"), POLICY_2)
        bad = write(os.path.join(tmp, "bad.conf"), BAD_POLICY)

        # -- policy 1 ---------------------------------------------------
        t.fleet_net("apply", p1, "--inventory", inventory)
        listed = sh("nft list table inet fleet") + sh("nft list table bridge fleet")
        for needle in ['comment "policy-1.conf:3: allow web -> db tcp/5432"',
                       'comment "anti-spoofing: a VM sends from its own MAC"',
                       "masquerade"]:
            if needle not in listed:
                t.failures.append(f"nft list table: no {needle!r}")
        t.matrix("policy 1", [
            ("web -> db tcp/5432", True, t.tcp, (web, db.ipv4, 5432)),
            ("web -> db tcp/5432 over IPv6", True, t.tcp, (web, db.ipv6, 5432)),
            ("web -> db tcp/22", False, t.tcp, (web, db.ipv4, 22)),
            ("db -> web tcp/5432 (the other way)", False, t.tcp, (db, web.ipv4, 5432)),
            ("db -> web tcp/5432 over IPv6", False, t.tcp, (db, web.ipv6, 5432)),
            ("web -> dns udp/53", True, t.udp, (web, dns, dns.ipv4, 53)),
            ("db -> dns udp/53 (group:backend)", True, t.udp, (db, dns, dns.ipv4, 53)),
            ("db -> dns tcp/53 (group:backend)", True, t.tcp, (db, dns.ipv4, 53)),
            ("web -> dns tcp/53", False, t.tcp, (web, dns.ipv4, 53)),
            ("web -> dns udp/5000", False, t.udp, (web, dns, dns.ipv4, 5000)),
            ("dns -> web udp/53", False, t.udp, (dns, web, web.ipv4, 53)),
            ("web -> db icmp", True, t.ping, (web, db.ipv4)),
            ("web -> db icmp over IPv6", True, t.ping, (web, db.ipv6)),
            ("db -> web icmp", False, t.ping, (db, web.ipv4)),
            ("dns -> db icmp", False, t.ping, (dns, db.ipv4)),
            ("web -> host icmp", False, t.ping, (web, "192.0.2.1")),
            ("web -> outside tcp/8080 (outbound on)", True, t.tcp, (web, out.ipv4, 8080)),
            ("web -> outside tcp/22", False, t.tcp, (web, out.ipv4, 22)),
            ("db -> outside tcp/8080 (outbound off)", False, t.tcp, (db, out.ipv4, 8080)),
        ])
        masq = [l for l in open(out.log).read().splitlines() if l.startswith("tcp 8080")]
        if not masq or any(l.split()[2] != "198.51.100.1" for l in masq):
            t.failures.append(f"outside saw {masq}, not the host's uplink address (masquerade)")

        # -- a reload -----------------------------------------------------
        t.fleet_net("apply", p2, "--inventory", inventory)
        second = [
            ("web -> db tcp/5432 (no longer)", False, t.tcp, (web, db.ipv4, 5432)),
            ("db -> web tcp/5432 (now)", True, t.tcp, (db, web.ipv4, 5432)),
            ("db -> web tcp/5432 over IPv6", True, t.tcp, (db, web.ipv6, 5432)),
            ("dns -> web icmp", True, t.ping, (dns, web.ipv4)),
            ("dns -> db icmp over IPv6", True, t.ping, (dns, db.ipv6)),
            ("web -> dns icmp", False, t.ping, (web, dns.ipv4)),
            ("web -> dns udp/53", True, t.udp, (web, dns, dns.ipv4, 53)),
            ("db -> dns udp/53 (group gone)", False, t.udp, (db, dns, dns.ipv4, 53)),
            ("web -> outside tcp/8080", True, t.tcp, (web, out.ipv4, 8080)),
        ]
        t.matrix("policy 2", second)

        # -- a bad reload: refused as a whole, the running rules unchanged --
        before = sh("nft list ruleset")
        r = t.fleet_net("apply", bad, "--inventory", inventory, check=False)
        expected = f"fleet-net: {bad}:2:16: expected a service (tcp, udp, icmp, tcp/PORTS, udp/PORTS), found 'icmpp'"
        if r.returncode != 1 or not r.stderr.startswith(expected):
            t.failures.append(f"bad reload: exit {r.returncode}, {r.stderr!r}, expected {expected!r}")
        if sh("nft list ruleset") != before:
            t.failures.append("a bad reload changed the ruleset")
        t.matrix("after the bad reload", second[:4])

        # -- spoofing -----------------------------------------------------
        spoof_checks(t, web, db, dns)

        # -- nothing left, even after a kill -9 ------------------------------
        kill_and_restart(t, tmp, bridge_index)
    finally:
        for ep in endpoints:
            if getattr(ep, "server", None):
                ep.server.kill()
                ep.server.wait()
            ep.close()
    t.fleet_net("down")
    left = fleet_leftovers()
    if left:
        t.failures.append(f"left behind: {left}")
    return t.failures


def spoof_checks(t, web, db, dns):
    # web claims db's address: a UDP datagram to dns:53 (which web may send to).
    web.sh("ip addr add 192.0.2.3/32 dev eth0 nodad")
    # dns knows db's MAC; web then says 192.0.2.3 is at its own MAC.
    dns.run(["busybox", "ping", "-c", "1", "-W", "1", db.ipv4])

    def arp_spoof():
        time.sleep(1.2)  # past the neighbour entry's locktime
        web.run(["busybox", "arping", "-U", "-c", "2", "-w", "2", "-I", "eth0", "-s", db.ipv4, db.ipv4])
        return web.mac in dns.sh(f"ip neigh show {db.ipv4}")

    t.matrix("spoofing", [
        ("web -> dns udp/53 from db's address", False, t.udp, (web, dns, dns.ipv4, 53, db.ipv4)),
        ("web poisons dns's ARP entry for db", False, arp_spoof, ()),
    ])
    # The same without fleet's tables: the attacks work, so the checks above can fail.
    t.fleet_net("remove")
    dns.run(["ip", "neigh", "flush", "all"])
    dns.run(["busybox", "ping", "-c", "1", "-W", "1", db.ipv4])
    t.matrix("spoofing without fleet's tables (control)", [
        ("web -> dns udp/53 from db's address", True, t.udp, (web, dns, dns.ipv4, 53, db.ipv4)),
        ("web poisons dns's ARP entry for db", True, arp_spoof, ()),
    ])
    web.sh("ip addr del 192.0.2.3/32 dev eth0")


def kill_and_restart(t, tmp, bridge_index):
    """fleet-net runs a stand-in QEMU with a tap and is killed with -9."""
    import signal
    import subprocess
    holder = subprocess.Popen([FLEET_NET, "tap", "fl0000000abc", "--owner", "crash", "--",
                               "sh", "-c", "echo up; exec sleep 60"], stdout=subprocess.PIPE, text=True)
    holder.stdout.readline()  # the command runs: the tap exists
    stand_in = sh("pgrep -P %d sleep" % holder.pid, check=False).strip()
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    if "fl0000000abc" not in sh("ip -o link show"):
        t.failures.append("the tap went away while its user (the stand-in QEMU) still ran")
    if stand_in:
        os.kill(int(stand_in), signal.SIGKILL)
    deadline = time.monotonic() + 5
    while "fl0000000abc" in sh("ip -o link show") and time.monotonic() < deadline:
        time.sleep(0.05)
    if "fl0000000abc" in sh("ip -o link show"):
        t.failures.append("the tap outlived every process holding it")
    # The restart adopts the bridge it finds (same ifindex), then cleans up.
    t.fleet_net("up", "--ipv4", "192.0.2.1/24", "--ipv6", "2001:db8::1/64")
    if sh("cat /sys/class/net/fleet0/ifindex", check=False).strip() != bridge_index:
        t.failures.append("the restart made a new bridge instead of adopting fleet's")
    links = t.fleet_net("links").stdout
    if "fleet0" not in links:
        t.failures.append(f"fleet-net links does not show the bridge: {links}")


def main():
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        print(f"skipped: missing {', '.join(missing)} (tools/setup installs them)")
        return 77
    if not os.access(FLEET_NET, os.X_OK):
        print(f"{FLEET_NET} is not built")
        return 1
    tmp = tempfile.mkdtemp(prefix="fleet-traffic-", dir="/dev/shm")
    try:
        failures = run(tmp)
    except nstest.Unavailable as e:
        print(f"skipped: {e}")
        return 77
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for f in failures:
        print("FAIL:", f)
    print("traffic: " + ("ok" if not failures else f"{len(failures)} failures"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
