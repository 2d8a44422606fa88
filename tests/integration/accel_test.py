#!/usr/bin/python3
"""How `auto` picks the accelerator, on every kind of host, on any machine.

A fake qemu-system-x86_64 stands for the host: it logs each invocation and
runs the real QEMU, but under `-accel kvm` it behaves like one kind of KVM —
  good:    KVM works (the real QEMU runs the guest under TCG instead, so the
           test needs no /dev/kvm);
  nested:  `-cpu host` without `-arch-capabilities` aborts like a nested
           /dev/kvm ("failed to set MSR 0x10a", SIGABRT), Linux guests (an
           -initrd) hang, and runtime guests (virtio, no -initrd) crawl
           (QEMU's -icount slows the guest to a few million instructions
           a second);
  nokvm:   QEMU cannot initialise KVM at all.
FLEET_KVM_DEVICE points at a file this test owns, so the cheap device check
passes and the probes decide. The guests are the real hello guest, the
runtime's echo and cat, and a "Linux" catalog entry (kind=linux, the hello
kernel with an initrd); the snapshot cases use the real linux-sh image.
tests/integration/kvm_test.py is the same decision against the real KVM.
"""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

sys.path.append(os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "lib"))  # run by hand: HACKING.md
from fleet_test import paths  # noqa: E402
from fleet_test.check import check, skip  # noqa: E402
from fleet_test.fleet import Fleet, one_line_error  # noqa: E402
from fleet_test.router import Router, domain_xml  # noqa: E402
from fleet_test.runner import main  # noqa: E402
from fleet_test.virsh import virsh, virsh_ok  # noqa: E402

IMAGES = paths.IMAGES
REAL_QEMU = shutil.which("qemu-system-x86_64")

FAKE = r"""#!/bin/sh
# fake qemu-system-x86_64 for accel_test.py (mode @MODE@)
echo "$*" >> '@LOG@'
kvm=no cpu= linux=no virtio=no prev=
for a in "$@"; do
    case "$prev" in -accel) [ "$a" = kvm ] && kvm=yes ;; -cpu) cpu=$a ;; esac
    [ "$a" = -initrd ] && linux=yes
    [ "$a" = virtio-serial-device,max_ports=5 ] && virtio=yes
    prev=$a
done
slow=
if [ $kvm = yes ]; then
    case @MODE@ in
    nokvm)
        echo "Could not access KVM kernel module: No such file or directory" >&2
        echo "qemu-system-x86_64: -accel kvm: failed to initialize kvm: No such file or directory" >&2
        exit 1 ;;
    nested)
        case "$cpu" in
        *-arch-capabilities*) ;;
        *) echo "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69" >&2
           kill -ABRT $$ ;;
        esac
        [ $linux = yes ] && exec sleep 600
        [ $virtio = yes ] && slow=yes ;;
    esac
    # A KVM that works, played by TCG.
    n=$# prev=
    while [ $n -gt 0 ]; do
        a=$1 orig=$1; shift; n=$((n - 1))
        case "$prev" in -accel) a=tcg ;; -cpu) a=max ;; esac
        set -- "$@" "$a"; prev=$orig
    done
    [ -n "$slow" ] && set -- "$@" -icount shift=10,align=on
fi
exec '@REAL@' "$@"
"""


