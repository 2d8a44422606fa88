"""One boot timed, and the rounds of a suite: times come from
time.perf_counter, the exit is seen through a pidfd."""
import contextlib
import os
import selectors
import subprocess
import sys
import threading
import time

from .bench import BootError, kill_group, last_line
from .stats import summarize
from .suites import round_order


def boot(b, path, kind):
    """Boots once; returns ({metric: value}, None) or (None, error message)."""
    scratch = os.path.join(b.tmp, str(next(b.ids)))
    try:
        if path.measure_fn:
            return path.measure_fn(b, path, kind), None
        argv = path.command(b, path, kind, scratch)
        with open(scratch + ".err", "w+b") as err, contextlib.ExitStack() as stack:
            stdin = stack.enter_context(open(b.input[0], "rb")) if path.stdin else subprocess.DEVNULL
            return measure(b, path, kind, argv, stdin, err, scratch, stack), None
    except (BootError, OSError) as e:
        return None, f"{path.name} {kind}: {e}"


def measure(b, path, kind, argv, stdin, err, scratch, stack):
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.PIPE, stderr=err,
                            env=b.env, start_new_session=True)
    with b.lock:
        b.live.add(proc)
    got, head = 0, b""
    try:
        pidfd = os.pidfd_open(proc.pid)
        stack.callback(os.close, pidfd)
        sel = stack.enter_context(selectors.DefaultSelector())
        sel.register(proc.stdout, selectors.EVENT_READ, "out")
        sel.register(pidfd, selectors.EVENT_READ, "exit")
        deadline, t_ready, t_stop, t_exit = t0 + b.opts.timeout, None, None, None
        while t_exit is None or got_more(sel):
            # After the exit only what is already in the pipe counts (a stray
            # child holding stdout open must not keep the loop waiting).
            events = sel.select(max(deadline - time.perf_counter(), 0) if t_exit is None else 0)
            if t_exit is not None and not events:
                break
            now = time.perf_counter()
            for key, _ in sorted(events, key=lambda e: e[0].data != "out"):  # output first
                if key.data == "exit":
                    t_exit = now
                    sel.unregister(pidfd)
                    continue
                data = os.read(proc.stdout.fileno(), 1 << 20)
                if not data:
                    sel.unregister(proc.stdout)
                    continue
                got += len(data)
                if len(head) < 64:
                    head += data[:64]
                if t_ready is None:
                    t_ready = now
                    if kind == "hold":
                        trigger = path.prepare_stop(proc, scratch, stack, deadline - now)
                        t_stop = time.perf_counter()
                        trigger()
            if t_exit is None and time.perf_counter() >= deadline:
                raise BootError(f"timed out after {b.opts.timeout:g}s "
                                f"({'after' if t_ready else 'before'} the first output); killed")
        rc = proc.wait()
    finally:
        kill_group(proc)    # on success only strays are left; on error the boot itself
        proc.wait()
        proc.stdout.close()
        with b.lock:
            b.live.discard(proc)
    if rc != path.status[kind]:
        err.seek(0)
        raise BootError(f"exit status {rc}, expected {path.status[kind]}: "
                        f"{last_line(err.read().decode(errors='replace'))}")
    if t_ready is None or (kind == "hold" and t_stop is None):
        raise BootError("exited without printing anything")
    if path.expect is not None and head != path.expect:
        raise BootError(f"printed {head!r}, expected {path.expect!r}")
    if kind == "hold":
        ready = {"start-to-ready": t_ready - t0} if path.ready_of_hold else {}
        return {**ready, "teardown": t_exit - t_stop}
    if path.stdin:
        if got != b.input[1]:
            raise BootError(f"{got} bytes came out, {b.input[1]} went in")
        return {"throughput": got / (t_exit - t0) / 1e6, "start-to-ready": t_ready - t0}
    return {"start-to-ready": t_ready - t0, "start-to-exit": t_exit - t0}


def got_more(sel):
    """Is stdout still registered, i.e. not at end of file yet?"""
    return any(k.data == "out" for k in sel.get_map().values())



class Progress:
    def __init__(self, enabled, total):
        self.enabled, self.total, self.done, self.width = enabled, total, 0, 0

    def step(self, text, errors):
        line = f"startbench {self.done}/{self.total} runs, {errors} errors, {text}"
        self.width = max(self.width, len(line))
        self.write("\r" + line.ljust(self.width))

    def clear(self):
        self.write("\r" + " " * self.width + "\r")

    def write(self, text):
        if self.enabled:
            sys.stderr.write(text)
            sys.stderr.flush()


def run_mode(b, suite, mode, width, progress, results):
    """width VMs at a time; warmup + runs rounds; every round runs each path and kind."""
    samples = {p.name: {m: [] for m in suite.metrics} for p in suite.paths}
    errors = results["errors"]
    rounds = suite.warmup + suite.runs
    for rnd in range(rounds):
        for path in round_order(suite.paths, rnd):
            for kind in suite.kinds:
                if kind not in path.status:
                    continue
                progress.step(f"{suite.name} {mode} round {rnd + 1}/{rounds}: {path.name} {kind}", len(errors))
                out = [None] * width
                barrier = threading.Barrier(width)

                def one(i):
                    barrier.wait()
                    out[i] = boot(b, path, kind)
                threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(width)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                progress.done += width
                for got, error in out:
                    if error:
                        errors.append({"suite": suite.name, "mode": mode, "path": path.name, "kind": kind,
                                       "error": error})
                    elif rnd >= suite.warmup:
                        for metric, value in got.items():
                            if metric in samples[path.name]:
                                samples[path.name][metric].append(value)
    results["suites"][suite.name]["modes"][mode] = summarize(suite, samples, width)

