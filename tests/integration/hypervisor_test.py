#!/usr/bin/python3
"""VMs that start VMs: a guest's scoped hypervisor channel (docs/hypervisor.md).

A real fleet-router, a real Linux guest (linux-sh) given
<fleet:hypervisor>: its script finds the org.fleet.hypervisor port,
writes the libvirt packets the test prepared in a shared folder into it,
and copies everything the router answers back into the folder, where the
test decodes it. So every byte crosses the real channel: virtio-serial,
QEMU's socket chardev, the router's end of the socket pair.

  isolation   the guest sees none of the host's domains nor itself; every
              procedure outside its scope, host paths, a non-catalog image
              and each quota are refused with OPERATION_DENIED (29); a
              child it creates is named under it and is the only one it lists
  lifetime    the parent's QEMU killed -9 or destroyed: its child ends; a router killed
              -9 and restarted: the next one ends the child of the parent
              it adopted (no channel survives a restart)
  load        20 children started and destroyed in a loop through the
              channel while the host's virsh is answered
  spawn       the runtime's spawn program starts a child through its channel
  clients     fsh (linux-fsh), libvirt's virsh (linux-virsh) and
              python-libvirt (linux-python) inside a Linux guest, on the
              socket its init serves
"""
import hashlib
import os
import re
import signal
import struct
import subprocess
import sys
import time

sys.path.append(os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "lib"))  # run by hand: HACKING.md
from fleet_test import paths, procs  # noqa: E402
from fleet_test.rawwire import xdr_string  # noqa: E402
from fleet_test import router as routers  # noqa: E402
from fleet_test.check import check, sanitized, skip_test, wait_until  # noqa: E402
from fleet_test.router import domain_xml, need_router  # noqa: E402
from fleet_test.runner import main  # noqa: E402
from fleet_test.virsh import need_virsh, virsh, virsh_ok  # noqa: E402

REMOTE = 0x20008086
CALL, REPLY = 0, 1
OK, ERROR = 0, 1
OPEN, NODE_GET_INFO, CREATE_XML, DEFINE_XML, DESTROY = 1, 6, 10, 11, 12
LOOKUP_BY_NAME, LIST_ALL = 23, 273
DENIED, NO_DOMAIN = 29, 42
BOOT = 120  # seconds: a Linux guest, then a child, under TCG on a loaded machine

# The guest: the channel's device from sysfs; a reader copying every reply
# into the share; request files sent in order as the test writes them.
SCRIPT = r"""
n=$(grep -lx org.fleet.hypervisor /sys/class/virtio-ports/*/name) || { echo no channel > /mnt/x/error; exit 1; }
d=/dev/$(basename $(dirname $n))
exec 3<>$d
cat <&3 > /mnt/x/reply &
echo "$d" > /mnt/x/ready
i=1
while :; do
  while [ ! -e /mnt/x/go$i ]; do sleep 0.05; done
  cat /mnt/x/req$i >&3
  i=$((i+1))
done
"""


def packet(proc, serial, payload=b""):
    body = struct.pack(">IIiIII", REMOTE, 1, proc, CALL, serial, OK) + payload
    return struct.pack(">I", len(body) + 4) + body


def nonnull_domain(name, uuid_hex):
    return xdr_string(name) + bytes.fromhex(uuid_hex.replace("-", "")) + struct.pack(">i", -1)


def packets(data):
    """Every whole packet in data: (proc, type, serial, status, payload)."""
    out, i = [], 0
    while i + 4 <= len(data):
        (n,) = struct.unpack(">I", data[i:i + 4])
        if n < 28 or i + n > len(data):
            break
        prog, vers, proc, mtype, serial, status = struct.unpack(">IIiIII", data[i + 4:i + 28])
        out.append((proc, mtype, serial, status, data[i + 28:i + n]))
        i += n
    return out