class Host:
    """A fake QEMU of one mode on PATH, a KVM device stand-in, a catalog with
    a Linux-kind entry, and the invocation log."""

    def __init__(self, fleet, mode):
        self.fleet = fleet
        self.dir = os.path.join(fleet.root, "host")
        os.makedirs(os.path.join(self.dir, "bin"))
        self.log = os.path.join(self.dir, "qemu.log")
        self.qemu = os.path.join(self.dir, "bin", "qemu-system-x86_64")
        self.set_mode(mode)
        kvm = os.path.join(self.dir, "kvm")
        open(kvm, "w").close()
        cat = os.path.join(self.dir, "images")
        os.makedirs(cat)
        initrd = os.path.join(cat, "initrd.cpio")
        with open(initrd, "wb") as f:
            f.write(b"\0" * 512)
        hello = os.path.abspath(os.path.join(IMAGES, "hello", "hello.elf"))
        with open(os.path.join(cat, "fakelinux.image"), "w") as f:
            f.write(f"name=fakelinux\nkind=linux\nkernel={hello}\ninitrd=initrd.cpio\nmemory=16M\nstdio=isa\n")
        # The fake QEMU lives in the test's private folder, and stands in for
        # the accelerator only: it runs as the caller (FLEET_QEMU_USER=root
        # keeps a root launcher's QEMU root; router-security tests the
        # confinement with the real QEMU).
        self.env = {"PATH": os.path.dirname(self.qemu) + ":" + fleet.env["PATH"], "FLEET_QEMU": "",
                    "FLEET_KVM_DEVICE": kvm, "FLEET_IMAGES": cat + ":" + IMAGES, "FLEET_QEMU_USER": "root"}
        fleet.env.update(self.env)
        fleet.env.pop("FLEET_ACCEL", None)

    def set_mode(self, mode):
        """(Re)write the fake as a new file renamed over the old: a QEMU upgrade."""
        text = FAKE.replace("@MODE@", mode).replace("@LOG@", self.log).replace("@REAL@", REAL_QEMU)
        tmp = self.qemu + ".new"
        with open(tmp, "w") as f:
            f.write(text)
        os.chmod(tmp, 0o755)
        os.rename(tmp, self.qemu)

    def calls(self):
        try:
            with open(self.log) as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    def probes(self):
        return [c for c in self.calls() if "guest=fleet-accel-probe" in c]

    def probe_cpus(self):
        return [c.split(" -cpu ")[1].split()[0] for c in self.probes()]

    def verdicts(self):
        return glob.glob(os.path.join(self.fleet.runtime, "accel", "*.json"))

    def run(self, *args, timeout=60):
        start = time.monotonic()
        p = self.fleet.vmm("run", *args, timeout=timeout)
        return p, time.monotonic() - start


def test_nested_falls_back_to_a_cpu_without_arch_capabilities_and_remembers(fleet):
    host = Host(fleet, "nested")
    p, first = host.run("-v", "hello", "one")
    check(p.returncode == 0 and p.stdout == b"hello one\n", f"{p}")
    check(b"runs under kvm* (-cpu host,-arch-capabilities; -cpu host fails here: failed to set MSR 0x10a" in p.stderr,
          f"stderr {p.stderr!r}")
    check(b"probed in" in p.stderr, f"stderr {p.stderr!r}")
    check(host.probe_cpus() == ["host", "host,-arch-capabilities"], f"probes {host.probe_cpus()}")
    check(len(host.calls()) == 3, f"{len(host.calls())} QEMU runs, wanted 2 probes + the VM")

    p, second = host.run("-v", "hello", "two")
    check(p.returncode == 0 and p.stdout == b"hello two\n", f"{p}")
    check(b"remembered from an earlier probe" in p.stderr, f"stderr {p.stderr!r}")
    check(len(host.probes()) == 2 and len(host.calls()) == 4, f"second start probed again: {host.calls()}")
    print(f"  nested host, hello with auto: first start {first * 1000:.0f} ms (probing), "
          f"second {second * 1000:.0f} ms (remembered)")

    name = fleet.vmm("start", "hello", "hold", check_rc=0).stdout.decode().strip()
    r = fleet.record(name)
    check(r["accel"] == "kvm" and r["cpu"] == "host,-arch-capabilities", f"record {r}")
    ls = fleet.vmm("ls", check_rc=0).stdout.decode()
    row = [l for l in ls.splitlines() if l.startswith(name)]
    check(row and row[0].split()[3] == "kvm*", f"ls:\n{ls}")
    check(f" -cpu host,-arch-capabilities " in host.calls()[-1], f"the VM ran with {host.calls()[-1]}")
    fleet.vmm("stop", name, check_rc=0)


