#!/usr/bin/python3
"""fsh runs its commands as domains of a real fleet-router: real QEMU guests
under TCG, the runtime images and the Linux image's busybox.

A pipeline of VM commands is one run: the router starts its stages at once
and joins them with pipes itself (its log names the run as `a | b`), fsh
relays only the ends; exit statuses, pipefail, binary data, an early close
(`yes | head`), exported variables and the shared working folder reach the
programs (Linux commands restored from the router's snapshots, the shared
folder's too); Ctrl-C on a pty destroys the run's domains; a Linux command
on the pty gets a terminal of its own in the guest; a command that
cannot start and a router that goes away mid-run give one clear line and
leave no domain behind. docs/fleet-protocol.md is the protocol.
"""
import fcntl
import glob
import hashlib
import json
import os
import re
import signal
import struct
import subprocess
import sys
import termios
import time

sys.path.append(os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "lib"))  # run by hand: HACKING.md
from fleet_test import paths  # noqa: E402
from fleet_test.check import check, skip, wait_until  # noqa: E402
from fleet_test.router import fixture, need_router  # noqa: E402
from fleet_test.runner import main  # noqa: E402
from fleet_test.terminal import TR_RUNS, EXEC_TR, TO_TR, PtyProcess  # noqa: E402

NO_BUS = "unix:path=/nonexistent/fsh-test-no-bus"


def fsh_env(router, **extra):
    e = dict(os.environ)
    e.update({"FLEET_URI": router.uri_unix, "FLEET_RUNTIME_DIR": os.path.join(router.root, "fsh-run"),
              "DBUS_SYSTEM_BUS_ADDRESS": NO_BUS, "HOME": router.root, "FLEET_IMAGES": paths.IMAGES, **extra})
    os.makedirs(e["FLEET_RUNTIME_DIR"], exist_ok=True)
    return e


def fsh(router, script, stdin=b"", env=None, timeout=120, cwd=None):
    """fsh -c SCRIPT through the router; bytes out."""
    return subprocess.run([paths.FSH, "-c", script], input=stdin, env=fsh_env(router, **(env or {})),
                          capture_output=True, timeout=timeout, cwd=cwd)


def runs(router):
    """The runs the router logged: each a list of stage names."""
    return [line.split(": ", 2)[2].split(" | ") for line in router.log_text().splitlines()
            if re.match(r"fleet-router: run for .*: fsh-", line)]


def domains(router):
    out = subprocess.run([paths.VIRSH, "-c", router.uri_unix, "list", "--all", "--name"], capture_output=True,
                         text=True, timeout=30)
    return [n for n in out.stdout.split() if n]


def no_domain_left(router):
    wait_until(lambda: not domains(router), 30, "the run's domains gone")


# ---- tests -------------------------------------------------------------------

def test_command_status_and_env(router):
    r = fsh(router, "upper; echo status=$?", stdin=b"hello from fsh\n")
    check(r.stdout == b"HELLO FROM FSH\nstatus=0\n", f"upper: {r!r}")
    check(runs(router) and len(runs(router)[-1]) == 1, f"no run of one stage in the log:\n{router.log_tail()}")
    r = fsh(router, "hello exit=3 >/dev/null; echo $?")
    check(r.stdout.strip() == b"3", f"a program's status as $?: {r!r}")
    # Over TLS (a client certificate of the test PKI): the same run, sealed.
    r = fsh(router, "cat | upper; echo $?", stdin=b"over tls\n", env={"FLEET_URI": router.uri_tls})
    check(r.stdout == b"OVER TLS\n0\n", f"through qemu+tls://: {r!r}")
    r = fsh(router, "export GREETING='hi there'; X=1 env | host grep -E '^(GREETING|X)=' | host sort")
    check(r.stdout == b"GREETING=hi there\nX=1\n", f"exported and assigned variables: {r!r}")
    no_domain_left(router)


