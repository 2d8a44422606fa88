#!/usr/bin/python3
"""Checks for the Linux program images (images/linux/README.md).

Boots the real kernel the linux-* images use (fleet's own when it is built,
else Debian's generic one) with the fleet initramfs under TCG through the
real fleet-vmm: end of input, exit statuses, binary-exact stdio, a missing
program, shared folders, the power button and the program's terminal. Then the basics again on each
kernel by name, linux-fleet and linux-generic, whichever exist: true, an
exit status, sort to end of input, a shared folder. Environment: FLEET_VMM,
FLEET_IMAGES (meson sets both). Exit 77 (skipped) when the Linux images
were not built, e.g. because neither kernel could be obtained.
"""
import contextlib
import fcntl
import os
import pty
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time

sys.path.append(os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "..", "tests", "lib"))  # by hand
from fleet_test.check import Failure, check, skip, wait_until  # noqa: E402
from fleet_test.fleet import Fleet, one_line_error  # noqa: E402
from fleet_test.paths import IMAGES, VMM  # noqa: E402
from fleet_test.runner import main  # noqa: E402
from fleet_test.terminal import TR_RUNS, EXEC_TR, TO_TR  # noqa: E402

T = 120  # seconds per boot: Linux under TCG takes 3 to 10 s on a busy machine


def run(fleet, *args, input=b"", rc=None):
    p = fleet.vmm("run", *args, input=input, timeout=T)
    if rc is not None and p.returncode != rc:
        raise Failure(f"run {' '.join(args)}: exit {p.returncode}, wanted {rc}\n"
                                f"stdout: {p.stdout[:300]!r}\nstderr: {p.stderr[-600:]!r}")
    return p


def test_true(fleet):
    p = run(fleet, "linux-true", rc=0)
    check(p.stdout == b"", f"true printed {p.stdout!r}")


def test_sort_stdin(fleet):
    p = run(fleet, "linux-sort", input=b"pear\napple\nfig\n", rc=0)
    check(p.stdout == b"apple\nfig\npear\n", f"sort gave {p.stdout!r}")


def test_wc_sees_eof(fleet):
    data = b"one two\nthree\n" * 1000
    p = run(fleet, "linux-wc", "-c", input=data, rc=0)
    check(p.stdout.strip() == str(len(data)).encode(), f"wc -c gave {p.stdout!r}, wanted {len(data)}")


def test_grep_no_match_is_1(fleet):
    p = run(fleet, "linux-grep", "needle", input=b"hay\nstack\n", rc=1)
    check(p.stdout == b"", f"grep printed {p.stdout!r}")


def test_sh_exit_7(fleet):
    p = run(fleet, "linux-sh", "-c", "echo to-err >&2; exit 7", rc=7)
    check(b"to-err" in p.stderr, f"stderr lacks the program's line: {p.stderr!r}")


def test_signal_is_128_plus(fleet):
    run(fleet, "linux-sh", "-c", "kill -9 $$", rc=137)


def test_cat_binary_roundtrip(fleet):
    data = bytes(range(256)) * 64 + os.urandom(200_000) + b"\0\r\n\x04\x1a"
    p = run(fleet, "linux-cat", input=data, rc=0)
    check(p.stdout == data, f"cat changed the bytes: {len(p.stdout)} bytes back, {len(data)} sent")


def test_slow_reader_loses_nothing(fleet):
    # The program ends while most of its output still sits in QEMU's queues
    # (the reader sleeps); the drain handshake (fleet.drain=1) must hand it
    # all over before the VM ends. Without it, 1.3 MB of 3 MB arrived.
    data = os.urandom(3_000_000)
    with tempfile.NamedTemporaryFile() as f:
        f.write(data)
        f.flush()
        p = subprocess.run(f"{VMM} run linux-cat < {f.name} | (sleep 5; cat)", shell=True, env=fleet.env,
                           capture_output=True, timeout=180)
    check(p.stdout == data, f"{len(p.stdout)} of {len(data)} bytes arrived; stderr {p.stderr[-300:]!r}")


# Arguments travel in the exec block (images/README.md): any bytes but NUL.
ODD_ARGS = ["a b", "", "it's \"quoted\"", "new\nline", "h\u00e9llo \u2713", "\ttab", "--", "$HOME", "*"]


def test_arguments_any_bytes(fleet):
    p = run(fleet, "linux", "sh", "-c", 'for a in "$@"; do printf "[%s]" "$a"; done', "sh", *ODD_ARGS, rc=0)
    want = "".join(f"[{a}]" for a in ODD_ARGS).encode()
    check(p.stdout == want, f"got {p.stdout!r}, wanted {want!r}")