class Guest:
    """The parent's side of the channel, driven through its shared folder."""

    def __init__(self, share):
        self.share = share
        self.round = 0
        self.serial = 0

    def send(self, calls, timeout=BOOT):
        """calls: [(proc, payload)] -> {serial: (status, payload)} once all are answered."""
        self.round += 1
        serials, data = [], b""
        for proc, payload in calls:
            self.serial += 1
            serials.append(self.serial)
            data += packet(proc, self.serial, payload)
        with open(os.path.join(self.share, f"req{self.round}"), "wb") as f:
            f.write(data)
        open(os.path.join(self.share, f"go{self.round}"), "w").close()

        def answered():
            try:
                with open(os.path.join(self.share, "reply"), "rb") as f:
                    got = {p[2]: (p[3], p[4]) for p in packets(f.read()) if p[1] == REPLY}
            except FileNotFoundError:
                return None
            return got if all(s in got for s in serials) else None
        got = wait_until(answered, timeout, f"the router's replies to round {self.round} through the channel")
        return [got[s] for s in serials]


def error_code(reply):
    status, payload = reply
    check(status == ERROR, f"expected an error, got a reply {payload[:40].hex()}")
    return struct.unpack(">i", payload[:4])[0]


def error_message(reply):
    status, payload = reply
    if status != ERROR or len(payload) < 12:
        return ""
    (present,) = struct.unpack(">I", payload[4:8])
    if not present:
        return ""
    (n,) = struct.unpack(">I", payload[8:12])
    return payload[12:12 + n].decode()


def share_dir(router):
    d = router.folder.path("share")
    os.makedirs(d, exist_ok=True)
    # QEMU runs as fleet-qemu under a root router: it must reach the share.
    os.chmod(router.root, 0o711)
    os.chmod(d, 0o777)
    return d


def start_parent(router, name="parent", quota="children='1' memory='128MiB' depth='1'"):
    share = share_dir(router)
    # A libvirt-style tag, not a path: the guest mounts it at /mnt/x.
    fs = (f"<filesystem type='mount' accessmode='passthrough'><source dir='{share}'/>"
          "<target dir='x'/></filesystem>")
    xml = domain_xml(name, image="linux-sh", args=["-c", SCRIPT], devices=fs,
                     metadata=f"<fleet:hypervisor {quota}/>")
    path = router.folder.path(f"{name}.xml")
    with open(path, "w") as f:
        f.write(xml)
    virsh_ok(router.uri_unix, "create", path, timeout=BOOT)
    wait_until(lambda: os.path.exists(os.path.join(share, "ready")) or os.path.exists(os.path.join(share, "error")),
               BOOT, "the parent guest to open its channel")
    check(not os.path.exists(os.path.join(share, "error")), "the guest found no org.fleet.hypervisor port")
    return Guest(share)


def child_xml(name, image="sleep", extra_meta="", devices="", kernel=None, memory_mib=None):
    return domain_xml(name, image=image, args=["600"] if image == "sleep" else [], metadata=extra_meta,
                      devices=devices, kernel=kernel, memory_mib=memory_mib)


def create(xml):
    return (CREATE_XML, xdr_string(xml) + struct.pack(">I", 0))


def host_domains(router):
    out = virsh_ok(router.uri_unix, "list", "--all", "--name")
    return [line.strip() for line in out.splitlines() if line.strip()]