def test_nested_linux_guest_runs_under_tcg_and_explicit_kvm_says_why(fleet):
    host = Host(fleet, "nested")
    p, first = host.run("-v", "fakelinux", "x")
    check(p.returncode == 0 and p.stdout == b"hello x\n", f"{p}")
    check(b"runs under tcg (KVM does not run this Linux kernel (booted to init's ready line) here" in p.stderr,
          f"stderr {p.stderr!r}")
    check(b"-cpu host,-arch-capabilities: not ready within 5.0 s" in p.stderr, f"stderr {p.stderr!r}")
    check(host.probe_cpus() == ["host", "host,-arch-capabilities"], f"probes {host.probe_cpus()}")
    check(" -accel tcg " in host.calls()[-1], f"the VM ran with {host.calls()[-1]}")

    p, second = host.run("fakelinux", "y")
    check(p.returncode == 0 and p.stdout == b"hello y\n", f"{p}")
    check(len(host.probes()) == 2, "the Linux verdict was not remembered")
    # The hello guest on the same host still gets KVM (a verdict of its own).
    p, _ = host.run("-v", "hello")
    check(b"runs under kvm*" in p.stderr and len(host.probes()) == 4, f"{p.stderr!r} {host.probe_cpus()}")

    for how in (["--accel", "kvm"], []):
        env = {} if how else {"FLEET_ACCEL": "kvm"}
        start = time.monotonic()
        p = fleet.vmm("run", *how, "fakelinux", "z", env=env)
        took = time.monotonic() - start
        one_line_error(p, "KVM does not run this Linux kernel", "use --accel tcg")
        check(p.returncode == 125 and took < 3, f"exit {p.returncode} after {took:.1f}s")
    check(len(host.probes()) == 4, "an explicit kvm probed again")
    print(f"  nested host, Linux guest with auto: first start {first:.1f} s (probing), second {second:.1f} s")


def test_nested_runtime_guest_that_crawls_runs_under_tcg(fleet):
    host = Host(fleet, "nested")
    p, first = host.run("-v", "echo", "hi")
    check(p.returncode == 0 and p.stdout == b"hi\n", f"{p}")
    check(b"runs under tcg (KVM does not run the runtime's cat (1 MiB piped through) here" in p.stderr,
          f"stderr {p.stderr!r}")
    check(b"slower than 2 MiB/s" in p.stderr or b"KiB piped through within" in p.stderr, f"stderr {p.stderr!r}")
    check(host.probe_cpus() == ["host", "host,-arch-capabilities"], f"probes {host.probe_cpus()}")
    p, second = host.run("echo", "again")
    check(p.returncode == 0 and p.stdout == b"again\n" and len(host.probes()) == 2, f"{p} {host.probe_cpus()}")
    print(f"  nested host, runtime guest with auto: first start {first:.1f} s (probing), second {second:.1f} s")


def test_without_kvm_auto_uses_tcg_and_explicit_kvm_fails_at_once(fleet):
    host = Host(fleet, "nokvm")
    p, _ = host.run("-v", "hello")
    check(p.returncode == 0 and p.stdout == b"hello\n", f"{p}")
    check(b"runs under tcg (KVM does not run the hello guest (booted, then its power button) here" in p.stderr,
          f"stderr {p.stderr!r}")
    check(b"failed to initialize kvm" in p.stderr, f"stderr {p.stderr!r}")
    check(len(host.probes()) == 2, f"probes {host.probe_cpus()}")
    start = time.monotonic()
    p = fleet.vmm("run", "--accel", "kvm", "hello")
    one_line_error(p, "failed to initialize kvm", "use --accel tcg")
    check(p.returncode == 125 and time.monotonic() - start < 2, f"exit {p.returncode}")
    check(len(host.probes()) == 2, "the verdict was not remembered")
    name = fleet.vmm("start", "hello", "hold", check_rc=0).stdout.decode().strip()
    r = fleet.record(name)
    check(r["accel"] == "tcg" and r["cpu"] == "max", f"record {r}")
    fleet.vmm("stop", name, check_rc=0)


def test_good_kvm_keeps_cpu_host_with_one_probe(fleet):
    host = Host(fleet, "good")
    p, _ = host.run("-v", "hello")
    check(p.returncode == 0 and b"runs under kvm (-cpu host; checked with the hello guest (booted, then its power button)" in p.stderr,
          f"{p}")
    p, _ = host.run("-v", "fakelinux")
    check(p.returncode == 0 and b"runs under kvm (-cpu host;" in p.stderr, f"{p}")
    p, _ = host.run("-v", "echo", "fast")
    check(p.returncode == 0 and p.stdout == b"fast\n", f"{p}")
    check(b"runs under kvm (-cpu host; checked with the runtime's cat (1 MiB piped through)" in p.stderr, f"{p}")
    # hello, the Linux kernel, the runtime's cat: one probe each
    check(host.probe_cpus() == ["host", "host", "host"], f"probes {host.probe_cpus()}")
    check(" -accel kvm -cpu host " in host.calls()[-1], f"the VM ran with {host.calls()[-1]}")


