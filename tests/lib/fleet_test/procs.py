"""Processes as /proc shows them, and the launcher's records of its VMs.

Tests kill only what they started, by pid: the pids the launcher's records
name (R/vms/*/state.json, with start times so a reused pid is left alone)
and the processes that carry the test's environment marker (folder.py).
Never by name: other tests' QEMUs run on the same machine.
"""
import json
import os
import signal

from .check import Failure, wait_until


def _stat_fields(pid):
    """/proc/PID/stat after the command name: [state, ppid, ...]."""
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def start_time(pid):
    """/proc/PID/stat field 22 (clock ticks after boot), or None."""
    try:
        return int(_stat_fields(pid)[19])
    except (OSError, IndexError, ValueError):
        return None


def alive(pid, started=None):
    """True if pid runs and is not a zombie (kill(pid, 0) passes zombies);
    with started, only if it is still the process that started then."""
    try:
        fields = _stat_fields(pid)
        if fields[0] in ("Z", "X"):
            return False
        return started is None or int(fields[19]) == started
    except (OSError, IndexError, ValueError):
        return False


def children(pid, name=None):
    """The pids whose parent is pid, those named name only (their
    /proc/PID/comm) if given. From /proc/PID/task/*/children, or where a
    kernel has none (CONFIG_PROC_CHILDREN), every process's parent."""
    out = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    if os.path.exists(f"/proc/{pid}/task/{pid}/children"):
        for t in tasks:
            try:
                with open(f"/proc/{pid}/task/{t}/children") as f:
                    out += [int(c) for c in f.read().split()]
            except OSError:
                pass
    else:
        for p in os.listdir("/proc"):
            try:
                if p.isdigit() and int(_stat_fields(p)[1]) == pid:
                    out.append(int(p))
            except (OSError, IndexError, ValueError):
                pass
    if name is not None:
        def comm(c):
            try:
                with open(f"/proc/{c}/comm") as f:
                    return f.read().strip()
            except OSError:
                return None
        out = [c for c in out if comm(c) == name]
    return sorted(out)


def marked(marker):
    """pid -> argv of every live process whose environment holds the entry
    marker ("NAME=value"): what a test started, however deep (the launcher
    passes its environment on; QEMU's command line has no path of ours)."""
    want = marker.encode()
    out = {}
    for p in os.listdir("/proc"):
        if not p.isdigit() or int(p) == os.getpid():
            continue
        try:
            with open(f"/proc/{p}/environ", "rb") as f:
                if want not in f.read().split(b"\0"):
                    continue
            with open(f"/proc/{p}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if alive(int(p)):
            out[int(p)] = argv
    return out


def records(runtime):
    """name -> the launcher's state.json record, for every VM folder of a
    runtime folder (one being written or removed is left out)."""
    d = os.path.join(runtime, "vms")
    out = {}
    for name in os.listdir(d) if os.path.isdir(d) else []:
        try:
            with open(os.path.join(d, name, "state.json")) as f:
                out[name] = json.load(f)
        except (OSError, ValueError):
            pass
    return out


def record_pids(recs):
    """(pid, start time or None) of every supervisor and QEMU the records name."""
    out = set()
    for r in recs.values():
        for pid_key, start_key in (("pid", "pid_start"), ("supervisor_pid", "supervisor_start")):
            if r.get(pid_key):
                out.add((r[pid_key], r.get(start_key) or None))
    return out


def kill_all(victims, wait=5):
    """SIGKILL each (pid, start time) that still is that process, then wait
    up to `wait` seconds for each to be gone."""
    victims = {(pid, st) for pid, st in victims if alive(pid, st)}
    for pid, _ in victims:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    for pid, st in victims:
        try:
            wait_until(lambda: not alive(pid, st), wait, f"pid {pid} to die")
        except Failure:
            pass
