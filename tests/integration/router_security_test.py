#!/usr/bin/python3
"""Who may do what with fleet-router (docs/SECURITY.md), seen by the real
virsh and python3-libvirt, some of them run as an unprivileged local user
(nobody, through setpriv): the kernel's SO_PEERCRED says who they are.

- a user outside the fleet group cannot connect to the read-write socket;
- the read-only socket serves reads to anyone and refuses a read-write open
  with VIR_ERR_OPERATION_DENIED (29);
- a member of the router's group may connect read-write and owns what it
  defines; it may not change root's domains (29), root may change its;
- TLS: the test client certificate gets in; another CA's certificate, or no
  certificate, does not; a client that does not trust the server's CA
  refuses it;
- plain TCP and TLS are off unless asked for;
- router.lock planted as a symbolic link is refused, its target untouched;
  so is a runtime folder another user created first;
- limits: connections per uid, a half-sent packet dropped after the
  partial-packet timeout, while root still gets an answer at once;
- 1000 idle clients with stalled half-packets leave root answered within
  1 s and the RSS bounded;
- a guest printing at full speed keeps its console logs under the cap;
- six pipelined domain_suspend calls (QEMU's monitor serves one client
  and has a tiny backlog) neither stall other clients nor stop SIGTERM;
- virsh over qemu+ssh:// (a private sshd on a loopback port, a throwaway
  key) lists, defines and starts domains through the unix socket;
- QEMU runs as the fleet-qemu user with no capabilities, no_new_privs and
  its seccomp sandbox, in a mount namespace of its own that shows no /root,
  /home, /tmp or /run, and is still managed (a Linux image with its initrd,
  suspend and resume through the monitor socket handed to it);
- a guest writing to a read-write share makes no setuid file and no device
  node on the host (its modes live in xattrs), and cannot read a root-only
  file there.
"""
import json
import os
import pwd
import shutil
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import time

sys.path.append(os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "lib"))  # run by hand: HACKING.md
from fleet_test import paths, rawwire  # noqa: E402
from fleet_test import router as routers  # noqa: E402
from fleet_test.check import Failure, check, check_memory, skip, wait_until  # noqa: E402
from fleet_test.libvirt_client import need_libvirt_python  # noqa: E402
from fleet_test.router import PKI, domain_xml, need_router  # noqa: E402
from fleet_test.runner import main  # noqa: E402
from fleet_test.virsh import need_virsh, virsh, virsh_ok  # noqa: E402

libvirt = need_libvirt_python()

NOBODY = 65534
USERS_GID = 100  # Debian's "users": the group the tests give the router as its fleet group
OPERATION_DENIED = 29

# Runs as the unprivileged user: argv[1] is the URI, argv[2] what to do;
# prints {"ok": ..., "code": libvirt's error code, "msg": ...}.
AS_USER = r"""
import json, sys, libvirt
libvirt.registerErrorHandler(lambda *a: None, None)
uri, what = sys.argv[1], sys.argv[2]
arg = sys.argv[3] if len(sys.argv) > 3 else ""
try:
    if what == "open":
        c = libvirt.open(uri)
        c.listAllDomains(0)
    elif what == "open_ro":
        c = libvirt.openReadOnly(uri)
        out = sorted(d.name() for d in c.listAllDomains(0))
        print(json.dumps({"ok": True, "names": out}))
        sys.exit(0)
    elif what == "define":
        libvirt.open(uri).defineXML(arg)
    elif what == "undefine":
        libvirt.open(uri).lookupByName(arg).undefine()
    elif what == "start":
        libvirt.open(uri).lookupByName(arg).create()
    elif what == "autostart":
        libvirt.open(uri).lookupByName(arg).setAutostart(1)
    print(json.dumps({"ok": True}))
except libvirt.libvirtError as e:
    print(json.dumps({"ok": False, "code": e.get_error_code(), "msg": e.get_error_message() or ""}))
"""


def need_setpriv():
    if os.geteuid() != 0:
        skip("needs root: the test runs clients as another user through setpriv")
    if not shutil.which("setpriv"):
        skip("setpriv (util-linux) is not installed")


