#!/usr/bin/python3
"""Snapshot restore (vmm/snapshot.hpp): a Linux guest started from a saved
boot behaves exactly like a cold one, has its own RNG and a true clock, and
a damaged or stale snapshot is never used. Real QEMU under TCG; every run
has fleet-vmm's boot timeout and the test's own timeout."""
import glob
import os
import re
import shutil
import sys
import time

sys.path.append(os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "lib"))  # run by hand: HACKING.md
from fleet_test import paths  # noqa: E402
from fleet_test.check import check, skip  # noqa: E402
from fleet_test.fleet import Fleet  # noqa: E402
from fleet_test.runner import main  # noqa: E402

IMAGE = "linux-sh"


def need_linux():
    if not os.path.exists(os.path.join(paths.IMAGES, "linux", IMAGE + ".image")):
        skip(f"no {IMAGE} image in {paths.IMAGES} (the Linux images are not built)")


def snapshots(fleet):
    return sorted(glob.glob(os.path.join(fleet.runtime, "snapshots", "*.vmstate")))


def run_kept(fleet, name, *args, input=b"", flags=(), images=None, env=None, log=None):
    """fleet-vmm run --keep: the result and what vmm.log says about snapshots
    (and the log itself into the list `log`, if given)."""
    glob_flags = ["--images", images] if images else []
    p = fleet.vmm(*glob_flags, "run", "--keep", "--name", name, *flags, *args, input=input, timeout=120, env=env)
    with open(os.path.join(fleet.vm_dir(name), "vmm.log"), errors="replace") as f:
        text = f.read()
    if log is not None:
        log.append(text)
    fleet.vmm("rm", name, check_rc=0)
    m = re.search(r"restoring from snapshot (\S+)", text)
    return p, (m.group(1) if m else None)


CASES = [  # (arguments after the image, stdin, expected stdout, expected status)
    (["-c", "echo hello from the guest"], b"", b"hello from the guest\n", 0),
    (["-c", "cat"], b"some input\nover two lines\n", b"some input\nover two lines\n", 0),
    (["-c", "exit 3"], b"", b"", 3),
    (["-c", 'echo "$GREETING $PATH"'], b"", b"hi there /bin:/sbin:/usr/bin:/usr/sbin\n", 0),
]


def test_restored_guest_runs_like_a_cold_one(fleet):
    need_linux()
    env = ["-e", "GREETING=hi there"]
    for i, (args, stdin, out, status) in enumerate(CASES):
        cold, src = run_kept(fleet, f"cold{i}", *env, IMAGE, *args, input=stdin, flags=["--no-snapshot"])
        check(src is None, f"--no-snapshot restored from {src}")
        warm, src = run_kept(fleet, f"warm{i}", *env, IMAGE, *args, input=stdin)
        check(src is not None, "the default for a Linux image did not restore from a snapshot")
        for name, p in (("cold", cold), ("restored", warm)):
            check(p.returncode == status and p.stdout == out and p.stderr == b"",
                  f"{name} {args}: exit {p.returncode} stdout {p.stdout!r} stderr {p.stderr!r}")
    check(len(snapshots(fleet)) == 1, f"one image, one snapshot: {snapshots(fleet)}")


def test_each_restore_has_its_own_rng_and_the_right_clock(fleet):
    need_linux()
    outs = []
    for i in range(2):
        p, src = run_kept(fleet, f"rng{i}", IMAGE, "-c", "head -c 16 /dev/urandom | od -An -tx1; date +%s")
        check(p.returncode == 0 and src, f"run {i}: exit {p.returncode}, source {src}, stderr {p.stderr!r}")
        lines = p.stdout.decode().split("\n")
        guest_time = int(lines[-2])
        check(abs(guest_time - time.time()) < 30, f"guest clock {guest_time}, host {time.time():.0f}")
        outs.append(lines[0])
        if i == 0:
            time.sleep(2)  # the clock must follow the host, not the snapshot
    check(outs[0] != outs[1], f"two restores gave the same random bytes: {outs}")


