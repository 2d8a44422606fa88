#!/usr/bin/python3
"""20 VMs started at once all come up and go away cleanly, leaving no
process, socket or folder behind."""
import os
import subprocess
import sys
import time

sys.path.append(os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "lib"))  # run by hand: HACKING.md
from fleet_test.check import check  # noqa: E402
from fleet_test.fleet import Fleet  # noqa: E402
from fleet_test.procs import alive  # noqa: E402
from fleet_test.runner import main  # noqa: E402

COUNT = 20


def test_twenty_at_once(fleet):
    names = [f"m{i:02d}" for i in range(COUNT)]
    t = time.monotonic()
    procs = [fleet.popen("start", "--name", n, "hello", "hold", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for n in names]
    for n, p in zip(names, procs):
        rc = p.wait(timeout=60)
        check(rc == 0, f"start {n}: exit {rc}, {p.stderr.read()!r}")
    up = time.monotonic() - t
    recs = fleet.ls()
    check(sorted(r["name"] for r in recs) == names, f"ls shows {[r['name'] for r in recs]}")
    check(all(r["state"] == "running" for r in recs), f"states {[r['state'] for r in recs]}")
    pids = [r["pid"] for r in recs] + [r["supervisor_pid"] for r in recs]
    check(all(alive(p) for p in pids), "a process is missing")
    check(len(set(pids)) == 2 * COUNT, "pids are not distinct")
    for n in names:
        check(fleet.vmm("logs", n, check_rc=0).stdout == b"hello hold\n", f"logs of {n}")

    t = time.monotonic()
    stops = [fleet.popen("stop", n, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for n in names]
    for n, p in zip(names, stops):
        check(p.wait(timeout=60) == 0, f"stop {n}: {p.stderr.read()!r}")
    down = time.monotonic() - t
    recs = fleet.ls()
    check(all(r["state"] == "exited" and r["exit_status"] == 0 for r in recs),
          f"endings {[(r['name'], r.get('exit_reason'), r.get('exit_status')) for r in recs]}")
    fleet.vmm("rm", *names, check_rc=0)

    check(not any(alive(p) for p in pids), "a QEMU or supervisor survived")
    vms = os.path.join(fleet.runtime, "vms")
    left = [f for f in os.listdir(vms) if not f.startswith(".")]
    check(left == [], f"left in the runtime folder: {left}")
    print(f"     {COUNT} VMs up in {up:.2f}s, down in {down:.2f}s")


if __name__ == "__main__":
    main([test_twenty_at_once], lambda t: Fleet())