def as_user(router, what, arg="", uri=None, groups=()):
    """AS_USER as nobody (with these supplementary groups); its JSON."""
    home = router.folder.path("home")
    os.makedirs(home, exist_ok=True)
    os.chmod(home, 0o777)
    os.chmod(router.root, 0o755)  # nobody must reach the sockets in <root>/run
    cmd = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}"]
    cmd += [f"--groups={','.join(map(str, groups))}"] if groups else ["--clear-groups"]
    cmd += ["/usr/bin/python3", "-c", AS_USER, uri or router.uri_unix, what, arg]
    env = router.folder.env({"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home,
                             "XDG_CACHE_HOME": home, "XDG_CONFIG_HOME": home, "XDG_RUNTIME_DIR": home})
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env)
    try:
        return json.loads(p.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise Failure(f"the client as nobody said {p.stdout!r} {p.stderr!r} (exit {p.returncode})") from None


def denied(r, what):
    check(not r["ok"], f"{what}: allowed, wanted a refusal")
    check(r["code"] == OPERATION_DENIED, f"{what}: error {r['code']} {r['msg']!r}, wanted {OPERATION_DENIED}")


def test_unprivileged_local_user(router):
    """nobody, outside the fleet group: no read-write access at all; the
    read-only socket reads, and refuses every write with 29."""
    router_conn = libvirt.open(router.uri_unix)
    router_conn.defineXML(domain_xml("root-dom"))
    r = as_user(router, "open")
    check(not r["ok"], f"nobody opened the read-write socket: {r}")
    # Even if the socket's mode let it through (a mistaken chmod, an
    # inherited fd), the router asks the kernel who connected.
    os.chmod(router.socket_path, 0o666)
    r = as_user(router, "open")
    check(not r["ok"], f"nobody opened a read-write socket of mode 0666: {r}")
    wait_until(lambda: "refusing uid 65534" in router.log_text(), 5, "the router's line refusing uid 65534")
    r = as_user(router, "open_ro", uri=router.uri_ro)
    check(r["ok"] and r["names"] == ["root-dom"], f"nobody on the read-only socket: {r}")
    denied(as_user(router, "open", uri=router.uri_ro), "a read-write open of the read-only socket")
    # A raw call, as a client that skips libvirt's own read-only checks.
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect(router.socket_ro_path)
        rawwire.connect_open(s, read_only=True)
        h, payload = rawwire.call(s, 11, 1, rawwire.xdr_string(domain_xml("sneaky")))  # DOMAIN_DEFINE_XML
        check(h[5] == 1 and struct.unpack(">i", payload[:4])[0] == OPERATION_DENIED,
              f"a raw define on the read-only socket: status {h[5]}, {payload[:40]!r}")
    check([d.name() for d in router_conn.listAllDomains(0)] == ["root-dom"], "a read-only client defined a domain")
    router_conn.close()


def test_group_member_owns_its_domains(router):
    """A member of the router's group (here: users) connects read-write;
    what it defines is its own; root's domains are not."""
    root = libvirt.open(router.uri_unix)
    root.defineXML(domain_xml("root-dom"))
    g = (USERS_GID,)
    r = as_user(router, "define", domain_xml("user-dom"), groups=g)
    check(r["ok"], f"a fleet-group member could not define: {r}")
    denied(as_user(router, "undefine", "root-dom", groups=g), "a member undefining root's domain")
    denied(as_user(router, "autostart", "root-dom", groups=g), "a member changing root's domain's autostart")
    check("root-dom" in [d.name() for d in root.listAllDomains(0)], "root's domain is gone")
    owner = os.path.join(router.state, "domains", "user-dom.owner")
    with open(owner) as f:
        check(f.read().strip() == f"uid {NOBODY}", f"{owner} does not say uid {NOBODY}")
    r = as_user(router, "undefine", "user-dom", groups=g)
    check(r["ok"], f"the owner could not undefine its own domain: {r}")
    # Root (an administrator) may change anyone's.
    check(as_user(router, "define", domain_xml("user-dom2"), groups=g)["ok"], "second define")
    root.lookupByName("user-dom2").undefine()
    root.close()


test_group_member_owns_its_domains.router_kwargs = {"extra_args": ["--group", "users"]}


def test_client_paths_reveal_nothing(router):
    """A kernel path that does not exist and a root-only file that is not a
    kernel give a member the same answer: the router (root) must not tell
    whether a root-only file exists or what it holds. Root gets the detail."""
    g = (USERS_GID,)
    answers = []
    for name, kernel in (("k-missing", "/root/.fleet-no-such-kernel"), ("k-shadow", "/etc/shadow")):
        check(as_user(router, "define", domain_xml(name, image=None, kernel=kernel), groups=g)["ok"], f"define {name}")
        r = as_user(router, "start", name, groups=g)
        check(not r["ok"], f"{name} started: {r}")
        answers.append(r["msg"].replace(kernel, "PATH"))
    check(answers[0] == answers[1], f"different answers for a missing and a root-only file: {answers}")
    for a in answers:
        for leak in ("No such file", "not found", "shadow", "root:", "ELF", "Permission"):
            check(leak not in a, f"the answer {a!r} says {leak!r}")
    root = libvirt.open(router.uri_unix)
    try:
        root.lookupByName("k-missing").create()
        raise Failure("root started k-missing")
    except libvirt.libvirtError as e:
        check("not found" in (e.get_error_message() or ""), f"root's answer lacks the detail: {e}")
    root.close()


test_client_paths_reveal_nothing.router_kwargs = {"extra_args": ["--group", "users"]}


def readonly_disk(path):
    return (f"<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='{path}'/>"
            f"<target dev='vda' bus='virtio'/><readonly/></disk>")


def test_host_paths_need_the_owners_rights(router):
    """A member's domain may name only host files the member could open
    itself (QEMU's files are opened by root): a root-only file as a disk is
    refused at start with the same answer as a missing one, even when root
    starts it; a file the member can read is used."""
    g = (USERS_GID,)
    answers = []
    for name, path in (("d-shadow", "/etc/shadow"), ("d-missing", "/root/.fleet-no-such-disk")):
        check(as_user(router, "define", domain_xml(name, devices=readonly_disk(path)), groups=g)["ok"], f"define {name}")
        r = as_user(router, "start", name, groups=g)
        check(not r["ok"] and "cannot be used" in r["msg"], f"{name} as the member: {r}")
        answers.append(r["msg"].replace(path, "PATH"))
    check(answers[0] == answers[1], f"different answers for a root-only and a missing file: {answers}")
    root = libvirt.open(router.uri_unix)
    try:
        root.lookupByName("d-shadow").create()
        raise Failure("root started the member's domain with /etc/shadow as its disk")
    except libvirt.libvirtError as e:
        check("may not open it" in (e.get_error_message() or ""), f"root's answer lacks the detail: {e}")
    root.close()
    d = tempfile.mkdtemp(prefix="fleet-disk-")
    try:
        os.chmod(d, 0o755)
        mine = os.path.join(d, "mine.raw")
        with open(mine, "wb") as f:
            f.truncate(1 << 20)
        os.chmod(mine, 0o644)
        check(as_user(router, "define", domain_xml("d-mine", args=("hold",), devices=readonly_disk(mine)), groups=g)["ok"],
              "define d-mine")
        r = as_user(router, "start", "d-mine", groups=g)
        check(r["ok"], f"a disk the member can read was refused: {r}")
        root = libvirt.open(router.uri_unix)
        root.lookupByName("d-mine").destroy()
        root.close()
    finally:
        shutil.rmtree(d, ignore_errors=True)


test_host_paths_need_the_owners_rights.router_kwargs = {"extra_args": ["--group", "users"]}


def test_domains_per_owner(router):
    """--user-max-domains counts per owner: a member's third definition is
    refused; root (an administrator) is not held to it."""
    g = (USERS_GID,)
    for i in range(2):
        r = as_user(router, "define", domain_xml(f"q{i}"), groups=g)
        check(r["ok"], f"definition {i} of 2 refused: {r}")
    r = as_user(router, "define", domain_xml("q2"), groups=g)
    check(not r["ok"] and "user-max-domains" in r["msg"], f"a third definition over a quota of 2: {r}")
    root = libvirt.open(router.uri_unix)
    for i in range(3):
        root.defineXML(domain_xml(f"root{i}"))
    check(len(root.listAllDomains(0)) == 5, "root's definitions were limited by the per-user quota")
    root.close()


test_domains_per_owner.router_kwargs = {"extra_args": ["--group", "users", "--user-max-domains", "2"]}


def pki_dir(router, name, ca, cert, key):
    d = router.folder.path(name)
    os.makedirs(d, exist_ok=True)
    for src, dst in ((ca, "cacert.pem"), (cert, "clientcert.pem"), (key, "clientkey.pem")):
        if src:
            shutil.copy(os.path.join(PKI, src), os.path.join(d, dst))
    return d


def test_tls(router):
    """The real virsh over qemu+tls:// with the test client certificate
    reads and writes; other certificates, or none, are refused."""
    uri = router.uri_tls
    p = virsh(uri, "define", "/dev/stdin", input=domain_xml("tls-dom"))
    check(p.returncode == 0, f"virsh define over TLS: {p.stderr!r}")
    p = virsh(uri, "list", "--all", "--name")
    check(p.returncode == 0 and "tls-dom" in p.stdout, f"virsh list over TLS: {p.stdout!r} {p.stderr!r}")
    port = router.info["tls_port"]
    cases = {
        "another CA's client certificate": pki_dir(router, "pki-other", "cacert.pem", "other-clientcert.pem",
                                                   "other-clientkey.pem"),
        "a client that trusts another CA": pki_dir(router, "pki-distrust", "other-cacert.pem", "clientcert.pem",
                                                   "clientkey.pem"),
    }
    for what, d in cases.items():
        p = virsh(f"qemu+tls://127.0.0.1:{port}/system?pkipath={d}", "list", "--all", "--name")
        check(p.returncode != 0 and "tls-dom" not in p.stdout, f"{what}: virsh got in: {p.stdout!r}")
    # No certificate at all: a raw TLS client, as virsh will not even try.
    import ssl
    ctx = ssl.create_default_context(cafile=os.path.join(PKI, "cacert.pem"))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        try:
            with ctx.wrap_socket(raw, server_hostname="localhost") as t:
                got = t.recv(1)
                check(got != b"\1", "a client without a certificate was accepted")
        except (ssl.SSLError, ConnectionResetError, OSError):
            pass
    check(wait_until(lambda: "refusing a TLS client" in router.log_text(), 5, "a line refusing a TLS client"), "")


def test_network_off_by_default(router):
    """Without --listen-tcp and --listen-tls nothing listens on the network."""
    router.listen, router.tls = None, None
    router.start()
    check("tcp_port" not in router.info and "tls_port" not in router.info, f"router.json: {router.info}")
    check("listening on tcp" not in router.log_text() and "listening on tls" not in router.log_text(),
          "the router listens on the network by default")
    p = virsh(router.uri_unix, "hostname")
    check(p.returncode == 0, f"the unix socket does not answer: {p.stderr!r}")


test_network_off_by_default.manual_start = True


def test_lock_symlink_refused(router):
    """router.lock planted as a symbolic link to a victim's file: the router
    refuses to start and the file keeps its contents."""
    victim = router.folder.path("victim")
    with open(victim, "w") as f:
        f.write("precious\n")
    os.makedirs(router.runtime, exist_ok=True)
    os.symlink(victim, os.path.join(router.runtime, "router.lock"))
    p = router.spawn()
    rc = p.wait(timeout=15)
    check(rc != 0, "the router started on a planted router.lock")
    with open(victim) as f:
        check(f.read() == "precious\n", "the router truncated the victim's file through router.lock")
    check("router.lock" in router.log_text(), f"no word about router.lock: {router.log_tail()}")


test_lock_symlink_refused.manual_start = True


def test_runtime_dir_of_another_user_refused(router):
    """A runtime folder someone else created first (the predictable
    /tmp/fleet-UID fallback, squatted): the router refuses it instead of
    putting its sockets and lock where that user controls them."""
    os.makedirs(router.runtime)
    os.chown(router.runtime, NOBODY, NOBODY)
    p = router.spawn()
    rc = p.wait(timeout=15)
    check(rc != 0, "the router started in a runtime folder owned by nobody")
    check("unsafe folder" in router.log_text(), f"no word about the folder: {router.log_tail()}")
    check(not os.path.exists(os.path.join(router.runtime, "libvirt-sock")), "a socket was made in nobody's folder")


test_runtime_dir_of_another_user_refused.manual_start = True


def answered_fast(router, budget=1.0):
    t0 = time.monotonic()
    p = virsh(router.uri_unix, "hostname", timeout=10)
    dt = time.monotonic() - t0
    check(p.returncode == 0, f"root's virsh failed: {p.stderr!r}")
    return dt


def test_limits(router):
    """Connections per uid are capped (root is not); a half-sent packet is
    dropped after the partial-packet timeout; root is answered meanwhile."""
    # nobody opens 5 connections to the read-only socket: 3 stay, 2 are closed.
    os.chmod(router.root, 0o755)
    script = ("import socket,sys,time\n"
              "ss=[]\n"
              "for i in range(5):\n"
              "  s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); ss.append(s)\n"
              "time.sleep(1)\n"
              "n=0\n"
              "for s in ss:\n"
              "  s.settimeout(0.5)\n"
              "  try:\n"
              "    n+= s.recv(1)==b''\n"
              "  except socket.timeout: pass\n"
              "print(n)\n")
    p = subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                        "/usr/bin/python3", "-c", script, router.socket_ro_path],
                       capture_output=True, text=True, timeout=30, env=router.folder.env())
    check(p.stdout.strip() == "2", f"nobody's 5 connections with a limit of 3: {p.stdout!r} closed {p.stderr!r}")
    # Root holds 6 open connections, past the per-user limit: root is not limited.
    held = []
    for _ in range(6):
        s = socket.socket(socket.AF_UNIX)
        s.connect(router.socket_path)
        held.append(s)
    # A stalled half-packet: dropped after 2 s, not held forever.
    stall = socket.socket(socket.AF_UNIX)
    stall.connect(router.socket_path)
    stall.sendall(struct.pack(">I", 4 << 20) + b"x" * 100)
    dt = answered_fast(router)
    check(dt < 1.0, f"root waited {dt:.2f}s for an answer")
    stall.settimeout(8)
    t0 = time.monotonic()
    try:
        got = stall.recv(1)
    except socket.timeout:
        got = None
    check(got == b"", f"a half-sent packet still held after {time.monotonic() - t0:.1f}s")
    check("not finished within 2 s" in router.log_text(), f"no line about the timeout: {router.log_tail()}")
    for s in held + [stall]:
        s.close()


