#!/usr/bin/python3
"""fsh's VM runner where the differential corpus cannot compare with dash:
`images`, that a command really runs in a guest, `host CMD` beside a VM,
a runtime program given a file (busybox's runs it), the working folder
/etc (shared under /host), the shared working folder turned off
(--no-share, FSH_SHARE=no), read-only, and read-write where asked
(FSH_SHARE=rw cmd, --share rw), a background VM job killed with
kill %1, a missing launcher, and on a pseudo-terminal Ctrl-C, Ctrl-Z and
fg of a pipeline of VMs, a background VM job, Tab completing an image
name, and a Linux command's own terminal (its size, keys, Ctrl-Z and fg). After each step no VM may be left in the launcher's runtime
folder. Real guests under FLEET_ACCEL (meson sets tcg).

usage: vm_test.py FSH
"""
import contextlib
import fcntl
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pty_test import PROMPT, Terminal  # noqa: E402

from fleet_test.terminal import TR_RUNS, EXEC_TR, TO_TR  # noqa: E402

TIMEOUT = 60


class Failed(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failed(what)


class Env:
    def __init__(self, fsh):
        self.fsh = fsh
        self.tmp = tempfile.mkdtemp(prefix="fsh-vm-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
        os.chmod(self.tmp, 0o755)  # work/ is shared into VMs: QEMU under root runs as fleet-qemu (docs/SECURITY.md)
        self.runtime = os.path.join(self.tmp, "vmm-runtime")
        self.work = os.path.join(self.tmp, "work")
        os.mkdir(self.work)
        with open(os.path.join(self.work, "data.txt"), "w") as f:
            f.write("a\nb\nc\n")
        self.env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C", "HOME": self.tmp, "FLEET_RUNTIME_DIR": self.runtime}
        for v in ("FLEET_VMM", "FLEET_IMAGES", "FLEET_ACCEL"):
            self.env[v] = os.environ[v]

    def run(self, *args, env=None, cwd=None):
        e = dict(self.env, **(env or {}))
        p = subprocess.run([self.fsh, *args], cwd=cwd or self.work, env=e, stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=TIMEOUT)
        return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")

    def vms(self):
        try:
            return [n for n in os.listdir(os.path.join(self.runtime, "vms")) if not n.startswith(".")]
        except FileNotFoundError:
            return []

    def no_vms_left(self, what, within=10.0):
        deadline = time.monotonic() + within
        while self.vms() and time.monotonic() < deadline:
            time.sleep(0.1)
        check(not self.vms(), f"{what}: VMs left behind: {self.vms()}")


def test_images(e):
    status, out, err = e.run("-c", "images")
    check(status == 0, f"images: status {status}: {err}")
    check(re.search(r"^cat +runtime ", out, re.M), f"images lists no runtime cat:\n{out}")
    check(re.search(r"^Linux applets", out, re.M) and re.search(r"\bgrep\b", out), f"no Linux applets:\n{out}")
    # type and command -v say what each name runs as.
    status, out, err = e.run("-c", "type upper grep hello; command -v grep")
    check((status, out) == (0, "upper is a VM: the runtime program upper\ngrep is a VM: busybox's grep on the Linux "
                               "image\nhello is a VM: the image hello\ngrep\n"), f"type: {status} {out!r} {err}")


def test_is_a_vm(e):
    # In the guest the program's parent is the Linux init, pid 1; on the
    # host it would be fsh. uname -r names the guest's kernel.
    status, out, err = e.run("-c", "sh -c 'echo $PPID'; uname -r")
    lines = out.split("\n")
    check(status == 0 and lines[0] == "1", f"sh's parent is not the guest's init: {status} {out!r} {err}")
    check(lines[1] != os.uname().release, f"uname -r is the host's: {out!r}")
    # A runtime guest gets exported and per-command variables too, the
    # host's PATH and the launcher's FLEET_* not.
    status, out, err = e.run("-c", "export A='x y'; B=2 env A B; env | grep -c -e '^PATH=' -e '^FLEET_'")
    check((status, out) == (1, "x y\n2\n0\n"), f"runtime env: {status} {out!r} {err}")


def test_host_beside_vm(e):
    status, out, err = e.run("-c", "host printf 'a\\nb\\n' | wc -l; host true; echo $?")
    check((status, out) == (0, "2\n0\n"), f"host | VM: {status} {out!r} {err}")


def test_share(e):
    status, out, err = e.run("-c", "grep -c . data.txt")
    check((status, out) == (0, "3\n"), f"shared folder: {status} {out!r} {err}")
    # Read-only: the guest cannot write into the host's folder.
    status, out, err = e.run("-c", "touch made-in-vm; echo $?")
    check(not os.path.exists(os.path.join(e.work, "made-in-vm")), "a VM wrote into the shared folder")
    check(out.strip() != "0", f"touch in a read-only share succeeded: {out!r}")
    for args, env in ((["--no-share"], None), ([], {"FSH_SHARE": "no"})):
        status, out, err = e.run(*args, "-c", "grep -c . data.txt", env=env)
        check(status != 0 and out == "", f"{args or env}: the folder was shared: {status} {out!r}")


def test_share_rw(e):
    # Asked for, the folder is writable: cp, mkdir, a redirection inside the
    # guest and rm land on the host; the next command is read-only again.
    rw = os.path.join(e.work, "rw")
    os.mkdir(rw)
    os.chmod(rw, 0o777)  # under root the guest writes as fleet-qemu (docs/SECURITY.md)
    with open(os.path.join(rw, "src.txt"), "w") as f:
        f.write("payload\n")
    status, out, err = e.run("-c", "FSH_SHARE=rw cp src.txt copy.txt && FSH_SHARE=rw mkdir sub && "
                             "FSH_SHARE=rw sh -c 'echo made > sub/f' && FSH_SHARE=rw rm src.txt; echo $?; "
                             "touch not-here; cat copy.txt sub/f", cwd=rw)
    check(status == 0 and out == "0\npayload\nmade\n", f"FSH_SHARE=rw: {status} {out!r} {err}")
    check(sorted(os.listdir(rw)) == ["copy.txt", "sub"], f"the host's folder: {sorted(os.listdir(rw))}")
    with open(os.path.join(rw, "copy.txt")) as f:
        check(f.read() == "payload\n", "cp's copy differs on the host")
    # The shell's default, and a bad value: one line, 125, nothing run.
    status, out, err = e.run("--share", "rw", "-c", "touch by-default; FSH_SHARE=ro touch not-this", cwd=rw)
    check(os.path.exists(os.path.join(rw, "by-default")) and not os.path.exists(os.path.join(rw, "not-this")),
          f"--share rw then FSH_SHARE=ro: {status} {sorted(os.listdir(rw))} {err}")
    status, out, err = e.run("-c", "FSH_SHARE=write touch x; echo $?", cwd=rw)
    check(out == "125\n" and err.strip() == "fsh: touch: FSH_SHARE: 'write' is not ro, rw or no",
          f"a bad FSH_SHARE: {out!r} {err!r}")
    status, out, err = e.run("--share", "maybe", "-c", "true")
    check(status == 2 and err.strip() == "fsh: --share: 'maybe' is not ro, rw or no", f"--share maybe: {status} {err!r}")


def test_a_folder_of_the_guests_own_is_the_hosts(e):
    # In /etc (a folder the guest has itself) a Linux command sees the
    # host's /etc, shared under /host: never the guest's own files.
    with open("/etc/passwd") as f:
        lines = sum(1 for line in f if line.strip())
    status, out, err = e.run("-c", "grep -c . passwd; ls | grep -cx passwd", cwd="/etc")
    check((status, out) == (0, f"{lines}\n1\n"), f"in /etc: {status} {out!r} {err}")
    # In /, which is never shared: the guest's own /, and a note saying so,
    # once, though each ls runs in a forked pipeline stage.
    status, out, err = e.run("-c", "ls | grep -cx init; ls | grep -cx init", cwd="/")
    note = "fsh: note: / is not shared into VMs; Linux commands here see the guest's own files\n"
    check((status, out, err) == (0, "1\n1\n", note), f"in /: {status} {out!r} {err!r}")


def test_runtime_program_with_a_file_runs_as_the_applet(e):
    # `cat data.txt`: the runtime's cat reads stdin only, so busybox's runs
    # it (in a Linux guest, the folder shared); the runtime's serves stdin.
    status, out, err = e.run("-c", "cat data.txt; wc -l data.txt; head -n 1 data.txt")
    check((status, out) == (0, "a\nb\nc\n3 data.txt\na\n"), f"file operands: {status} {out!r} {err}")
    status, out, err = e.run("-c", "cat < data.txt | wc -l; head -n 2 < data.txt | sha256sum -")
    check(status == 0 and out.startswith("3\n") and out.endswith("  -\n"), f"stdin: {status} {out!r} {err}")


def test_kill_job(e):
    start = time.monotonic()
    status, out, err = e.run("-c", "sleep 30 & sleep 1; kill %1; wait %1; echo killed $?")
    check(status == 0 and re.fullmatch(r"killed \d+\n", out) and out != "killed 0\n",
          f"kill %1: {status} {out!r} {err}")
    check(time.monotonic() - start < 20, "kill %1 did not stop the VM in time")
    e.no_vms_left("kill %1")


def test_missing_launcher(e):
    status, out, err = e.run("-c", "wc -l </dev/null; echo after $?", env={"FLEET_VMM": "/nonexistent/fleet-vmm"})
    check(out == "after 127\n" and "FLEET_VMM" in err, f"missing launcher: {status} {out!r} {err!r}")
    status, out, err = e.run("-c", "no_such_command_anywhere; echo $?")
    check(out == "127\n" and "no_such_command_anywhere: command not found" in err, f"unknown: {out!r} {err!r}")


def wait_vms(e, n):
    deadline = time.monotonic() + 20
    while len(e.vms()) < n and time.monotonic() < deadline:
        time.sleep(0.1)
    check(len(e.vms()) == n, f"the pipeline's {n} VMs did not start: {e.vms()}")


@contextlib.contextmanager
def fsh_on_a_terminal(e):
    """An interactive fsh on a new pseudo-terminal; killed at the end, whatever happened."""
    t = Terminal([e.fsh], dict(e.env, PS1=PROMPT, TERM="xterm"))
    try:
        yield t
    except AssertionError as err:
        raise Failed(str(err))
    finally:
        try:
            os.kill(t.pid, signal.SIGKILL)
            os.waitpid(t.pid, 0)
        except OSError:
            pass


def test_terminal(e):
    with fsh_on_a_terminal(e) as t:
        t.expect(re.escape(PROMPT), 20)
        t.command("yes | cat > /dev/null", r"yes \| cat > /dev/null")
        wait_vms(e, 2)
        t.send("\x03")
        t.expect(re.escape(PROMPT), 20)
        t.command("echo status $?", r"status 130")
        t.expect(re.escape(PROMPT))
        e.no_vms_left("Ctrl-C")
        # Ctrl-Z stops the VMs' launchers and QEMUs, fg continues them.
        t.command("yes | cat > /dev/null", r"yes \| cat > /dev/null")
        wait_vms(e, 2)
        t.send("\x1a")
        t.expect(r"\[1\]\+\s+Stopped", 20)
        t.expect(re.escape(PROMPT))
        check(len(e.vms()) == 2, f"Ctrl-Z: the stopped job's VMs are gone: {e.vms()}")
        t.command("fg", r"yes \| cat")
        time.sleep(0.5)
        t.send("\x03")
        t.expect(re.escape(PROMPT), 20)
        t.command("echo after fg $?", r"after fg 130")
        t.expect(re.escape(PROMPT))
        e.no_vms_left("Ctrl-C after fg")
        # A background VM job does not stop on the terminal's input: it has none.
        t.command("sleep 1 &", r"\[1\] \d+")
        t.expect(re.escape(PROMPT))
        t.command("wait; echo waited $?", r"waited 0", 20)
        t.expect(re.escape(PROMPT))
        # Tab completes image names.
        t.send("uppe\t")
        t.expect(r"uppe.*r ")  # libedit redraws: the completed "r " after a cursor move
        t.send(" </dev/null; echo completed $?\n")
        t.expect(r"completed 0", 20)
        t.expect(re.escape(PROMPT))
        t.send("exit\n")
        t.wait_exit()


def test_program_terminal(e):
    """A Linux command in the foreground on fsh's terminal gets a terminal
    of its own in the guest: its size, keys as typed, Ctrl-Z and fg."""
    with fsh_on_a_terminal(e) as t:
        fcntl.ioctl(t.fd, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 91, 0, 0))
        t.expect(re.escape(PROMPT), 20)
        t.command("tty; stty size", r"/dev/pts/\d+\r\n", TIMEOUT)
        t.expect(r"33 91\r\n", TIMEOUT)
        t.expect(re.escape(PROMPT))
        # On a pipe the same command has none.
        t.command("tty | cat; echo piped $?", r"not a tty\r\npiped 0", TIMEOUT)
        t.expect(re.escape(PROMPT))
        t.command(f"sh -c 'while IFS= read -r l; do {EXEC_TR}; echo \"line:$l\"; done'",
                  r"sh -c 'while")  # (the echo wraps at 80 columns)
        t.send("one\r")
        t.expect(r"line:one", TIMEOUT)
        t.send("\x1a")
        t.expect(r"\[1\]\+\s+Stopped", 20)
        t.expect(re.escape(PROMPT))
        check(len(e.vms()) == 1, f"Ctrl-Z: the stopped command's VM is gone: {e.vms()}")
        t.command("host stty -a | grep -c ' icanon'", r"\r\n1\r\n", TIMEOUT)  # fsh's terminal is cooked again
        t.expect(re.escape(PROMPT))
        t.command("fg", r"while IFS")
        t.send("two\r")
        t.expect(r"line:two", 20)
        t.send(TO_TR.decode())  # Ctrl-C for tr, not for sh's read (fleet_test/terminal.py)
        t.expect(re.escape(TR_RUNS.decode()), 20)
        t.send("\x03")  # a byte for the guest's terminal, which interrupts tr there
        t.expect(re.escape(PROMPT), 20)
        t.command("echo after $?", r"after 130")
        t.expect(re.escape(PROMPT))
        t.send("exit\n")
        t.wait_exit()


def has_linux_image():
    """The `linux` image that busybox applets run on, in a catalog folder or one below."""
    for d in os.environ.get("FLEET_IMAGES", "").split(":"):
        if d and os.path.isdir(d) and (os.path.isfile(os.path.join(d, "linux.image")) or
                  any(os.path.isfile(os.path.join(d, sub, "linux.image")) for sub in os.listdir(d)
                      if os.path.isdir(os.path.join(d, sub)))):
            return True
    return False


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    missing = [v for v in ("FLEET_VMM", "FLEET_IMAGES", "FLEET_ACCEL") if not os.environ.get(v)]
    if missing:
        print(f"vm_test: set {', '.join(missing)} (meson test sets them)", file=sys.stderr)
        return 2
    if not shutil.which("qemu-system-x86_64"):
        print("vm_test: no qemu-system-x86_64 (apt-get install qemu-system-x86)")
        return 77
    if not has_linux_image():
        print("vm_test: no Linux image in FLEET_IMAGES (images/linux needs busybox-static and a kernel)")
        return 77
    e = Env(os.path.abspath(sys.argv[1]))
    failures = 0
    tests = [test_images, test_is_a_vm, test_host_beside_vm, test_share, test_share_rw,
             test_runtime_program_with_a_file_runs_as_the_applet, test_a_folder_of_the_guests_own_is_the_hosts,
             test_kill_job, test_missing_launcher, test_terminal, test_program_terminal]
    try:
        for test in tests:
            started = time.monotonic()
            try:
                test(e)
                e.no_vms_left(test.__name__)
                print(f"ok   {test.__name__} ({time.monotonic() - started:.1f} s)")
            except (Failed, subprocess.TimeoutExpired) as err:
                failures += 1
                print(f"FAIL {test.__name__}: {err}")
    finally:
        shutil.rmtree(e.tmp, ignore_errors=True)
    print(f"{len(tests) - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
