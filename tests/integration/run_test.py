#!/usr/bin/python3
"""fleet-vmm run: a real tiny guest under QEMU, its output and exit status."""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.append(os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "lib"))  # run by hand: HACKING.md
from fleet_test import paths  # noqa: E402
from fleet_test.check import Failure, check  # noqa: E402
from fleet_test.fleet import Fleet, one_line_error  # noqa: E402
from fleet_test.runner import main  # noqa: E402
from fleet_test.terminal import PtyProcess  # noqa: E402

HELLO_ELF = os.path.join(paths.IMAGES, "hello", "hello.elf")


def test_output_and_status(fleet):
    p = fleet.vmm("run", "hello", "a", "b", "exit=3")
    check(p.returncode == 3, f"exit status {p.returncode}, wanted 3")
    check(p.stdout == b"hello a b exit=3\n", f"stdout {p.stdout!r}")
    check(p.stderr == b"", f"stderr {p.stderr!r}")


def test_status_extremes(fleet):
    for status in (0, 1, 127, 128, 255):
        p = fleet.vmm("run", "hello", f"exit={status}")
        check(p.returncode == status, f"exit={status}: got {p.returncode}")


def test_guest_stderr_is_separate(fleet):
    p = fleet.vmm("run", "hello", "exit=abc")
    check(p.returncode == 2, f"exit status {p.returncode}, wanted 2")
    check(p.stdout == b"", f"stdout {p.stdout!r}")
    check(p.stderr == b"hello: bad exit value 'abc'\n", f"stderr {p.stderr!r}")


def test_by_path(fleet):
    p = fleet.vmm("run", HELLO_ELF, "x")
    check(p.returncode == 0 and p.stdout == b"hello x\n", f"by kernel path: {p}")
    entry = os.path.join(paths.IMAGES, "hello.image")
    p = fleet.vmm("run", entry, "y")
    check(p.returncode == 0 and p.stdout == b"hello y\n", f"by entry path: {p}")


def test_record_removed_unless_keep(fleet):
    fleet.vmm("run", "--name", "gone", "hello", check_rc=0)
    check(fleet.ls() == [], "run left a record behind")
    fleet.vmm("run", "--keep", "--name", "kept", "hello", "exit=4", check_rc=4)
    (r,) = fleet.ls()
    check(r["name"] == "kept" and r["exit_status"] == 4 and r["exit_reason"] == "exit", f"record {r}")