test_limits.router_kwargs = {"extra_args": ["--max-clients-per-user", "3", "--partial-packet-timeout", "2"]}


def test_thousand_idle_clients(router):
    """1000 idle clients, 100 of them holding a stalled 1 MiB packet with
    256 KiB sent: a new root client is answered within 1 s and the router's RSS
    grows by less than 150 MiB."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1200:
        skip(f"RLIMIT_NOFILE hard limit {hard}: the test needs 1200 descriptors")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1200), hard))
    rss0 = router.rss_kib()
    held = []
    try:
        for i in range(1000):
            s = socket.socket(socket.AF_UNIX)
            s.connect(router.socket_path)
            if i % 10 == 0:
                s.settimeout(10)
                s.sendall(struct.pack(">I", 1 << 20) + b"x" * (256 << 10))
            held.append(s)
        time.sleep(1)
        dt = answered_fast(router)
        check(dt < 1.0, f"root waited {dt:.2f}s with 1000 idle clients")
        grown = (router.rss_kib() - rss0) // 1024
        check_memory(grown < 150, f"the router's RSS grew by {grown} MiB for 1000 idle clients")
        print(f"  1000 idle clients: answered in {dt:.2f}s, RSS +{grown} MiB")
    finally:
        for s in held:
            s.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_guest_log_bounded(router):
    """A guest printing at full speed: its console.log rotates at
    --console-log-max-size and keeps --console-log-backups old ones, so the
    folder stays bounded (it grew at tens of MB/s without limit)."""
    conn = libvirt.open(router.uri_unix)
    loop = "while :; do echo 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef; done"
    dom = conn.createXML(domain_xml("chatty", image="linux-sh", args=["-c", loop]), 0)
    folder = os.path.join(router.vms_dir(), "chatty")
    wait_until(lambda: os.path.exists(os.path.join(folder, "console.log.2")), 60,
               "console.log to rotate twice")
    time.sleep(2)
    logs = sorted(f for f in os.listdir(folder) if f.startswith("console.log"))
    check(logs == ["console.log", "console.log.1", "console.log.2"], f"log files: {logs}")
    for f in logs:
        size = os.path.getsize(os.path.join(folder, f))
        check(size <= 64 * 1024, f"{f} is {size} bytes, over the 64 KiB cap")
    dom.destroy()
    conn.close()


test_guest_log_bounded.router_kwargs = {"extra_args": ["--console-log-max-size", "64K", "--console-log-backups", "2"]}


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_out_of_fds(router):
    """At EMFILE the router used to retry accept at once, at 100% CPU, and
    log hundreds of MB. With 64 file descriptors and 100 clients it now
    idles, says so once, and serves again as soon as fds are free."""
    router.start()
    held = []
    for _ in range(100):
        s = socket.socket(socket.AF_UNIX)
        s.connect(router.socket_path)  # the backlog takes what accept cannot
        held.append(s)
    wait_until(lambda: "retrying with a backoff" in router.log_text(), 10, "the router's line about EMFILE")
    before = cpu_seconds(router.pid)
    time.sleep(3)
    used = cpu_seconds(router.pid) - before
    check(used < 0.5, f"the router used {used:.2f} s of CPU in 3 s while out of fds")
    size = os.path.getsize(router.log_path)
    check(size < 64 * 1024, f"the router log grew to {size} bytes")
    for s in held:
        s.close()
    dt = answered_fast(router)
    check(dt < 5.0, f"root waited {dt:.2f}s once fds were free again")


test_out_of_fds.manual_start = True
test_out_of_fds.router_kwargs = {
    "popen": lambda argv, env, **kw: subprocess.Popen(["prlimit", "--nofile=64:64", "--", *argv],
                                                      env={**os.environ, **env}, **kw)}


def test_event_registration_flood(router):
    """Event registrations per connection are capped (--max-client-callbacks):
    a flood is refused past the cap instead of growing without bound, and
    the connection keeps working."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(20)
        s.connect(router.socket_path)
        h, _ = rawwire.connect_open(s)
        check(h[5] == 0, "CONNECT_OPEN failed")
        refused = 0
        for serial in range(1, 41):  # CALLBACK_REGISTER_ANY: lifecycle, any domain
            h, payload = rawwire.call(s, 316, serial, struct.pack(">iI", 0, 0))
            refused += h[5] == 1
        check(refused == 40 - 32, f"{refused} of 40 registrations refused with a cap of 32")
        h, _ = rawwire.call(s, 59, 99, b"")  # CONNECT_GET_HOSTNAME still answers
        check(h[5] == 0, "the connection stopped working after the flood")