def test_4096_arguments_and_a_120k_one(fleet):
    many = [str(i) for i in range(4096)]
    p = run(fleet, "linux-echo", *many, rc=0)
    check(p.stdout == (" ".join(many) + "\n").encode(), f"echo of 4096 arguments gave {len(p.stdout)} bytes")
    big = "x" * (120 * 1024)
    p = run(fleet, "linux-sh", "-c", 'printf %s "$1" | wc -c', "sh", big, rc=0)
    check(p.stdout.strip() == str(len(big)).encode(), f"a 120 KiB argument arrived as {p.stdout!r} bytes")


def test_environment_round_trip(fleet):
    with tempfile.NamedTemporaryFile("w", suffix=".env") as f:
        f.write("# comment\n\nFROM_FILE=file value\nOVERRIDE=file\n")
        f.flush()
        p = run(fleet, "-e", "A=x y", "-e", "EMPTY=", "-e", "NL=a\nb", "--env-file", f.name, "-e", "OVERRIDE=flag",
                "linux-env", rc=0)
    env = p.stdout.decode()
    for line in ("A=x y\n", "EMPTY=\n", "NL=a\nb\n", "FROM_FILE=file value\n", "OVERRIDE=flag\n",
                 "PATH=/bin:/sbin:/usr/bin:/usr/sbin\n"):
        check(line in env, f"env lacks {line!r}: {env!r}")
    p = fleet.vmm("run", "-e", "=bad", "linux-env")
    one_line_error(p, "NAME=VALUE")


def test_working_folder_on_a_share(fleet):
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o755)  # a confined QEMU (fleet-qemu) opens the share itself
        os.mkdir(os.path.join(d, "sub dir"))
        p = run(fleet, "--share", f"{d}:/src", "-w", "/src/sub dir", "linux-sh", "-c", "pwd", rc=0)
        check(p.stdout == b"/src/sub dir\n", f"pwd gave {p.stdout!r}")
        p = fleet.vmm("run", "--share", f"{d}:/src", "-w", "/elsewhere", "linux-true")
        one_line_error(p, "not on a shared folder")
        p = run(fleet, "--share", f"{d}:/src", "-w", "/src/missing", "linux-sh", "-c", "pwd", rc=125)
        check(b"cannot enter the working folder /src/missing" in p.stderr, f"stderr {p.stderr!r}")


def test_signals_reach_the_program(fleet):
    for sig, status in (("TERM", 143), ("INT", 130), ("HUP", 129), ("KILL", 137)):
        name = f"lx-sig-{sig.lower()}"
        fleet.vmm("start", "-n", name, "linux-sleep", "1000", check_rc=0, timeout=T)
        p = fleet.vmm("kill", "-s", sig, name, timeout=30)
        check(p.returncode == 0, f"kill -s {sig}: exit {p.returncode}: {p.stderr!r}")
        p = fleet.vmm("wait", name, timeout=60)
        check(p.returncode == status, f"sleep after SIG{sig}: exit {p.returncode}, wanted {status}")
        fleet.vmm("rm", name, timeout=30)
    # A shell that traps the signal decides for itself.
    fleet.vmm("start", "-n", "lx-trap", "linux-sh", "-c", "trap 'echo got TERM; exit 3' TERM; sleep 1000 & wait",
              check_rc=0, timeout=T)
    time.sleep(0.5)
    fleet.vmm("kill", "-s", "TERM", "lx-trap", timeout=30)
    p = fleet.vmm("wait", "lx-trap", timeout=60)
    check(p.returncode == 3, f"trapping sh: exit {p.returncode}, wanted 3")
    p = fleet.vmm("logs", "lx-trap", timeout=30)
    check(b"got TERM" in p.stdout, f"logs {p.stdout!r}")


def test_unknown_program_127(fleet):
    p = run(fleet, "linux", "no-such-program", rc=127)
    check(b"no-such-program: not found" in p.stderr, f"stderr: {p.stderr!r}")