def test_isolation(router):
    host = router.folder.path("host.xml")
    with open(host, "w") as f:
        f.write(domain_xml("hostdom", uuid="11111111-2222-3333-4444-555555555555"))
    virsh_ok(router.uri_unix, "define", host)
    g = start_parent(router)
    open_args = struct.pack(">I", 1) + xdr_string("qemu:///system") + struct.pack(">I", 0)
    r = g.send([
        (OPEN, open_args),
        (LIST_ALL, struct.pack(">iI", 1, 0)),
        (LOOKUP_BY_NAME, xdr_string("hostdom")),
        (LOOKUP_BY_NAME, xdr_string("parent")),
        (DESTROY, nonnull_domain("hostdom", "11111111-2222-3333-4444-555555555555")),
        (NODE_GET_INFO, b""),
        (DEFINE_XML, xdr_string(child_xml("d"))),
        create(child_xml("k", image=None, kernel="/etc/shadow")),
        create(child_xml("f", devices="<filesystem type='mount'><source dir='/root'/><target dir='/r'/>"
                                      "</filesystem>")),
        create(child_xml("m", memory_mib=512)),
        create(child_xml("n", image="no-such-image")),
        create(child_xml("h", extra_meta="<fleet:hypervisor children='1' memory='64MiB' depth='1'/>")),
    ])
    check(r[0][0] == OK, f"CONNECT_OPEN over the channel failed: {error_message(r[0])}")
    check(r[1][0] == OK and struct.unpack(">I", r[1][1][:4])[0] == 0, "the guest sees domains it did not create")
    check(error_code(r[2]) == NO_DOMAIN, "the guest can look up a host domain")
    check(error_code(r[3]) == NO_DOMAIN, "the guest can look up itself")
    check(error_code(r[4]) == NO_DOMAIN, "the guest can name a host domain to destroy")
    for i, what in [(5, "node_get_info"), (6, "define"), (7, "a kernel path"), (8, "a host folder"),
                    (9, "memory over quota"), (10, "a non-catalog image"), (11, "depth over quota")]:
        check(error_code(r[i]) == DENIED, f"{what}: not OPERATION_DENIED ({error_message(r[i])})")
    check("/etc/shadow" not in error_message(r[7]), "the refusal echoes the host path")
    check("hostdom" in host_domains(router), "the host domain is gone")

    r = g.send([create(child_xml("c1"))])
    check(r[0][0] == OK, f"creating a child failed: {error_message(r[0])}")
    check(b"parent.c1" in r[0][1], "the child is not named under its parent")
    check(virsh_ok(router.uri_unix, "domstate", "parent.c1").strip() == "running", "the child is not running")
    r = g.send([(LIST_ALL, struct.pack(">iI", 1, 0)), create(child_xml("c2"))])
    check(struct.unpack(">I", r[0][1][:4])[0] == 1, "the guest does not list exactly its one child")
    check(error_code(r[1]) == DENIED, "a second child passed a quota of one")


def child_gone(router, name):
    return name not in host_domains(router)


def test_parent_killed(router):
    g = start_parent(router)
    r = g.send([(OPEN, struct.pack(">I", 0) + struct.pack(">I", 0)), create(child_xml("c1"))])
    check(r[1][0] == OK, f"creating a child failed: {error_message(r[1])}")
    child = router.record("parent.c1")
    os.kill(router.record("parent")["pid"], signal.SIGKILL)
    wait_until(lambda: child_gone(router, "parent.c1"), 60, "the child to end with its killed parent")
    # Nothing of it leaks: its QEMU, its supervisor, its runtime folder.
    wait_until(lambda: not procs.alive(child["pid"]), 30, "the child's QEMU to end")
    wait_until(lambda: not procs.alive(child["supervisor_pid"]), 30, "the child's supervisor to end")
    wait_until(lambda: "parent.c1" not in router.records(), 30, "the child's runtime folder to go")


def test_parent_destroyed(router):
    g = start_parent(router)
    r = g.send([(OPEN, struct.pack(">I", 0) + struct.pack(">I", 0)), create(child_xml("c1"))])
    check(r[1][0] == OK, f"creating a child failed: {error_message(r[1])}")
    virsh_ok(router.uri_unix, "destroy", "parent")
    wait_until(lambda: child_gone(router, "parent.c1"), 60, "the child to end with its destroyed parent")