test_event_registration_flood.router_kwargs = {"extra_args": ["--max-client-callbacks", "32"]}


def test_pipelined_suspends(router):
    """Six domain_suspend calls sent at once on one connection: the router
    used to connect() to the domain's monitor synchronously on its loop and
    hung for good once QEMU's backlog was full. Now other clients are
    answered meanwhile, every call is answered, and SIGTERM still works."""
    conn = libvirt.open(router.uri_unix)
    dom = conn.createXML(domain_xml("pipe", args=["hold"]), 0)
    uuid, dom_id = dom.UUID(), dom.ID()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(20)
        s.connect(router.socket_path)
        h, _ = rawwire.connect_open(s)
        check(h[5] == 0, "CONNECT_OPEN failed")
        args = rawwire.xdr_string(b"pipe") + uuid + struct.pack(">i", dom_id)
        data = b""
        for serial in range(1, 7):  # DOMAIN_SUSPEND = 34
            body = struct.pack(">IIiiIi", 0x20008086, 1, 34, 0, serial, 0) + args
            data += struct.pack(">I", len(body) + 4) + body
        s.sendall(data)
        dt = answered_fast(router)
        check(dt < 1.0, f"another client waited {dt:.2f}s while six suspends were pending")
        statuses = []
        for _ in range(6):
            n = struct.unpack(">I", rawwire.read_exact(s, 4))[0]
            h = struct.unpack(">IIiiIi", rawwire.read_exact(s, n - 4)[:24])
            statuses.append(h[5])
        check(0 in statuses, f"no suspend succeeded: statuses {statuses}")
    check(dom.state()[0] == libvirt.VIR_DOMAIN_PAUSED, f"pipe is in state {dom.state()} after the suspends")
    dt = answered_fast(router)
    check(dt < 1.0, f"root waited {dt:.2f}s after the suspends")
    conn.close()
    router.stop(timeout=10)  # raises when SIGTERM is not obeyed


