"""Helpers for fleet's integration tests: real QEMU, real fleet-vmm.

Each test script gets the paths it needs from the environment meson sets
(FLEET_VMM, FLEET_IMAGES), makes its own runtime folder, and cleans up
every VM it started by pid, never by name. Exit 77 = skipped (with a reason).
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SKIP = 77
VMM = os.environ.get("FLEET_VMM", "fleet-vmm")


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def skip(reason):
    print(f"SKIP: {reason}")
    sys.exit(SKIP)


class Fleet:
    """A private runtime folder and a way to run fleet-vmm against it."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="fleet-test-")
        self.env = dict(os.environ)
        self.env["FLEET_RUNTIME_DIR"] = os.path.join(self.root, "run")
        self.env.setdefault("FLEET_ACCEL", "tcg")

    def vmm(self, *args, timeout=60, input=None, env=None, check_rc=None):
        e = dict(self.env)
        if env:
            e.update(env)
        p = subprocess.run([VMM, *args], capture_output=True, timeout=timeout,
                           input=input if input is not None else b"", env=e)
        if check_rc is not None and p.returncode != check_rc:
            raise Failure(f"fleet-vmm {' '.join(args)}: exit {p.returncode}, wanted {check_rc}\n"
                          f"stdout: {p.stdout!r}\nstderr: {p.stderr!r}")
        return p

    def ls(self):
        return json.loads(self.vmm("ls", "--json", check_rc=0).stdout)

    def record(self, name):
        return json.loads(self.vmm("inspect", name, check_rc=0).stdout)

    def vm_dir(self, name):
        return os.path.join(self.env["FLEET_RUNTIME_DIR"], "vms", name)

    def pids(self):
        """Every QEMU and supervisor pid this runtime folder knows of."""
        out = []
        vms = os.path.join(self.env["FLEET_RUNTIME_DIR"], "vms")
        for name in os.listdir(vms) if os.path.isdir(vms) else []:
            try:
                with open(os.path.join(vms, name, "state.json")) as f:
                    r = json.load(f)
                out += [r.get("pid", 0), r.get("supervisor_pid", 0)]
            except (OSError, ValueError):
                pass
        return [p for p in out if p]

    def cleanup(self):
        for pid in self.pids():
            if alive(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        shutil.rmtree(self.root, ignore_errors=True)


def alive(pid):
    """True if pid runs and is not a zombie (kill(pid, 0) passes zombies)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (OSError, IndexError):
        return False


def wait_until(cond, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.02)
    raise Failure(f"timed out after {timeout}s waiting for {what}")


def one_line_error(p, *needles):
    """A failed fleet-vmm call: non-zero exit and one 'fleet-vmm: ...' line."""
    err = p.stderr.decode(errors="replace")
    check(p.returncode != 0, f"expected a failure, got exit 0 (stderr {err!r})")
    lines = err.strip().splitlines()
    check(len(lines) == 1, f"expected one error line, got {lines!r}")
    check(lines[0].startswith("fleet-vmm: "), f"error line lacks the program prefix: {lines[0]!r}")
    for n in needles:
        check(n in lines[0], f"error line {lines[0]!r} does not mention {n!r}")
    return lines[0]


def main(tests):
    """Run test functions, each with a fresh Fleet; report and exit."""
    failed = 0
    for t in tests:
        fleet = Fleet()
        start = time.monotonic()
        try:
            t(fleet)
            print(f"ok   {t.__name__} ({time.monotonic() - start:.2f}s)")
        except SystemExit:
            raise
        except Exception as e:  # a failure or an unexpected error
            failed += 1
            print(f"FAIL {t.__name__}: {type(e).__name__}: {e}")
        finally:
            fleet.cleanup()
    print(f"{len(tests) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