def test_load(router):
    """A guest starts and ends 20 children one after another (the 200-loop
    is tools/hypervisor_loop); the host's own client is answered meanwhile."""
    g = start_parent(router)
    r = g.send([(OPEN, struct.pack(">I", 0) + struct.pack(">I", 0))])
    check(r[0][0] == OK, "CONNECT_OPEN failed")
    slowest = 0.0
    for i in range(20):
        r = g.send([create(child_xml(f"c{i}"))])
        check(r[0][0] == OK, f"child {i}: {error_message(r[0])}")
        name_len = struct.unpack(">I", r[0][1][:4])[0]
        dom = r[0][1][:4 + name_len + (-name_len % 4) + 16 + 4]
        r = g.send([(DESTROY, dom)])
        check(r[0][0] == OK, f"destroying child {i}: {error_message(r[0])}")
        t = time.monotonic()
        virsh_ok(router.uri_unix, "list", "--all")
        slowest = max(slowest, time.monotonic() - t)
    check(host_domains(router) == ["parent"], f"children left: {host_domains(router)}")
    check(slowest < 5, f"the host's client waited {slowest:.1f}s")
    print(f"     20 children started and ended; slowest host 'virsh list' {slowest * 1000:.0f} ms")


def test_router_restart(router):
    g = start_parent(router)
    r = g.send([(OPEN, struct.pack(">I", 0) + struct.pack(">I", 0)), create(child_xml("c1"))])
    check(r[1][0] == OK, f"creating a child failed: {error_message(r[1])}")
    router.kill(signal.SIGKILL)
    router.start()
    wait_until(lambda: child_gone(router, "parent.c1"), 60, "the restarted router to end the orphaned child")
    check(virsh_ok(router.uri_unix, "domstate", "parent").strip() == "running", "the adopted parent stopped")


def fsh(router, script, stdin=b"", timeout=BOOT):
    """fsh -c SCRIPT with its commands as domains of the router."""
    env = dict(os.environ)
    env.update({"FLEET_URI": router.uri_unix, "FLEET_RUNTIME_DIR": os.path.join(router.root, "fsh-run"),
                "DBUS_SYSTEM_BUS_ADDRESS": "unix:path=/nonexistent/fsh-test-no-bus", "HOME": router.root,
                "FLEET_IMAGES": paths.IMAGES})
    os.makedirs(env["FLEET_RUNTIME_DIR"], exist_ok=True)
    return subprocess.run([paths.FSH, "-c", script], input=stdin, env=env, capture_output=True, timeout=timeout)


def test_spawn(router):
    """The runtime's spawn through its channel, its parent started by fsh
    with FLEET_HYPERVISOR: the child's stdin, stdout, stderr and status
    are spawn's; what the child may not do is one line and 125."""
    hv = "FLEET_HYPERVISOR=children=1,memory=16MiB"
    r = fsh(router, f"{hv} spawn upper; echo status=$?", stdin=b"hello world\n")
    check(r.stdout == b"HELLO WORLD\nstatus=0\n", f"spawn upper: {r!r}")
    r = fsh(router, f"{hv} spawn exit 7; echo $?")
    check(r.stdout == b"7\n", f"spawn exit 7: {r!r}")
    r = fsh(router, f"GREETING='a <b> & c' {hv} spawn env GREETING")
    check(r.stdout == b"a <b> & c\n", f"spawn passes its environment on: {r!r}")
    r = fsh(router, f"{hv} spawn echo \"<a & 'b'>\" x; {hv} spawn cat --bad; echo $?")
    check(r.stdout == b"<a & 'b'> x\n1\n" and b"cat" in r.stderr,
          f"arguments with XML's characters, the child's stderr and status: {r!r}")
    data = os.urandom(3 << 20)
    r = fsh(router, f"{hv} spawn sha256sum", stdin=data)
    want = hashlib.sha256(data).hexdigest().encode() + b"  -\n"
    check(r.stdout == want and r.returncode == 0, f"3 MiB through spawn sha256sum: {r.stdout!r} {r.stderr!r}")
    # Refusals: a host path for an image, more memory than the quota, no channel.
    for script, says in [(f"{hv} spawn /bin/sh", b"spawn: /bin/sh: "),
                         (f"{hv} spawn -m 64 upper", b"spawn: upper: "),
                         ("spawn upper", b"no hypervisor channel")]:
        r = fsh(router, f"{script}; echo $?")
        check(r.stdout == b"125\n" and says in r.stderr and r.stderr.count(b"\n") == 1,
              f"{script}: wanted one line with {says!r} and 125: {r!r}")
    r = fsh(router, "FLEET_HYPERVISOR=children=x,memory=1G spawn upper; echo $?")
    check(r.stdout == b"125\n" and b"FLEET_HYPERVISOR: children 'x' is not a number" in r.stderr,
          f"bad FLEET_HYPERVISOR words: {r!r}")
    wait_until(lambda: not host_domains(router), 30, "spawn's domains gone")


