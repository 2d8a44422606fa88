#!/usr/bin/python3
"""fleet_test.qmp against a scripted monitor on a unix socket: the greeting,
qmp_capabilities, ids, events between replies, errors, a monitor that
closes or speaks no QMP."""
import json
import os
import socket
import sys
import tempfile
import threading
import unittest

sys.path.append(os.path.join(os.path.dirname(os.path.realpath(__file__)), ".."))
sys.dont_write_bytecode = True
from fleet_test.qmp import Qmp, QmpError  # noqa: E402

GREETING = {"QMP": {"version": {"qemu": {"major": 7, "minor": 2, "micro": 0}}, "capabilities": []}}


class Monitor:
    """A fake monitor: sends the greeting, then answers each command with
    what script(command) returns (a list of messages; "ID" is replaced by
    the command's id). Records what it received."""

    def __init__(self, script, greeting=GREETING):
        self.dir = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.dir.name, "qmp.sock")
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(self.path)
        self.listener.listen(1)
        self.script, self.greeting, self.received = script, greeting, []
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        conn, _ = self.listener.accept()
        with conn, conn.makefile("rwb") as f:
            f.write(self.greeting if isinstance(self.greeting, bytes) else json.dumps(self.greeting).encode() + b"\n")
            f.flush()
            for line in f:
                cmd = json.loads(line)
                self.received.append(cmd)
                replies = self.script(cmd)
                if replies is None:
                    return  # hang up
                for r in replies:
                    text = json.dumps(r).replace('"ID"', json.dumps(cmd.get("id")))
                    f.write(text.encode() + b"\n")
                f.flush()

    def close(self):
        self.listener.close()
        self.thread.join(5)
        self.dir.cleanup()


def ok(cmd):
    return [{"return": {}, "id": "ID"}]


class QmpTest(unittest.TestCase):
    def monitor(self, script, **kw):
        m = Monitor(script, **kw)
        self.addCleanup(m.close)
        return m

    def test_negotiates_and_numbers_every_command(self):
        m = self.monitor(lambda c: [{"return": {"status": "running"}, "id": "ID"}])
        with Qmp(m.path, 5) as q:
            self.assertEqual(q.execute("query-status"), {"status": "running"})
        self.assertEqual([c["execute"] for c in m.received], ["qmp_capabilities", "query-status"])
        ids = [c["id"] for c in m.received]
        self.assertTrue(all(isinstance(i, int) for i in ids) and len(set(ids)) == 2, ids)

    def test_events_between_replies_are_kept(self):
        event = {"event": "POWERDOWN", "timestamp": {"seconds": 1, "microseconds": 2}}
        m = self.monitor(lambda c: ok(c) if c["execute"] == "qmp_capabilities" else [event, {"return": {}, "id": "ID"}])
        with Qmp(m.path, 5) as q:
            self.assertEqual(q.execute("system_powerdown"), {})
            self.assertEqual([e["event"] for e in q.events], ["POWERDOWN"])

    def test_a_reply_to_an_earlier_command_is_skipped(self):
        replies = {"qmp_capabilities": ok}

        def script(c):
            if c["execute"] == "stop":
                return []  # answered later
            if c["execute"] == "cont":
                return [{"return": {}, "id": c["id"] - 1}, {"return": {"x": 1}, "id": "ID", "unknown": True}]
            return replies[c["execute"]](c)
        m = self.monitor(script)
        with Qmp(m.path, 5) as q:
            q.send("stop")
            self.assertEqual(q.execute("cont"), {"x": 1})

    def test_error_reply(self):
        m = self.monitor(lambda c: ok(c) if c["execute"] == "qmp_capabilities" else
                         [{"error": {"class": "CommandNotFound", "desc": "The command nope has not been found"},
                           "id": "ID"}])
        with Qmp(m.path, 5) as q:
            with self.assertRaisesRegex(QmpError, "nope: The command nope has not been found"):
                q.execute("nope")

    def test_no_greeting(self):
        m = self.monitor(ok, greeting={"hello": 1})
        with self.assertRaisesRegex(QmpError, "no QMP greeting"):
            Qmp(m.path, 5)

    def test_not_json(self):
        m = self.monitor(ok, greeting=b"garbage\n")
        with self.assertRaisesRegex(QmpError, "not JSON"):
            Qmp(m.path, 5)

    def test_monitor_hangs_up(self):
        m = self.monitor(lambda c: None)
        with self.assertRaisesRegex(QmpError, "closed the connection"):
            Qmp(m.path, 5)

    def test_nobody_listens(self):
        with tempfile.TemporaryDirectory() as d:
            with self.assertRaises(OSError):
                Qmp(os.path.join(d, "none.sock"), 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
