#!/usr/bin/python3
"""Bad input: each a one-line error and a non-zero exit, nothing left behind."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.append(os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "lib"))  # run by hand: HACKING.md
from fleet_test.check import check  # noqa: E402
from fleet_test.fleet import Fleet, one_line_error  # noqa: E402
from fleet_test.runner import main  # noqa: E402


def test_missing_kernel(fleet):
    one_line_error(fleet.vmm("run", "/nonexistent/kernel.elf"), "'/nonexistent/kernel.elf' not found")


def test_not_an_elf(fleet):
    with tempfile.NamedTemporaryFile(suffix=".elf") as f:
        f.write(b"this is not a kernel\n")
        f.flush()
        one_line_error(fleet.vmm("run", f.name), "is not an ELF file")


def test_elf_without_pvh_note(fleet):
    one_line_error(fleet.vmm("run", "/bin/true"), "no PVH entry note")


def test_bad_memory(fleet):
    one_line_error(fleet.vmm("run", "-m", "lots", "hello"), "bad memory size 'lots'")
    one_line_error(fleet.vmm("run", "-m", "1", "hello"), "out of range")
    one_line_error(fleet.vmm("run", "--memory=2048G", "hello"), "out of range")


def test_bad_accel_and_options(fleet):
    one_line_error(fleet.vmm("run", "--accel", "fast", "hello"), "unknown accelerator 'fast'")
    one_line_error(fleet.vmm("run", "--frobnicate", "hello"), "frobnicate")
    one_line_error(fleet.vmm("launch"), "unknown command 'launch'")
    one_line_error(fleet.vmm("run"), "no image given")
    one_line_error(fleet.vmm("run", "--name", "bad/name", "hello"), "bad VM name")
    one_line_error(fleet.vmm("run", "--tty", "hello"), "only a Linux image gives its program a terminal")
    one_line_error(fleet.vmm("run", "-t", "-T", "hello"), "--tty and --no-tty exclude each other")


def test_duplicate_name(fleet):
    fleet.vmm("start", "--name", "dup", "hello", "hold", check_rc=0)
    one_line_error(fleet.vmm("start", "--name", "dup", "hello"), "VM 'dup' already exists")
    one_line_error(fleet.vmm("run", "--name", "dup", "hello"), "VM 'dup' already exists")
    fleet.vmm("stop", "dup", check_rc=0)


def test_unknown_vm(fleet):
    for cmd in ("stop", "kill", "wait", "logs", "console", "inspect", "rm", "pause", "resume"):
        one_line_error(fleet.vmm(cmd, "ghost"), "no VM named 'ghost'")


def test_names_never_leave_the_runtime_folder(fleet):
    """A name is never a path: `rm ../../x` once removed a folder outside."""
    outside = os.path.join(fleet.root, "outside")
    os.makedirs(os.path.join(outside, "keep"))
    with open(os.path.join(outside, "keep", "state.json"), "w") as f:
        f.write('{"name": "keep", "state": "running", "supervisor_pid": 1}')
    for cmd in ("rm", "kill", "stop", "inspect", "logs", "wait", "console"):
        for name in ("../../outside", "../outside/keep", "..", "."):
            one_line_error(fleet.vmm(cmd, name), "bad VM name")
    check(os.path.isdir(os.path.join(outside, "keep")), "a folder outside the runtime folder was removed")


def test_planted_runtime_folder_is_refused(fleet):
    """Another user's (or a symlinked) runtime folder is never used."""
    target = os.path.join(fleet.root, "elsewhere")
    os.makedirs(target)
    link = os.path.join(fleet.root, "planted")
    os.symlink(target, link)
    one_line_error(fleet.vmm("ls", env={"FLEET_RUNTIME_DIR": link}), "unsafe runtime folder", "symbolic link")
    if os.geteuid() == 0:
        foreign = os.path.join(fleet.root, "foreign")
        os.makedirs(foreign)
        os.chown(foreign, 65534, 65534)
        one_line_error(fleet.vmm("ls", env={"FLEET_RUNTIME_DIR": foreign}), "unsafe runtime folder", "belongs to uid 65534")


def test_qemu_missing_from_path(fleet):
    env = {"PATH": "/nonexistent", "FLEET_QEMU": ""}
    p = fleet.vmm("run", "hello", env=env)
    one_line_error(p, "'qemu-system-x86_64' not found in PATH")
    check(fleet.ls() == [], "a failed run left a record")


def test_unknown_image_and_broken_catalog(fleet):
    one_line_error(fleet.vmm("run", "nosuchimage"), "image 'nosuchimage' not found", "looked in")
    with tempfile.TemporaryDirectory() as cat:
        with open(os.path.join(cat, "broken.image"), "w") as f:
            f.write("kernel=broken/missing.elf\nmemory=16M\n")
        with open(os.path.join(cat, "odd.image"), "w") as f:
            f.write("kernel=x.elf\ncolour=blue\n")
        one_line_error(fleet.vmm("run", "broken", env={"FLEET_IMAGES": cat}), "missing.elf' not found")
        one_line_error(fleet.vmm("run", "odd", env={"FLEET_IMAGES": cat}), "unknown key 'colour'", "odd.image:2")


