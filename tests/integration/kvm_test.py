#!/usr/bin/python3
"""fleet-vmm under the real KVM, where this machine has a /dev/kvm.

The ground truth is raw QEMU: the hello guest booted by hand under KVM with
`-cpu host`, then with `-cpu host,-arch-capabilities` (what a nested
/dev/kvm needs), its power button pressed over QMP. fleet must choose the
first CPU model that passes (`host` on an ordinary KVM host), or — where
none does, as on a nested /dev/kvm that aborts with `-cpu host` and fails
to emulate the guest's `iret` with the other — TCG for `auto` and a
one-line refusal for an explicit `--accel kvm`: never exit 134, never a
hang. Runtime and Linux guests must run under `auto` and either run under
an explicit `--accel kvm` or be refused at once, as `auto` said. Skipped
(77) only where /dev/kvm is missing or cannot be opened; accel_test.py
covers the decision with a fake QEMU everywhere.
"""
import os
import shlex
import subprocess
import sys
import tempfile
import time

sys.path.append(os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "lib"))  # run by hand: HACKING.md
from fleet_test import paths  # noqa: E402
from fleet_test.check import check, skip  # noqa: E402
from fleet_test.fleet import Fleet, one_line_error  # noqa: E402
from fleet_test.runner import main  # noqa: E402

IMAGES = paths.IMAGES
KVM_CPU = None  # the CPU model raw QEMU runs the hello guest with under KVM, or None


