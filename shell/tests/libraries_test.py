#!/usr/bin/python3
"""fsh loads GnuTLS, avahi-client and libedit only on the paths that use
them (fleet/base/lazy_library.hpp): it is linked with none of them, a
`fsh -c` run has none of them mapped, and an interactive fsh on a terminal
has libedit and edits lines with it. The paths themselves are tested where
they are used: TLS by wire-unit and fsh-router, mDNS browsing by mdns,
line editing by shell-pty.

usage: libraries_test.py FSH
"""
import os
import pty
import select
import subprocess
import sys
import tempfile
import time

LAZY = ("libgnutls", "libavahi-client", "libavahi-common", "libdbus-1", "libedit")


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


def mapped(text):
    """The lazy libraries among the file mappings of a /proc/PID/maps text."""
    names = {os.path.basename(line.split()[-1]) for line in text.splitlines() if "/" in line}
    return sorted(n for n in names if n.startswith(LAZY))


def main():
    fsh = os.path.realpath(sys.argv[1])

    needed = subprocess.run(["readelf", "-d", fsh], capture_output=True, text=True, check=True).stdout
    linked = [line.split("[", 1)[1].rstrip("]") for line in needed.splitlines() if "(NEEDED)" in line]
    if any(n.startswith(LAZY) for n in linked):
        fail(f"fsh is linked with {linked}: the lazy libraries are loaded at every start")

    # fsh -c: its own maps, read by a host cat while fsh waits for it.
    p = subprocess.run([fsh, "-c", "host cat /proc/$$/maps"], capture_output=True, text=True, timeout=30)
    if p.returncode != 0 or "fsh" not in p.stdout:
        fail(f"fsh -c 'host cat /proc/$$/maps': status {p.returncode}, stderr {p.stderr!r}")
    if mapped(p.stdout):
        fail(f"fsh -c mapped {mapped(p.stdout)}, which it does not use")

    # Interactive, on a terminal: libedit is there once the prompt is.
    with tempfile.TemporaryDirectory() as home:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home, "TERM": "dumb", "PS1": "P> "}
        env.update({k: v for k, v in os.environ.items() if k.endswith("SAN_OPTIONS")})  # a sanitizer build's
        pid, fd = pty.fork()
        if pid == 0:
            os.execve(fsh, [fsh, "-i"], env)
        seen = b""
        deadline = time.monotonic() + 20
        while b"P> " not in seen:
            left = deadline - time.monotonic()
            if left <= 0:
                os.kill(pid, 9)
                fail(f"no prompt from an interactive fsh: {seen[-500:]!r}")
            if select.select([fd], [], [], left)[0]:
                try:
                    seen += os.read(fd, 4096)
                except OSError:
                    break
        with open(f"/proc/{pid}/maps") as f:
            libs = mapped(f.read())
        # A line typed and edited (a character erased) reaches the shell.
        os.write(fd, b"echo $((40+9\x7f2))\rexit 3\r")
        out = b""
        while True:
            if not select.select([fd], [], [], 20)[0]:
                break
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        _, status = os.waitpid(pid, 0)
        if not any(n.startswith("libedit") for n in libs):
            fail(f"an interactive fsh has no libedit mapped: {libs}")
        if b"42\r\n" not in out:
            fail(f"the edited line did not run: {out[-500:]!r}")
        if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 3:
            fail(f"interactive fsh: wait status {status:#x}, wanted exit 3")
    print("ok: fsh links none of the lazy libraries; -c maps none; interactive maps libedit and edits")


if __name__ == "__main__":
    main()
