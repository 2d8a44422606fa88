#!/usr/bin/python3
"""fleet-router against bad wire input: raw packets on a real socket.

Garbage, lengths out of bounds, a packet cut short, calls before
CONNECT_OPEN, unknown programs and procedures, malformed arguments, stream
packets nobody opened, every procedure with random arguments, and a
hundred idle connections: each gets an error
reply or a closed connection, and the router keeps serving a new client
(checked with the real virsh after every case).
"""
import os
import random
import socket
import struct
import sys
import time

sys.path.append(os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "lib"))  # run by hand: HACKING.md
from fleet_test.check import Failure, check  # noqa: E402
from fleet_test.router import Router, need_router  # noqa: E402
from fleet_test.virsh import need_virsh, virsh  # noqa: E402

REMOTE, KEEPALIVE = 0x20008086, 0x6B656570
CALL, REPLY, MESSAGE, STREAM = 0, 1, 2, 3
OK, ERROR = 0, 1


def packet(prog, proc, mtype, serial, status=OK, payload=b"", vers=1):
    body = struct.pack(">IIiIII", prog, vers, proc, mtype, serial, status) + payload
    return struct.pack(">I", len(body) + 4) + body


def xdr_string(s):
    b = s.encode()
    return struct.pack(">I", len(b)) + b + b"\0" * (-len(b) % 4)


def read_packet(sock, timeout=5):
    """One packet (header tuple, payload), or None if the router closed."""
    sock.settimeout(timeout)
    head = b""
    while len(head) < 4:
        chunk = sock.recv(4 - len(head))
        if not chunk:
            return None
        head += chunk
    (length,) = struct.unpack(">I", head)
    body = b""
    while len(body) < length - 4:
        chunk = sock.recv(length - 4 - len(body))
        if not chunk:
            return None
        body += chunk
    return struct.unpack(">IIiIII", body[:24]), body[24:]


def closed_by_router(sock, timeout=5):
    sock.settimeout(timeout)
    try:
        while True:
            if not sock.recv(4096):
                return True
    except socket.timeout:
        return False
    except ConnectionResetError:
        return True


def error_code(payload):
    return struct.unpack(">i", payload[:4])[0]


class Client:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.serial = 0

    def call(self, proc, payload=b"", prog=REMOTE, vers=1):
        s = self.serial
        self.serial += 1
        self.sock.sendall(packet(prog, proc, CALL, s, OK, payload, vers))
        return read_packet(self.sock)

    def open(self):
        h, p = self.call(1, struct.pack(">I", 1) + xdr_string("qemu:///system") + struct.pack(">I", 0))
        check(h[5] == OK, f"CONNECT_OPEN failed: {h} {p!r}")

    def close(self):
        self.sock.close()