def raw_hello(cpu, fleet):
    """Raw QEMU, KVM, this CPU model: does hello boot, take its power button
    and power off? (its stdout and stderr in files, QMP on stdio)"""
    line = fleet.vmm("cmdline", "--accel", "tcg", "hello", "hold", check_rc=0).stdout.decode()
    argv = shlex.split(line)
    argv[argv.index("-accel") + 1] = "kvm"
    argv[argv.index("-cpu") + 1] = cpu
    with tempfile.TemporaryDirectory(dir="/dev/shm") as d:
        out, err = os.path.join(d, "out"), os.path.join(d, "err")
        argv = [a.replace("stdio,id=", f"file,path={out},id=").replace("file,path=/dev/stderr,id=",
                                                                        f"file,path={err},id=") for a in argv]
        p = subprocess.Popen(argv + ["-qmp", "stdio"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        try:
            p.stdin.write(b'{"execute":"qmp_capabilities"}\n')
            p.stdin.flush()
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and p.poll() is None:
                if os.path.exists(out) and os.path.getsize(out) > 0:
                    break
                time.sleep(0.02)
            if p.poll() is not None:
                return False  # it did not even boot (QEMU aborted)
            p.stdin.write(b'{"execute":"system_powerdown"}\n')
            p.stdin.flush()
            p.wait(timeout=5)
        except (subprocess.TimeoutExpired, BrokenPipeError):
            return False
        finally:
            if p.poll() is None:
                p.kill()
            p.wait()
        with open(err, "rb") as f:
            return p.returncode == 0 and b"hello: power button" in f.read()


def kvm_cpu_or_skip(fleet):
    device = os.environ.get("FLEET_KVM_DEVICE") or "/dev/kvm"  # fleet-vmm's own override
    try:
        os.close(os.open(device, os.O_RDWR | os.O_CLOEXEC))
    except OSError as e:
        skip(f"KVM is not usable on this machine ({device}: {e.strerror}); accel_test.py covers the fallback")
    for cpu in ("host", "host,-arch-capabilities"):
        if raw_hello(cpu, fleet):
            return cpu
    return None


def test_hello_as_raw_qemu_says(fleet):
    p = fleet.vmm("run", "-v", "hello", "exit=5")
    check(p.returncode == 5 and p.stdout == b"hello exit=5\n", f"auto: {p}")
    if KVM_CPU:
        label = b"kvm" if KVM_CPU == "host" else b"kvm*"
        check(b"runs under " + label + b" (-cpu " + KVM_CPU.encode() + b";" in p.stderr, f"stderr {p.stderr!r}")
        p = fleet.vmm("run", "--accel", "kvm", "hello", "again")
        check(p.returncode == 0 and p.stdout == b"hello again\n", f"--accel kvm: {p}")
    else:
        check(b"runs under tcg (KVM does not run the hello guest" in p.stderr, f"stderr {p.stderr!r}")
        for how, env in ((["--accel", "kvm"], {}), ([], {"FLEET_ACCEL": "kvm"})):
            start = time.monotonic()
            p = fleet.vmm("run", *how, "hello", env=env)
            one_line_error(p, "KVM does not run the hello guest", "use --accel tcg")
            check(p.returncode == 125 and time.monotonic() - start < 2, f"exit {p.returncode}")


def test_auto_records_the_choice_and_stop_works(fleet):
    name = fleet.vmm("start", "--accel", "auto", "hello", "hold", check_rc=0).stdout.decode().strip()
    r = fleet.record(name)
    want = ("kvm", KVM_CPU) if KVM_CPU else ("tcg", "max")
    check((r["accel"], r["cpu"]) == want, f"auto chose {r['accel']} -cpu {r['cpu']}, raw QEMU says {want}")
    row = [l for l in fleet.vmm("ls", check_rc=0).stdout.splitlines() if l.startswith(name.encode())]
    label = b"tcg" if not KVM_CPU else b"kvm" if KVM_CPU == "host" else b"kvm*"
    check(row and row[0].split()[3] == label, f"ls row {row}")
    start = time.monotonic()
    fleet.vmm("stop", name, check_rc=0)
    r = fleet.record(name)
    check(r["exit_reason"] == "exit" and time.monotonic() - start < 5, f"stop: {r}")


def runs_or_is_refused(fleet, image, args, want, needle):
    """auto runs it; an explicit kvm runs it too if auto chose KVM, else is
    refused at once with the reason."""
    start = time.monotonic()
    p = fleet.vmm("run", "-v", image, *args, timeout=120)
    took = time.monotonic() - start
    check(p.returncode == 0 and p.stdout == want, f"auto: {p}")
    under_kvm = b"runs under kvm" in p.stderr
    check(under_kvm or needle.encode() in p.stderr, f"stderr {p.stderr!r}")
    start = time.monotonic()
    p = fleet.vmm("run", "--accel", "kvm", image, *args, timeout=120)
    took_kvm = time.monotonic() - start
    if under_kvm:
        check(p.returncode == 0 and p.stdout == want, f"--accel kvm: {p}")
    else:
        one_line_error(p, needle, "use --accel tcg")
        check(p.returncode == 125 and took_kvm < 2, f"exit {p.returncode} after {took_kvm:.1f}s")
    print(f"  {image} under {'kvm' if under_kvm else 'tcg'}: first run {took:.1f} s, --accel kvm {took_kvm:.1f} s")


def test_a_runtime_guest(fleet):
    runs_or_is_refused(fleet, "echo", ["under", "kvm"], b"under kvm\n", "KVM does not run the runtime's cat")


def test_a_linux_guest(fleet):
    runs_or_is_refused(fleet, "linux-echo", ["hi"], b"hi\n", "KVM does not run this Linux kernel")


if __name__ == "__main__":
    os.environ["FLEET_ACCEL"] = "auto"  # meson's integration environment says tcg
    f = Fleet("kvm")
    try:
        KVM_CPU = kvm_cpu_or_skip(f)
    finally:
        f.cleanup()
    print(f"raw QEMU runs the hello guest under KVM with -cpu {KVM_CPU}" if KVM_CPU else
          "raw QEMU runs the hello guest under KVM with neither -cpu host nor host,-arch-capabilities")
    tests = [test_hello_as_raw_qemu_says, test_auto_records_the_choice_and_stop_works, test_a_runtime_guest]
    if os.path.exists(os.path.join(IMAGES, "linux", "linux-echo.image")):
        tests.append(test_a_linux_guest)
    else:
        print(f"note: no Linux images in {IMAGES!r}; the Linux case is left out")
    main(tests, lambda t: Fleet("kvm"))