LINUX = "linux-sh"  # a real Linux image (images/linux), for the snapshot cases


def snapshot_run(host, name, *args):
    """fleet-vmm run --keep of LINUX: the result, and the snapshot it restored
    from (None: a cold boot), from the VM's vmm.log."""
    fleet = host.fleet
    p = fleet.vmm("run", "--keep", "--name", name, *args, timeout=120)
    with open(os.path.join(fleet.vm_dir(name), "vmm.log"), errors="replace") as f:
        m = re.search(r"restoring from snapshot (\S+)", f.read())
    fleet.vmm("rm", name, check_rc=0)
    return p, (m.group(1) if m else None)


def restores(host):
    return [c for c in host.calls() if " -incoming " in c]


def test_good_kvm_snapshots_are_kept_apart_by_accelerator(fleet):
    """A snapshot is the saved state of one accelerator and CPU model: a KVM
    host's is made and restored under -accel kvm -cpu host, and a start under
    TCG on the same host makes and uses its own, never the other's."""
    host = Host(fleet, "good")
    runs = {}
    for name, flags in (("kvm1", []), ("kvm2", []), ("tcg1", ["--accel", "tcg"]), ("tcg2", ["--accel", "tcg"]),
                        ("kvm3", [])):
        p, src = snapshot_run(host, name, *flags, LINUX, "-c", f"echo {name}")
        check(p.returncode == 0 and p.stdout == f"{name}\n".encode(), f"{name}: {p}")
        check(src is not None, f"{name} booted cold: {p.stderr!r}")
        runs[name] = src
        check(restores(host) and restores(host)[-1] == host.calls()[-1], f"{name}: the VM was not a restore")
        accel = "tcg -cpu max" if flags else "kvm -cpu host"
        check(f" -accel {accel} " in host.calls()[-1], f"{name} restored with {host.calls()[-1]}")
    check(runs["kvm1"] == runs["kvm2"] == runs["kvm3"], f"KVM starts used different snapshots: {runs}")
    check(runs["tcg1"] == runs["tcg2"] != runs["kvm1"], f"TCG and KVM shared a snapshot: {runs}")
    made = glob.glob(os.path.join(fleet.runtime, "snapshots", "*.vmstate"))
    check(len(made) == 2, f"one snapshot per accelerator: {made}")


def test_nested_host_snapshots_under_the_accelerator_its_verdict_names(fleet):
    """On a nested host a Linux kernel hangs under KVM, so auto settles on
    TCG: the snapshot is made and restored under TCG, after one probe."""
    host = Host(fleet, "nested")
    srcs = []
    for i in range(2):
        p, src = snapshot_run(host, f"n{i}", LINUX, "-c", f"echo n{i}")
        check(p.returncode == 0 and p.stdout == f"n{i}\n".encode(), f"n{i}: {p}")
        check(src is not None and " -accel tcg " in host.calls()[-1], f"n{i}: {src} {host.calls()[-1]}")
        srcs.append(src)
    check(srcs[0] == srcs[1], f"two snapshots on one host: {srcs}")
    check(len(host.probes()) == 2, f"probes {host.probe_cpus()}")