SSHD_CONFIG = """Port {port}
ListenAddress 127.0.0.1
HostKey {d}/host_key
AuthorizedKeysFile {d}/authorized_keys
PidFile {d}/sshd.pid
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_sshd(d, port):
    """A private sshd on 127.0.0.1:port that lets in the key d/client_key."""
    for key in ("host_key", "client_key"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", os.path.join(d, key)], check=True)
    shutil.copy(os.path.join(d, "client_key.pub"), os.path.join(d, "authorized_keys"))
    with open(os.path.join(d, "sshd_config"), "w") as f:
        f.write(SSHD_CONFIG.format(port=port, d=d))
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # sshd's privilege separation folder
    sshd_bin = shutil.which("sshd") or "/usr/sbin/sshd"
    sshd = subprocess.Popen([sshd_bin, "-D", "-e", "-f", os.path.join(d, "sshd_config")],
                            stderr=open(os.path.join(d, "sshd.log"), "w"))
    wait_until(lambda: sshd.poll() is not None or socket.socket().connect_ex(("127.0.0.1", port)) == 0, 10,
               "sshd to listen")
    if sshd.poll() is not None:
        raise Failure("sshd did not start: " + open(os.path.join(d, "sshd.log")).read()[-500:])
    return sshd


def test_ssh(router):
    """virsh unchanged over qemu+ssh://: libvirt's client runs nc -U on the
    router's host as the ssh user (root here) and talks to the read-write
    socket; the router sees root by SO_PEERCRED."""
    if not (shutil.which("sshd") or os.path.exists("/usr/sbin/sshd")) or not shutil.which("nc"):
        skip("needs openssh-server and netcat-openbsd (tools/setup deps)")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="fleet-ssh-") as d:
        sshd = start_sshd(d, port)
        try:
            uri = (f"qemu+ssh://root@127.0.0.1:{port}/system?socket={router.socket_path}"
                   f"&keyfile={d}/client_key&no_verify=1&no_tty=1")
            xml = os.path.join(d, "viassh.xml")
            with open(xml, "w") as f:
                f.write(domain_xml("viassh", args=["hold"]))
            virsh_ok(uri, "define", xml)
            check("viassh" in virsh_ok(uri, "list", "--all", "--name").split(), "viassh not listed over ssh")
            virsh_ok(uri, "start", "viassh")
            check(virsh_ok(uri, "domstate", "viassh").strip() == "running", "viassh is not running after start")
            virsh_ok(uri, "destroy", "viassh")
            virsh_ok(uri, "undefine", "viassh")
        finally:
            sshd.terminate()
            sshd.wait(timeout=10)
            subprocess.run(["ssh-keygen", "-R", f"[127.0.0.1]:{port}"], capture_output=True)


def qemu_pids(name):
    """The QEMU processes running the guest called name."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv[0].endswith(b"qemu-system-x86_64") and f"guest={name}".encode() in argv:
            found.append(int(entry))
    return found


