#!/usr/bin/python3
"""The differential test: every script in shell/tests/corpus runs under fsh
(with --host-commands, so host programs stand in for the VMs to come) and
under a reference shell, and stdout and exit status must match byte for
byte. The reference is dash (POSIX sh), except for pipefail*.sh, which dash
lacks: bash --posix. Both run with LC_ALL=C in the same working folder.

usage: differential_test.py FSH CORPUS_DIR [NAME...]
"""
import os
import shutil
import subprocess
import sys
import tempfile

TIMEOUT = 60


def run(argv, cwd, tmp):
    env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C", "HOME": os.environ.get("HOME", "/root"), "TMPDIR": tmp}
    try:
        p = subprocess.run(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return None, b"", b"timed out"
    return p.returncode, p.stdout, p.stderr


def reference(name):
    if name.startswith("pipefail"):
        return ["/bin/bash", "--posix"]
    return ["/bin/dash"]


def show(data):
    text = data.decode("utf-8", "replace")
    return text if len(text) < 2000 else text[:2000] + "\n[... %d bytes]" % len(data)


def main():
    if len(sys.argv) < 3:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    fsh, corpus = os.path.abspath(sys.argv[1]), sys.argv[2]
    names = sys.argv[3:] or sorted(f for f in os.listdir(corpus) if f.endswith(".sh"))
    for shell in ("/bin/dash", "/bin/bash"):
        if not os.access(shell, os.X_OK):
            print(f"differential: {shell} is missing (apt-get install dash bash)")
            return 77
    failures = 0
    tmp = tempfile.mkdtemp(prefix="fsh-diff-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    try:
        for name in names:
            script = os.path.abspath(os.path.join(corpus, name))
            want = run(reference(name) + [script], tmp, tmp)
            got = run([fsh, "--host-commands", script], tmp, tmp)
            if want[:2] == got[:2]:
                print(f"ok   {name} (status {got[0]}, {len(got[1])} bytes)")
                continue
            failures += 1
            print(f"FAIL {name}: reference status {want[0]}, fsh status {got[0]}")
            print("--- reference stdout\n" + show(want[1]) + "--- fsh stdout\n" + show(got[1]))
            print("--- fsh stderr\n" + show(got[2]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{len(names) - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