def test_share_ls(fleet):
    help_text = fleet.vmm("run", "--help").stdout
    if b"--share" not in help_text:
        print("note: fleet-vmm run has no --share yet; shared folders not checked")
        return
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o755)  # a confined QEMU (fleet-qemu) opens the share itself
        for name in ("alpha.txt", "beta.txt"):
            with open(os.path.join(d, name), "w") as f:
                f.write(name)
        p = run(fleet, "--share", f"{d}:/mnt/data", "linux-ls", rc=0)
        check(p.stdout.split() == [b"alpha.txt", b"beta.txt"], f"ls gave {p.stdout!r}")
        p = run(fleet, "--share", f"{d}:/mnt/data", "linux-sh", "-c", "echo x > gamma.txt", rc=1)
        check(not os.path.exists(os.path.join(d, "gamma.txt")), "a read-only share was written")
        if os.geteuid() == 0:  # a confined QEMU writes as fleet-qemu (docs/SECURITY.md)
            # ... and the launcher says so when fleet-qemu cannot write there.
            p = run(fleet, "--share", f"{d}:/mnt/data:rw", "linux-sh", "-c", "echo x > gamma.txt", rc=1)
            check(b"cannot write " + d.encode() + b" (shared read-write)" in p.stderr and b"setfacl" in p.stderr,
                  f"no word on why the write failed: {p.stderr!r}")
            # What the note says to do (tools/setup installs acl), else a mode.
            if shutil.which("setfacl"):
                subprocess.run(["setfacl", "-m", "u:fleet-qemu:rwx", d], check=True)
            else:
                os.chmod(d, 0o777)
        p = run(fleet, "--share", f"{d}:/mnt/data:rw", "linux-sh", "-c", "pwd; echo x > gamma.txt", rc=0)
        check(p.stdout == b"/mnt/data\n", f"pwd gave {p.stdout!r}")
        check(b"cannot write" not in p.stderr, f"a note though fleet-qemu can write: {p.stderr!r}")
        with open(os.path.join(d, "gamma.txt")) as f:
            check(f.read() == "x\n", "the rw share did not get the file")


def test_stop_power_button(fleet):
    name = "lx-stop"
    fleet.vmm("start", "-n", name, "linux-sleep", "1000", check_rc=0, timeout=T)

    def running():
        return any(v.get("name") == name and v.get("state") == "running" for v in fleet.ls())
    wait_until(running, T, "the guest to become ready")
    t0 = time.monotonic()
    p = fleet.vmm("stop", name, timeout=60)
    took = time.monotonic() - t0
    check(took < 8, f"stop took {took:.1f} s (the guest should power off, not be killed)")
    check(p.returncode == 0, f"stop: exit {p.returncode}: {p.stderr!r}")


NOBODY = 65534


def test_every_user_has_the_kernel(fleet):
    """Each Linux entry names a kernel beside it in the catalog, readable by
    everyone, never the cache in the home of whoever built it (root's is
    0700: other users saw no Linux image at all). Then, where this catalog
    and fleet-vmm are reachable by nobody (not in a CI clone under a
    private /tmp folder), nobody boots linux-echo."""
    folder = os.path.join(IMAGES, "linux")
    for entry in sorted(f for f in os.listdir(folder) if f.endswith(".image")):
        with open(os.path.join(folder, entry)) as f:
            kernel = next(line.split("=", 1)[1].strip() for line in f if line.startswith("kernel="))
        path = os.path.realpath(os.path.join(folder, kernel))
        check(path.startswith(os.path.realpath(IMAGES) + "/"), f"{entry}: kernel {kernel} is outside the catalog")
        check(os.stat(path).st_mode & 0o004, f"{entry}: kernel {path} is not readable by everyone")
    as_nobody = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    probe = subprocess.run(as_nobody + ["test", "-r", os.path.join(folder, "linux-echo.image"), "-a", "-x", VMM])
    if probe.returncode != 0:
        print(f"note: nobody cannot reach {folder} or {VMM}; the boot as nobody is not checked here")
        return
    with tempfile.TemporaryDirectory() as d:
        os.chown(d, NOBODY, NOBODY)
        env = {"PATH": os.environ["PATH"], "HOME": d, "XDG_CACHE_HOME": os.path.join(d, "cache"),
               "FLEET_RUNTIME_DIR": os.path.join(d, "run"), "FLEET_IMAGES": IMAGES, "FLEET_ACCEL": "tcg"}
        p = subprocess.run(as_nobody + [VMM, "run", "linux-echo", "hi"], env=env, capture_output=True, timeout=T)
        check(p.returncode == 0 and p.stdout == b"hi\n", f"linux-echo as nobody: exit {p.returncode}, "
              f"stdout {p.stdout!r}, stderr {p.stderr[-400:]!r}")


