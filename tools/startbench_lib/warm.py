"""The warm suite's paths: `fleet-vmm run` taking a VM from a warm pool
(`fleet-vmm pool start`) against cold boots, python3-libvirt createXML
through a fleet-router with a `--pool` against the plain router's cold
start, the start rate and the memory a waiting VM holds. Pools live in the
bench's runtime folder (the pool router's in its own); waiting for a pool
to refill happens before a boot's clock starts."""
import concurrent.futures
import json
import os
import subprocess
import time

from .bench import BootError, last_line

POOL_SIZE = 2            # VMs each pool keeps waiting
RATE_STARTS = 8          # starts per start-rate sample
RATE_AT_ONCE = 2         # ... this many at a time (two cores)


def _vmm(b, *args, timeout=60):
    r = subprocess.run([b.opts.fleet_vmm, *args], env=b.env, stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=timeout)
    if r.returncode != 0:
        raise BootError(f"fleet-vmm {' '.join(args)}: {last_line(r.stderr)}")
    return r.stdout


def _idle(b, image):
    try:
        return len(os.listdir(os.path.join(b.env["FLEET_RUNTIME_DIR"], "pool", image, "idle")))
    except FileNotFoundError:
        return 0


def ensure_pool(b, image, size=POOL_SIZE, want=1):
    """Start IMAGE's pool once (the same options as the cold runs), then wait
    until `want` VMs wait in it (not timed)."""
    with b.lock:
        pools = b.__dict__.setdefault("pools", set())
        if image not in pools:
            _vmm(b, "pool", "start", "-n", str(size), "--accel", b.opts.accel, image)
            pools.add(image)
    deadline = time.monotonic() + b.opts.timeout
    while _idle(b, image) < want:
        if time.monotonic() > deadline:
            raise BootError(f"the pool of {image} did not refill within {b.opts.timeout:g}s ({_pool_state(b, image)})")
        time.sleep(0.002)


def _pool_state(b, image):
    """What a pool that did not refill looks like: its entries and the last
    lines of its log, for the error (the bench's folder goes at the end)."""
    d = os.path.join(b.env["FLEET_RUNTIME_DIR"], "pool", image)
    def ls(sub):
        try:
            return ",".join(sorted(os.listdir(os.path.join(d, sub)))) or "-"
        except OSError:
            return "?"
    try:
        with open(os.path.join(d, "pool.log"), errors="replace") as f:
            log = " | ".join(l.strip() for l in f.readlines()[-3:]) or "empty"
    except OSError:
        log = "none"
    return f"idle {ls('idle')}; slots {ls('slots')}; taken {ls('taken')}; pool.log: {log}"


def stop_pools(b):
    from .fsh import stop_fsh_router
    stop_fsh_router(b)
    if getattr(b, "pool_router", None):
        b.pool_router.close()
    for image in getattr(b, "pools", ()):
        subprocess.run([b.opts.fleet_vmm, "pool", "stop", image], env=b.env, capture_output=True, timeout=30)


def _pool_router(b, image):
    """A second private fleet-router, keeping POOL_SIZE VMs of image waiting."""
    with b.lock:
        if getattr(b, "pool_router", None) is None:
            b.pool_router = b.router_factory(b, extra_args=["--pool", f"{image}:{POOL_SIZE}"])
        return b.pool_router


def router_warm_measure(b, path, kind):
    """createXML through the pool router once a VM waits (not timed)."""
    from .paths import router_python_measure
    r = _pool_router(b, path.image)
    idle = os.path.join(r.router.runtime, "pool", path.image, "idle")
    deadline = time.monotonic() + b.opts.timeout
    while not (os.path.isdir(idle) and os.listdir(idle)):
        if time.monotonic() > deadline:
            raise BootError(f"the router's pool of {path.image} did not refill within {b.opts.timeout:g}s")
        time.sleep(0.002)
    return router_python_measure(b, path, kind, r)


def run_argv(b, path, kind, scratch, pool):
    return [b.opts.fleet_vmm, "run", "--no-stdin", *([] if pool else ["--no-pool"]), "--accel", b.opts.accel,
            "--name", "startbench-" + os.path.basename(scratch), path.image, *path.args[kind]]


def warm_command(b, path, kind, scratch):
    ensure_pool(b, path.image)
    return run_argv(b, path, kind, scratch, True)


def cold_command(b, path, kind, scratch):
    # A quiet machine, as for the baseline: no pool VM booting beside it
    # (a warm run's claim starts a refill, which took a core from the next
    # cold boot: 6 ms of its 32).
    ensure_pool(b, path.image, want=POOL_SIZE)
    return run_argv(b, path, kind, scratch, False)


def _rate(b, path, pool):
    """RATE_STARTS runs of the path's command, RATE_AT_ONCE at a time, as
    fast as they go (a pool refills meanwhile): VMs started and run to
    their end per second."""
    if pool:
        ensure_pool(b, path.image, want=POOL_SIZE)

    def one(i):
        argv = run_argv(b, path, "plain", os.path.join(b.tmp, f"rate{next(b.ids)}"), pool)
        r = subprocess.run(argv, env=b.env, stdin=subprocess.DEVNULL, capture_output=True, timeout=b.opts.timeout)
        if r.returncode != 0 or r.stdout != path.expect:
            raise BootError(f"{path.name}: exit {r.returncode}, {r.stdout[:40]!r}: {last_line(r.stderr.decode())}")
    t0 = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(RATE_AT_ONCE) as ex:
        list(ex.map(one, range(RATE_STARTS)))
    return RATE_STARTS / (time.perf_counter() - t0)


def warm_rate_measure(b, path, kind):
    ensure_pool(b, path.image, want=POOL_SIZE)
    pools = {p["image"]: p for p in json.loads(_vmm(b, "pool", "ls", "--json"))}
    rss = pools[path.image]["rss_kib_per_vm"] / 1024
    pss = pools[path.image]["pss_kib_per_vm"] / 1024
    return {"start-rate": _rate(b, path, True), "rss-per-vm": rss, "pss-per-vm": pss}


def cold_rate_measure(b, path, kind):
    return {"start-rate": _rate(b, path, False)}
