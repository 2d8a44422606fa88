"""A test's own folder, and the guard that cleans up after a killed test.

Every process a test starts gets FLEET_TEST_MARKER=<folder> in its
environment; cleanup kills every process that carries it, and removes the
folder. A test killed where no Python code runs (meson's timeout while a
libvirt call hangs) cannot clean up, and VMs outlive their launcher by
design; so a guard process, in its own session, waits for the test to go
(its stdin pipe closes) and then does the same. The folder sits on
/dev/shm, as the runtime folder (/run) does on a host.
"""
import os
import shutil
import subprocess
import tempfile

from . import paths, procs

MARKER = "FLEET_TEST_MARKER"

_GUARD = r"""
import os, signal, shutil, sys
signal.signal(signal.SIGTERM, signal.SIG_IGN)
signal.signal(signal.SIGINT, signal.SIG_IGN)
sys.stdin.buffer.read()
marker = sys.argv[2].encode()
for p in os.listdir("/proc"):
    if not p.isdigit() or int(p) == os.getpid():
        continue
    try:
        with open(f"/proc/{p}/environ", "rb") as f:
            if marker in f.read().split(b"\0"):
                os.kill(int(p), signal.SIGKILL)
    except OSError:
        pass
shutil.rmtree(sys.argv[1], ignore_errors=True)
"""


def scratch_dir(prefix):
    """A new private folder, on /dev/shm when it is writable."""
    base = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    return tempfile.mkdtemp(prefix=prefix, dir=base)


class TestFolder:
    """A private folder, the marker for what is started in it, and its guard."""

    def __init__(self, name="test"):
        self.root = scratch_dir(f"fleet-{name}-test-")
        self.marker = f"{MARKER}={self.root}"
        self._guard = self._start_guard()

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def env(self, base=None):
        """base (default os.environ) plus the marker: the environment for
        every process the test starts."""
        e = dict(os.environ if base is None else base)
        e[MARKER] = self.root
        return e

    def _start_guard(self):
        r, w = os.pipe()
        subprocess.Popen([paths.PYTHON, "-c", _GUARD, self.root, self.marker], stdin=r,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                         close_fds=True)
        os.close(r)
        os.set_inheritable(w, False)
        return w

    def marked(self):
        """pid -> argv of this test's live processes."""
        return procs.marked(self.marker)

    def cleanup(self, pids=()):
        """Kill the given (pid, start time) pairs and every marked process,
        remove the folder, and let the guard go."""
        victims = set(pids) | {(pid, procs.start_time(pid)) for pid in self.marked()}
        procs.kill_all(victims)
        shutil.rmtree(self.root, ignore_errors=True)
        if self._guard is not None:  # nothing left for it to do
            os.close(self._guard)
            self._guard = None
