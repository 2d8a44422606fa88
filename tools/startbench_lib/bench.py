"""What every boot needs: options, a private runtime folder, live processes."""
import contextlib
import itertools
import os
import shlex
import shutil
import signal
import subprocess
import threading


class BootError(Exception):
    pass


class Bench:
    """What every boot needs: options, a private runtime dir, live processes."""

    def __init__(self, opts, tmp):
        self.opts, self.tmp = opts, tmp
        self.env = dict(os.environ, FLEET_RUNTIME_DIR=os.path.join(tmp, "runtime"))
        os.mkdir(self.env["FLEET_RUNTIME_DIR"])
        self.lock = threading.Lock()
        self.live = set()                   # Popen objects not yet reaped
        self.ids = itertools.count(1)       # boot numbers: VM names, scratch files
        self.raw = {}                       # (image, guest args) -> raw argv (fleet-vmm cmdline)
        self.input = None                   # throughput: (path, size) of the input file
        self.router = None                  # router suite: a RouterRun, started on first use
        self.router_factory = None          # paths.RouterRun (set by cli: paths import this module)

    def router_run(self):
        with self.lock:
            if self.router is None:
                self.router = self.router_factory(self)
            return self.router

    def raw_argv(self, image, args):
        key = (image, tuple(args))
        if key not in self.raw:
            cmd = [self.opts.fleet_vmm, "cmdline", "--accel", self.opts.accel, image, *args]
            r = subprocess.run(cmd, env=self.env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
            if r.returncode != 0:
                raise BootError(f"'{' '.join(cmd)}' failed: {last_line(r.stderr)}")
            argv = shlex.split(r.stdout)
            if not argv or not shutil.which(argv[0]):
                raise BootError(f"QEMU not found: {argv[0] if argv else '(empty command line)'}")
            self.raw[key] = argv
        return list(self.raw[key])


def last_line(text):
    lines = [l for l in text.strip().splitlines() if l.strip()]
    return lines[-1].strip() if lines else "(no message)"


def kill_group(proc):
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)   # each boot runs in its own session

