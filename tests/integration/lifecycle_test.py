#!/usr/bin/python3
"""Detached VMs: start, ls, logs, console, wait, pause/resume, stop, kill, rm,
and VMs whose QEMU or supervisor dies behind fleet-vmm's back."""
import os
import signal
import subprocess
import sys
import time

sys.path.append(os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "lib"))  # run by hand: HACKING.md
from fleet_test.check import check, wait_until  # noqa: E402
from fleet_test.fleet import Fleet, one_line_error  # noqa: E402
from fleet_test.procs import alive, children  # noqa: E402
from fleet_test.runner import main  # noqa: E402


def start(fleet, *args):
    p = fleet.vmm("start", *args, check_rc=0)
    return p.stdout.decode().strip()


def test_start_ls_logs_stop(fleet):
    name = start(fleet, "--name", "web", "hello", "hold")
    check(name == "web", f"start printed {name!r}")
    (r,) = fleet.ls()
    check(r["name"] == "web" and r["state"] == "running", f"ls {r}")
    check(r["accel"] == "tcg" and r["memory_mib"] == 16 and alive(r["pid"]), f"ls {r}")
    check(r["rss_kib"] > 0 and r["uptime_ms"] >= 0, f"ls {r}")
    table = fleet.vmm("ls", check_rc=0).stdout.decode()
    check("web" in table and "running" in table and str(r["pid"]) in table, f"ls table {table!r}")
    check(fleet.vmm("logs", "web", check_rc=0).stdout == b"hello hold\n", "logs")
    t = time.monotonic()
    fleet.vmm("stop", "web", check_rc=0)
    check(time.monotonic() - t < 5, "stop was slow")
    check(not alive(r["pid"]), "QEMU still alive after stop")
    rec = fleet.record("web")
    check(rec["state"] == "exited" and rec["exit_reason"] == "exit" and rec["exit_status"] == 0, f"{rec}")
    check(b"power button" in fleet.vmm("logs", "web", check_rc=0).stdout, "logs lack the guest's stderr")
    for f in ("qmp.sock", "console.sock"):
        check(not os.path.exists(os.path.join(fleet.vm_dir("web"), f)), f"{f} left behind")
    fleet.vmm("rm", "web", check_rc=0)
    check(not os.path.exists(fleet.vm_dir("web")), "rm left the folder")
    check(fleet.ls() == [], "ls not empty after rm")


def test_wait_returns_program_status(fleet):
    start(fleet, "--name", "w", "hello", "exit=7")
    check(fleet.vmm("wait", "w").returncode == 7, "wait status")
    check(fleet.vmm("wait", "w").returncode == 7, "wait on an ended VM")
    table = fleet.vmm("ls", check_rc=0).stdout.decode()
    check("exited(7)" in table, f"ls table {table!r}")


def test_wait_blocks_until_stop(fleet):
    start(fleet, "--name", "w2", "hello", "hold")
    waiter = fleet.popen("wait", "w2")
    time.sleep(0.3)
    check(waiter.poll() is None, "wait returned while the VM runs")
    fleet.vmm("stop", "w2", check_rc=0)
    check(waiter.wait(timeout=10) == 0, "wait status after stop")