def test_joined_pipeline_binary(router):
    """`cat | cat | wc -c` is one run of three stages the router joins;
    binary data passes unchanged; the ends are fsh's redirections."""
    src = os.path.join(router.root, "in.bin")
    dst = os.path.join(router.root, "out.bin")
    data = os.urandom(3 << 20) + bytes(range(256)) * 16
    with open(src, "wb") as f:
        f.write(data)
    before = len(runs(router))
    r = fsh(router, f"cat < {src} | cat | cat > {dst}; echo $?")
    check(r.stdout == b"0\n", f"cat | cat | cat: {r!r}")
    with open(dst, "rb") as f:
        got = f.read()
    check(hashlib.sha256(got).digest() == hashlib.sha256(data).digest(),
          f"{len(got)} bytes out of {len(data)}, not the same")
    joined = runs(router)[before:]
    check(len(joined) == 1 and len(joined[0]) == 3, f"not one run of three stages: {joined}")
    r = fsh(router, f"cat < {src} | wc -c")
    check(r.stdout.split() == [str(len(data)).encode()], f"wc -c: {r!r}")
    # A host command in the middle splits the pipeline into two runs.
    before = len(runs(router))
    r = fsh(router, "echo one two | upper | host tr ' ' '\\n' | cat | wc -l")
    check(r.stdout.split() == [b"2"], f"with a host stage: {r!r}")
    check([len(x) for x in runs(router)[before:]] in ([2, 2], [1, 2], [2, 1]), f"runs: {runs(router)[before:]}")
    no_domain_left(router)


def test_early_close_and_pipefail(router):
    r = fsh(router, "yes | head -n 3; echo status=$?", timeout=60)
    check(r.stdout == b"y\ny\ny\nstatus=0\n", f"yes | head: {r!r}")
    r = fsh(router, "hello exit=4 | cat; echo $?; set -o pipefail; hello exit=4 | cat >/dev/null; echo $?")
    check(r.stdout.splitlines()[-2:] == [b"0", b"4"], f"pipefail: {r!r}")
    no_domain_left(router)


def test_linux_applets_and_shared_folder(router):
    proj = os.path.join(router.root, "my proj, v2")  # shared at its own path: blanks and commas too
    os.makedirs(proj, exist_ok=True)
    with open(os.path.join(proj, "a.c"), "w") as f:
        f.write("int x;\n// TODO: fix\n")
    r = fsh(router, "grep -rn TODO .; printf 'b\\na\\n' | sort | head -n 1", cwd=proj, timeout=180)
    check(r.stdout == b"./a.c:2:// TODO: fix\na\n", f"grep -rn and sort: {r!r}")
    r = fsh(router, "ls", env={"FSH_SHARE": "no"}, cwd=proj, timeout=180)
    check(b"a.c" not in r.stdout, f"--no-share still shows the folder: {r!r}")
    no_domain_left(router)
    # The router started them from snapshots (the applets' catalog entries
    # say snapshot=yes): one for the shared working folder, whose key has
    # the 9p device but not the folder, and one without.
    keys = []
    for rec in glob.glob(os.path.join(router.runtime, "snapshots", "*.json")):
        with open(rec) as f:
            keys.append(json.load(f)["key"])
    shared = [k for k in keys if "mount_tag=fleet-share0" in k]
    check(len(keys) == 2 and len(shared) == 1 and proj not in shared[0],
          f"the router's snapshots: {len(keys)} records, {len(shared)} with a share")
    # FSH_SHARE=rw: a read-write <filesystem>, so cp writes into the folder
    # (under root the guest writes as fleet-qemu: docs/SECURITY.md).
    os.chmod(proj, 0o777)
    r = fsh(router, "FSH_SHARE=rw cp a.c b.c; echo $?; touch c.c", cwd=proj, timeout=180)
    check(r.stdout.startswith(b"0\n"), f"FSH_SHARE=rw cp: {r!r}")
    check(sorted(os.listdir(proj)) == ["a.c", "b.c"], f"the folder after cp and a read-only touch: {os.listdir(proj)}")
    r = fsh(router, "FSH_SHARE=write ls; echo $?", cwd=proj, timeout=60)
    check(r.stdout == b"125\n" and b"FSH_SHARE: 'write' is not ro, rw or no" in r.stderr, f"a bad FSH_SHARE: {r!r}")
    no_domain_left(router)


