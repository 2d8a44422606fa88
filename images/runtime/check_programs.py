#!/usr/bin/python3
"""Checks the fleet runtime programs (images/runtime) against the host's GNU
tools: same input, byte-exact output and the same exit status.

Environment (as for every test, tests/lib/fleet_test/paths.py): FLEET_VMM (the launcher,
default build/vmm/fleet-vmm), FLEET_IMAGES (the catalog folder, e.g. build/images),
FLEET_ACCEL (default tcg).  Each run gets a private FLEET_RUNTIME_DIR.
Host tools run with LC_ALL=C and read a pipe (GNU wc pads counts to 7 columns
for a pipe, which is what the guest sees).  Prints one line per check, then
`N passed, N failed`; exits 0 if all passed, 1 otherwise.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.append(os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "..", "tests", "lib"))  # by hand
from fleet_test.fleet import Fleet  # noqa: E402
from fleet_test.paths import VMM  # noqa: E402
from fleet_test.runner import Tally  # noqa: E402

MiB = 1 << 20
MIN_CAT_MBPS = 20.0
HOST_ENV = dict(os.environ, LC_ALL="C")


class Programs(Tally):
    """The checks' tally, and the runtime folder every guest runs in."""

    def __init__(self, fleet):
        super().__init__()
        self.fleet = fleet

    def guest(self, args, data=b"", timeout=120):
        """fleet-vmm run ARGS with data on stdin -> (status, stdout, stderr, seconds).
        stdin and stdout are files, so the timing is the launcher's and the guest's."""
        with tempfile.TemporaryFile(dir=self.fleet.root) as fin, tempfile.TemporaryFile(dir=self.fleet.root) as fout:
            fin.write(data)
            fin.seek(0)
            t = time.monotonic()
            p = subprocess.run([VMM, "run", *args], stdin=fin, stdout=fout, stderr=subprocess.PIPE,
                               timeout=timeout, env=self.fleet.env)
            secs = time.monotonic() - t
            fout.seek(0)
            return p.returncode, fout.read(), p.stderr, secs

    def compare(self, name, gargs, hargs, data):
        try:
            rc, out, err, _ = self.guest(gargs, data)
        except subprocess.TimeoutExpired:
            return self.report(False, name, "timed out")
        hrc, hout = host(hargs, data)
        if rc != hrc or out != hout:
            self.report(False, name, f"guest status {rc} stdout {show(out)} stderr {err[-200:]!r}; "
                                     f"host status {hrc} stdout {show(hout)}")
        else:
            self.report(True, name)


def host(args, data=b""):
    p = subprocess.run(args, input=data, capture_output=True, env=HOST_ENV)
    return p.returncode, p.stdout


def show(b):
    return repr(b[:80]) + ("..." if len(b) > 80 else "") + f" ({len(b)} bytes)"