def test_fsh_in_guest(router):
    """fsh inside a Linux guest (linux-fsh), given a channel by the host's
    fsh: its pipeline is one run of two children through the channel's
    socket (init's bridge, /run/fleet/hypervisor), a Linux child too; stdin
    and the exit status cross both levels; a client in the guest killed in
    the middle of a run has its run ended, and the next one works."""
    if sanitized():
        # The guest's fsh is this build's: instrumented, its initramfs is
        # ~10x as large (107 MB), more than the image's 192 MiB can unpack.
        skip_test("linux-fsh carries this build's fsh, which a sanitizer build makes too large for its guest")
    hv = "FLEET_HYPERVISOR=children=3,memory=256MiB"
    r = fsh(router, f"{hv} linux-fsh -c 'echo hello world | upper | wc -c; printf \"b\\na\\n\" | sort; "
                    f"upper; sleep 6 & echo both | upper; wait; exit 3'; echo status=$?", stdin=b"from the host\n")
    check(r.stdout == b"12\na\nb\nFROM THE HOST\nBOTH\nstatus=3\n", f"fsh in a guest: {r!r}\n{router.log_tail()}")
    runs = [line for line in router.log_text().splitlines() if "(its hypervisor channel)" in line]
    check(any(line.count(" | ") == 1 for line in runs), f"no two-stage run through the channel in the log: {runs}")
    # A client that dies without closing: the bridge closes its session for
    # it, the router ends its run, the next client is served.
    script = (b"host sh -c \"fsh -c 'sleep 600' & sleep 4; kill -9 \\$!; sleep 1\"\n"
              b"echo x | upper\necho next=$?\n")
    seen = len(router.log_text().splitlines())
    r = fsh(router, f"{hv} linux-fsh", stdin=script)  # the guest's fsh reads its script from stdin
    check(r.stdout == b"X\nnext=0\n", f"after a killed client in the guest: {r!r}\n{router.log_tail()}")
    lines = router.log_text().splitlines()[seen:]

    def first(pattern):
        return next((i for i, line in enumerate(lines) if re.search(pattern, line)), None)
    killed = first(r"\.fsh-\d+-0-0' stopped \(killed")  # destroyed with its client's session
    parent_done = first(r"domain 'fsh-\d+-0-0' stopped \(exit")
    check(killed is not None and parent_done is not None and killed < parent_done,
          f"the killed client's sleep child did not end before its parent:\n" + "\n".join(lines))
    wait_until(lambda: not host_domains(router), 60, "every domain gone")


