#!/usr/bin/python3
"""Real Linux-image guests on fleet's bridge, and the firewall between
them: `fleet-vmm --net` taps made through netfilter/ (or by the router, on
its bridge), addresses through the guest contract (the exec block), the
policy applied by `fleet-net` or the router and read back with the real
`nft`, and real packets (busybox ping and nc) that pass when the policy
allows them and do not when it denies them.

Everything happens in a network namespace of the test's own: the test
process moves into it first (unshare(CLONE_NEWNET)), so the bridge, the
taps and fleet's nft tables die with it. Not root: exit 77.
"""
import ctypes
import inspect
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.append(os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "lib"))  # run by hand: HACKING.md
from fleet_test import rawwire  # noqa: E402
from fleet_test.check import check, skip, wait_until  # noqa: E402
from fleet_test.fleet import Fleet  # noqa: E402
from fleet_test.router import Router, domain_xml  # noqa: E402
from fleet_test.runner import main  # noqa: E402
from fleet_test.virsh import virsh_ok  # noqa: E402

sys.path.append(os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "..", "netfilter", "tests"))
from nstest import Endpoint  # noqa: E402  (a namespace standing in for the outside host)

FLEET_NET = os.environ.get("FLEET_NET", "build/netfilter/cli/fleet-net")
FLEET_ROUTER = os.environ.get("FLEET_ROUTER", "build/router/daemon/fleet-router")
BOOT = ["--boot-timeout", "30"]  # every boot has a deadline (TCG, a loaded machine)
SERVER = "while :; do echo pong | nc -l -p 7000; done"


def enter_own_netns():
    if os.geteuid() != 0:
        skip("not root: the bridge, taps and nft tables need CAP_NET_ADMIN in a namespace of the test's own")
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(0x40000000) != 0:  # CLONE_NEWNET
        skip("unshare(CLONE_NEWNET): " + os.strerror(ctypes.get_errno()))
    sh("ip", "link", "set", "lo", "up")


def sh(*argv, timeout=30, check_rc=0):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if check_rc is not None and p.returncode != check_rc:
        raise AssertionError(f"{' '.join(argv)}: exit {p.returncode}: {p.stdout}{p.stderr}")
    return p


def vm_link(name):
    """The MAC and tap fleet-vmm --net gives VM `name`."""
    mac, tap = sh(FLEET_NET, "mac", "name:" + name).stdout.split()
    return mac, tap


def apply_policy(fleet, text, vms):
    policy = os.path.join(fleet.root, "policy.conf")
    inventory = os.path.join(fleet.root, "inventory")
    with open(policy, "w") as f:
        f.write(text)
    with open(inventory, "w") as f:
        for name, ipv4 in vms.items():
            mac, tap = vm_link(name)
            f.write(f"{name} port={tap} mac={mac} ipv4={ipv4}\n")
    sh(FLEET_NET, "apply", policy, "--inventory", inventory)
    return sh("nft", "list", "table", "inet", "fleet").stdout


def client(fleet, forks=0):
    """A guest that pings the server and asks it on TCP port 7000.

    busybox ping's ICMP id is its pid, the same in every fresh guest: a
    second run would be the first run's conntrack flow, which a reload does
    not cut (netfilter/README.md). `forks` subshells first move the pid on."""
    script = ("x=$(true); " * forks + "echo mac=$(cat /sys/class/net/eth0/address); "
              "ping -c 1 -W 2 10.77.0.3 >/dev/null; echo ping=$?; nc -w 2 10.77.0.3 7000 </dev/null; echo nc=$?")
    p = fleet.vmm("run", "--name", "cli", "--net", "fleet0", "--ip", "10.77.0.2/24", *BOOT, "linux-sh", "-c", script,
                  timeout=90)
    out = p.stdout.decode(errors="replace")
    check(p.returncode == 0, f"client guest: exit {p.returncode}: {out} {p.stderr!r}")
    # Restored from the snapshot made with the ABI's MAC: the guest set its own.
    check(f"mac={vm_link('cli')[0]}\n" in out, f"the client's interface has another MAC: {out!r}")
    return out