def test_the_ram_is_mapped_or_copied_never_written(fleet):
    """A QEMU of the launcher's own user maps the snapshot's RAM from the
    file, privately; a confined one (fleet-qemu, under root) gets a copy.
    Either way the guest writes its RAM and the file stays as it was."""
    need_linux()
    ways = [("mapped", {"FLEET_QEMU_USER": "root"}, "RAM mapped from the file")]
    if os.geteuid() == 0:
        ways.append(("copied", {}, "RAM copied for a confined QEMU"))
    p, src = run_kept(fleet, "build", IMAGE, "-c", "true")
    check(p.returncode == 0 and src, f"first run: exit {p.returncode}, source {src}, stderr {p.stderr!r}")
    before = os.stat(src)
    # The guest fills 16 MiB of its RAM (page cache) and reads it back.
    script = "dd if=/dev/zero bs=1M count=16 2>/dev/null | tr '\\0' x > /tmp/f; wc -c < /tmp/f; echo done"
    for way, env, said in ways:
        log = []
        p, got = run_kept(fleet, way, IMAGE, "-c", script, env=env, log=log)
        check(p.returncode == 0 and p.stdout == b"16777216\ndone\n" and got == src,
              f"{way}: exit {p.returncode} stdout {p.stdout!r} source {got} stderr {p.stderr!r}")
        check(said in log[0], f"{way}: vmm.log says {log[0]!r}")
        after = os.stat(src)
        check((after.st_size, after.st_mtime_ns, after.st_ctime_ns) ==
              (before.st_size, before.st_mtime_ns, before.st_ctime_ns), f"{way}: the restore changed {src}")
    p, got = run_kept(fleet, "again", IMAGE, "-c", "echo same")
    check(p.returncode == 0 and p.stdout == b"same\n" and got == src and p.stderr == b"",
          f"after both: exit {p.returncode} {p.stdout!r} source {got} stderr {p.stderr!r}")


def test_shared_folders_restore_from_one_snapshot(fleet):
    """A start with shared folders restores too: the mount points come in
    the exec block, so one snapshot serves every start with the same number
    of shares, wherever the folders are, read-only or read-write."""
    need_linux()
    src, out = os.path.join(fleet.root, "src"), os.path.join(fleet.root, "out")
    os.mkdir(src)
    os.mkdir(out)
    with open(os.path.join(src, "in.txt"), "w") as f:
        f.write("from the host\n")
    os.chmod(src, 0o755)  # a confined QEMU (fleet-qemu) opens the share itself
    os.chmod(out, 0o777 if os.geteuid() == 0 else 0o755)  # and writes as fleet-qemu
    script = "cat in.txt; pwd; cat /proc/cmdline"
    sources = []
    for name in ("first", "second"):  # the first builds it, the second restores it
        p, got = run_kept(fleet, name, "--share", f"{src}:/src", IMAGE, "-c", script)
        lines = p.stdout.decode().split("\n")
        check(p.returncode == 0 and lines[:2] == ["from the host", "/src"] and p.stderr == b"",
              f"{name}: exit {p.returncode} stdout {p.stdout!r} stderr {p.stderr!r}")
        check("fleet.share" not in lines[2] and fleet.root not in lines[2],
              f"{name}: a share on the command line: {lines[2]!r}")
        sources.append(got)
    check(sources[0] and sources[0] == sources[1], f"the share did not restore from one snapshot: {sources}")
    # Another folder, mounted elsewhere and read-write: the same snapshot.
    p, got = run_kept(fleet, "rw", "--share", f"{out}:/elsewhere/out:rw", IMAGE, "-c", "echo made > new; pwd")
    check(p.returncode == 0 and p.stdout == b"/elsewhere/out\n" and got == sources[0],
          f"rw: exit {p.returncode} stdout {p.stdout!r} source {got} stderr {p.stderr!r}")
    with open(os.path.join(out, "new")) as f:
        check(f.read() == "made\n", "the read-write share did not get the file")
    # The read-only one stays read-only after a restore.
    p, got = run_kept(fleet, "ro", "--share", f"{src}:/src", IMAGE, "-c", "echo x > in.txt")
    check(p.returncode != 0 and got == sources[0], f"ro: exit {p.returncode} source {got}")
    with open(os.path.join(src, "in.txt")) as f:
        check(f.read() == "from the host\n", "a read-only share was written after a restore")
    # Two shares are other devices: a snapshot of their own; both mount.
    p, got = run_kept(fleet, "two", "--share", f"{src}:/a", "--share", f"{out}:/b:rw", "-w", "/b", IMAGE,
                      "-c", "cat /a/in.txt > copied; pwd")
    check(p.returncode == 0 and p.stdout == b"/b\n" and got and got != sources[0],
          f"two: exit {p.returncode} stdout {p.stdout!r} source {got} stderr {p.stderr!r}")
    with open(os.path.join(out, "copied")) as f:
        check(f.read() == "from the host\n", "two shares: the copy did not arrive")
    check(len(snapshots(fleet)) == 2, f"one snapshot per number of shares: {snapshots(fleet)}")