def elf_section_types(path):
    """The sh_type of each section of a little-endian ELF64 file."""
    with open(path, "rb") as f:
        head = f.read(64)
        check(head[:4] == b"\x7fELF" and head[4] == 2 and head[5] == 1, f"{path} is not a little-endian ELF64")
        shoff, = struct.unpack_from("<Q", head, 0x28)
        shentsize, shnum = struct.unpack_from("<HH", head, 0x3A)
        f.seek(shoff)
        table = f.read(shentsize * shnum)
    return [struct.unpack_from("<I", table, i * shentsize + 4)[0] for i in range(shnum)]


def test_fleet_kernel_has_no_symbol_table(fleet):
    """QEMU's ELF loader reads and sorts a -kernel's whole symbol table at
    every start, a snapshot restore's too: the catalog's copy of fleet's
    kernel has none (the cache keeps the full vmlinux)."""
    kernel = os.path.join(IMAGES, "linux", "vmlinux-fleet")
    if not os.path.exists(kernel):
        print("note: fleet's kernel is not built here; only Debian's, which has no symbol table")
        return
    SHT_SYMTAB = 2
    check(SHT_SYMTAB not in elf_section_types(kernel), f"{kernel} still has a symbol table (.symtab)")


# Each kernel by name (meson writes linux-fleet and linux-generic when they exist).
KERNEL_IMAGES = ("linux-fleet", "linux-generic")


@contextlib.contextmanager
def vmm_on_a_pty(fleet, args, rows, cols):
    """fleet-vmm ARGS on a new pseudo-terminal of ROWS x COLS, in front of it
    as under a shell: (pid, the terminal's fd); killed at the end."""
    pid, fd = pty.fork()
    if pid == 0:
        try:  # the size before fleet-vmm reads it, not after a parent that lost the CPU
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
            os.execve(VMM, [VMM, *args], fleet.env)
        finally:
            os._exit(127)
    try:
        yield pid, fd
    finally:
        try:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        except OSError:
            pass
        os.close(fd)


def wait_status(pid, fd, what, options=0, timeout=T):
    """waitpid(pid), bounded: (status, what the terminal gave meanwhile),
    read so that fleet-vmm never blocks on a full terminal; a Failure
    naming WHAT after timeout."""
    deadline, more = time.monotonic() + timeout, b""
    while True:
        done, st = os.waitpid(pid, options | os.WNOHANG)
        if done:
            return st, more
        if time.monotonic() > deadline:
            raise Failure(f"{what}: fleet-vmm did not {'stop' if options else 'end'} within {timeout} s; "
                          f"screen: {more[-600:]!r}")
        if select.select([fd], [], [], 0.05)[0]:
            try:
                more += os.read(fd, 65536)
            except OSError:  # EIO: every process on the terminal has closed it
                time.sleep(0.05)


def on_a_terminal(fleet, args, rows, cols, steps, timeout=T):
    """fleet-vmm ARGS on a pseudo-terminal (vmm_on_a_pty). steps(screen, fd)
    is called as output comes: it may type or resize, and returns True when
    done. Then the output to the end and the exit status."""
    screen, done = b"", False
    deadline = time.monotonic() + timeout
    with vmm_on_a_pty(fleet, args, rows, cols) as (pid, fd):
        while time.monotonic() < deadline:
            if not done:
                done = steps(screen, fd)
            r, _, _ = select.select([fd], [], [], 0.25)
            if not r:
                continue
            try:
                data = os.read(fd, 65536)
            except OSError:  # EIO: every process on the terminal has closed it
                data = b""
            if not data:
                st, _ = wait_status(pid, fd, f"fleet-vmm {' '.join(args)} after closing its terminal")
                return screen, os.waitstatus_to_exitcode(st)
            screen += data
        raise Failure(f"fleet-vmm {' '.join(args)} on a terminal: no end within {timeout} s; screen: {screen[-600:]!r}")