def host_asks_server():
    """The host may always reach its VMs: the server's liveness, apart from the policy."""
    return sh("nc", "-w", "2", "10.77.0.3", "7000", check_rc=None).stdout


def test_policy_between_two_guests(fleet):
    sh(FLEET_NET, "up", "--bridge", "fleet0")
    vms = {"cli": "10.77.0.2", "srv": "10.77.0.3"}
    rules = apply_policy(fleet, "allow cli -> srv tcp/7000 icmp\n", vms)
    check("allow cli -> srv tcp/7000 icmp" in rules, f"nft shows no rule from the policy line:\n{rules}")
    fleet.vmm("start", "--name", "srv", "--net", "fleet0", "--ip", "10.77.0.3/24", *BOOT, "linux-sh", "-c", SERVER,
              timeout=90, check_rc=0)
    _, srv_tap = vm_link("srv")
    nets = fleet.record("srv").get("networks")
    check(nets == [f"{srv_tap} {vm_link('srv')[0]} 10.77.0.3/24"], f"inspect shows the network as {nets!r}")
    links = sh("ip", "-d", "link", "show", srv_tap).stdout
    check("master fleet0" in links and "fleet:tap:srv" in links, f"the server's tap: {links}")

    wait_until(lambda: "pong" in host_asks_server(), 15, "the server guest's nc, from the host")
    with open(os.path.join(fleet.vm_dir("srv"), "vmm.log"), errors="replace") as f:
        log = f.read()
    # A guest with an interface restores from a snapshot (ABI 5), and
    # gets through the firewall, whose rules know its own MAC only.
    check("restoring from snapshot" in log, f"the server guest booted cold: {log[-800:]}")
    out = client(fleet)
    check("ping=0" in out and "pong" in out and "nc=0" in out, f"allowed: the client did not get through: {out!r}")

    rules = apply_policy(fleet, "allow cli -> srv udp/53\n", vms)
    check("tcp/7000" not in rules and "udp/53" in rules, f"nft still shows the old policy:\n{rules}")
    check("pong" in host_asks_server(), "the host no longer reaches the server (control)")
    out = client(fleet, forks=3)
    check("ping=1" in out and "pong" not in out and "nc=0" not in out, f"denied: the client got through: {out!r}")
    check("pong" in host_asks_server(), "the server died under the denied client (control)")

    fleet.vmm("stop", "srv", "--timeout", "5", timeout=30)
    fleet.vmm("wait", "srv", timeout=30)
    left = sh("ip", "-o", "link", "show", "type", "tun").stdout
    check(left.strip() == "", f"taps left after both guests ended: {left}")
    sh(FLEET_NET, "down")


def test_net_flags_are_checked(fleet):
    p = fleet.vmm("run", "--net", "nosuchbridge", "linux-true")
    check(p.returncode == 125 and b"no bridge 'nosuchbridge'" in p.stderr, f"{p.returncode} {p.stderr!r}")
    p = fleet.vmm("run", "--ip", "10.77.0.9/24", "linux-true")
    check(p.returncode == 125 and b"--ip, --gateway and --outbound need a network" in p.stderr, f"{p.returncode} {p.stderr!r}")
    p = sh(FLEET_ROUTER, "reload", "--runtime-dir", fleet.runtime, check_rc=1)
    check(p.stderr.startswith("fleet-router reload: no fleet-router serves"), f"reload without a router: {p.stderr!r}")
    p = sh(FLEET_ROUTER, "reload", "--timeout", "x", check_rc=2)
    check("--timeout: 'x'" in p.stderr, f"reload --timeout x: {p.stderr!r}")


def ports():
    """The bridge ports in fleet's firewall (nft's set `ports`)."""
    return sh("nft", "list", "set", "bridge", "fleet", "ports", check_rc=None).stdout