def main():
    need_router()
    need_virsh()
    with Router(verbose=False) as r:
        def alive(case):
            p = virsh(r.uri_unix, "hostname")
            check(p.returncode == 0, f"after {case}: virsh hostname failed: {p.stderr!r}")
            check(r.proc.poll() is None, f"after {case}: the router died")

        # Garbage: an HTTP request read as a length word is 1.2 GB -> close.
        c = Client(r.socket_path)
        c.sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        check(closed_by_router(c.sock), "garbage: connection not closed")
        alive("garbage")

        # A length below the header's size.
        c = Client(r.socket_path)
        c.sock.sendall(struct.pack(">I", 8) + b"\0" * 8)
        check(closed_by_router(c.sock), "short length: connection not closed")
        alive("short length")

        # 32 MiB announced, 10 bytes sent, then gone: costs nothing.
        c = Client(r.socket_path)
        c.sock.sendall(struct.pack(">I", 32 << 20) + b"x" * 10)
        c.close()
        # Over the limit.
        c = Client(r.socket_path)
        c.sock.sendall(struct.pack(">I", (32 << 20) + 8) + b"x" * 28)
        check(closed_by_router(c.sock), "oversized packet: connection not closed")
        alive("oversized packet")

        c = Client(r.socket_path)
        # Keepalive works before anything else.
        c.sock.sendall(packet(KEEPALIVE, 1, MESSAGE, 0))
        h, p = read_packet(c.sock)
        check(h[0] == KEEPALIVE and h[2] == 2 and h[3] == MESSAGE, f"PING answered with {h}")
        # A call before CONNECT_OPEN.
        h, p = c.call(3)
        check(h[3] == REPLY and h[5] == ERROR, f"call before open: {h}")
        check(b"connection not open" in p, f"call before open: {p!r}")
        c.open()
        # Unknown procedure -> libvirt's "unknown procedure" (RPC error 39).
        h, p = c.call(9999)
        check(h[5] == ERROR and error_code(p) == 39 and b"unknown procedure" in p, f"unknown proc: {h} {p!r}")
        # Unknown program and version.
        h, p = c.call(1, prog=0x12345678)
        check(h[5] == ERROR and b"unknown program" in p, f"unknown program: {h} {p!r}")
        h, p = c.call(3, vers=7)
        check(h[5] == ERROR and b"version" in p, f"bad version: {h} {p!r}")
        # Malformed arguments: LOOKUP_BY_NAME with a string longer than its bytes,
        # and with trailing bytes.
        h, p = c.call(23, struct.pack(">I", 1000) + b"abcd")
        check(h[5] == ERROR and b"malformed" in p, f"truncated argument: {h} {p!r}")
        h, p = c.call(23, xdr_string("x") + b"\0\0\0\0")
        check(h[5] == ERROR, f"trailing bytes accepted: {h} {p!r}")
        # Lookup of a name that does not exist: NO_DOMAIN (42).
        h, p = c.call(23, xdr_string("no-such-domain"))
        check(h[5] == ERROR and error_code(p) == 42, f"unknown domain: {h} {p!r}")
        # Bad XML through DEFINE_XML: XML_ERROR (27), the connection stays.
        h, p = c.call(11, xdr_string("<domain><name>x</name>"))
        check(h[5] == ERROR and error_code(p) == 27, f"bad XML: {h} {p!r}")
        h, p = c.call(11, xdr_string("<domain type='qemu'><name>x</name><devices><disk/></devices></domain>"))
        check(h[5] == ERROR and b"disk" in p, f"unsupported element not named: {p!r}")
        # What fleet understands but cannot honour: CONFIG_UNSUPPORTED (67).
        h, p = c.call(11, xdr_string("<domain type='qemu'><name>x</name><os><kernel>/k</kernel></os>"
                                     "<devices><graphics type='vnc'/></devices></domain>"))
        check(h[5] == ERROR and error_code(p) == 67 and b"unsupported configuration: <devices/graphics>" in p,
              f"a display: {h} {p!r}")
        # A stream packet nobody opened, a reply and an event from the client: ignored.
        c.sock.sendall(packet(REMOTE, 201, STREAM, 4242, 2, b"data"))
        c.sock.sendall(packet(REMOTE, 3, REPLY, 77))
        c.sock.sendall(packet(REMOTE, 107, MESSAGE, 0))
        h, p = c.call(3)  # still answering, in order
        check(h[5] == OK and h[4] == c.serial - 1, f"after ignored packets: {h}")
        # A packet split into single bytes.
        data = packet(REMOTE, 59, CALL, 500)
        for b in data:
            c.sock.send(bytes([b]))
        h, p = read_packet(c.sock)
        check(h[2] == 59 and h[4] == 500 and h[5] == OK, f"byte-by-byte call: {h}")
        c.close()
        alive("protocol errors")

        # Every procedure number with random arguments (fixed seed): each gets
        # a reply (an error, mostly), and the router stays up.
        rng = random.Random(4)
        c = Client(r.socket_path)
        c.open()
        for i in range(3000):
            proc = rng.choice([rng.randrange(1, 460), 10, 11, 14, 16, 22, 23, 24, 201, 212, 273, 316, 350])
            if proc in (2, 201):  # CONNECT_CLOSE ends the connection; a console would open a stream
                continue
            n = rng.choice([0, 4, 8, 16, 20, 24, 28, 64, 300])
            payload = bytes(rng.randrange(256) for _ in range(n))
            got = c.call(proc, payload)
            check(got is not None, f"no reply to procedure {proc} with {payload.hex()}")
            check(got[0][2] == proc and got[0][3] == REPLY, f"procedure {proc}: answered {got[0]}")
        c.close()
        alive("random arguments")

        # A hundred idle connections, then a real client.
        idle = [Client(r.socket_path) for _ in range(100)]
        t = time.monotonic()
        alive("100 idle connections")
        check(time.monotonic() - t < 5, "slow with 100 idle connections")
        for i in idle:
            i.close()
        alive("closing them")
        print("router wire: all cases pass")


if __name__ == "__main__":
    try:
        main()
    except Failure as e:
        print(f"FAIL: {e}")
        sys.exit(1)