def test_console_sees_output_until_end(fleet):
    start(fleet, "--name", "c", "hello", "hold")
    con = fleet.popen("console", "c", stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(0.3)
    fleet.vmm("stop", "c", check_rc=0)
    out, err = con.communicate(timeout=10)
    check(con.returncode == 0, f"console exit {con.returncode}: {err!r}")
    check(b"hello: power button, powering off" in out, f"console output {out!r}")


def test_pause_resume(fleet):
    start(fleet, "--name", "p", "hello", "hold")
    fleet.vmm("pause", "p", check_rc=0)
    wait_until(lambda: fleet.record("p")["state"] == "paused", 5, "state paused")
    fleet.vmm("resume", "p", check_rc=0)
    wait_until(lambda: fleet.record("p")["state"] == "running", 5, "state running")
    fleet.vmm("stop", "p", check_rc=0)


def test_created_paused_then_resumed(fleet):
    start(fleet, "--paused", "--name", "cp", "hello", "hold")
    check(fleet.record("cp")["state"] == "paused", "not created paused")
    check(fleet.vmm("logs", "cp", check_rc=0).stdout == b"", "a paused guest printed")
    fleet.vmm("resume", "cp", check_rc=0)
    wait_until(lambda: fleet.vmm("logs", "cp").stdout == b"hello hold\n", 10, "output after resume")
    fleet.vmm("stop", "cp", check_rc=0)


def test_stop_deadline_then_kill(fleet):
    # A paused guest cannot answer the power button: stop must kill it.
    start(fleet, "--paused", "--name", "deaf", "hello", "hold")
    t = time.monotonic()
    fleet.vmm("stop", "-t", "1", "deaf", check_rc=0)
    took = time.monotonic() - t
    check(0.9 < took < 4, f"stop took {took:.2f}s with a 1 s deadline")
    rec = fleet.record("deaf")
    check(rec["exit_reason"] == "killed" and rec["exit_status"] == 137, f"{rec}")


def test_kill(fleet):
    start(fleet, "--name", "k", "hello", "hold")
    pid = fleet.record("k")["pid"]
    fleet.vmm("kill", "k", check_rc=0)
    check(not alive(pid), "QEMU alive after kill")
    rec = fleet.record("k")
    check(rec["exit_reason"] == "killed" and rec["exit_status"] == 137, f"{rec}")
    # Kept (no --rm): its log too, with the end in it.
    with open(os.path.join(fleet.vm_dir("k"), "vmm.log")) as log:
        check("killed" in log.read(), "vmm.log does not say how it ended")


def exit_heir(rec):
    """The supervisor's exit heir (base spawn_exit_heir), made once the guest is ready."""
    found = wait_until(lambda: children(rec["supervisor_pid"], "fleet-vmm-heir"), 5,
                       "the supervisor's exit heir")
    check(len(found) == 1, f"heirs {found}")
    return found[0]


def test_kill_rm_frees_the_name(fleet):
    # The folder is emptied while QEMU dies and removed once it is gone:
    # when kill returns, nothing is left and the name is free.
    start(fleet, "--rm", "--name", "kr", "hello", "hold")
    rec = fleet.record("kr")
    heir = exit_heir(rec)
    fleet.vmm("kill", "kr", check_rc=0)
    check(not alive(rec["pid"]) and not alive(rec["supervisor_pid"]), "a process outlived kill")
    # The heir is killed as its parent exits; its memory goes after.
    wait_until(lambda: not alive(heir), 5, "the exit heir to end with its supervisor")
    check(not os.path.exists(fleet.vm_dir("kr")), "kill left the folder of a --rm VM")
    start(fleet, "--rm", "--name", "kr", "hello", "hold")
    fleet.vmm("kill", "kr", check_rc=0)


def test_qemu_killed_behind_our_back(fleet):
    start(fleet, "--name", "x", "hello", "hold")
    rec = fleet.record("x")
    os.kill(rec["pid"], signal.SIGKILL)
    wait_until(lambda: fleet.record("x")["state"] == "exited", 5, "the death to be recorded")
    rec = fleet.record("x")
    check(rec["exit_reason"] == "crashed" and rec["exit_status"] == 137, f"{rec}")
    check("signal 9" in rec["exit_message"], f"{rec}")
    check("crashed" in fleet.vmm("ls", check_rc=0).stdout.decode(), "ls does not say crashed")
    check(not os.path.exists(os.path.join(fleet.vm_dir("x"), "qmp.sock")), "stale monitor socket")
    one_line_error(fleet.vmm("console", "x"), "not running")


def test_supervisor_killed_behind_our_back(fleet):
    start(fleet, "--name", "s", "hello", "hold")
    rec = fleet.record("s")
    heir = exit_heir(rec)
    os.kill(rec["supervisor_pid"], signal.SIGKILL)
    # QEMU and the exit heir must not outlive their owner (parent-death signal).
    wait_until(lambda: not alive(rec["pid"]), 5, "QEMU to die with its supervisor")
    wait_until(lambda: not alive(heir), 5, "the exit heir to die with its supervisor")
    wait_until(lambda: not alive(rec["supervisor_pid"]), 5, "the supervisor to be gone")
    r = fleet.record("s")
    check(r["state"] == "exited" and r["exit_reason"] == "crashed", f"{r}")
    check(not os.path.exists(os.path.join(fleet.vm_dir("s"), "console.sock")), "stale console socket")


def test_rm_running_needs_force(fleet):
    start(fleet, "--name", "r", "hello", "hold")
    one_line_error(fleet.vmm("rm", "r"), "rm -f")
    pid = fleet.record("r")["pid"]
    fleet.vmm("rm", "-f", "r", check_rc=0)
    check(not alive(pid) and not os.path.exists(fleet.vm_dir("r")), "rm -f left something")


def test_start_rm_removes_on_end(fleet):
    start(fleet, "--rm", "--name", "tmp", "hello", "hold")
    fleet.vmm("stop", "tmp", check_rc=0)
    wait_until(lambda: not os.path.exists(fleet.vm_dir("tmp")), 5, "--rm to remove the folder")


def test_name_race_has_one_winner(fleet):
    procs = [fleet.popen("start", "--name", "same", "hello", "hold", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(6)]
    results = [(p.wait(timeout=30), p.stderr.read()) for p in procs]
    wins = [r for r in results if r[0] == 0]
    check(len(wins) == 1, f"{len(wins)} winners: {results}")
    for rc, err in results:
        if rc != 0:
            check(b"already exists" in err, f"loser said {err!r}")
    fleet.vmm("stop", "same", check_rc=0)


if __name__ == "__main__":
    main([test_start_ls_logs_stop, test_wait_returns_program_status, test_wait_blocks_until_stop,
          test_console_sees_output_until_end, test_pause_resume, test_created_paused_then_resumed,
          test_stop_deadline_then_kill, test_kill, test_kill_rm_frees_the_name, test_qemu_killed_behind_our_back,
          test_supervisor_killed_behind_our_back, test_rm_running_needs_force, test_start_rm_removes_on_end,
          test_name_race_has_one_winner], lambda t: Fleet())