def test_damaged_snapshot_boots_cold_with_a_note(fleet):
    need_linux()
    p, src = run_kept(fleet, "build", IMAGE, "-c", "true")
    check(p.returncode == 0 and src, f"first run: exit {p.returncode}, source {src}")
    (stream,) = snapshots(fleet)
    size = os.path.getsize(stream)
    for damage in ("truncate", "garble"):
        if damage == "truncate":
            os.truncate(stream, size // 2)
        else:
            with open(stream, "r+b") as f:
                f.seek(size // 3)
                f.write(os.urandom(4096))
        p, src = run_kept(fleet, "after-" + damage, IMAGE, "-c", "echo still right")
        err = p.stderr.decode()
        check(p.returncode == 0 and p.stdout == b"still right\n", f"{damage}: exit {p.returncode} {p.stdout!r}")
        check(src is None and "not used" in err and "booting cold" in err, f"{damage}: source {src}, stderr {err!r}")
        p, src = run_kept(fleet, "rebuilt-" + damage, IMAGE, "-c", "echo rebuilt")
        check(p.returncode == 0 and p.stdout == b"rebuilt\n" and src == stream and p.stderr == b"",
              f"{damage}, next start: exit {p.returncode} {p.stdout!r} source {src} stderr {p.stderr!r}")
        size = os.path.getsize(stream)


def test_a_changed_kernel_makes_a_new_snapshot(fleet):
    need_linux()
    catalog = os.path.join(fleet.root, "catalog")
    os.mkdir(catalog)
    entry = {}
    with open(os.path.join(paths.IMAGES, "linux", IMAGE + ".image")) as f:
        for line in f:
            if "=" in line and not line.startswith("#"):
                k, v = line.rstrip("\n").split("=", 1)
                entry[k] = v
    src_dir = os.path.join(paths.IMAGES, "linux")
    for key in ("kernel", "initrd"):
        path = entry[key] if os.path.isabs(entry[key]) else os.path.join(src_dir, entry[key])
        shutil.copy(path, os.path.join(catalog, os.path.basename(path)))
        entry[key] = os.path.basename(path)
    with open(os.path.join(catalog, "mine.image"), "w") as f:
        f.writelines(f"{k}={v}\n" for k, v in entry.items() if k != "name")
        f.write("name=mine\n")
    first = run_kept(fleet, "k1", "mine", "-c", "echo one", images=catalog)
    check(first[0].returncode == 0 and first[0].stdout == b"one\n" and first[1], f"first: {first}")
    again = run_kept(fleet, "k2", "mine", "-c", "echo two", images=catalog)
    check(again[1] == first[1], f"the same kernel made another snapshot: {again[1]} vs {first[1]}")
    kernel = os.path.join(catalog, entry["kernel"])
    os.utime(kernel, (time.time() + 5, time.time() + 5))  # "rebuilt": a new mtime
    third = run_kept(fleet, "k3", "mine", "-c", "echo three", images=catalog)
    check(third[0].returncode == 0 and third[0].stdout == b"three\n", f"after the change: {third[0]}")
    check(third[1] and third[1] != first[1], f"a changed kernel restored the old snapshot {first[1]}")


if __name__ == "__main__":
    main([test_restored_guest_runs_like_a_cold_one, test_each_restore_has_its_own_rng_and_the_right_clock,
          test_the_ram_is_mapped_or_copied_never_written, test_shared_folders_restore_from_one_snapshot,
          test_damaged_snapshot_boots_cold_with_a_note, test_a_changed_kernel_makes_a_new_snapshot],
         lambda t: Fleet())