def test_the_program_gets_a_terminal(fleet):
    """On a terminal, the program has one of its own: its size, a new size
    when ours changes, keys as typed (Ctrl-C interrupts it in the guest)."""
    state = {"resized": False, "typed": 0.0, "tr": False}

    def steps(screen, fd):
        if b"30 100" in screen and not state["resized"]:
            fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
            state["resized"] = True
        if state["resized"] and b"40 120" not in screen and time.monotonic() - state["typed"] > 0.5:
            os.write(fd, b"x\r")  # each line prints the size again, until the new one has arrived
            state["typed"] = time.monotonic()
        if b"40 120" in screen and not state["tr"]:
            os.write(fd, TO_TR)  # Ctrl-C for tr, not for sh's read (fleet_test/terminal.py)
            state["tr"] = True
        if state["tr"] and TR_RUNS in screen:
            os.write(fd, b"\x03")
            return True
        return False

    screen, rc = on_a_terminal(fleet, ["run", "linux-sh", "-c",
                                       f"tty; stty size; while IFS= read -r l; do {EXEC_TR}; stty size; done"],
                               30, 100, steps)
    check(re.search(rb"/dev/pts/\d+\r\n30 100\r\n", screen), f"no terminal of 30x100 in the guest: {screen!r}")
    check(b"40 120\r\n" in screen, f"the new size did not reach the guest: {screen!r}")
    check(rc == 130, f"Ctrl-C: exit {rc}, wanted 130; screen {screen!r}")
    # --no-tty: none, even on a terminal; the output is the program's bytes.
    screen, rc = on_a_terminal(fleet, ["run", "--no-tty", "linux-sh", "-c", "tty; exit 3"], 30, 100,
                               lambda s, fd: True)
    check(rc == 3 and b"not a tty" in screen, f"--no-tty: exit {rc}, screen {screen!r}")
    # --tty on a pipe: a terminal of 24x80; the end of input is its end-of-file key.
    p = run(fleet, "--tty", "linux-sh", "-c", "stty size; cat", input=b"typed\n", rc=0)
    check(p.stdout == b"typed\r\n24 80\r\ntyped\r\n" or p.stdout == b"24 80\r\ntyped\r\ntyped\r\n",
          f"--tty on a pipe: {p.stdout!r}")


def test_the_program_redraws_after_fg(fleet):
    """Ctrl-Z pauses the VM; when the run continues, its terminal signals
    the program (SIGWINCH) though the size is the same, as a full-screen
    program needs to redraw over what the shell printed meanwhile."""
    args = ["run", "linux-sh", "-c",
            f'trap "echo winch" WINCH; while :; do IFS= read -r l && {{ {EXEC_TR}; echo "got:$l"; }}; done']
    screen = b""

    def until(fd, want, what, typing=None):
        nonlocal screen
        deadline, typed = time.monotonic() + T, 0.0
        while want not in screen:
            if time.monotonic() > deadline:
                raise Failure(f"{what}: not seen within {T} s; screen: {screen[-600:]!r}")
            if typing and time.monotonic() - typed > 0.5:
                os.write(fd, typing)
                typed = time.monotonic()
            if select.select([fd], [], [], 0.1)[0]:
                screen += os.read(fd, 65536)

    with vmm_on_a_pty(fleet, args, 30, 100) as (pid, fd):
        until(fd, b"got:a", "the first line", b"a\r")
        check(b"winch" not in screen, f"a SIGWINCH before any pause or resize: {screen!r}")
        os.write(fd, b"\x1a")  # Ctrl-Z: the VM pauses and fleet-vmm stops
        st, more = wait_status(pid, fd, "Ctrl-Z", os.WUNTRACED)
        screen += more
        check(os.WIFSTOPPED(st), f"Ctrl-Z did not stop fleet-vmm: {st}")
        os.kill(pid, signal.SIGCONT)  # what fg does
        until(fd, b"winch", "the SIGWINCH after the resume", b"b\r")
        os.write(fd, TO_TR)  # Ctrl-C for tr, not for sh's read (fleet_test/terminal.py)
        until(fd, TR_RUNS, "tr after the resume")
        os.write(fd, b"\x03")
        st, more = wait_status(pid, fd, "Ctrl-C after the resume")
        check(os.waitstatus_to_exitcode(st) == 130, f"Ctrl-C after the resume: {st}; screen {(screen + more)[-600:]!r}")


