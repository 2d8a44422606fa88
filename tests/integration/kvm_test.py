#!/usr/bin/python3
"""fleet-vmm under KVM, where this machine has a usable /dev/kvm."""
import fcntl
import os
import sys

sys.path.append(os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "lib"))  # run by hand: HACKING.md
from fleet_test.check import check, skip  # noqa: E402
from fleet_test.fleet import Fleet  # noqa: E402
from fleet_test.runner import main  # noqa: E402

KVM_GET_API_VERSION = 0xAE00


def kvm_usable():
    try:
        fd = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
    except OSError as e:
        return f"/dev/kvm: {e.strerror}"
    try:
        if fcntl.ioctl(fd, KVM_GET_API_VERSION) != 12:
            return "/dev/kvm speaks an unknown API version"
    finally:
        os.close(fd)
    return None


def test_hello_under_kvm(fleet):
    p = fleet.vmm("run", "--accel", "kvm", "hello", "exit=5", env={"FLEET_ACCEL": "kvm"})
    check(p.returncode == 5, f"exit {p.returncode}, stderr {p.stderr!r}")
    check(p.stdout == b"hello exit=5\n", f"stdout {p.stdout!r}")


def test_auto_picks_kvm(fleet):
    name = fleet.vmm("start", "--accel", "auto", "hello", "hold", check_rc=0).stdout.decode().strip()
    check(fleet.record(name)["accel"] == "kvm", "auto did not choose kvm although KVM works")
    fleet.vmm("stop", name, check_rc=0)


if __name__ == "__main__":
    why = kvm_usable()
    if why:
        skip(f"KVM is not usable on this machine ({why}); the TCG tests cover the launcher")
    main([test_hello_under_kvm, test_auto_picks_kvm], lambda t: Fleet())