def test_a_pool_restores_under_kvm_and_under_tcg(fleet):
    """`pool start` on its default: a good KVM host's pool of a Linux image
    restores its VMs from the image's snapshot under -accel kvm, without a
    rehearsal; a host without KVM restores them under TCG and rehearses
    (pool.hpp, settle_pool_boot; vm.hpp, LaunchOptions::rehearse)."""
    host = Host(fleet, "good")
    for mode, boot in (("good", "snapshot"), ("nokvm", "snapshot")):
        host.set_mode(mode)  # another QEMU file: probed again (test_a_new_qemu_is_probed_again)
        try:
            fleet.vmm("pool", "start", "-n", "1", LINUX, timeout=120, check_rc=0)
            pools = {p["image"]: p for p in json.loads(fleet.vmm("pool", "ls", "--json", check_rc=0).stdout)}
            check(pools[LINUX]["boot"] == boot and pools[LINUX]["accel"] == ("kvm" if mode == "good" else "tcg"),
                  f"{mode}: pool ls {pools}")
            waiting = host.calls()[-1]
            check((" -incoming " in waiting) == (boot == "snapshot"), f"{mode}: the waiting VM's QEMU: {waiting}")
            if mode == "good":
                check(" -accel kvm -cpu host " in waiting, f"restored with {waiting}")
            logs = glob.glob(os.path.join(fleet.runtime, "pool", LINUX, "slots", "*", "vmm.log"))
            rehearsed = [b"rehearsed a start in" in open(f, "rb").read() for f in logs]
            check(rehearsed == [mode == "nokvm"], f"{mode}: rehearsed {rehearsed}")
            p = fleet.vmm("run", "-v", LINUX, "-c", "echo pooled", timeout=120)
            check(p.returncode == 0 and p.stdout == b"pooled\n" and b"from the warm pool" in p.stderr, f"{mode}: {p}")
        finally:
            fleet.vmm("pool", "stop", LINUX)


def test_a_new_qemu_is_probed_again(fleet):
    host = Host(fleet, "good")
    fleet.vmm("run", "hello", check_rc=0)
    check(host.probe_cpus() == ["host"], f"probes {host.probe_cpus()}")
    host.set_mode("nested")  # an upgrade: another file at the same path
    p = fleet.vmm("run", "-v", "hello", check_rc=0)
    check(host.probe_cpus() == ["host", "host", "host,-arch-capabilities"], f"probes {host.probe_cpus()}")
    check(b"kvm* (" in p.stderr, f"stderr {p.stderr!r}")


def test_a_corrupt_verdict_is_not_trusted(fleet):
    host = Host(fleet, "nested")
    fleet.vmm("run", "hello", check_rc=0)
    files = host.verdicts()
    check(len(files) == 1, f"verdict files {files}")
    for junk in (b"", b"{\"format\": \"fleet-accel-verdict/1\", \"key\"", b"\x00" * 300):
        with open(files[0], "wb") as f:
            f.write(junk)
        before = len(host.probes())
        p = fleet.vmm("run", "-v", "hello", check_rc=0)
        check(len(host.probes()) == before + 2, f"{junk!r}: probes {host.probe_cpus()}")
        check(b"kvm* (" in p.stderr, f"stderr {p.stderr!r}")
    # A verdict edited to put another CPU model on QEMU's command line.
    with open(files[0]) as f:
        text = f.read()
    with open(files[0], "w") as f:
        f.write(text.replace("host,-arch-capabilities", "host,+vmx"))
    fleet.vmm("run", "hello", check_rc=0)
    check("+vmx" not in "".join(host.calls()), "an edited verdict reached QEMU")


def test_concurrent_starts_probe_once(fleet):
    host = Host(fleet, "nested")
    procs = [fleet.popen("run", "hello", str(i), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         stdin=subprocess.DEVNULL) for i in range(4)]
    outs = [p.communicate(timeout=60) for p in procs]
    for i, (p, (out, err)) in enumerate(zip(procs, outs)):
        check(p.returncode == 0 and out == f"hello {i}\n".encode(), f"run {i}: exit {p.returncode} {out!r} {err!r}")
    check(host.probe_cpus() == ["host", "host,-arch-capabilities"], f"probes {host.probe_cpus()}")


def test_a_hang_under_kvm_keeps_the_boot_deadline(fleet):
    Host(fleet, "good")
    start = time.monotonic()
    p = fleet.vmm("run", "--boot-timeout", "1", "hello", "hang", timeout=30)
    one_line_error(p, "did not become ready within 1.0 s under kvm", "--accel tcg")
    check(p.returncode == 124 and time.monotonic() - start < 8, f"exit {p.returncode}")


def router_missing():
    """Why the router cases cannot run here, or None."""
    if not os.access(paths.ROUTER, os.X_OK):
        return f"no fleet-router at {paths.ROUTER}"
    if not os.access(paths.VIRSH, os.X_OK):
        return "virsh is not installed (apt-get install libvirt-clients)"
    return None


