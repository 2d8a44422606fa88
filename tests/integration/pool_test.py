#!/usr/bin/python3
"""Warm pools: `fleet-vmm pool` and `run` from a pool, against cold boots of
the same command (real guests under TCG)."""
import glob
import json
import os
import signal
import subprocess
import sys
import threading
import time

sys.path.append(os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "lib"))  # run by hand: HACKING.md
from fleet_test import paths, procs  # noqa: E402
from fleet_test.check import check, skip_test, wait_until  # noqa: E402
from fleet_test.fleet import Fleet, one_line_error  # noqa: E402
from fleet_test.runner import main  # noqa: E402
from fleet_test.terminal import PtyProcess  # noqa: E402

WARM = b"from the warm pool"


class PoolFleet(Fleet):
    """A Fleet whose cleanup also stops its pools (their daemons carry the
    test's environment marker too, so a killed test leaves none)."""

    def pool_dir(self, image):
        return os.path.join(self.runtime, "pool", image)

    def pool_start(self, image, *opts, size=2):
        self.vmm("pool", "start", "-n", str(size), *opts, image, timeout=60, check_rc=0)

    def pools(self):
        return {p["image"]: p for p in json.loads(self.vmm("pool", "ls", "--json", check_rc=0).stdout)}

    def wait_idle(self, image, n, timeout=30):
        wait_until(lambda: self.pools().get(image, {}).get("idle") == n, timeout, f"{n} waiting VMs of {image}")

    def slot_pids(self, image):
        """(QEMU, supervisor) pids of the pool's VMs that wait or boot."""
        out = []
        for f in glob.glob(os.path.join(self.pool_dir(image), "slots", "*", "slot.json")):
            with open(f) as fh:
                j = json.load(fh)
            out += [j["pid"], j["supervisor_pid"]]
        return out

    def state(self, name):
        """The VM's own record (ls and inspect show no pids once it ended)."""
        with open(os.path.join(self.vm_dir(name), "state.json")) as f:
            return json.load(f)

    def cleanup(self):
        for image in list(self.pools()) if os.path.isdir(os.path.join(self.runtime, "pool")) else []:
            self.vmm("pool", "stop", image)
        super().cleanup()


def warm_and_cold(fleet, *args, input=b"", env=None):
    """The same run from the pool and cold: both CompletedProcesses; the
    warm one must have come from the pool (its -v line, then dropped)."""
    warm = fleet.vmm("run", "-v", *args, input=input, env=env)
    lines = warm.stderr.split(b"\n")
    check(WARM in lines[0], f"run {args} did not take a pooled VM: {warm.stderr!r}")
    warm.stderr = b"\n".join(lines[1:])
    cold = fleet.vmm("run", "--no-pool", *args, input=input, env=env)
    return warm, cold


def same(warm, cold, what):
    check((warm.returncode, warm.stdout, warm.stderr) == (cold.returncode, cold.stdout, cold.stderr),
          f"{what}: warm {warm.returncode} {warm.stdout[:200]!r} {warm.stderr[:200]!r}, "
          f"cold {cold.returncode} {cold.stdout[:200]!r} {cold.stderr[:200]!r}")


def test_runtime_programs_warm_as_cold(fleet):
    for image in ("echo", "cat", "exit", "env", "hello"):
        fleet.pool_start(image, size=1)
    binary = bytes(range(256)) * 1024
    cases = [("echo", ["a b", "", "tab\there", "x" * 3000]), ("exit", ["7"]), ("exit", ["0"]),
             ("exit", ["255"]), ("hello", ["a", "exit=3"]), ("hello", ["exit=abc"])]
    for image, args in cases:
        fleet.wait_idle(image, 1)
        same(*warm_and_cold(fleet, image, *args), f"{image} {args}")
    fleet.wait_idle("cat", 1)
    warm, cold = warm_and_cold(fleet, "cat", input=binary)
    same(warm, cold, "cat with 256 KiB of stdin")
    check(warm.stdout == binary, "cat: the bytes changed on the way")
    fleet.wait_idle("env", 1)
    same(*warm_and_cold(fleet, "-e", "A=1", "-e", "B=x y", "env"), "env -e A=1 -e 'B=x y'")
    check(fleet.ls() == [], f"runs left records: {fleet.ls()}")


