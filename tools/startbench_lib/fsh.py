"""The fsh suite's paths: fsh's commands as fleet-router domains (`fsh
--connect` to this run's private router, router_run.hpp), a three-stage
pipeline that the router joins itself, both also through a second router
with warm pools of the images they use, against one cold `fleet-vmm run`
of the pipeline's last image. Waiting for the pools to refill happens
before a boot's clock starts."""
import os
import time

from .bench import BootError

ONE = "wc -c </dev/null"
PIPE3 = "cat </dev/null | upper | wc -c"
POOLS = {"cat": 3, "upper": 3, "wc": 3}
NEEDS = {ONE: ("wc",), PIPE3: ("cat", "upper", "wc")}


def _warm_router(b):
    with b.lock:
        if getattr(b, "fsh_router", None) is None:
            spec = ",".join(f"{image}:{n}" for image, n in POOLS.items())
            b.fsh_router = b.router_factory(b, extra_args=["--pool", spec])
        return b.fsh_router


def _wait_pools(b, r, images):
    deadline = time.monotonic() + b.opts.timeout
    for image in images:
        idle = os.path.join(r.router.runtime, "pool", image, "idle")
        while not (os.path.isdir(idle) and os.listdir(idle)):
            if time.monotonic() > deadline:
                raise BootError(f"the fsh router's pool of {image} did not refill within {b.opts.timeout:g}s")
            time.sleep(0.002)


def fsh_command(b, path, kind, scratch):
    """fsh -c TEXT through the run's router; flags ("warm",): the pooled one."""
    text = path.args[kind][0]
    if "warm" in path.flags:
        r = _warm_router(b)
        _wait_pools(b, r, NEEDS.get(text, ()))
    else:
        r = b.router_run()
    return [b.opts.fsh, "--connect", r.uri, "-c", text]


def stop_fsh_router(b):
    if getattr(b, "fsh_router", None):
        b.fsh_router.close()