def test_a_started_program_keeps_its_terminal(fleet):
    """start -t: the program's terminal outlives the consoles; each
    `fleet-vmm console` gives it the console's size at once and at each
    resize; Ctrl-] leaves it running, Ctrl-C interrupts it in the guest."""
    name = "lx-tty"
    fleet.vmm("start", "-t", "-n", name, "linux-sh", "-c",
              f'while IFS= read -r l; do {EXEC_TR}; echo "$l:$(stty size)"; done', check_rc=0, timeout=T)

    def typing(line, want, then):
        state = {"typed": 0.0}

        def steps(screen, fd):
            if want in screen:
                return then(fd)
            if b"Connected" in screen and time.monotonic() - state["typed"] > 0.5:
                os.write(fd, line + b"\r")  # again until the size it waits for has arrived
                state["typed"] = time.monotonic()
            return False
        return steps

    def resize_then(fd):
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        return True

    def in_turn(*steps):  # each steps function until it is done, then the next
        at = [0]

        def step(screen, fd):
            while at[0] < len(steps) and steps[at[0]](screen, fd):
                at[0] += 1
            return at[0] == len(steps)
        return step

    # First console: 33x91, then a resize to 40x120, then Ctrl-] to leave.
    screen, rc = on_a_terminal(fleet, ["console", name], 33, 91,
                               in_turn(typing(b"a", b"a:33 91", resize_then),
                                       typing(b"b", b"b:40 120", lambda fd: os.write(fd, b"\x1d") > 0)))
    check(rc == 0 and b"a:33 91" in screen and b"b:40 120" in screen, f"first console: exit {rc}, {screen!r}")
    # Still running; a second console at 20x70, then Ctrl-C for the program
    # (for tr, not for sh's read: fleet_test/terminal.py).
    screen, rc = on_a_terminal(fleet, ["console", name], 20, 70,
                               in_turn(typing(b"c", b"c:20 70", lambda fd: os.write(fd, TO_TR) > 0),
                                       lambda screen, fd: TR_RUNS in screen and os.write(fd, b"\x03") > 0))
    check(rc == 0 and b"c:20 70" in screen, f"second console: exit {rc}, {screen!r}")
    p = fleet.vmm("wait", name, timeout=60)
    check(p.returncode == 130, f"Ctrl-C through the console: wait gave {p.returncode}")
    p = fleet.vmm("start", "-t", "-n", "lx-tty-hello", "hello", timeout=T)
    check(p.returncode != 0 and b"only a Linux image gives its program a terminal" in p.stderr,
          f"start -t hello: {p.returncode} {p.stderr!r}")


def kernel_basics(image):
    def test(fleet):
        p = run(fleet, image, "true", rc=0)
        check(p.stdout == b"" and b"fleet-init" not in p.stderr, f"true printed {p.stdout!r} {p.stderr!r}")
        run(fleet, image, "sh", "-c", "exit 7", rc=7)
        p = run(fleet, image, "sort", input=b"pear\napple\nfig\n", rc=0)
        check(p.stdout == b"apple\nfig\npear\n", f"sort gave {p.stdout!r}")
        with tempfile.TemporaryDirectory() as d:
            os.chmod(d, 0o755)  # a confined QEMU (fleet-qemu) opens the share itself
            for name in ("alpha.txt", "beta.txt"):
                with open(os.path.join(d, name), "w") as f:
                    f.write(name)
            # No module messages either: the share modules load (generic) or are built in (fleet).
            p = run(fleet, "--share", f"{d}:/mnt/data", image, "ls", rc=0)
            check(p.stdout.split() == [b"alpha.txt", b"beta.txt"], f"ls gave {p.stdout!r}")
            check(p.stderr == b"", f"ls on a share wrote to stderr: {p.stderr!r}")
    test.__name__ = f"test_kernel_basics[{image}]"
    return test


def kernel_tests():
    found = [i for i in KERNEL_IMAGES if os.path.isfile(os.path.join(IMAGES, "linux", i + ".image"))]
    if not found:
        print("note: neither linux-fleet nor linux-generic is in the catalog")
    return [kernel_basics(i) for i in found]


if __name__ == "__main__":
    if not os.path.isfile(os.path.join(IMAGES, "linux", "linux.image")):
        skip(f"no Linux images in {IMAGES}: neither get-kernel nor build-kernel gave a kernel "
             "at configure time (see the meson log), or busybox-static is missing")
    main([test_true, test_sort_stdin, test_wc_sees_eof, test_grep_no_match_is_1, test_sh_exit_7,
          test_slow_reader_loses_nothing, test_arguments_any_bytes, test_4096_arguments_and_a_120k_one,
          test_environment_round_trip, test_working_folder_on_a_share, test_signals_reach_the_program,
          test_signal_is_128_plus, test_cat_binary_roundtrip, test_unknown_program_127, test_share_ls,
          test_stop_power_button, test_every_user_has_the_kernel, test_fleet_kernel_has_no_symbol_table,
          test_the_program_gets_a_terminal,
          test_the_program_redraws_after_fg, test_a_started_program_keeps_its_terminal] + kernel_tests(), lambda t: Fleet("linux"))