def test_vmm_vms_join_the_routers_firewall(fleet):
    """fleet-vmm on a router's bridge (its default while the router runs):
    the router makes the tap and leases the address (FLEET_NET_ATTACH), the
    VM is in the firewall by its name while its tap lives, and the policy
    between it and the router's domains holds with real packets; a domain's
    name is refused; a restarted router adopts the VM; nothing is left."""
    nic = "<interface type='network'><source network='fleet'/><model type='virtio'/></interface>"
    r = Router(extra_args=["--bridge", "fleet0"])
    env = {"FLEET_RUNTIME_DIR": r.runtime}
    ask = "ip -4 -o addr show eth0; nc -w 2 10.77.0.2 7000 </dev/null; echo nc=$?"
    try:
        os.makedirs(r.state, exist_ok=True)
        with open(os.path.join(r.state, "policy"), "w") as f:
            f.write("allow vcli -> srv tcp/7000\n")
        r.start()
        for name, args in (("srv", ["-c", SERVER]), ("idle", ["-c", "true"])):
            xml = os.path.join(r.root, name + ".xml")
            with open(xml, "w") as f:
                f.write(domain_xml(name, image="linux-sh", args=args, devices=nic))
            virsh_ok(r.uri_unix, "define", xml)
        virsh_ok(r.uri_unix, "start", "srv", timeout=90)  # the first lease: 10.77.0.2
        wait_until(lambda: "pong" in host_asks("10.77.0.2"), 15, "the domain's server, from the host")

        # Allowed by the policy: the router's address, and its server answers.
        p = fleet.vmm("run", "--name", "vcli", *BOOT, "linux-sh", "-c", ask, env=env, timeout=90)
        out = p.stdout.decode(errors="replace")
        check(p.returncode == 0, f"vcli: exit {p.returncode}: {out} {p.stderr!r}")
        check("10.77.0.3/24" in out, f"vcli did not get the router's lease: {out!r}")
        check("pong" in out and "nc=0" in out, f"allowed: vcli did not reach the domain: {out!r}")
        check("joins on" in r.log_text() and "'vcli'" in r.log_text(), f"the router logged no attach: {r.log_tail(5)}")
        # A name is free again as soon as its VM ended (not a sweep later).
        p = fleet.vmm("run", "--name", "vcli", *BOOT, "linux-true", env=env, timeout=90)
        check(p.returncode == 0, f"vcli again, right after: exit {p.returncode} {p.stderr!r}")
        # Not in the policy: denied between VMs, as for a domain.
        p = fleet.vmm("run", "--name", "vother", *BOOT, "linux-sh", "-c", ask, env=env, timeout=90)
        out = p.stdout.decode(errors="replace")
        # vcli's address goes back once its flows are forgotten (at most a
        # sweep after its end): vother gets it, or the next one if sooner.
        check(p.returncode == 0 and ("10.77.0.3/24" in out or "10.77.0.4/24" in out),
              f"vother: exit {p.returncode}: {out} {p.stderr!r}")
        check("pong" not in out and "nc=0" not in out, f"denied: vother reached the domain: {out!r}")
        # The flow the kernel still tracked from vcli's address (TIME_WAIT)
        # went with the address: no later holder of it inherits it.
        wait_until(lambda: not tracked("src=10.77.0.3 dst=10.77.0.2", "dport=7000"), 5,
                   "vcli's tracked flow going with its released address")
        check("pong" in host_asks("10.77.0.2"), "the domain's server died (control)")

        # The name of a domain, defined or running, is the domain's.
        p = fleet.vmm("run", "--name", "idle", *BOOT, "linux-true", env=env)
        check(p.returncode == 125 and b"domain 'idle' exists" in p.stderr, f"a domain's name: {p.returncode} {p.stderr!r}")
        # The router leases the address: --ip is refused on its bridge.
        p = fleet.vmm("run", "--ip", "10.77.0.9/24", "linux-true", env=env)
        check(p.returncode == 125 and b"the router leases the address" in p.stderr, f"--ip: {p.stderr!r}")
        # --net none: no interface, though the router has a bridge.
        p = fleet.vmm("run", "--name", "dflt", "--net", "none", *BOOT, "linux-sh", "-c",
                      "cat /sys/class/net/eth0/address 2>/dev/null || echo no-eth0", env=env, timeout=90)
        check("no-eth0" in p.stdout.decode(errors="replace"), f"--net none gave an interface: {p.stdout!r}")

        # A VM that outlives a router restart is adopted; its end takes it out.
        fleet.vmm("start", "--name", "vsrv", *BOOT, "linux-sh", "-c", SERVER, env=env, timeout=90, check_rc=0)
        _, tap = vm_link("vsrv")
        check(tap in ports(), f"vsrv's tap {tap} is not in the firewall's ports: {ports()}")
        links = sh("ip", "-d", "link", "show", tap).stdout
        check("master fleet0" in links and "fleet:tap:vmm:vsrv" in links, f"vsrv's tap: {links}")
        r.restart()
        check(tap in ports(), f"the restarted router did not adopt vsrv: {ports()}")
        fleet.vmm("stop", "vsrv", "--timeout", "5", env=env, timeout=30)
        fleet.vmm("wait", "vsrv", env=env, timeout=30)
        wait_until(lambda: tap not in ports(), 5, "vsrv leaving the firewall once its tap went")
        # Their addresses went back with them (a sweep later); the domain
        # keeps its own.
        wait_until(lambda: leased(r) == ["srv"], 5, "fleet-vmm VMs' leases going back")
        virsh_ok(r.uri_unix, "destroy", "srv")
        r.stop()
        check_nothing_left()
    finally:
        r.cleanup()

    # A router killed with -9 leaves its router.json: its bridge is not
    # taken for the default (no router to ask).
    os.makedirs(fleet.runtime, exist_ok=True)
    dead = subprocess.Popen(["true"])
    dead.wait()
    with open(os.path.join(fleet.runtime, "router.json"), "w") as f:
        f.write(f'{{"pid": {dead.pid}, "bridge": "fleet1"}}\n')
    p = fleet.vmm("run", "--name", "dflt", *BOOT, "linux-sh", "-c",
                  "cat /sys/class/net/eth0/address 2>/dev/null || echo no-eth0", timeout=90)
    check("no-eth0" in p.stdout.decode(errors="replace"), f"a dead router's bridge was used: {p.stdout!r}")


