"""A QMP client, as QEMU's docs/interop/qmp-spec.rst says: wait for the
greeting, negotiate with qmp_capabilities, a numeric id on every command,
replies matched by id, events (which arrive at any time) kept aside,
unknown keys ignored."""
import itertools
import json
import socket


class QmpError(Exception):
    """The monitor did not answer as the protocol says, or said error."""


class Qmp:
    """One connection to a QEMU monitor socket, in command mode once open."""

    def __init__(self, path, timeout):
        self.events = []
        self._ids = itertools.count(1)
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        try:
            self._sock.settimeout(max(timeout, 0.1))
            self._sock.connect(path)
            self._file = self._sock.makefile("rwb")
            greeting = self._read()
            if "QMP" not in greeting:
                raise QmpError("no QMP greeting")
            self.execute("qmp_capabilities")
        except BaseException:
            self._sock.close()
            raise

    def _read(self):
        line = self._file.readline()
        if not line:
            raise QmpError("the monitor closed the connection")
        try:
            msg = json.loads(line)
        except ValueError as e:
            raise QmpError(f"not JSON from the monitor: {line[:80]!r} ({e})") from None
        if not isinstance(msg, dict):
            raise QmpError(f"not a JSON object from the monitor: {line[:80]!r}")
        return msg

    def send(self, command, arguments=None):
        """Send a command without waiting for its reply; its id."""
        cid = next(self._ids)
        msg = {"execute": command, "id": cid}
        if arguments is not None:
            msg["arguments"] = arguments
        self._file.write(json.dumps(msg).encode() + b"\n")
        self._file.flush()
        return cid

    def execute(self, command, arguments=None):
        """Send a command and wait for its reply: the "return" value, or
        QmpError with the monitor's "error" description."""
        cid = self.send(command, arguments)
        while True:
            msg = self._read()
            if "event" in msg:
                self.events.append(msg)
            elif msg.get("id") != cid:
                continue  # a reply to a command sent without waiting
            elif "error" in msg:
                err = msg["error"]
                raise QmpError(f"{command}: {err.get('desc', err) if isinstance(err, dict) else err}")
            elif "return" in msg:
                return msg["return"]

    def close(self):
        try:
            self._file.close()
        finally:
            self._sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