def router_case(fleet, mode, body):
    """A private fleet-router on the fake host: its QEMU, KVM stand-in and catalog."""
    host = Host(fleet, mode)

    def popen(argv, env, **kw):
        return subprocess.Popen(argv, env={**os.environ, **host.env, **env}, **kw)
    router = Router(extra_args=["--qemu", host.qemu], images=host.env["FLEET_IMAGES"], popen=popen)
    try:
        router.start()
        body(host, router, router.uri_unix)
    finally:
        router.cleanup()


def caps_offer_kvm(uri):
    caps = ET.fromstring(virsh_ok(uri, "capabilities"))
    return any(d.get("type") == "kvm" for d in caps.iter("domain"))


def create(router, uri, name, **kw):
    path = os.path.join(router.root, name + ".xml")
    with open(path, "w") as f:
        f.write(domain_xml(name, **kw))
    return virsh(uri, "create", path)


def test_router_on_a_nested_host(fleet):
    def body(host, router, uri):
        check(caps_offer_kvm(uri), "capabilities lack kvm although KVM boots the hello guest")
        p = create(router, uri, "k1", args=["hold"], type="kvm")
        check(p.returncode == 0, f"type='kvm' hello refused: {p.stderr!r}")
        check(router.record("k1")["cpu"] == "host,-arch-capabilities", f"record {router.record('k1')}")
        virsh_ok(uri, "destroy", "k1")
        p = create(router, uri, "k2", image="fakelinux", type="kvm")
        check(p.returncode != 0 and "KVM does not run this Linux kernel" in p.stderr
              and "type='qemu'" in p.stderr, f"type='kvm' Linux: {p.returncode} {p.stderr!r}")
        p = create(router, uri, "q2", image="fakelinux", args=["hold"], type="qemu")
        check(p.returncode == 0, f"type='qemu' Linux refused: {p.stderr!r}")
        virsh_ok(uri, "destroy", "q2")
    router_case(fleet, "nested", body)


def test_router_without_kvm(fleet):
    def body(host, router, uri):
        check(not caps_offer_kvm(uri), "capabilities offer kvm where QEMU cannot initialise it")
        p = create(router, uri, "k1", args=["hold"], type="kvm")
        check(p.returncode != 0 and "failed to initialize kvm" in p.stderr, f"{p.returncode} {p.stderr!r}")
        check(len(host.probes()) == 2, f"probes {host.probe_cpus()}")  # capabilities probed, start remembered
    router_case(fleet, "nokvm", body)


if __name__ == "__main__":
    if not REAL_QEMU:
        skip("qemu-system-x86_64 is not installed")
    if not os.path.exists(os.path.join(IMAGES, "hello", "hello.elf")):
        skip(f"the hello guest is not built in {IMAGES}")
    tests = [test_nested_falls_back_to_a_cpu_without_arch_capabilities_and_remembers,
             test_nested_linux_guest_runs_under_tcg_and_explicit_kvm_says_why,
             test_nested_runtime_guest_that_crawls_runs_under_tcg,
             test_without_kvm_auto_uses_tcg_and_explicit_kvm_fails_at_once,
             test_good_kvm_keeps_cpu_host_with_one_probe, test_a_new_qemu_is_probed_again,
             test_a_corrupt_verdict_is_not_trusted, test_concurrent_starts_probe_once,
             test_a_hang_under_kvm_keeps_the_boot_deadline]
    if os.path.exists(os.path.join(IMAGES, "linux", LINUX + ".image")):
        tests += [test_good_kvm_snapshots_are_kept_apart_by_accelerator,
                  test_nested_host_snapshots_under_the_accelerator_its_verdict_names,
                  test_a_pool_restores_under_kvm_and_under_tcg]
    else:
        print(f"note: the snapshot cases are left out: no {LINUX} image in {IMAGES} (the Linux images are not built)")
    why = router_missing()
    if why:
        print(f"note: the fleet-router cases are left out: {why}")
    else:
        tests += [test_router_on_a_nested_host, test_router_without_kvm]
    main(tests, lambda t: Fleet("accel"))