def test_interrupt_destroys_the_run(router):
    """Ctrl-C on a pty: the foreground run's domains are destroyed and the
    prompt comes back."""
    t = PtyProcess([paths.FSH], env=fsh_env(router))
    try:
        t.expect(b"$ ", 20, "the prompt")
        t.write(b"yes | cat >/dev/null\n")
        wait_until(lambda: len(domains(router)) == 2, 60, "the two domains of `yes | cat`")
        t.write(b"\x03")
        t.expect(b"$ ", 30, "the prompt after Ctrl-C")
        no_domain_left(router)
        t.write(b"echo after=$?\n")
        t.expect(b"after=130", 20, "status 130 after Ctrl-C")
        t.write(b"exit\n")
        t.wait(10)
    finally:
        t.close()


def test_warm_pool_stages(router):
    """With warm pools, a run's stages claim waiting VMs and get the run's
    pipes with the claim: same bytes, same statuses as a cold boot."""
    wait_until(lambda: router.log_text().count("warm pool 'cat': full") and
               router.log_text().count("warm pool 'upper': full"), 60, "the pools full")
    data = os.urandom(1 << 20)
    r = fsh(router, "cat | upper | cat | wc -c; hello exit=5 | cat >/dev/null; echo $?", stdin=data)
    check(r.stdout.split() == [str(len(data)).encode(), b"0"], f"through pooled stages: {r!r}")
    pooled = router.log_text().count(": from the warm pool of ")
    check(pooled >= 3, f"{pooled} stages from the warm pools:\n{router.log_tail()}")
    r = fsh(router, "upper", stdin=b"abc\n")
    check(r.stdout == b"ABC\n", f"stdin's end through a pooled stage: {r!r}")
    no_domain_left(router)


test_warm_pool_stages.router_kwargs = {"extra_args": ["--pool", "cat:2,upper:2"]}


def states(router):
    out = subprocess.run([paths.VIRSH, "-c", router.uri_unix, "list", "--all"], capture_output=True, text=True,
                         timeout=30).stdout
    return sorted(l.split()[-1] for l in out.splitlines()[2:] if l.strip())


def test_ctrl_z_suspends_fg_resumes(router):
    """Ctrl-Z on a pty pauses the run's domains and stops the job; fg
    resumes them; Ctrl-C then ends it."""
    t = PtyProcess([paths.FSH], env=fsh_env(router))
    try:
        t.expect(b"$ ", 20, "the prompt")
        t.write(b"yes | cat >/dev/null\n")
        wait_until(lambda: states(router) == ["running", "running"], 60, "the two domains running")
        t.write(b"\x1a")  # even before fsh has the run's reply: Ctrl-Z waits for it
        t.expect(b"Stopped", 30, "the job stopped")
        wait_until(lambda: states(router) == ["paused", "paused"], 30, "the domains paused")
        t.write(b"fg\n")
        wait_until(lambda: states(router) == ["running", "running"], 30, "the domains running again")
        t.write(b"\x03")
        t.expect(b"$ ", 30, "the prompt after Ctrl-C")
        no_domain_left(router)
        t.write(b"exit\n")
        t.wait(10)
    finally:
        t.close()


