#!/usr/bin/python3
"""The client limits of fleet-router (docs/SECURITY.md, "Limits") that
router_security does not already cover, each against the real router:

- --idle-timeout: a client silent with nothing pending is closed;
- --max-client-requests: a client that pipelines calls and never reads a
  reply makes the router stop reading it (its sends block), the router's
  RSS stays bounded and root is answered within 1 s; paused past the
  partial-packet timeout it is not dropped; the replies, read at last, all
  come, in order;
- --max-clients: past the cap other users' connections are closed, while
  root still gets in (the administrators' reserve);
- --max-anonymous-clients: TLS connections that never finish a handshake
  are capped;
- --max-client-streams: consoles per connection are capped (a running
  guest, opened through python3-libvirt).
"""
import os
import socket
import struct
import subprocess
import sys
import time

sys.path.append(os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "lib"))  # run by hand: HACKING.md
from fleet_test import router as routers  # noqa: E402
from fleet_test.check import check, check_memory, skip, wait_until  # noqa: E402
from fleet_test.libvirt_client import need_libvirt_python  # noqa: E402
from fleet_test.router import domain_xml, need_router  # noqa: E402
from fleet_test.runner import main  # noqa: E402
from fleet_test.virsh import need_virsh, virsh  # noqa: E402

libvirt = need_libvirt_python()

NOBODY = 65534
PROGRAM = 0x20008086
GET_HOSTNAME = 59


def xdr_string(b):
    return struct.pack(">I", len(b)) + b + b"\0" * ((4 - len(b) % 4) % 4)


def packet(proc, serial, payload=b""):
    body = struct.pack(">IIiiIi", PROGRAM, 1, proc, 0, serial, 0) + payload
    return struct.pack(">I", len(body) + 4) + body


def read_packet(s):
    n = struct.unpack(">I", read_exactly(s, 4))[0]
    data = read_exactly(s, n - 4)
    return struct.unpack(">IIiiIi", data[:24]), data[24:]


def read_exactly(s, n):
    b = b""
    while len(b) < n:
        chunk = s.recv(n - len(b))
        check(chunk != b"", "the router closed the connection")
        b += chunk
    return b


def connect_open(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    s.sendall(packet(1, 0, struct.pack(">I", 1) + xdr_string(b"qemu:///system") + struct.pack(">I", 0)))
    h, _ = read_packet(s)
    check(h[5] == 0, "CONNECT_OPEN failed")
    return s


def answered_fast(router):
    t0 = time.monotonic()
    p = virsh(router.uri_unix, "hostname", timeout=10)
    check(p.returncode == 0, f"root's virsh failed: {p.stderr!r}")
    return time.monotonic() - t0


def closed_within(s, seconds):
    """Whether the router closes s within seconds (EOF or a reset)."""
    s.settimeout(seconds)
    try:
        return s.recv(1) == b""
    except socket.timeout:
        return False
    except ConnectionResetError:
        return True


def test_idle_timeout(router):
    """A client silent with nothing pending is closed after --idle-timeout;
    one that keeps talking is not."""
    silent = connect_open(router.socket_path)
    talking = connect_open(router.socket_path)
    t0 = time.monotonic()
    for serial in range(1, 5):
        time.sleep(1)
        talking.sendall(packet(GET_HOSTNAME, serial))
        h, _ = read_packet(talking)
        check(h[5] == 0, "a talking client's call failed")
    check(closed_within(silent, 10), "a silent client was still connected 14 s after an idle timeout of 3 s")
    waited = time.monotonic() - t0
    check(waited >= 2.5, f"a silent client was closed after {waited:.1f} s, before its idle timeout of 3 s")
    talking.sendall(packet(GET_HOSTNAME, 9))
    check(read_packet(talking)[0][5] == 0, "the talking client was closed")
    check("idle" in router.log_text(), f"no line about the idle client: {router.log_tail()}")
    silent.close()
    talking.close()


test_idle_timeout.router_kwargs = {"extra_args": ["--idle-timeout", "3"]}


def test_never_reading_client(router):
    """A client pipelines 200000 calls and reads no reply: the router takes
    --max-client-requests at a time and stops reading it while its replies
    are not taken, so the client's sends block; the router's RSS grows by
    less than 32 MiB and root is answered within 1 s. The router's pause
    is not the client's stall: no partial-packet drop. Read at last, the
    replies all come, in order."""
    rss0 = router.rss_kib()
    s = connect_open(router.socket_path)
    calls = b"".join(packet(GET_HOSTNAME, serial) for serial in range(1, 200001))
    s.setblocking(False)
    sent = 0
    # All within the partial-packet timeout (30 s): the router, not reading,
    # may hold half a call.
    deadline = time.monotonic() + 8
    stalled_since = None
    while sent < len(calls) and time.monotonic() < deadline:
        try:
            sent += s.send(calls[sent:sent + 65536])
            stalled_since = None
        except BlockingIOError:
            stalled_since = stalled_since or time.monotonic()
            if time.monotonic() - stalled_since > 1:
                break
            time.sleep(0.05)
    check(sent < len(calls), f"the router read all {len(calls)} bytes of calls with no reply taken")
    dt = answered_fast(router)
    check(dt < 1.0, f"root waited {dt:.2f}s beside a client that does not read")
    grown = (router.rss_kib() - rss0) // 1024
    check_memory(grown < 32, f"the router's RSS grew by {grown} MiB for a client that does not read")
    print(f"  never-reading client: {sent} of {len(calls)} bytes taken, RSS +{grown} MiB, root in {dt:.2f}s")
    # Paused by the router, not stalled: past the partial-packet timeout (3 s)
    # the client is still served, whatever half call the pause cut.
    time.sleep(5)
    # Now read: every reply comes, in order; then the call cut in half is
    # finished and answered too.
    s.setblocking(True)
    s.settimeout(30)
    whole = sent // 28
    for serial in range(1, whole + 1):
        h, _ = read_packet(s)
        check(h[4] == serial and h[5] == 0, f"reply {serial}: serial {h[4]} status {h[5]}")
    if sent % 28:
        s.sendall(calls[sent:sent + 28 - sent % 28])
        h, _ = read_packet(s)
        check(h[4] == whole + 1 and h[5] == 0, f"the last reply: serial {h[4]} status {h[5]}")
    s.close()


test_never_reading_client.router_kwargs = {"extra_args": ["--max-client-requests", "5",
                                                           "--partial-packet-timeout", "3"]}


def test_max_clients_keeps_room_for_root(router):
    """--max-clients 8: nobody's connections past 8 are closed; root still
    gets in and is answered at once (the administrators' reserve)."""
    os.chmod(router.root, 0o755)
    script = ("import socket,sys,time\n"
              "ss=[]\n"
              "for i in range(12):\n"
              "  s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); ss.append(s)\n"
              "print('held', flush=True)\n"
              "time.sleep(1)\n"
              "n=0\n"
              "for s in ss:\n"
              "  s.settimeout(0.5)\n"
              "  try:\n"
              "    n+= s.recv(1)==b''\n"
              "  except socket.timeout: pass\n"
              "print(n, flush=True)\n"
              "sys.stdin.read()\n")
    p = subprocess.Popen(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                          "/usr/bin/python3", "-c", script, router.socket_ro_path],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=router.folder.env())
    try:
        check(p.stdout.readline().strip() == "held", "nobody's client did not connect")
        closed = p.stdout.readline().strip()
        check(closed == "4", f"nobody's 12 connections with --max-clients 8: {closed!r} closed, wanted 4")
        dt = answered_fast(router)
        check(dt < 1.0, f"root waited {dt:.2f}s with the router full")
        check("(max-clients)" in router.log_text(), f"no line about the full router: {router.log_tail()}")
    finally:
        p.stdin.close()
        p.wait(timeout=10)