def check_all(c):
    text = b"".join(b"line %d: The quick brown fox jumps over the lazy dog.\tTabs\vand\fforms\r\n" % i
                    for i in range(200)) + b"no newline at the end"
    binary = bytes(range(256)) * 64
    rnd = os.urandom(16 * MiB)
    inputs = [("empty", b""), ("text", text), ("binary", binary), ("random-16MiB", rnd)]

    for label, data in inputs:
        try:
            rc, out, err, secs = c.guest(["cat"], data)
            ok = rc == 0 and out == data
            c.report(ok, f"cat <{label}>",
                     "" if ok else f"status {rc}, {len(out)} of {len(data)} bytes, {err[-200:]!r}")
            if label == "random-16MiB" and ok:
                # Best of two, minus the best of two runs with no data (boot and exit).
                secs = min(secs, c.guest(["cat"], data)[3])
                boot = min(c.guest(["cat"], b"")[3] for _ in range(2))
                mbps = len(data) / 1e6 / max(secs - boot, 1e-3)
                c.report(mbps >= MIN_CAT_MBPS, f"cat throughput {mbps:.0f} MB/s (16 MiB in {secs:.2f} s, "
                       f"empty run {boot:.2f} s; floor {MIN_CAT_MBPS:.0f} MB/s)")
        except subprocess.TimeoutExpired:
            c.report(False, f"cat <{label}>", "timed out")
        c.compare(f"wc <{label}>", ["wc"], ["wc"], data)
        c.compare(f"wc -l <{label}>", ["wc", "-l"], ["wc", "-l"], data)
        c.compare(f"wc -w -c <{label}>", ["wc", "-w", "-c"], ["wc", "-w", "-c"], data)
        c.compare(f"upper <{label}>", ["upper"], ["tr", "a-z", "A-Z"], data)
        c.compare(f"head -n 3 <{label}>", ["head", "-n", "3"], ["head", "-n", "3"], data)
        c.compare(f"head <{label}>", ["head"], ["head"], data)
        c.compare(f"sha256sum <{label}>", ["sha256sum"], ["sha256sum"], data)

    c.compare("head -n3 (attached)", ["head", "-n3"], ["head", "-n3"], text)
    c.compare("head -c 100", ["head", "-c", "100"], ["head", "-c", "100"], text)
    c.compare("head -n 0", ["head", "-n", "0"], ["head", "-n", "0"], text)
    c.compare("echo a b", ["echo", "a", "b"], ["/bin/echo", "a", "b"], b"")
    c.compare("echo (no args)", ["echo"], ["/bin/echo"], b"")
    c.compare("echo -n x", ["echo", "-n", "x"], ["/bin/echo", "-n", "x"], b"")
    c.compare(r"echo -e a\tb\x41\0101", ["echo", "-e", r"a\tb\x41\0101"], ["/bin/echo", "-e", r"a\tb\x41\0101"], b"")
    for st in ("0", "7", "255"):
        c.compare(f"exit {st}", ["exit", st], ["sh", "-c", f"exit {st}"], b"")
    c.compare("cat with an argument fails", ["cat", "file"], ["sh", "-c", "exit 1"], b"")

    rc, out, err, secs = c.guest(["sleep", "0.5"])
    c.report(rc == 0 and out == b"" and 0.5 <= secs < 3, f"sleep 0.5 (status {rc}, {secs:.2f} s)")
    rc, out, err, secs = c.guest(["sleep", "x"])
    c.report(rc == 1 and b"invalid time interval" in err, f"sleep x fails (status {rc})")

    # yes | head -c 1M: the launcher sees its stdout closed and ends the VM.
    for args in (["yes"], ["yes", "a", "b"]):
        p = c.fleet.popen("run", *args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        got = b""
        try:
            while len(got) < MiB:
                chunk = p.stdout.read(min(65536, MiB - len(got)))
                if not chunk:
                    break
                got += chunk
        finally:
            p.stdout.close()
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        want = host(["sh", "-c", "yes " + " ".join(args[1:]) + " | head -c 1048576"])[1]
        c.report(got == want, f"{' '.join(args)} | head -c 1M", "" if got == want else f"got {show(got)}")

    # Arguments and the environment come in the exec block: any bytes but NUL.
    odd = ["a  b", "", "it's \"q\"", "new\nline", "h\u00e9llo \u2713", "\ttab"]
    c.compare("echo with odd arguments", ["echo", *odd], ["/bin/echo", *odd], b"")
    many = [str(i) for i in range(4096)]
    c.compare("echo 4096 arguments", ["echo", *many], ["/bin/echo", *many], b"")
    big = "x" * (120 * 1024)
    c.compare("echo a 120 KiB argument", ["echo", big], ["/bin/echo", big], b"")
    rc, out, err, secs = c.guest(["-e", "A=x y", "-e", "NL=a\nb", "-e", "EMPTY=", "env"])
    c.report(rc == 0 and out == b"A=x y\nNL=a\nb\nEMPTY=\n", f"env round trip (status {rc})", show(out))
    rc, out, err, secs = c.guest(["-e", "A=1", "env", "A", "B"])
    c.report(rc == 1 and out == b"1\n", f"getenv (status {rc})", show(out))

    # Signals from the host (fleet-vmm kill -s): 128 + N, as a shell reports it.
    for sig, status in (("TERM", 143), ("INT", 130), ("HUP", 129), ("KILL", 137)):
        name = f"rt-sig-{sig.lower()}"
        c.fleet.vmm("start", "-n", name, "sleep", "60")
        c.fleet.vmm("kill", "-s", sig, name, timeout=30)
        p = c.fleet.vmm("wait", name, timeout=30)
        c.fleet.vmm("rm", name, timeout=30)
        c.report(p.returncode == status, f"kill -s {sig} ends sleep 60 (status {p.returncode}, wanted {status})")

    # Ctrl-C (SIGINT to `fleet-vmm run`): the program gets SIGINT and a
    # sleeping one ends with status 130 at once.
    p = c.fleet.popen("run", "sleep", "60", stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                     stderr=subprocess.PIPE)
    time.sleep(1.5)
    t = time.monotonic()
    p.send_signal(signal.SIGINT)
    try:
        p.communicate(timeout=10)
        took = time.monotonic() - t
        c.report(p.returncode == 130 and took < 5, f"Ctrl-C ends sleep 60 (status {p.returncode}, {took:.2f} s)")
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        c.report(False, "Ctrl-C ends sleep 60", "still running after 10 s")

    # The power button of a power=ctl image: QEMU has no ACPI, `fleet-vmm
    # stop` sends the ctl line "power" and the program's default action
    # ends it with 143, long before the stop deadline's kill (137).
    line = c.fleet.vmm("cmdline", "sleep", "60", timeout=30).stdout.decode()
    c.report("acpi=off" in line, "a power=ctl image's QEMU has no ACPI", "" if "acpi=off" in line else line[:200])
    name = c.fleet.vmm("start", "sleep", "60", timeout=30).stdout.decode().strip()
    time.sleep(1.0)
    t = time.monotonic()
    c.fleet.vmm("stop", "--timeout", "20", name, timeout=60)
    took = time.monotonic() - t
    rec = c.fleet.record(name)
    ok = rec["exit_status"] == 143 and took < 10
    c.report(ok, f"stop presses the power button on ctl (status {rec['exit_status']}, {rec['exit_reason']}, "
                 f"{took:.2f} s)")
    c.fleet.vmm("rm", name, timeout=30)


if __name__ == "__main__":
    if not shutil.which(VMM) and not os.path.exists(VMM):
        print(f"SKIP: fleet-vmm not found ({VMM}); set FLEET_VMM")
        sys.exit(77)
    checks = Programs(Fleet("runtime-programs"))
    try:
        check_all(checks)
    finally:
        checks.fleet.cleanup()
    checks.finish()
