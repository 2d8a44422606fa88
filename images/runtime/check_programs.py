#!/usr/bin/python3
"""Checks the fleet runtime programs (images/runtime) against the host's GNU
tools: same input, byte-exact output and the same exit status.

Environment (as in tests/integration/fleettest.py): FLEET_VMM (the launcher,
default `fleet-vmm`), FLEET_IMAGES (the catalog folder, e.g. build/images),
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

VMM = os.environ.get("FLEET_VMM", "fleet-vmm")
MiB = 1 << 20
MIN_CAT_MBPS = 20.0

root = tempfile.mkdtemp(prefix="fleet-rt-check-")
ENV = dict(os.environ)
ENV["FLEET_RUNTIME_DIR"] = os.path.join(root, "run")
ENV.setdefault("FLEET_ACCEL", "tcg")
HOST_ENV = dict(os.environ, LC_ALL="C")

passed = failed = 0


def report(ok, what, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {what}")
    else:
        failed += 1
        print(f"FAIL {what}{': ' + detail if detail else ''}")
    sys.stdout.flush()


def guest(args, data=b"", timeout=120):
    """fleet-vmm run ARGS with data on stdin -> (status, stdout, stderr, seconds).
    stdin and stdout are files, so the timing is the launcher's and the guest's."""
    with tempfile.TemporaryFile(dir=root) as fin, tempfile.TemporaryFile(dir=root) as fout:
        fin.write(data)
        fin.seek(0)
        t = time.monotonic()
        p = subprocess.run([VMM, "run", *args], stdin=fin, stdout=fout, stderr=subprocess.PIPE,
                           timeout=timeout, env=ENV)
        secs = time.monotonic() - t
        fout.seek(0)
        return p.returncode, fout.read(), p.stderr, secs


def host(args, data=b""):
    p = subprocess.run(args, input=data, capture_output=True, env=HOST_ENV)
    return p.returncode, p.stdout


def show(b):
    return repr(b[:80]) + ("..." if len(b) > 80 else "") + f" ({len(b)} bytes)"


def compare(name, gargs, hargs, data):
    try:
        rc, out, err, _ = guest(gargs, data)
    except subprocess.TimeoutExpired:
        return report(False, name, "timed out")
    hrc, hout = host(hargs, data)
    if rc != hrc or out != hout:
        report(False, name, f"guest status {rc} stdout {show(out)} stderr {err[-200:]!r}; "
                            f"host status {hrc} stdout {show(hout)}")
    else:
        report(True, name)


def main():
    text = b"".join(b"line %d: The quick brown fox jumps over the lazy dog.\tTabs\vand\fforms\r\n" % i
                    for i in range(200)) + b"no newline at the end"
    binary = bytes(range(256)) * 64
    rnd = os.urandom(16 * MiB)
    inputs = [("empty", b""), ("text", text), ("binary", binary), ("random-16MiB", rnd)]

    for label, data in inputs:
        try:
            rc, out, err, secs = guest(["cat"], data)
            ok = rc == 0 and out == data
            report(ok, f"cat <{label}>", "" if ok else f"status {rc}, {len(out)} of {len(data)} bytes, {err[-200:]!r}")
            if label == "random-16MiB" and ok:
                # Best of two, minus the best of two runs with no data (boot and exit).
                secs = min(secs, guest(["cat"], data)[3])
                boot = min(guest(["cat"], b"")[3] for _ in range(2))
                mbps = len(data) / 1e6 / max(secs - boot, 1e-3)
                report(mbps >= MIN_CAT_MBPS, f"cat throughput {mbps:.0f} MB/s (16 MiB in {secs:.2f} s, "
                       f"empty run {boot:.2f} s; floor {MIN_CAT_MBPS:.0f} MB/s)")
        except subprocess.TimeoutExpired:
            report(False, f"cat <{label}>", "timed out")
        compare(f"wc <{label}>", ["wc"], ["wc"], data)
        compare(f"wc -l <{label}>", ["wc", "-l"], ["wc", "-l"], data)
        compare(f"wc -w -c <{label}>", ["wc", "-w", "-c"], ["wc", "-w", "-c"], data)
        compare(f"upper <{label}>", ["upper"], ["tr", "a-z", "A-Z"], data)
        compare(f"head -n 3 <{label}>", ["head", "-n", "3"], ["head", "-n", "3"], data)
        compare(f"head <{label}>", ["head"], ["head"], data)
        compare(f"sha256sum <{label}>", ["sha256sum"], ["sha256sum"], data)

    compare("head -n3 (attached)", ["head", "-n3"], ["head", "-n3"], text)
    compare("head -c 100", ["head", "-c", "100"], ["head", "-c", "100"], text)
    compare("head -n 0", ["head", "-n", "0"], ["head", "-n", "0"], text)
    compare("echo a b", ["echo", "a", "b"], ["/bin/echo", "a", "b"], b"")
    compare("echo (no args)", ["echo"], ["/bin/echo"], b"")
    compare("echo -n x", ["echo", "-n", "x"], ["/bin/echo", "-n", "x"], b"")
    compare(r"echo -e a\tb\x41\0101", ["echo", "-e", r"a\tb\x41\0101"], ["/bin/echo", "-e", r"a\tb\x41\0101"], b"")
    for st in ("0", "7", "255"):
        compare(f"exit {st}", ["exit", st], ["sh", "-c", f"exit {st}"], b"")
    compare("cat with an argument fails", ["cat", "file"], ["sh", "-c", "exit 1"], b"")

    rc, out, err, secs = guest(["sleep", "0.5"])
    report(rc == 0 and out == b"" and 0.5 <= secs < 3, f"sleep 0.5 (status {rc}, {secs:.2f} s)")
    rc, out, err, secs = guest(["sleep", "x"])
    report(rc == 1 and b"invalid time interval" in err, f"sleep x fails (status {rc})")

    # yes | head -c 1M: the launcher sees its stdout closed and ends the VM.
    for args in (["yes"], ["yes", "a", "b"]):
        p = subprocess.Popen([VMM, "run", *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=ENV)
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
        report(got == want, f"{' '.join(args)} | head -c 1M", "" if got == want else f"got {show(got)}")

    # The power button (SIGINT to `fleet-vmm run`): a sleeping program ends
    # with status 143 at once.
    p = subprocess.Popen([VMM, "run", "sleep", "60"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=ENV)
    time.sleep(1.5)
    t = time.monotonic()
    p.send_signal(signal.SIGINT)
    try:
        p.communicate(timeout=10)
        took = time.monotonic() - t
        report(p.returncode == 143 and took < 5, f"power button ends sleep 60 (status {p.returncode}, {took:.2f} s)")
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        report(False, "power button ends sleep 60", "still running after 10 s")


if __name__ == "__main__":
    if not shutil.which(VMM) and not os.path.exists(VMM):
        print(f"SKIP: fleet-vmm not found ({VMM}); set FLEET_VMM")
        sys.exit(77)
    try:
        main()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