def set_size(t, rows, cols):
    fcntl.ioctl(t.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def test_program_terminal(router):
    """A Linux command alone in the foreground on fsh's terminal gets a
    terminal of its own in the guest through the router (fleet:terminal):
    the size, TERM, each resize (FLEET_DOMAIN_RESIZE_TERMINAL), Ctrl-Z and
    fg with the terminal cooked between, Ctrl-C as a byte that interrupts
    the guest's program; on a pipe it has none."""
    t = PtyProcess([paths.FSH], env=fsh_env(router, TERM="xterm"))
    try:
        set_size(t, 33, 91)
        t.expect(b"$ ", 20, "the prompt")
        t.write(b"tty; stty size; echo term=$TERM\n")
        t.expect(b"term=xterm", 180, "the Linux command's output")
        check(re.search(rb"/dev/pts/\d+\r\n33 91\r\n", t.buf), f"a terminal of 33x91: {t.buf!r}")
        t.buf = b""
        t.write(b"tty | cat; echo piped=$?\n")
        t.expect(b"piped=0", 180, "the piped tty")
        check(b"not a tty" in t.buf, f"a pipeline's stage has no terminal: {t.buf!r}")
        t.buf = b""
        # A trapped SIGWINCH interrupts read (status > 128): the loop goes on.
        t.write(f"sh -c 'trap \"echo winch\" WINCH; while :; do read l && {{ {EXEC_TR}; echo \"$l:$(stty size)\"; }}; done'\n"
                .encode())
        wait_until(lambda: states(router) == ["running"], 120, "the command's domain running")
        t.write(b"one\r")
        t.expect(b"one:33 91", 60, "the first line")
        set_size(t, 40, 120)  # the kernel sends fsh's job SIGWINCH
        time.sleep(0.5)
        t.write(b"two\r")
        t.expect(b"two:40 120", 60, "the size after a resize")
        for rows in range(41, 51):  # a drag: sizes faster than the router tells them; the last one wins
            set_size(t, rows, 120)
        time.sleep(0.5)
        t.write(b"drag\r")
        t.expect(b"drag:50 120", 60, "the last size of a drag")
        told = re.findall(r"': terminal (\d+x\d+)", router.log_text())
        check(told[-1] == "50x120" and len(told) < 12, f"the sizes the router told: {told}")
        t.write(b"\x1a")
        t.expect(b"Stopped", 30, "the job stopped")
        wait_until(lambda: states(router) == ["paused"], 30, "the domain paused")
        t.buf = b""
        t.write(b"host stty -a | grep -c ' icanon'\n")  # fsh's terminal is cooked again
        t.expect(b"\r\n1\r\n", 30, "the terminal cooked while the job is stopped")
        set_size(t, 20, 70)  # resized while stopped: told at fg
        t.write(b"fg\n")
        wait_until(lambda: states(router) == ["running"], 30, "the domain running again")
        t.write(b"three\r")
        t.expect(b"three:20 70", 60, "the size after fg")
        # A pause with no resize: at fg the program is signalled all the same (a redraw).
        t.buf = b""
        t.write(b"\x1a")
        t.expect(b"Stopped", 30, "the job stopped again")
        t.write(b"fg\n")
        wait_until(lambda: states(router) == ["running"], 30, "the domain running again")
        t.write(b"four\r")
        t.expect(b"four:20 70", 60, "a line after the second fg")
        check(b"winch" in t.buf, f"no SIGWINCH for the program at fg: {t.buf!r}")
        t.buf = b""
        t.write(TO_TR)  # Ctrl-C for tr, not for sh's read (fleet_test/terminal.py)
        t.expect(TR_RUNS, 60, "tr running")
        t.write(b"\x03")  # a byte for the guest's terminal: SIGINT for tr there
        t.expect(b"$ ", 30, "the prompt after Ctrl-C")
        t.write(b"echo after=$?\n")
        t.expect(b"after=130", 20, "status 130 after Ctrl-C")
        no_domain_left(router)
        t.write(b"exit\n")
        t.wait(10)
    finally:
        t.close()
    # A runtime program has no terminal to give: the start is refused.
    xml = os.path.join(router.root, "hello-tty.xml")
    with open(xml, "w") as f:
        f.write("<domain type='qemu'><name>hello-tty</name><metadata xmlns:fleet='https://fleet.dev/xmlns/domain/1'>"
                "<fleet:image>hello</fleet:image><fleet:terminal rows='24' cols='80'/></metadata></domain>")
    r = subprocess.run([paths.VIRSH, "-c", router.uri_unix, "create", xml], capture_output=True, text=True, timeout=60)
    check(r.returncode != 0 and "only Linux images give a program a terminal" in r.stderr, f"virsh create: {r!r}")


def test_ps_lists_the_jobs_domains(router):
    """`ps`: the router's domains of fsh's own jobs; `kill %1` destroys them."""
    out = os.path.join(router.root, "ps.txt")
    script = """sleep 30 | cat &
i=0
while [ $i -lt 150 ]; do
  ps > "$OUT"
  host grep -q 'running' "$OUT" && host grep -q 'cat' "$OUT" && break
  host sleep 0.1; i=$((i+1))
done
kill %1; wait
"""
    r = fsh(router, script, env={"OUT": out}, timeout=90)
    with open(out) as f:
        text = f.read()
    lines = text.splitlines()
    check(lines and lines[0].split() == ["JOB", "NAME", "STATE", "IMAGE"], f"ps: {text!r} {r.stderr!r}")
    rows = [l.split() for l in lines[1:]]
    check(sorted(x[-1] for x in rows) == ["cat", "sleep"] and all(x[0] == "%1" for x in rows), f"ps: {text!r}")
    check(all(re.fullmatch(r"fsh-\d+-\d+-[01]", x[1]) for x in rows), f"ps names: {text!r}")
    no_domain_left(router)


def test_bad_commands_and_lost_router(router):
    r = fsh(router, "nosuchprogram; echo $?")
    check(r.stdout == b"127\n" and b"nosuchprogram: command not found" in r.stderr, f"not found: {r!r}")
    # A chosen router that cannot run commands is an error, not a fallback.
    r = fsh(router, "upper; echo $?", env={"FLEET_URI": router.uri_ro})
    check(r.stdout == b"126\n" and b"read-only" in r.stderr and len(r.stderr.splitlines()) == 1,
          f"a read-only router: {r!r}")
    # The accelerator: a stage is 'kvm' where the router offers KVM (unless
    # FLEET_ACCEL says tcg), and FLEET_ACCEL=kvm without it is the router's
    # one-line reason.
    caps = subprocess.run([paths.VIRSH, "-c", router.uri_unix, "capabilities"], capture_output=True, text=True,
                          timeout=30).stdout
    kvm = "<domain type='kvm'" in caps
    r = fsh(router, "FLEET_ACCEL=kvm upper; echo $?", stdin=b"k\n")
    if kvm:
        check(r.stdout == b"K\n0\n", f"FLEET_ACCEL=kvm on a router with KVM: {r!r}")
    else:
        check(r.stdout == b"125\n" and b"needs KVM" in r.stderr and len(r.stderr.splitlines()) == 1,
              f"FLEET_ACCEL=kvm on a router without KVM: {r!r}")
    r = fsh(router, "FLEET_ACCEL=fast upper; echo $?")
    check(r.stdout == b"125\n" and b"FLEET_ACCEL: 'fast' is not kvm, tcg or auto" in r.stderr, f"a bad FLEET_ACCEL: {r!r}")
    # A router killed in the middle of a run: one line, status 125, and the
    # domains go with it (their supervisors' QEMU dies with them).
    p = subprocess.Popen([paths.FSH, "-c", "yes | cat > /dev/null; echo status=$?"], env=fsh_env(router),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_until(lambda: runs(router), 60, "the run of `yes | cat`")
    router.kill(signal.SIGKILL)
    out, err = p.communicate(timeout=60)
    check(out == b"status=125\n", f"after the router died: {out!r} {err!r}")
    check(b"lost the router" in err and len(err.splitlines()) == 1, f"stderr: {err!r}")
    router.start()
    no_domain_left(router)


def main_():
    need_router()
    if not os.access(paths.FSH, os.X_OK):
        skip(f"no fsh at {paths.FSH}")
    main([test_command_status_and_env, test_joined_pipeline_binary, test_warm_pool_stages, test_early_close_and_pipefail,
          test_linux_applets_and_shared_folder, test_interrupt_destroys_the_run, test_ctrl_z_suspends_fg_resumes,
          test_program_terminal, test_ps_lists_the_jobs_domains,
          test_bad_commands_and_lost_router],
         fixture(verbose=True))


if __name__ == "__main__":
    main_()