test_max_clients_keeps_room_for_root.router_kwargs = {"extra_args": ["--max-clients", "8"]}


def test_max_anonymous_clients(router):
    """--max-anonymous-clients 2: TCP connections to the TLS port that never
    finish a handshake are capped; past 2 they are closed at once."""
    port = router.info["tls_port"]
    held = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(5)]
    closed = sum(closed_within(s, 1.0) for s in held)
    check(closed == 3, f"{closed} of 5 unauthenticated TLS connections closed with a cap of 2")
    for s in held:
        s.close()
    dt = answered_fast(router)
    check(dt < 1.0, f"root waited {dt:.2f}s")


test_max_anonymous_clients.router_kwargs = {"extra_args": ["--max-anonymous-clients", "2",
                                                           "--partial-packet-timeout", "30"]}


def test_max_client_streams(router):
    """--max-client-streams 2: a third console on one connection is refused;
    the connection and the first consoles keep working."""
    conn = libvirt.open(router.uri_unix)
    name = f"streams-{os.getpid()}"
    dom = conn.createXML(domain_xml(name, args=("hold",)), 0)
    try:
        streams = []
        for i in range(2):
            st = conn.newStream(0)
            dom.openConsole(None, st, 0)
            streams.append(st)
        st = conn.newStream(0)
        try:
            dom.openConsole(None, st, 0)
            refused = None
        except libvirt.libvirtError as e:
            refused = e.get_error_message() or ""
        check(refused is not None, "a third console opened with --max-client-streams 2")
        check("stream" in refused, f"the refusal does not say why: {refused!r}")
        check(conn.getHostname(), "the connection stopped working")
        for st in streams:
            st.abort()
    finally:
        dom.destroy()
        conn.close()


test_max_client_streams.router_kwargs = {"extra_args": ["--max-client-streams", "2"]}


if __name__ == "__main__":
    need_router()
    need_virsh()
    if os.geteuid() != 0:
        skip("needs root: the test runs clients as nobody through setpriv")
    tests = [test_idle_timeout, test_never_reading_client, test_max_clients_keeps_room_for_root,
             test_max_anonymous_clients, test_max_client_streams]
    main(tests, routers.fixture(), timeout=routers.TEST_TIMEOUT)