def proc_status(pid):
    with open(f"/proc/{pid}/status") as f:
        return dict((k, v.strip()) for k, _, v in (line.partition(":") for line in f))


def test_qemu_confined(router):
    """Under a root router QEMU runs as fleet-qemu: every uid and gid that
    user's, no capability in any set, no_new_privs, seccomp filtering (the
    -sandbox), its own mount namespace (a tmpfs root with /usr, /proc, a
    few device nodes; no /root, /home, /tmp, /run). It boots from the kernel and initrd handed to it and still
    answers suspend and resume on the monitor socket the launcher bound."""
    try:
        user = pwd.getpwnam("fleet-qemu")
    except KeyError:
        raise Failure("no fleet-qemu user: run tools/setup deps (docs/SECURITY.md)")
    conn = libvirt.open(router.uri_unix)
    name = f"confined-{os.getpid()}"
    dom = conn.createXML(domain_xml(name, image="linux-sh", args=["-c", "echo ready; sleep 600"]), 0)
    pids = wait_until(lambda: qemu_pids(name), 30, f"the QEMU of {name}")
    check(len(pids) == 1, f"{len(pids)} QEMU processes for {name}")
    st = proc_status(pids[0])
    want = {"Uid": f"{user.pw_uid}\t" * 3 + str(user.pw_uid), "Gid": f"{user.pw_gid}\t" * 3 + str(user.pw_gid),
            "CapInh": "0" * 16, "CapPrm": "0" * 16, "CapEff": "0" * 16, "CapBnd": "0" * 16, "CapAmb": "0" * 16,
            "NoNewPrivs": "1", "Seccomp": "2"}
    for key, value in want.items():
        check(st.get(key) == value, f"QEMU's {key} is {st.get(key)!r}, not {value!r}")
    # A mount namespace of its own: the system's files, not the users'.
    check(os.readlink(f"/proc/{pids[0]}/ns/mnt") != os.readlink("/proc/self/ns/mnt"),
          "QEMU shares the host's mount namespace")
    seen = f"/proc/{pids[0]}/root"
    for hidden in ("root", "home", "tmp", "run", "var", "srv", router.root.strip("/")):
        check(not os.path.lexists(os.path.join(seen, hidden)), f"QEMU sees the host's /{hidden}")
    for shown in ("usr/share/qemu", "dev/null", "dev/urandom", "proc/self"):
        check(os.path.exists(os.path.join(seen, shown)), f"QEMU does not see /{shown}")
    with open(f"/proc/{pids[0]}/mountinfo") as f:
        roots = [line for line in f if line.split()[4] == "/"]
    check(len(roots) == 1 and " - tmpfs fleet-root " in roots[0], f"QEMU's root is not a tmpfs of its own: {roots}")
    with open("/proc/self/mountinfo") as f:
        check("fleet-root" not in f.read(), "QEMU's root tmpfs leaked into the host's mounts")
    folder = os.path.join(router.vms_dir(), name)
    wait_until(lambda: b"ready" in open(os.path.join(folder, "console.log"), "rb").read(), 90,
               "the Linux guest to print ready")
    dom.suspend()
    check(dom.state()[0] == libvirt.VIR_DOMAIN_PAUSED, f"{name} is in state {dom.state()} after suspend")
    dom.resume()
    check(dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING, f"{name} is in state {dom.state()} after resume")
    dom.destroy()
    conn.close()


