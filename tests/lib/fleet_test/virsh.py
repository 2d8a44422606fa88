"""The real virsh (libvirt-clients) against a URI, in the C locale."""
import os
import subprocess

from . import paths
from .check import Failure, check, skip


def need_virsh():
    if not os.access(paths.VIRSH, os.X_OK):
        skip("virsh is not installed (apt-get install libvirt-clients)")


def virsh(uri, *args, timeout=30, input=None):
    """Run the real virsh against uri; a CompletedProcess with text output."""
    env = dict(os.environ)
    env.pop("LIBVIRT_DEFAULT_URI", None)
    env.pop("VIRSH_DEFAULT_CONNECT_URI", None)
    env["LC_ALL"] = "C"
    try:
        return subprocess.run([paths.VIRSH, "-c", uri, *args], capture_output=True, text=True,
                              timeout=timeout, input=input if input is not None else "", env=env)
    except subprocess.TimeoutExpired as e:
        raise Failure(f"virsh {' '.join(args)} did not finish in {timeout}s "
                      f"(stdout {e.stdout!r}, stderr {e.stderr!r})") from None


def virsh_ok(uri, *args, timeout=30, input=None):
    p = virsh(uri, *args, timeout=timeout, input=input)
    if p.returncode != 0:
        raise Failure(f"virsh {' '.join(args)}: exit {p.returncode}\nstdout: {p.stdout!r}\nstderr: {p.stderr!r}")
    return p.stdout


def virsh_fails(uri, *args, needles=(), timeout=30, input=None):
    """virsh must fail and its stderr must contain every needle (case-insensitive)."""
    p = virsh(uri, *args, timeout=timeout, input=input)
    check(p.returncode != 0, f"virsh {' '.join(args)}: expected a failure, got exit 0 (stdout {p.stdout!r})")
    err = p.stderr
    for n in needles:
        check(n.lower() in err.lower(), f"virsh {' '.join(args)}: error {err.strip()!r} does not mention {n!r}")
    return err