def test_ctrl_c_interrupts_the_program(fleet):
    p = fleet.popen("run", "hello", "hold", stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        line = p.stdout.readline()
        check(line == b"hello hold\n", f"first line {line!r}")
        start = time.monotonic()
        p.send_signal(signal.SIGINT)
        rc = p.wait(timeout=10)
        took = time.monotonic() - start
        err = p.stderr.read()
        # The program gets SIGINT ("signal 2" on ctl) and ends with 128 + 2, like a shell reports it.
        check(rc == 130, f"exit {rc}, stderr {err!r}")
        check(err == b"hello: signal 2\n", f"stderr {err!r}")
        check(took < 3, f"stopping took {took:.2f}s")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_ctrl_c_before_ready_reaches_the_program(fleet):
    """A Ctrl-C while the guest still boots: hello turns its ctl UART's FIFO
    on before it says ready, which drops a byte the UART holds, so the
    "signal 2" line waits for ready (images/README.md) and the program gets
    it whole once it runs."""
    state = os.path.join(fleet.vm_dir("early"), "state.json")
    for attempt in range(5):
        p = fleet.popen("run", "--name", "early", "hello", "hold", stdin=subprocess.DEVNULL,
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            # The record is written once QEMU runs, tens of milliseconds
            # before the guest is ready under TCG: the signal goes then.
            deadline = time.monotonic() + 10
            while not os.path.exists(state) and p.poll() is None and time.monotonic() < deadline:
                time.sleep(0.0002)
            try:
                with open(state) as f:
                    before_ready = json.load(f)["state"] == "starting"
            except (OSError, ValueError):
                before_ready = False
            p.send_signal(signal.SIGINT)
            rc = p.wait(timeout=10)
            err = p.stderr.read()
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        check(rc == 130, f"exit {rc} (the program did not get the early SIGINT), stderr {err!r}")
        check(err == b"hello: signal 2\n", f"stderr {err!r}")
        if before_ready:
            return
    raise Failure("the guest was ready each time before the signal could be sent")


def test_ctrl_c_on_a_terminal_reaches_the_program_first(fleet):
    """Ctrl-C typed on a terminal signals its whole foreground group: QEMU
    must not be in it (it would quit at once), so the program gets SIGINT
    through the launcher and ends 130 with its own word on stderr."""
    t = PtyProcess([paths.VMM, "run", "--no-stdin", "hello", "hold"], env=fleet.env)
    try:
        t.expect("hello hold", 30)
        t.write("\x03")
        t.expect("hello: signal 2", 10, "the program's own SIGINT message")
        rc = t.wait(10)
        check(rc == 130, f"exit {rc}; terminal {t.buf!r}")
        check(b"terminating on signal" not in t.buf, f"QEMU got the terminal's SIGINT: {t.buf!r}")
    finally:
        t.close()


def test_ctrl_z_pauses_the_guest_and_fg_resumes_it(fleet):
    """Ctrl-Z on a terminal: the guest is paused (QMP stop) and fleet-vmm
    stops; SIGCONT resumes both; Ctrl-C still ends the program."""
    t = PtyProcess([paths.VMM, "run", "--keep", "--name", "tstp", "--no-stdin", "hello", "hold"], env=fleet.env)
    try:
        t.expect("hello hold", 30)
        t.write("\x1a")
        deadline = time.monotonic() + 10
        state = None
        while time.monotonic() < deadline:
            pid, st = os.waitpid(t.pid, os.WUNTRACED | os.WNOHANG)
            if pid and os.WIFSTOPPED(st):
                state = "stopped"
                break
            time.sleep(0.05)
        check(state == "stopped", "fleet-vmm did not stop on Ctrl-Z")
        check(fleet.record("tstp")["state"] == "paused", f"record {fleet.record('tstp')}")
        os.kill(t.pid, signal.SIGCONT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and fleet.record("tstp")["state"] != "running":
            time.sleep(0.05)
        check(fleet.record("tstp")["state"] == "running", f"record {fleet.record('tstp')}")
        t.write("\x03")
        t.expect("hello: signal 2", 10, "the program's own SIGINT message")
        check(t.wait(10) == 130, f"exit {t.status}; terminal {t.buf!r}")
    finally:
        t.close()


def test_boot_timeout_is_an_error_not_a_hang(fleet):
    start = time.monotonic()
    p = fleet.vmm("run", "--boot-timeout", "1", "hello", "hang", timeout=20)
    took = time.monotonic() - start
    line = one_line_error(p, "did not become ready within 1.0 s", "tcg")
    check(p.returncode == 124, f"exit {p.returncode}, wanted 124 ({line})")
    check(took < 5, f"boot timeout took {took:.2f}s")


def test_verbose_says_which_accelerator(fleet):
    p = fleet.vmm("run", "-v", "--accel", "auto", "hello", env={"FLEET_KVM_DEVICE": "/nonexistent/kvm"})
    check(p.returncode == 0 and p.stdout == b"hello\n", f"{p}")
    check(b"runs under tcg (KVM is not usable" in p.stderr, f"stderr {p.stderr!r}")
    p = fleet.vmm("run", "-v", "--accel", "tcg", "hello")
    check(b"runs under tcg\n" in p.stderr, f"stderr {p.stderr!r}")


def test_closed_stdout_ends_like_sigpipe(fleet):
    # yes writes forever; once head has its lines nobody reads: status 141,
    # no message (a virtio guest sees its port close and exits 141 itself).
    p = subprocess.run(f"{paths.VMM} run --no-stdin yes | head -n 2; exit ${{PIPESTATUS[0]}}", shell=True,
               executable="/bin/bash", env=fleet.env, capture_output=True, timeout=60)
    check(p.stdout == b"y\ny\n", f"stdout {p.stdout!r}")
    check(p.returncode == 141, f"exit {p.returncode}, stderr {p.stderr!r}")
    check(p.stderr == b"", f"stderr {p.stderr!r}")


def test_a_middle_stage_loses_nothing_at_its_end(fleet):
    """A VM between two VMs reads and writes until its end; a read of its
    stdout in flight when QEMU ended used to be cancelled with its bytes
    (about 1 run in 40 to 60 lost up to 64 KiB under TCG on 2 CPUs: this
    catches a return of it only sometimes). 12 runs of 64 MiB, every byte counted."""
    data = os.path.join(fleet.root, "64MiB")
    with open(data, "wb") as f:
        f.write(os.urandom(64 << 20))
    for i in range(12):
        p = subprocess.run(f"{paths.VMM} run cat < {data} | {paths.VMM} run cat | {paths.VMM} run wc -c",
                           shell=True, env=fleet.env, capture_output=True, timeout=60)
        check(p.stdout == b"%d\n" % (64 << 20), f"run {i}: {p.stdout!r} bytes counted, stderr {p.stderr!r}")


def test_memory_and_cpus(fleet):
    p = fleet.vmm("run", "-m", "64M", "--cpus", "2", "hello", "ok")
    check(p.returncode == 0 and p.stdout == b"hello ok\n", f"{p}")


def test_cmdline_is_runnable(fleet):
    p = fleet.vmm("cmdline", "hello", "raw", "two words", check_rc=0)
    line = p.stdout.decode()
    # No launcher writes the exec block for a raw line: it rides on the kernel command line.
    check("-M microvm" in line and "-append fleet.exec=" in line, f"cmdline {line!r}")
    q = subprocess.run(["sh", "-c", line], capture_output=True, timeout=30, stdin=subprocess.DEVNULL)
    check(q.stdout == b"hello raw two words\n", f"raw QEMU printed {q.stdout!r}")
    check(q.returncode == 1, f"raw QEMU exit {q.returncode}: isa-debug-exit of status 0 is 1")


ODD_ARGS = ["a b", "", "it's \"quoted\"", "new\nline", "h\u00e9llo \u2713", "\ttab", "exit=", "--"]


def test_arguments_any_bytes(fleet):
    p = fleet.vmm("run", "hello", "a b", "", "it's \"quoted\"", "new\nline", "h\u00e9llo \u2713", "\ttab", "--")
    want = ("hello " + " ".join(["a b", "", "it's \"quoted\"", "new\nline", "h\u00e9llo \u2713", "\ttab", "--"]) + "\n")
    check(p.returncode == 0 and p.stdout == want.encode(), f"{p}")


def test_4096_arguments_and_a_120k_one(fleet):
    many = [str(i) for i in range(4096)]
    p = fleet.vmm("run", "hello", *many, "exit=4")
    check(p.returncode == 4 and p.stdout == ("hello " + " ".join(many) + " exit=4\n").encode(),
          f"exit {p.returncode}, {len(p.stdout)} bytes")
    # A cold hello reads its block through fw_cfg (exec=fw_cfg); a warm one over its UART.
    big = "y" * (120 * 1024)
    p = fleet.vmm("run", "--boot-timeout", "60", "hello", big, timeout=120)
    check(p.returncode == 0 and p.stdout == ("hello " + big + "\n").encode(), f"exit {p.returncode}, {len(p.stdout)} bytes")


def test_signals_reach_hello(fleet):
    for sig, status in (("TERM", 143), ("INT", 130), ("HUP", 129), ("KILL", 137), ("10", 138)):
        name = f"sig-{sig.lower()}"
        fleet.vmm("start", "-n", name, "hello", "hold", check_rc=0)
        fleet.vmm("kill", "-s", sig, name, check_rc=0)
        p = fleet.vmm("wait", name)
        check(p.returncode == status, f"hello after SIG{sig}: exit {p.returncode}, wanted {status}")
        fleet.vmm("rm", name, check_rc=0)
    one_line_error(fleet.vmm("kill", "-s", "NOPE", "x"), "unknown signal")


def test_the_block_comes_through_fw_cfg_and_stays_out_of_argv(fleet):
    """hello's image says exec=fw_cfg: a cold start hands the block over as
    fw_cfg's file, an inherited fd, so its arguments are in no argv that
    another user could read in /proc."""
    fleet.vmm("start", "-n", "fwcfg", "hello", "hold", "s3cret-word", check_rc=0)
    try:
        pid = fleet.record("fwcfg")["pid"]
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = f.read().split(b"\0")
        check(b"-fw_cfg" in argv, f"QEMU has no -fw_cfg: {argv}")
        check(any(a.startswith(b"name=opt/fleet/exec,file=/proc/self/fd/") for a in argv), f"{argv}")
        check(not any(b"s3cret-word" in a for a in argv), "the program's argument is in QEMU's argv")
        deadline = time.monotonic() + 10
        while (log := fleet.vmm("logs", "fwcfg", check_rc=0).stdout) == b"" and time.monotonic() < deadline:
            time.sleep(0.05)
        check(log == b"hello hold s3cret-word\n", f"console {log!r}")
    finally:
        fleet.vmm("rm", "-f", "fwcfg")


def raw_hello_with_ctl(fleet, payload, fw_cfg=None):
    """hello under raw QEMU with its ctl UART on a socket this test writes
    `payload` into (then closes): what a broken launcher would send. With
    fw_cfg (bytes), that is the fw_cfg file and nothing comes on ctl."""
    line = fleet.vmm("cmdline", "hello", check_rc=0).stdout.decode()
    import shlex
    import socket
    import tempfile
    argv = shlex.split(line)
    i = argv.index("-append")
    del argv[i:i + 2]  # no exec block on the command line: hello must read ctl
    ours, theirs = socket.socketpair()
    argv = [a.replace("null,id=fleet-ctl", f"socket,fd={theirs.fileno()},id=fleet-ctl") for a in argv]
    if fw_cfg is not None:
        tmp = tempfile.NamedTemporaryFile(prefix="fleet-fwcfg-")
        tmp.write(fw_cfg)
        tmp.flush()
        argv += ["-fw_cfg", f"name=opt/fleet/exec,file={tmp.name}"]
    ours.sendall(payload)
    q = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         pass_fds=[theirs.fileno()])
    theirs.close()
    try:
        out, err = q.communicate(timeout=60)
    finally:
        if q.poll() is None:
            q.kill()
            q.wait()
    ctl = b""
    ours.settimeout(1)
    try:
        while chunk := ours.recv(4096):
            ctl += chunk
    except OSError:
        pass
    ours.close()
    return q.returncode, out, err, ctl


def test_bad_exec_blocks_are_refused(fleet):
    import struct
    v = paths.abi_version()
    good = struct.pack("<8I", 0x42584C46, v, 1, 0, 4, 0, 0, 0) + b"ok\0\0"
    rc, out, err, ctl = raw_hello_with_ctl(fleet, b"\n\n" + good)
    check(out == b"hello ok\n", f"a good block: {out!r} {err!r} {ctl!r}")
    cases = [(b"\n\nNOT A BLOCK AT ALL", b"bad magic"),
             (b"\n\n" + struct.pack("<8I", 0x42584C46, 9, 1, 0, 4, 0, 0, 0) + b"ok\0\0", b"unsupported version"),
             (b"\n\n" + struct.pack("<8I", 0x42584C46, v, 1, 0, 1 << 30, 0, 0, 0), b"too large"),
             (b"\n\n" + struct.pack("<8I", 0x42584C46, v, 2, 0, 4, 0, 0, 0) + b"ok\0\0", b"do not match")]
    for payload, why in cases:
        rc, out, err, ctl = raw_hello_with_ctl(fleet, payload)
        check(b"bad exec block" in err and why in err, f"stderr {err!r} lacks {why!r}")
        check(b"exit 125\n" in ctl and out == b"", f"ctl {ctl!r}, stdout {out!r}")
    # The same through fw_cfg (no preamble there), and one cut short.
    rc, out, err, ctl = raw_hello_with_ctl(fleet, b"", fw_cfg=good)
    check(out == b"hello ok\n" and b"ready\n" in ctl, f"a good fw_cfg block: {out!r} {err!r} {ctl!r}")
    for payload, why in [(p[2:], w) for p, w in cases[1:]] + [(b"NOT A BLOCK AT ALL" * 3, b"bad magic"),
                                                               (good[:-1], b"truncated (in fw_cfg)"),
                                                               (good[:10], b"fw_cfg's file has a bad size")]:
        rc, out, err, ctl = raw_hello_with_ctl(fleet, b"", fw_cfg=payload)
        check(b"bad exec block" in err and why in err, f"fw_cfg: stderr {err!r} lacks {why!r}")
        check(b"exit 125\n" in ctl and out == b"", f"fw_cfg: ctl {ctl!r}, stdout {out!r}")
    # Oversized at the host: a clear error before anything boots.
    one_line_error(fleet.vmm("run", "hello", *["z" * (100 * 1024)] * 3), "at most 262144")


if __name__ == "__main__":
    main([test_output_and_status, test_status_extremes, test_guest_stderr_is_separate, test_by_path,
          test_record_removed_unless_keep, test_ctrl_c_interrupts_the_program, test_ctrl_c_before_ready_reaches_the_program,
          test_ctrl_c_on_a_terminal_reaches_the_program_first, test_ctrl_z_pauses_the_guest_and_fg_resumes_it,
          test_boot_timeout_is_an_error_not_a_hang, test_verbose_says_which_accelerator, test_closed_stdout_ends_like_sigpipe,
          test_a_middle_stage_loses_nothing_at_its_end,
          test_memory_and_cpus, test_cmdline_is_runnable, test_arguments_any_bytes,
          test_4096_arguments_and_a_120k_one, test_signals_reach_hello,
          test_the_block_comes_through_fw_cfg_and_stays_out_of_argv, test_bad_exec_blocks_are_refused],
         lambda t: Fleet())
