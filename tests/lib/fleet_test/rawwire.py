"""libvirt's wire protocol by hand, for tests that must send what a real
client never would, or run as another user without python3-libvirt's
connection setup (docs/fleet-protocol.md). Standard
library only: net_vms_test sends this file's source to a child process."""
import socket
import struct

REMOTE_PROGRAM = 0x20008086


def xdr_string(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack(">I", len(b)) + b + b"\0" * (-len(b) % 4)


def read_exact(s, n):
    b = b""
    while len(b) < n:
        chunk = s.recv(n - len(b))
        if not chunk:
            raise EOFError("the router closed the connection")
        b += chunk
    return b


def call(s, proc, serial, payload):
    """One CALL of the REMOTE program; its answer's header (program,
    version, procedure, type, serial, status) and payload."""
    body = struct.pack(">IIiiIi", REMOTE_PROGRAM, 1, proc, 0, serial, 0) + payload
    s.sendall(struct.pack(">I", len(body) + 4) + body)
    data = read_exact(s, struct.unpack(">I", read_exact(s, 4))[0] - 4)
    return struct.unpack(">IIiiIi", data[:24]), data[24:]


def connect_open(s, uri="qemu:///system", read_only=False):
    """CONNECT_OPEN (the remote_string name, the flags); its answer."""
    return call(s, 1, 0, struct.pack(">I", 1) + xdr_string(uri) + struct.pack(">I", 1 if read_only else 0))
