"""Fleet: the real fleet-vmm against a runtime folder of the test's own."""
import json
import os
import subprocess

from . import paths, procs
from .check import Failure, check
from .folder import TestFolder


class Fleet:
    """A private runtime folder (FLEET_RUNTIME_DIR) and a way to run
    fleet-vmm against it; cleanup kills every VM it left, by pid."""

    def __init__(self, name="fleet"):
        self.folder = TestFolder(name)
        self.root = self.folder.root
        self.runtime = self.folder.path("run")
        self.env = self.folder.env()
        self.env["FLEET_RUNTIME_DIR"] = self.runtime
        self.env.setdefault("FLEET_ACCEL", "tcg")

    def vmm(self, *args, timeout=60, input=None, env=None, check_rc=None):
        """fleet-vmm ARGS to its end; a CompletedProcess with bytes output.
        env adds to the test's environment; check_rc: the exit status wanted."""
        e = dict(self.env)
        if env:
            e.update(env)
        p = subprocess.run([paths.VMM, *args], capture_output=True, timeout=timeout,
                           input=input if input is not None else b"", env=e)
        if check_rc is not None and p.returncode != check_rc:
            raise Failure(f"fleet-vmm {' '.join(args)}: exit {p.returncode}, wanted {check_rc}\n"
                          f"stdout: {p.stdout!r}\nstderr: {p.stderr!r}")
        return p

    def popen(self, *args, **kw):
        """fleet-vmm ARGS in the background, in the test's environment."""
        kw.setdefault("env", self.env)
        return subprocess.Popen([paths.VMM, *args], **kw)

    def ls(self):
        return json.loads(self.vmm("ls", "--json", check_rc=0).stdout)

    def record(self, name):
        return json.loads(self.vmm("inspect", name, check_rc=0).stdout)

    def vm_dir(self, name):
        return os.path.join(self.runtime, "vms", name)

    def cleanup(self):
        self.folder.cleanup(procs.record_pids(procs.records(self.runtime)))


def one_line_error(p, *needles, program="fleet-vmm"):
    """A failed call: non-zero exit and one 'PROGRAM: ...' line naming every needle."""
    err = p.stderr.decode(errors="replace")
    check(p.returncode != 0, f"expected a failure, got exit 0 (stderr {err!r})")
    lines = err.strip().splitlines()
    check(len(lines) == 1, f"expected one error line, got {lines!r}")
    check(lines[0].startswith(f"{program}: "), f"error line lacks the program prefix: {lines[0]!r}")
    for n in needles:
        check(n in lines[0], f"error line {lines[0]!r} does not mention {n!r}")
    return lines[0]