# A client of the router's read-write socket as another user: FLEET_NET_ATTACH
# by hand (docs/fleet-protocol.md), keeping every tap's fd, as fleet-vmm's
# QEMU would. Reads "attach PREFIX COUNT" lines; answers one JSON line each.
ATTACHER = inspect.getsource(rawwire) + r"""
import json, socket, struct, sys
path, fds = sys.argv[1], []
for line in sys.stdin:
    _, prefix, count = line.split()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(20)
    s.connect(path)
    connect_open(s)
    done, error = 0, None
    for i in range(int(count)):
        h, payload = call(s, 1003, i + 1, xdr_string(f"{prefix}{i}") + struct.pack(">I", 0))  # FLEET_NET_ATTACH
        if h[5] != 0:
            error = payload.decode(errors="replace")
            break
        _, got, _, _ = socket.recv_fds(s, 1, 1)
        fds += got
        done += 1
    s.close()
    print(json.dumps({"done": done, "error": error}), flush=True)
"""


def test_vmm_vms_count_for_their_owner_after_a_router_restart(fleet):
    """A user's fleet-vmm VMs on the router's network count against the
    per-user limit (64), and still do once a restarted router has adopted
    them: their taps carry the owner (`fleet:tap:vmm:NAME by uid N`). A
    failed attach leaves no lease behind."""
    if not shutil.which("setpriv"):
        skip("setpriv (util-linux) is not installed")
    r = Router(extra_args=["--bridge", "fleet0", "--group", "users"])
    user = None
    try:
        r.start()
        os.chmod(r.root, 0o755)  # nobody must reach the socket in <root>/run
        user = subprocess.Popen(["setpriv", "--reuid=65534", "--regid=65534", "--groups=100", sys.executable, "-c",
                                 ATTACHER, r.socket_path], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

        def attach(prefix, count):
            user.stdin.write(f"attach {prefix} {count}\n")
            user.stdin.flush()
            return json.loads(user.stdout.readline())

        # An attach that fails after its lease (a link already has the
        # tap's name) gives the address back.
        _, taken = vm_link("leak0")
        sh("ip", "link", "add", taken, "type", "bridge")
        got = attach("leak", 1)
        check(got["done"] == 0 and taken in (got["error"] or ""), f"an attach onto a taken tap name: {got}")
        check("leak0" not in leased(r), f"a failed attach kept its lease: {leased(r)}")
        sh("ip", "link", "del", taken)
        got = attach("own", 64)
        check(got == {"done": 64, "error": None}, f"nobody's 64 attaches: {got}")
        _, tap = vm_link("own0")
        alias = sh("ip", "-d", "link", "show", tap).stdout
        check("fleet:tap:vmm:own0 by uid 65534" in alias, f"own0's tap has no owner: {alias}")
        got = attach("more", 1)
        check(got["done"] == 0 and "the most one user may" in (got["error"] or ""), f"a 65th attach: {got}")
        r.restart()
        check(tap in ports(), f"the restarted router did not adopt own0: {ports()}")
        got = attach("after", 1)
        check(got["done"] == 0 and "the most one user may" in (got["error"] or ""),
              f"a 65th attach after the restart: {got}")
        user.stdin.close()
        user.wait(20)
        user = None
        wait_until(lambda: not re.search(r"\bfl[0-9a-f]{12}\b", ports()), 10, "the taps leaving with their fds")
        r.stop()
        check_nothing_left()
    finally:
        if user is not None:
            user.kill()
            user.wait()
        r.cleanup()


def leased(r):
    """The names in the router's lease file."""
    with open(os.path.join(r.state, "leases")) as f:
        return [line.split()[-1] for line in f if line.strip() and not line.startswith("#")]


def tracked(*words):
    """The kernel's conntrack entries (this namespace's) with all these words."""
    try:
        with open("/proc/net/nf_conntrack") as f:
            return [line for line in f if all(w in line for w in words)]
    except FileNotFoundError:
        return []  # no procfs view here: the netfilter-kernel test covers it


def host_asks(ip):
    return sh("nc", "-w", "2", ip, "7000", check_rc=None).stdout


def test_router_gives_domains_the_bridge(fleet):
    """fleet-router --bridge: the bridge at start, a tap and a leased address
    per domain interface (domifaddr, domiflist), the policy of its state
    folder, the lease kept across a router restart, no tap after the end."""
    nic = "<interface type='network'><source network='fleet'/><model type='virtio'/></interface>"
    r = Router(extra_args=["--bridge", "fleet0"])
    try:
        os.makedirs(r.state, exist_ok=True)
        with open(os.path.join(r.state, "policy"), "w") as f:
            f.write("allow web -> db tcp/7000\n")
        r.start()
        uri = r.uri_unix
        xml = os.path.join(r.root, "web.xml")
        with open(xml, "w") as f:
            f.write(domain_xml("web", image="linux-sh", args=["-c", SERVER], devices=nic))
        virsh_ok(uri, "define", xml)
        virsh_ok(uri, "start", "web", timeout=90)
        addr = virsh_ok(uri, "domifaddr", "web")
        check("10.77.0.2/24" in addr and "ipv4" in addr, f"domifaddr: {addr!r}")
        ifaces = virsh_ok(uri, "domiflist", "web")
        check("network" in ifaces and "virtio" in ifaces, f"domiflist: {ifaces!r}")
        # The guest is ready before its program runs: give its server a moment.
        wait_until(lambda: "pong" in sh("nc", "-w", "1", "10.77.0.2", "7000", check_rc=None).stdout, 15,
                   "the domain's server, from the host through the bridge")
        rules = sh("nft", "list", "table", "inet", "fleet").stdout
        check("allow web -> db tcp/7000" in rules, f"the router did not load its policy:\n{rules}")
        # SIGHUP reloads it: a bad file is refused whole, a good one replaces the rules.
        policy = os.path.join(r.state, "policy")
        with open(policy, "w") as f:
            f.write("allow web -> db tcp/70000\n")
        r.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: "policy not reloaded" in r.log_text(), 10, "the router refusing a bad policy")
        check("policy:1:" in r.log_text(), f"the refusal names no file:line: {r.log_tail(3)}")
        check("allow web -> db tcp/7000" in sh("nft", "list", "table", "inet", "fleet").stdout,
              "a bad policy changed the running rules")
        # fleet-router reload: the same through a command that reports the result.
        p = reload_router(r, check_rc=1)
        check(f"{policy}:1:21:" in p.stderr and "70000" in p.stderr, f"reload of a bad policy: {p.stderr!r}")
        with open(policy, "w") as f:
            f.write("allow web -> db udp/53\n")
        p = reload_router(r)
        check("policy loaded" in p.stdout, f"reload: {p.stdout!r} {p.stderr!r}")
        check("udp/53" in sh("nft", "list", "table", "inet", "fleet").stdout, "the reloaded policy is not in nft")
        r.restart()
        uri = r.uri_unix
        check("fleet's nft tables stay: VMs use them" in r.log_text(),
              f"the stopping router did not keep the bridge for the running domain: {r.log_tail(5)}")
        check("10.77.0.2" in sh("nft", "list", "ruleset").stdout,
              "the restarted router did not put the adopted domain back in its firewall")
        virsh_ok(uri, "destroy", "web")
        left = sh("ip", "-o", "link", "show", "type", "tun").stdout
        check(left.strip() == "", f"a tap outlived its domain: {left}")
        virsh_ok(uri, "start", "web", timeout=90)
        addr = virsh_ok(uri, "domifaddr", "web")
        check("10.77.0.2/24" in addr, f"the lease changed across a router restart: {addr!r}")
        check("10.77.0.2" in sh("nft", "list", "ruleset").stdout,
              "the running domain is not in the firewall's sets")
        # QEMU killed behind the router's back: its tap and its set elements go.
        for pid in r.qemu_processes():
            os.kill(pid, signal.SIGKILL)
        wait_until(lambda: "shut off" in virsh_ok(uri, "domstate", "web"), 15, "web shut off after kill -9 of QEMU")
        left = sh("ip", "-o", "link", "show", "type", "tun").stdout
        check(left.strip() == "", f"a tap outlived its killed QEMU: {left}")
        check("10.77.0.2" not in sh("nft", "list", "ruleset").stdout,
              "a stale firewall element of the killed domain")
        # A transient domain gets a new MAC each time: still one lease per name.
        tmp_xml = os.path.join(r.root, "tmp.xml")
        with open(tmp_xml, "w") as f:
            f.write(domain_xml("tmp", image="linux-sh", args=["-c", "sleep 60"], devices=nic))
        for _ in range(2):
            virsh_ok(uri, "create", tmp_xml, timeout=90)
            virsh_ok(uri, "destroy", "tmp")
        # (The stale lease goes once its flows are forgotten: a sweep later.)
        wait_until(lambda: sorted(leased(r)) == ["tmp", "web"], 5, "one lease per name")
        # No VM left: the stopping router removes the bridge and fleet's tables.
        r.stop()
        check_nothing_left()
    finally:
        r.cleanup()