def test_share_keeps_guest_modes_off_the_host(router):
    """fleet-vmm as root: a read-write share served by the confined QEMU
    (mapped-xattr). The guest sees its setuid bit and its device node; the
    host has plain 0644 files of fleet-qemu. A root-only file in the share
    stays unreadable to the guest."""
    user = pwd.getpwnam("fleet-qemu")
    share = tempfile.mkdtemp(prefix="fleet-share-", dir="/dev/shm")
    runtime = tempfile.mkdtemp(prefix="fleet-share-rt-", dir="/dev/shm")
    try:
        os.chown(share, user.pw_uid, user.pw_gid)
        with open(os.path.join(share, "secret"), "w") as f:
            f.write("root only\n")
        os.chmod(os.path.join(share, "secret"), 0o600)
        script = ("echo new > /mnt/s/g; chmod 4755 /mnt/s/g; mknod /mnt/s/dev c 1 3; ls -l /mnt/s; "
                  "cat /mnt/s/secret || echo secret-refused")
        p = subprocess.run([paths.VMM, "run", "--share", f"{share}:/mnt/s:rw", "linux-sh", "-c", script],
                           capture_output=True, text=True, timeout=240,
                           env=dict(os.environ, FLEET_RUNTIME_DIR=runtime))
        check(p.returncode == 0, f"fleet-vmm run: {p.returncode} {p.stderr[-400:]}")
        check("-rwsr-xr-x" in p.stdout and "crw-r--r--" in p.stdout, f"the guest's view: {p.stdout!r}")
        check("secret-refused" in p.stdout and "root only" not in p.stdout,
              f"the guest read a root-only file: {p.stdout!r}")
        g, dev = os.stat(os.path.join(share, "g")), os.stat(os.path.join(share, "dev"))
        for name, st in (("g", g), ("dev", dev)):
            check(stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o644,
                  f"{name} on the host: {oct(st.st_mode)}")
            check(st.st_uid == user.pw_uid, f"{name} on the host belongs to uid {st.st_uid}")
    finally:
        shutil.rmtree(share, ignore_errors=True)
        shutil.rmtree(runtime, ignore_errors=True)


if __name__ == "__main__":
    need_router()
    need_virsh()
    need_setpriv()
    tests = [test_unprivileged_local_user, test_group_member_owns_its_domains, test_client_paths_reveal_nothing,
             test_host_paths_need_the_owners_rights,
             test_domains_per_owner, test_tls, test_network_off_by_default, test_lock_symlink_refused,
             test_runtime_dir_of_another_user_refused, test_limits, test_pipelined_suspends, test_out_of_fds,
             test_event_registration_flood, test_thousand_idle_clients, test_guest_log_bounded, test_ssh,
             test_qemu_confined, test_share_keeps_guest_modes_off_the_host]
    main(tests, routers.fixture(), timeout=routers.TEST_TIMEOUT)