def test_kvm_requested_where_unusable(fleet):
    p = fleet.vmm("run", "--accel", "kvm", "hello", env={"FLEET_KVM_DEVICE": "/nonexistent/kvm"})
    one_line_error(p, "KVM is not usable", "--accel tcg")


def test_share_needs_a_virtio_guest(fleet):
    one_line_error(fleet.vmm("run", "--share", "/tmp", "hello"), "shared folders need a virtio guest")
    one_line_error(fleet.vmm("run", "--share", ":/x", "hello"), "bad --share")


def test_bad_environment_and_workdir(fleet):
    # Arguments may hold white space now (the exec block); these may not.
    one_line_error(fleet.vmm("run", "-e", "=x", "hello"), "NAME=VALUE")
    one_line_error(fleet.vmm("run", "--env-file", "/nonexistent/env", "hello"), "env file")
    one_line_error(fleet.vmm("run", "-w", "/src", "hello"), "not on a shared folder")


def start_time(pid):
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[19])


def test_forged_record_signals_nothing(fleet):
    """A state.json naming a process that is not the VM's supervisor (here
    one of ours, with its real start time): kill and stop refuse to signal
    it; the real record then still works."""
    fleet.vmm("start", "--name", "forged", "hello", "hold", check_rc=0)
    path = os.path.join(fleet.vm_dir("forged"), "state.json")
    with open(path) as f:
        real = json.load(f)
    victim = subprocess.Popen(["sleep", "60"])
    try:
        forged = dict(real, supervisor_pid=victim.pid, supervisor_start=start_time(victim.pid))
        with open(path, "w") as f:
            json.dump(forged, f)
        one_line_error(fleet.vmm("kill", "forged"), "not a fleet supervisor", "not signalling it")
        one_line_error(fleet.vmm("stop", "forged"), "not a fleet supervisor", "not signalling it")
        one_line_error(fleet.vmm("kill", "-s", "TERM", "forged"), "not a fleet supervisor")
        check(victim.poll() is None, "the process a forged record named was signalled")
        with open(path, "w") as f:
            json.dump(real, f)
        fleet.vmm("kill", "forged", check_rc=0)
    finally:
        victim.kill()
        victim.wait()


def test_qemu_noise_is_capped(fleet):
    """A guest can make QEMU print without end (a bad virtio-serial port id
    is a line each time); vmm.log keeps log_max_size (2 MiB) of it and says
    the rest is left out, and the run is unharmed. A wrapper QEMU plays the
    noise: 6 MiB on stderr, then the real QEMU."""
    real = shutil.which("qemu-system-x86_64")
    wrapper = os.path.join(fleet.root, "noisy-qemu")
    with open(wrapper, "w") as f:
        f.write(f"#!/bin/sh\nyes 'qemu-system-x86_64: virtio-serial-bus: Unexpected port id 9' | head -c 6291456 >&2\n"
                f"exec '{real}' \"$@\"\n")
    os.chmod(wrapper, 0o755)
    p = fleet.vmm("run", "--keep", "-n", "noisy", "hello", env={"FLEET_QEMU": wrapper, "FLEET_QEMU_USER": "root"})
    check(p.returncode == 0 and b"hello" in p.stdout, f"the noisy run: exit {p.returncode}, {p.stderr[-300:]!r}")
    log = os.path.join(fleet.vm_dir("noisy"), "vmm.log")
    size = os.path.getsize(log)
    check(2 << 20 <= size < (2 << 20) + 4096, f"vmm.log is {size} bytes, wanted 2 MiB and a note")
    with open(log, "rb") as f:
        f.seek(-1024, os.SEEK_END)
        tail = f.read()
    check(b"QEMU's further messages are left out of this log" in tail, f"no note at vmm.log's end: {tail[-300:]!r}")


def test_missing_qemu_user(fleet):
    """A root launcher never falls back to running QEMU as root
    (docs/SECURITY.md): a missing QEMU user is a one-line error."""
    if os.geteuid() != 0:
        return  # not root: QEMU runs as the caller, no user to look up
    one_line_error(fleet.vmm("run", "hello", env={"FLEET_QEMU_USER": "fleet-no-such-user"}),
                   "QEMU's user 'fleet-no-such-user' does not exist", "tools/setup")


if __name__ == "__main__":
    main([test_missing_kernel, test_not_an_elf, test_elf_without_pvh_note, test_bad_memory,
          test_bad_accel_and_options, test_duplicate_name, test_unknown_vm, test_names_never_leave_the_runtime_folder,
          test_planted_runtime_folder_is_refused, test_qemu_missing_from_path,
          test_unknown_image_and_broken_catalog, test_kvm_requested_where_unusable,
          test_share_needs_a_virtio_guest, test_bad_environment_and_workdir, test_forged_record_signals_nothing,
          test_qemu_noise_is_capped, test_missing_qemu_user],
         lambda t: Fleet())