def client_in_guest(router, image, package, script, created):
    """IMAGE (a guest client of images/linux/clients) given a channel, with
    SCRIPT on its stdin, from the host's fsh: (result, stdout, the name of
    the child it created, the regex CREATED's group); None (and why) when
    the build made no such image."""
    if not os.path.exists(os.path.join(paths.IMAGES, "linux", image + ".image")):
        print(f"     skipped: no {image} image (the build found no {package}; tools/setup installs it)")
        return None
    r = fsh(router, f"FLEET_HYPERVISOR=children=1,memory=64MiB {image}; echo status=$?", stdin=script)
    out = r.stdout.decode()
    m = re.search(created, out)
    check(m is not None, f"{image}: no child created in the guest: {r!r}\n{router.log_tail()}")
    return r, out, m.group(1)


VIRSH_SCRIPT = b"""cat > /tmp/kid.xml <<'XML'
<domain type='qemu'><name>kid</name><os><type>hvm</type></os>
<metadata xmlns:fleet='https://fleet.dev/xmlns/domain/1'><fleet:image>sleep</fleet:image><fleet:arg>600</fleet:arg></metadata>
</domain>
XML
virsh create /tmp/kid.xml
echo "list: $(virsh list --name)"
echo "state: $(virsh domstate kid)"
virsh nodeinfo
echo "nodeinfo: $?"
virsh destroy kid
echo "after: $(virsh list --all --name)."
"""


def test_virsh_in_guest(router):
    """libvirt's own virsh inside a Linux guest (linux-virsh), on the socket
    init serves: each virsh is one connection; it creates a child, lists
    it, looks it up by the name it gave, destroys it; host facts are
    refused."""
    ran = client_in_guest(router, "linux-virsh", "virsh", VIRSH_SCRIPT, r"Domain '([^']+\.kid)' created")
    if ran is None:
        return
    r, out, name = ran
    check(f"list: {name}\n" in out and "state: running\n" in out and "after: .\n" in out and "status=0" in out,
          f"virsh in the guest: {out!r}")
    check("nodeinfo: 1\n" in out and b"a hypervisor channel does not serve NODE_GET_INFO" in r.stderr,
          f"host facts through the channel: {r!r}")
    wait_until(lambda: not host_domains(router), 60, "every domain gone")


PYTHON_SCRIPT = b"""
import libvirt
c = libvirt.open()  # LIBVIRT_DEFAULT_URI: the channel's socket
d = c.createXML(\"\"\"<domain type='qemu'><name>kid</name><os><type>hvm</type></os>
<metadata xmlns:fleet='https://fleet.dev/xmlns/domain/1'><fleet:image>sleep</fleet:image><fleet:arg>600</fleet:arg></metadata>
</domain>\"\"\", 0)
print("created", d.name(), d.isActive())
print("listed", [x.name() for x in c.listAllDomains()])
print("found", c.lookupByName("kid").name() == d.name())
d.destroy()
print("after", [x.name() for x in c.listAllDomains()])
try:
    c.getInfo()
except libvirt.libvirtError as e:
    print("host facts", e.get_error_code())
c.close()
"""


def test_python_in_guest(router):
    """python-libvirt inside a Linux guest (linux-python), unchanged, on the
    socket init serves: a child created, listed, looked up, destroyed;
    host facts refused (VIR_ERR_OPERATION_DENIED)."""
    ran = client_in_guest(router, "linux-python", "python3-libvirt", PYTHON_SCRIPT, r"created ([^ ]+\.kid) 1\n")
    if ran is None:
        return
    r, out, name = ran
    want = f"listed ['{name}']\nfound True\nafter []\nhost facts {DENIED}\nstatus=0\n"
    check(out.endswith(want), f"python-libvirt in the guest: {out!r}, wanted it to end with {want!r}")
    wait_until(lambda: not host_domains(router), 60, "every domain gone")


TESTS = [test_spawn, test_fsh_in_guest, test_virsh_in_guest, test_python_in_guest, test_isolation, test_parent_killed, test_parent_destroyed, test_router_restart, test_load]
for t in TESTS:
    t.timeout = 400

if __name__ == "__main__":
    need_router()
    need_virsh()
    main(TESTS, routers.fixture(), timeout=400)
