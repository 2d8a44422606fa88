"""A program on a pseudo-terminal (virsh console needs one; virsh event is
line-buffered on one)."""
import os
import pty
import select
import signal
import time

from .check import Failure


# Ctrl-C for a guest's busybox sh: its `read` builtin can lose a SIGINT that
# comes between the moment it holds interrupts and its poll() (busybox's
# shell/shell_common.c says so: "race with a signal arriving just before the
# poll"); the Ctrl-C byte also empties the terminal's input, so sh then waits
# for a line with the interrupt pending, and the test hangs. A loop that a
# test interrupts starts its body with EXEC_TR; the test types TO_TR, waits
# for TR_RUNS, then types Ctrl-C: tr is in read() in the kernel, which ends
# it on SIGINT at once (status 130), and sh is no longer there to lose it.
EXEC_TR = '[ "$l" = tr ] && exec tr a-z A-Z'
TO_TR = b"tr\rping\r"  # the loop reads "tr" and execs tr, which reads "ping"
TR_RUNS = b"PING"  # tr's copy of it (the terminal echoes "ping" as typed)


class PtyProcess:
    """argv run with a pty as its controlling terminal; read and write its master."""

    def __init__(self, argv, env=None):
        self.buf = b""
        pid, fd = pty.fork()
        if pid == 0:
            try:
                os.execvpe(argv[0], argv, env or os.environ)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        self.status = None

    def read_some(self, timeout):
        """Read what arrives within timeout: True, False (nothing), None (closed)."""
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return False
        try:
            data = os.read(self.fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            data = b""
        if not data:
            return None
        self.buf += data
        return True

    def expect(self, needle, timeout, what=None):
        deadline = time.monotonic() + timeout
        needle = needle.encode() if isinstance(needle, str) else needle
        while needle not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failure(f"timed out after {timeout}s waiting for {what or needle!r}; got {self.buf!r}")
            if self.read_some(min(left, 0.2)) is None:
                raise Failure(f"the terminal closed before {what or needle!r}; got {self.buf!r}")
        return self.buf

    def write(self, data):
        os.write(self.fd, data.encode() if isinstance(data, str) else data)

    def wait(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid, st = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(st)
                return self.status
            self.read_some(0.05)
        return None

    def close(self):
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                os.waitpid(self.pid, 0)
            except ChildProcessError:
                pass
        try:
            os.close(self.fd)
        except OSError:
            pass