def reload_router(r, check_rc=0):
    return sh(FLEET_ROUTER, "reload", "--runtime-dir", r.runtime, check_rc=check_rc)


def check_nothing_left():
    links = sh("ip", "-o", "link", "show").stdout
    check("fleet0" not in links and " fl" not in links, f"links left after the router stopped: {links}")
    tables = sh("nft", "list", "tables").stdout
    check("fleet" not in tables, f"nft tables left after the router stopped: {tables}")


def egress_domain(name, outbound):
    """A domain in group 'egress' whose guest sends its name to the outside
    host, again and again."""
    nic = "<interface type='network'><source network='fleet'/><model type='virtio'/></interface>"
    meta = f"<fleet:net outbound='{outbound}'/><fleet:groups>egress {name}-only</fleet:groups>"
    script = f"while :; do echo {name} | nc -w 1 192.0.2.2 7001; sleep 1; done"
    return domain_xml(name, image="linux-sh", args=["-c", script], devices=nic, metadata=meta)


def test_outbound_and_groups_from_metadata(fleet):
    """<fleet:groups> and <fleet:net outbound=> of a domain: its group's set
    elements in nft, and outbound access through masquerade to an "outside"
    host (a namespace behind an uplink veth) for the VM with it on only."""
    with open("/proc/sys/net/ipv4/ip_forward", "w") as f:  # this namespace's own
        f.write("1\n")
    out = Endpoint("out", "0e:00:00:00:00:99", "192.0.2.2", bridge=None, port="uplink")
    sh("ip", "addr", "add", "192.0.2.1/24", "dev", "uplink")
    log = os.path.join(fleet.root, "outside.log")
    open(log, "w").close()
    server = out.popen(["python3", "-c", OUTSIDE_SERVER, log])
    r = Router(extra_args=["--bridge", "fleet0"])
    try:
        os.makedirs(r.state, exist_ok=True)
        with open(os.path.join(r.state, "policy"), "w") as f:
            f.write("allow group:egress -> outside tcp/7001\n")
        r.start()
        uri = r.uri_unix
        for name, outbound in (("on1", "yes"), ("off1", "no")):
            xml = os.path.join(r.root, name + ".xml")
            with open(xml, "w") as f:
                f.write(egress_domain(name, outbound))
            virsh_ok(uri, "define", xml)
            virsh_ok(uri, "start", name, timeout=90)
        on_ip, off_ip = "10.77.0.2", "10.77.0.3"
        group = sh("nft", "list", "set", "inet", "fleet", "group_egress_ipv4").stdout
        check(on_ip in group and off_ip in group, f"group:egress from the metadata is not in nft: {group}")
        outbound = sh("nft", "list", "set", "inet", "fleet", "outbound_ipv4").stdout
        check(on_ip in outbound and off_ip not in outbound, f"outbound access in nft: {outbound}")
        wait_until(lambda: "on1" in open(log).read(), 40, "the outside host hearing from on1 (outbound on)")
        time.sleep(3)  # off1 has tried a few times by now
        seen = open(log).read().split("\n")
        check(all(line.split()[0] == "192.0.2.1" for line in seen if line),
              f"the outside host saw other addresses than the uplink's (no masquerade): {seen}")
        check(not any(line.endswith(" off1") for line in seen), f"off1 reached outside with outbound off: {seen}")
        for name in ("on1", "off1"):
            virsh_ok(uri, "destroy", name)
        # Killed with -9, the router removes nothing; the next one adopts
        # the bridge and the tables, and its own stop removes them.
        r.restart(signal.SIGKILL)
        check("fleet0" in sh("ip", "-o", "link", "show").stdout, "the bridge went with a router killed -9")
        r.stop()
        check_nothing_left()
    finally:
        r.cleanup()
        server.kill()
        out.close()


OUTSIDE_SERVER = r"""
import socket, sys
log = open(sys.argv[1], "a", buffering=1)
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 7001)); s.listen(16)
while True:
    c, addr = s.accept(); c.settimeout(2)
    try:
        data = c.recv(64).decode(errors="replace").strip()
    except OSError:
        data = ""
    log.write(f"{addr[0]} {data}\n"); c.close()
"""


test_policy_between_two_guests.timeout = 120
test_router_gives_domains_the_bridge.timeout = 150
test_outbound_and_groups_from_metadata.timeout = 150
test_vmm_vms_join_the_routers_firewall.timeout = 200
test_vmm_vms_count_for_their_owner_after_a_router_restart.timeout = 120

if __name__ == "__main__":
    enter_own_netns()
    main([test_policy_between_two_guests, test_router_gives_domains_the_bridge, test_outbound_and_groups_from_metadata,
          test_vmm_vms_join_the_routers_firewall, test_vmm_vms_count_for_their_owner_after_a_router_restart,
          test_net_flags_are_checked],
         lambda t: Fleet("net"))