def test_signals_reach_a_pooled_program(fleet):
    fleet.pool_start("sleep", size=1)
    for sig, want in ((signal.SIGINT, 130), (signal.SIGTERM, 143)):
        for pool in (True, False):
            if pool:
                fleet.wait_idle("sleep", 1)
            p = fleet.popen("run", "-v", *([] if pool else ["--no-pool"]), "sleep", "30",
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            try:
                wait_until(lambda: any(r["state"] == "running" for r in fleet.ls()), 10, "the sleep VM running")
                p.send_signal(sig)
                rc = p.wait(timeout=15)
                err = p.stderr.read()
                check(rc == want, f"{sig.name} {'warm' if pool else 'cold'}: exit {rc}, wanted {want}: {err!r}")
                check((WARM in err) == pool, f"warm={pool} but stderr {err!r}")
            finally:
                if p.poll() is None:
                    p.kill()
                    p.wait()


def test_ctrl_z_and_ctrl_c_on_a_terminal(fleet):
    """Ctrl-Z on the claimant's terminal: the pooled guest pauses and the
    claimant stops (the job control fsh relies on); SIGCONT resumes both;
    Ctrl-C ends the program with its own SIGINT message, as cold."""
    fleet.pool_start("hello", size=1)
    fleet.wait_idle("hello", 1)
    t = PtyProcess([paths.VMM, "run", "-v", "--keep", "--name", "tstp", "--no-stdin", "hello", "hold"], env=fleet.env)
    try:
        t.expect("hello hold", 30)
        check(WARM.decode() in t.buf.decode(errors="replace"), f"not from the pool: {t.buf!r}")
        t.write("\x1a")
        stopped = wait_until(lambda: os.WIFSTOPPED(os.waitpid(t.pid, os.WUNTRACED | os.WNOHANG)[1]), 10,
                             "the claimant stopped on Ctrl-Z")
        check(stopped and fleet.record("tstp")["state"] == "paused", f"record {fleet.record('tstp')}")
        os.kill(t.pid, signal.SIGCONT)
        wait_until(lambda: fleet.record("tstp")["state"] == "running", 10, "the guest running again")
        t.write("\x03")
        t.expect("hello: signal 2", 10, "the program's own SIGINT message")
        check(t.wait(10) == 130, f"exit {t.status}; terminal {t.buf!r}")
    finally:
        t.close()


def test_closed_stdout_ends_like_sigpipe(fleet):
    fleet.pool_start("yes", size=1)
    for pool in (True, False):
        if pool:
            fleet.wait_idle("yes", 1)
        r, w = os.pipe()
        p = fleet.popen("run", *([] if pool else ["--no-pool"]), "yes", stdin=subprocess.DEVNULL, stdout=w,
                        stderr=subprocess.PIPE)
        os.close(w)
        check(os.read(r, 2) == b"y\n", "yes printed nothing")
        os.close(r)
        rc = p.wait(timeout=20)
        check(rc == 141, f"{'warm' if pool else 'cold'}: exit {rc}, wanted 141: {p.stderr.read()!r}")


def test_a_vm_is_never_used_twice(fleet):
    fleet.pool_start("echo", size=2)
    seen = set()
    for i in range(5):
        fleet.wait_idle("echo", 2)
        p = fleet.vmm("run", "-v", "--keep", "--name", f"e{i}", "echo", str(i), check_rc=0)
        check(WARM in p.stderr and p.stdout == f"{i}\n".encode(), f"run {i}: {p}")
        r = fleet.state(f"e{i}")
        check(r["exit_status"] == 0 and r["image"] == "echo", f"record {r}")
        key = (r["pid"], r["supervisor_pid"])
        check(key not in seen, f"run {i} got a VM used before: {key}")
        seen.add(key)
    # The claimant returns once the program's status is in; its supervisor
    # and QEMU finish their end a moment later.
    for pid, sup in seen:
        wait_until(lambda: not procs.alive(pid) and not procs.alive(sup), 10, f"a used VM ends: {pid}/{sup}")


def test_an_emptied_pool_refills_every_time(fleet):
    """A pool of one: each claim empties it. The refill waits for the
    claimed VM's end, but starts no sooner than 20 ms after the claim, so
    where the end comes first only the daemon's own timer can wake it to
    boot the next. It once slept for good when the claimed VM's end woke it
    with less than a millisecond of that left. The programs sleep across
    that moment, in steps of a quarter of a millisecond."""
    fleet.pool_start("sleep", size=1)
    idle = os.path.join(fleet.pool_dir("sleep"), "idle")
    for i in range(120):
        wait_until(lambda: os.listdir(idle), 10, f"the pool refilled after {i} claims")
        p = fleet.vmm("run", "-v", "sleep", f"{0.005 + (i % 60) * 0.00025:.5f}")
        check(p.returncode == 0 and WARM in p.stderr, f"claim {i}: {p}")


def test_the_refill_waits_for_the_claimed_vm(fleet):
    """A refill's boot started with a claim takes a CPU from the VM just
    claimed, so the daemon boots it once that VM has ended, or 250 ms after
    the claim when its program runs longer. Watched through the pool's
    slots folder, where each VM that boots or waits has its own."""
    fleet.pool_start("sleep", size=1)
    fleet.wait_idle("sleep", 1)
    idle, slots = (os.path.join(fleet.pool_dir("sleep"), d) for d in ("idle", "slots"))

    def claim(seconds, into):
        into.append(fleet.vmm("run", "-v", "sleep", seconds))

    done, waiting = [], os.listdir(slots)
    t = threading.Thread(target=claim, args=("0.6", done))
    t.start()
    wait_until(lambda: not os.listdir(idle) and not set(waiting) & set(os.listdir(slots)), 10,
               f"the claim of the pool's VM {waiting}", interval=0.002)
    # The 20 ms the daemon waited before must pass with no boot, well
    # before the 250 ms. Only what was seen inside the window counts (a
    # stalled test sees late).
    start, seen = time.monotonic(), []
    while time.monotonic() - start < 0.1:
        names = os.listdir(slots)
        if time.monotonic() - start < 0.1:
            seen += names
        time.sleep(0.002)
    check(not seen, f"a refill booted beside the VM just claimed: {sorted(set(seen))}")
    t.join(30)
    check(done and done[0].returncode == 0 and WARM in done[0].stderr, f"the claim: {done}")
    fleet.wait_idle("sleep", 1)
    # A long program does not keep the pool short: its refill boots while it runs.
    t = threading.Thread(target=claim, args=("3", done))
    t.start()
    wait_until(lambda: not os.listdir(idle), 10, "the second claim")
    wait_until(lambda: os.listdir(slots), 2.5, "a refill beside a program that runs on")
    check(t.is_alive(), "the program ended before the refill: the test proves nothing")
    t.join(30)
    check(done[1].returncode == 0 and WARM in done[1].stderr, f"the second claim: {done[1]}")


def test_pool_memory_reported(fleet):
    """pool ls gives the waiting QEMUs' RSS and their PSS, in which the
    program and libraries two QEMUs share count half in each."""
    fleet.pool_start("echo", size=2)
    fleet.wait_idle("echo", 2)
    p = fleet.pools()["echo"]
    check(p["rss_kib_per_vm"] > 1024 and p["pss_kib_per_vm"] > 1024, f"pool ls: {p}")
    check(p["pss_kib_per_vm"] < p["rss_kib_per_vm"], f"PSS not below RSS with two QEMUs sharing pages: {p}")
    check(abs(p["pss_kib"] - 2 * p["pss_kib_per_vm"]) <= 1, f"pool ls totals: {p}")
    table = fleet.vmm("pool", "ls", check_rc=0).stdout.decode()
    head, row = table.splitlines()[0], table.splitlines()[1]
    check("RSS" in head and "PSS" in head and row.count("M each") == 2, f"pool ls table: {table!r}")


def test_killed_daemon_leaves_nothing(fleet):
    fleet.pool_start("echo", size=2)
    pids = fleet.slot_pids("echo")
    check(len(pids) == 4, f"slot pids {pids}")
    with open(os.path.join(fleet.pool_dir("echo"), "pool.json")) as f:
        daemon = json.load(f)["pid"]
    os.kill(daemon, signal.SIGKILL)
    wait_until(lambda: not any(procs.alive(p) for p in pids + [daemon]), 10, "the pool's VMs gone with their daemon")
    check(fleet.pools() == {}, f"pool ls after the kill: {fleet.pools()}")   # reconciled
    check(not os.path.exists(os.path.join(fleet.pool_dir("echo"), "idle")), "stale idle entries left")
    p = fleet.vmm("run", "-v", "echo", "cold", check_rc=0)
    check(WARM not in p.stderr and p.stdout == b"cold\n", f"after the kill: {p}")
    fleet.pool_start("echo", size=1)  # a new daemon starts clean
    fleet.wait_idle("echo", 1)


def test_claim_race(fleet):
    fleet.pool_start("echo", size=2)
    out = {}

    def one(i):
        out[i] = fleet.vmm("run", "-v", "--keep", "--name", f"r{i}", "echo", f"run {i}")
    threads = [threading.Thread(target=one, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    warm = 0
    for i, p in out.items():
        check(p.returncode == 0 and p.stdout == f"run {i}\n".encode(), f"run {i}: {p}")
        warm += WARM in p.stderr
    vms = [(r["pid"], r["supervisor_pid"]) for r in (fleet.state(f"r{i}") for i in range(6))]
    check(len(vms) == 6 and len(set(vms)) == 6, f"VMs shared between runs: {vms}")
    check(warm >= 1, "no run took a pooled VM")


def test_stop_leaves_running_programs(fleet):
    fleet.pool_start("sleep", size=1)
    p = fleet.popen("run", "sleep", "1", stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_until(lambda: any(r["state"] == "running" for r in fleet.ls()), 10, "the sleep VM running")
    pids = fleet.slot_pids("sleep")
    fleet.vmm("pool", "stop", "sleep", check_rc=0)
    check(fleet.pools() == {}, "the pool is still listed")
    wait_until(lambda: not any(procs.alive(x) for x in pids), 10, "the waiting VMs gone")
    rc = p.wait(timeout=20)
    check(rc == 0, f"the claimed VM's program: exit {rc} {p.stderr.read()!r}")


def test_a_waiting_vm_has_no_boot_deadline(fleet):
    """Booted is booted: pausing and resuming a waiting VM (its monitor is
    there for a human) must not start a new boot deadline that kills it."""
    from fleet_test.qmp import Qmp
    fleet.pool_start("echo", "--boot-timeout", "1", size=1)
    (sock,) = glob.glob(os.path.join(fleet.pool_dir("echo"), "slots", "*", "qmp.sock"))
    pids = fleet.slot_pids("echo")
    with Qmp(sock, 5) as q:
        q.execute("stop")
        q.execute("cont")
    time.sleep(2)
    check(fleet.slot_pids("echo") == pids and all(procs.alive(p) for p in pids), "the waiting VM was replaced")
    p = fleet.vmm("run", "-v", "echo", "still", check_rc=0)
    check(WARM in p.stderr and p.stdout == b"still\n", f"{p}")


def test_other_options_boot_cold(fleet):
    fleet.pool_start("echo", size=1)
    for opts in (["-m", "32M"], ["--no-pool"], ["--cpus", "2"]):
        p = fleet.vmm("run", "-v", *opts, "echo", "x", check_rc=0)
        check(WARM not in p.stderr and p.stdout == b"x\n", f"{opts}: {p}")
    check(fleet.pools()["echo"]["idle"] == 1, "a cold run took the pooled VM")


def linux_pool_as_cold(fleet, *opts, boot):
    """A pool of linux-cat started with opts, whose VMs come to wait as
    `boot` says, rehearsed under TCG unless opts say --no-rehearsal (the
    guest's second `waiting` ends one, so the log's line says the guest
    did it); each claim's output as a cold boot's, and each guest's own
    randomness (restored guests share their RNG's state until their exec
    block's seed)."""
    if b"linux-cat" not in fleet.vmm("images", check_rc=0).stdout:
        skip_test("no Linux images in this build")
    fleet.pool_start("linux-cat", *opts, size=2)
    fleet.wait_idle("linux-cat", 2, timeout=60)
    check(fleet.pools()["linux-cat"]["boot"] == boot, f"pool ls: {fleet.pools()}")
    logs = glob.glob(os.path.join(fleet.pool_dir("linux-cat"), "slots", "*", "vmm.log"))
    restored = [b"restoring from snapshot" in open(f, "rb").read() for f in logs]
    check(len(logs) == 2 and restored == [boot == "snapshot"] * 2, f"{boot}: waiting VMs restored: {restored}")
    rehearse = fleet.env["FLEET_ACCEL"] == "tcg" and "--no-rehearsal" not in opts  # LaunchOptions::rehearse
    rehearsed = [b"rehearsed a start in" in open(f, "rb").read() for f in logs]
    check(rehearsed == [rehearse] * 2, f"{boot} {opts}: waiting VMs rehearsed: {rehearsed}")
    same(*warm_and_cold(fleet, "linux-cat", input=b"through linux\n"), "linux-cat")
    ids = set()
    for _ in range(2):
        fleet.wait_idle("linux-cat", 2, timeout=60)
        p = fleet.vmm("run", "-v", "linux-cat", "/proc/sys/kernel/random/uuid", check_rc=0)
        check(WARM in p.stderr, f"not from the pool: {p.stderr!r}")
        ids.add(p.stdout)
    check(len(ids) == 2, f"two pooled guests gave the same random UUID: {ids}")


def test_linux_warm_as_cold_with_its_own_randomness(fleet):
    linux_pool_as_cold(fleet, boot="snapshot")  # the default, under any accelerator (pool.hpp)


def test_linux_booted_warm_as_cold_with_its_own_randomness(fleet):
    linux_pool_as_cold(fleet, "--no-snapshot", boot="cold")


def test_linux_unrehearsed_warm_as_cold(fleet):
    linux_pool_as_cold(fleet, "--snapshot", "--no-rehearsal", boot="snapshot")


def test_bad_input(fleet):
    one_line_error(fleet.vmm("pool"), "start, ls, stop")
    one_line_error(fleet.vmm("pool", "bogus"), "unknown pool command")
    one_line_error(fleet.vmm("pool", "start"), "one image")
    one_line_error(fleet.vmm("pool", "start", "nosuchimage"), "nosuchimage")
    one_line_error(fleet.vmm("pool", "start", "-n", "0", "echo"), "--size")
    one_line_error(fleet.vmm("pool", "start", "--snapshot", "--no-snapshot", "echo"), "exclude each other")
    one_line_error(fleet.vmm("pool", "stop", "echo"), "no pool for 'echo'")
    fleet.pool_start("echo", size=1)
    one_line_error(fleet.vmm("pool", "start", "echo"), "already running")
    check(fleet.vmm("pool", "--help").returncode == 0, "pool --help")
    check(fleet.vmm("pool", "start", "--help").returncode == 0, "pool start --help")


if __name__ == "__main__":
    main([test_runtime_programs_warm_as_cold, test_signals_reach_a_pooled_program,
          test_ctrl_z_and_ctrl_c_on_a_terminal, test_closed_stdout_ends_like_sigpipe, test_a_vm_is_never_used_twice,
          test_an_emptied_pool_refills_every_time, test_pool_memory_reported, test_killed_daemon_leaves_nothing, test_claim_race,
          test_the_refill_waits_for_the_claimed_vm, test_stop_leaves_running_programs,
          test_a_waiting_vm_has_no_boot_deadline, test_other_options_boot_cold, test_linux_warm_as_cold_with_its_own_randomness,
          test_linux_booted_warm_as_cold_with_its_own_randomness, test_linux_unrehearsed_warm_as_cold,
          test_bad_input],
         lambda t: PoolFleet(), timeout=120)
