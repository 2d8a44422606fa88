#!/usr/bin/python3
"""The differential test: every script in a corpus runs under fsh and under a
reference shell, and stdout and exit status must match byte for byte. The
reference is dash (POSIX sh) with the host's tools, except for pipefail*.sh,
which dash lacks: bash --posix. Both run with LC_ALL=C, each in a fresh
working folder holding sub/data.txt.

Without --vm fsh runs with --host-commands: host programs, which tests the
language (shell/tests/corpus). With --vm fsh runs every command as a VM
through fleet-vmm (FLEET_VMM, FLEET_IMAGES and FLEET_ACCEL from the
environment), the real runtime and Linux guests (shell/tests/vm_corpus);
the reference gets `upper` (the runtime program with no host namesake) as
`tr a-z A-Z`. After each script no VM may be left in the launcher's
runtime folder (a private one per run).

With --router ROUTER (and the --vm settings) the same corpus runs through a
private fleet-router started here (FLEET_URI): each command a domain, each
pipeline's VM commands one run the router joins; after each script no
domain may be left in the router's runtime folder, and at the end the
router must have logged joined runs (a pipeline of two or more stages).

usage: differential_test.py [--vm | --router ROUTER] FSH CORPUS_DIR [NAME...]
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

TIMEOUT = 60
DATA = b"pear 3\napple 1\nfig 2\napple 4\n"
VM_SETTINGS = ("FLEET_VMM", "FLEET_IMAGES", "FLEET_ACCEL")


def fresh_folder(tmp, label):
    """A new working folder for one run, with sub/data.txt in it."""
    folder = tempfile.mkdtemp(prefix=label + "-", dir=tmp)
    os.chmod(folder, 0o755)  # shared into VMs: QEMU under root runs as fleet-qemu (docs/SECURITY.md)
    os.mkdir(os.path.join(folder, "sub"))
    with open(os.path.join(folder, "sub", "data.txt"), "wb") as f:
        f.write(DATA)
    return folder


def run(argv, cwd, tmp, extra_env=None, path="/usr/bin:/bin"):
    env = {"PATH": path, "LC_ALL": "C", "HOME": os.environ.get("HOME", "/root"), "TMPDIR": tmp}
    env.update(extra_env or {})
    try:
        p = subprocess.run(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return None, b"", b"timed out"
    return p.returncode, p.stdout, p.stderr


def shim_folder(tmp):
    """Host stand-ins for runtime programs that have no host namesake."""
    folder = os.path.join(tmp, "shim")
    os.makedirs(folder, exist_ok=True)
    upper = os.path.join(folder, "upper")
    with open(upper, "w") as f:
        f.write("#!/bin/sh\nexec tr a-z A-Z\n")
    os.chmod(upper, 0o755)
    return folder


def vms_left(runtime_dir):
    """The VM folders the launcher still has (each VM is one)."""
    try:
        return [n for n in os.listdir(os.path.join(runtime_dir, "vms")) if not n.startswith(".")]
    except FileNotFoundError:
        return []


def reference(name):
    if name.startswith("pipefail"):
        return ["/bin/bash", "--posix"]
    return ["/bin/dash"]


def show(data):
    text = data.decode("utf-8", "replace")
    return text if len(text) < 2000 else text[:2000] + "\n[... %d bytes]" % len(data)


def has_linux_image():
    """The `linux` image that busybox applets run on, in a catalog folder or one below."""
    for d in os.environ.get("FLEET_IMAGES", "").split(":"):
        if d and os.path.isdir(d) and (os.path.isfile(os.path.join(d, "linux.image")) or
                  any(os.path.isfile(os.path.join(d, sub, "linux.image")) for sub in os.listdir(d)
                      if os.path.isdir(os.path.join(d, sub)))):
            return True
    return False


def start_router(binary, tmp):
    """A private fleet-router on tmp/router-runtime; (process, its URI, its runtime folder, its log)."""
    runtime = os.path.join(tmp, "router-runtime")
    log_path = os.path.join(tmp, "router.log")
    argv = [binary, "--runtime-dir", runtime, "--state-dir", os.path.join(tmp, "router-state"),
            "--images", os.environ["FLEET_IMAGES"], "--config", "none", "--no-mdns", "-v"]
    env = dict(os.environ, FLEET_ACCEL=os.environ.get("FLEET_ACCEL", "tcg"))
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with open(os.path.join(runtime, "router.json")) as f:
                if json.load(f).get("pid") == proc.pid:
                    return proc, f"qemu+unix:///system?socket={runtime}/libvirt-sock", runtime, log_path
        except (OSError, ValueError):
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    with open(log_path, errors="replace") as f:
        raise SystemExit(f"differential --router: the router did not start:\n{f.read()[-2000:]}")


def main():
    args = sys.argv[1:]
    router_binary = None
    if len(args) >= 2 and args[0] == "--router":
        router_binary, args = os.path.abspath(args[1]), ["--vm"] + args[2:]
    vm = bool(args) and args[0] == "--vm"
    args = args[1:] if vm else args
    if len(args) < 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    fsh, corpus = os.path.abspath(args[0]), args[1]
    names = args[2:] or sorted(f for f in os.listdir(corpus) if f.endswith(".sh"))
    if vm:
        missing = [v for v in VM_SETTINGS if not os.environ.get(v)]
        if missing:
            print(f"differential --vm: set {', '.join(missing)} (meson test sets them)", file=sys.stderr)
            return 2
        if not shutil.which("qemu-system-x86_64"):
            print("differential --vm: no qemu-system-x86_64 (apt-get install qemu-system-x86)")
            return 77
        if not has_linux_image():
            print("differential --vm: no Linux image in FLEET_IMAGES (images/linux needs busybox-static and a kernel)")
            return 77
    for shell in ("/bin/dash", "/bin/bash"):
        if not os.access(shell, os.X_OK):
            print(f"differential: {shell} is missing (apt-get install dash bash)")
            return 77
    failures = 0
    tmp = tempfile.mkdtemp(prefix="fsh-diff-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    os.chmod(tmp, 0o755)  # the working folders below are shared into VMs
    router = None
    router_failed = False
    try:
        runtime_dir = os.path.join(tmp, "vmm-runtime")
        vm_env = {v: os.environ[v] for v in VM_SETTINGS if v in os.environ}
        vm_env["FLEET_RUNTIME_DIR"] = runtime_dir
        if router_binary:
            router, vm_env["FLEET_URI"], runtime_dir, router_log = start_router(router_binary, tmp)
        shims = shim_folder(tmp)
        for name in names:
            script = os.path.abspath(os.path.join(corpus, name))
            want = run(reference(name) + [script], fresh_folder(tmp, "ref"), tmp, path=shims + ":/usr/bin:/bin")
            if vm:
                started = time.monotonic()
                got = run([fsh, script], fresh_folder(tmp, "fsh"), tmp, vm_env)
                took = f", {time.monotonic() - started:.1f} s"
            else:
                got, took = run([fsh, "--host-commands", script], fresh_folder(tmp, "fsh"), tmp), ""
            left = vms_left(runtime_dir)
            for _ in range(50 if router else 0):  # a destroyed stage's folder goes a moment after fsh
                if not left:
                    break
                time.sleep(0.1)
                left = vms_left(runtime_dir)
            if want[:2] == got[:2] and not left:
                print(f"ok   {name} (status {got[0]}, {len(got[1])} bytes{took})")
                continue
            if left:
                print(f"FAIL {name}: VMs left behind: {left}")
            failures += 1
            print(f"FAIL {name}: reference status {want[0]}, fsh status {got[0]}")
            print("--- reference stdout\n" + show(want[1]) + "--- fsh stdout\n" + show(got[1]))
            print("--- fsh stderr\n" + show(got[2]))
        if router:
            with open(router_log, errors="replace") as f:
                joined = [l for l in f if re.search(r"run for .*: fsh-\S+ \| fsh-", l)]
            if not joined and len(names) > 1:
                router_failed = True
                print("FAIL the router logged no joined run: pipelines did not become one run")
            else:
                print(f"ok   the router joined {len(joined)} pipelines itself")
    finally:
        if router:
            router.terminate()
            try:
                router.wait(20)
            except subprocess.TimeoutExpired:
                router.kill()
                router.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{len(names) - failures} passed, {failures} failed")
    return 1 if failures or router_failed else 0


if __name__ == "__main__":
    sys.exit(main())
