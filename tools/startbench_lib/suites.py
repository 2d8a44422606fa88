"""The suites: their paths, metrics and floors, and the order of a round."""
import dataclasses
import shutil

from .fsh import ONE, PIPE3, fsh_command
from .warm import cold_command, cold_rate_measure, router_warm_measure, warm_command, warm_rate_measure
from .paths import BenchPath, fleet_command, host_command, kill_stop, minimal_command, qmp_stop, raw_command, \
    router_destroy_measure, router_python_measure, sigint_stop, usr1_stop, virsh_command

DEFINITIONS = {"start-to-ready": "spawn to the guest's first stdout byte",
               "start-to-exit": "spawn to process exit (plain image)",
               "teardown": "stop request sent to process exit (image with 'hold')",
               "throughput": "stdout bytes / spawn to process exit (MB/s, 10^6 bytes)",
               "start-rate": "runs started and ended per second, 2 at a time (VMs/s)",
               "rss-per-vm": "RSS of one waiting pooled VM's QEMU (MiB)",
               "pss-per-vm": "PSS of one waiting pooled VM's QEMU: pages shared with the pool's others split (MiB)"}
UNITS = {"start-to-ready": "ms", "start-to-exit": "ms", "teardown": "ms", "throughput": "MB/s",
         "start-rate": "VMs/s", "rss-per-vm": "MiB", "pss-per-vm": "MiB"}
# A folder every user may read, shared read-only (the guest mounts it and enters it).
SHARE = ("--share", "/usr/share:/work")
SUITE_NAMES = ("hello", "runtime", "linux", "throughput", "router", "warm", "snapshot", "cold-minimal", "fsh")


@dataclasses.dataclass(frozen=True)
class Check:
    """A floor: kind "ratio" is p50(path)/p50(baseline) <= bound, "min" is p50(path) >= bound,
    "max" is p50(path) <= bound."""
    kind: str
    metric: str
    path: str
    bound: float

    def judge(self, value):
        return value >= self.bound if self.kind == "min" else value <= self.bound


@dataclasses.dataclass(frozen=True)
class Suite:
    name: str
    paths: list
    baseline: str
    kinds: tuple        # boot kinds every round runs: plain (ready/exit), hold (teardown)
    metrics: tuple
    checks: list
    runs: int
    warmup: int
    parallel: int       # M VMs at once in an extra parallel mode (0: none)
    note: str = ""


def make_suites(o):
    hello_plain = {"plain": [], "hold": ["hold"]}
    # isa-debug-exit makes QEMU exit with (N<<1)|1, so hello's status 0 is 1.
    # Ctrl-C (sigint_stop) is SIGINT to the program: hello hold ends with 128 + 2.
    raw_hello = BenchPath("raw-hello", raw_command, qmp_stop, {"plain": 1}, o.image, {"plain": []})
    echo = {"plain": ["echo", "hi"]}
    mib = o.mib * 1024 * 1024
    return {
        "hello": Suite("hello", [
            BenchPath("fleet-vmm", fleet_command, sigint_stop, {"plain": 0, "hold": 130}, o.image, hello_plain),
            BenchPath("raw", raw_command, qmp_stop, {"plain": 1, "hold": 0}, o.image, hello_plain),
        ], "raw", ("plain", "hold"), ("start-to-ready", "start-to-exit", "teardown"),
            [Check("ratio", m, "fleet-vmm", 1.10) for m in ("start-to-ready", "start-to-exit", "teardown")],
            o.runs, o.warmup, o.parallel, f"image {o.image}"),
        "runtime": Suite("runtime", [
            BenchPath("runtime-echo", fleet_command, None, {"plain": 0}, "echo", {"plain": ["hi"]},
                      expect=b"hi\n"),
            raw_hello,
        ], "raw-hello", ("plain",), ("start-to-ready", "start-to-exit"),
            [Check("ratio", "start-to-ready", "runtime-echo", 1.20)], o.runs, o.warmup, 0,
            f"fleet-vmm run echo hi vs raw QEMU {o.image}"),
        "linux": Suite("linux", [
            BenchPath("linux-fleet", fleet_command, None, {"plain": 0}, "linux-fleet", echo, expect=b"hi\n"),
            BenchPath("linux-generic", fleet_command, None, {"plain": 0}, "linux-generic", echo, expect=b"hi\n"),
        ], "linux-generic", ("plain",), ("start-to-ready", "start-to-exit"),
            [Check("ratio", m, "linux-fleet", round(1 / 3, 3)) for m in ("start-to-ready", "start-to-exit")],
            o.linux_runs, min(o.warmup, 1), 0, "fleet-vmm run linux-fleet|linux-generic echo hi"),
        "throughput": Suite("throughput", [
            BenchPath("runtime-cat", fleet_command, None, {"plain": 0}, "cat", {"plain": []}, stdin=True),
            BenchPath("host-cat", host_command, None, {"plain": 0}, None, {"plain": ["cat"]}, stdin=True),
        ], "host-cat", ("plain",), ("throughput", "start-to-ready"),
            [Check("min", "throughput", "runtime-cat", 20.0)], o.throughput_runs, min(o.warmup, 1), 0,
            f"{o.mib} MiB through cat: fleet-vmm run cat < FILE vs the host's cat < FILE ({mib} bytes)"),
        "router": Suite("router", [
            BenchPath("router-python", None, None, {"plain": 0, "hold": 0}, o.image, hello_plain,
                      measure_fn=router_python_measure),
            BenchPath("router-virsh", virsh_command, None, {"plain": 0}, o.image, hello_plain),
            BenchPath("fleet-vmm", fleet_command, sigint_stop, {"plain": 0, "hold": 130}, o.image, hello_plain),
            BenchPath("raw", raw_command, qmp_stop, {"plain": 1, "hold": 0}, o.image, hello_plain),
        ], "fleet-vmm", ("plain", "hold"), ("start-to-ready", "teardown"),
            [Check("ratio", "start-to-ready", "router-python", 1.25)], o.runs, o.warmup, 0,
            f"image {o.image}: python3-libvirt createXML and virsh create through fleet-router vs fleet-vmm run "
            f"and raw QEMU" + ("" if shutil.which("libvirtd") else "; libvirtd not installed, not compared")),
        "warm": warm_suite(o, raw_hello),
        # Issue 13's baseline: `hello hold` on the minimal microvm line, ended by SIGKILL.
        # Teardown like for like: fleet's kill (fleet-vmm kill, virsh destroy) against
        # SIGKILL, 1.10x; fleet's graceful ends (Ctrl-C, shutdown()) run guest code, so
        # they are held to the absolute 5 ms only.
        "cold-minimal": Suite("cold-minimal", [
            BenchPath("fleet-vmm", fleet_command, sigint_stop, {"hold": 130}, o.image, {"hold": ["hold"]},
                      ready_of_hold=True),
            BenchPath("fleet-vmm-kill", fleet_command, usr1_stop, {"hold": 137}, o.image, {"hold": ["hold"]}),
            BenchPath("router-python", None, None, {"hold": 0}, o.image, {"hold": ["hold"]},
                      measure_fn=router_python_measure, ready_of_hold=True),
            BenchPath("router-destroy", None, None, {"hold": 0}, o.image, {"hold": ["hold"]},
                      measure_fn=router_destroy_measure),
            BenchPath("minimal", minimal_command, kill_stop, {"hold": -9}, o.image, {"hold": ["hold"]},
                      ready_of_hold=True),
        ], "minimal", ("hold",), ("start-to-ready", "teardown"),
            [Check("ratio", "start-to-ready", p, 1.10) for p in ("fleet-vmm", "router-python")] +
            [Check("ratio", "teardown", p, 1.10) for p in ("fleet-vmm-kill", "router-destroy")] +
            [Check("max", "teardown", p, 5.0) for p in ("fleet-vmm", "fleet-vmm-kill", "router-python",
                                                         "router-destroy")], o.runs, o.warmup, 0,
            f"{o.image} hold: fleet-vmm run and python3-libvirt createXML through fleet-router vs "
            f"qemu-system-x86_64 -M microvm -display none -serial stdio -kernel; teardown: Ctrl-C (SIGINT) "
            f"and fleet-vmm kill (SIGUSR1) to fleet-vmm run, shutdown() and destroy() through the router, "
            f"SIGKILL to the minimal line"),
        # Issue 11's start latency: fsh through the router, cold and warm.
        "fsh": Suite("fsh", [
            BenchPath("fsh-wc", fsh_command, None, {"plain": 0}, "wc", {"plain": [ONE]}, expect=b"0\n"),
            BenchPath("fsh-warm-wc", fsh_command, None, {"plain": 0}, "wc", {"plain": [ONE]}, expect=b"0\n",
                      flags=("warm",)),
            BenchPath("fsh-pipe3", fsh_command, None, {"plain": 0}, "wc", {"plain": [PIPE3]}, expect=b"0\n"),
            BenchPath("fsh-warm-pipe3", fsh_command, None, {"plain": 0}, "wc", {"plain": [PIPE3]}, expect=b"0\n",
                      flags=("warm",)),
            BenchPath("fleet-vmm-wc", fleet_command, None, {"plain": 0}, "wc", {"plain": ["-c"]}, expect=b"0\n"),
        ], "fleet-vmm-wc", ("plain",), ("start-to-exit",),
            [Check("ratio", "start-to-exit", "fsh-warm-pipe3", 1.3)], o.runs, o.warmup, 0,
            f"fsh --connect to a private fleet-router -c '{ONE}' and -c '{PIPE3}' (one run the router joins), "
            f"cold and through a second router with warm pools (--pool cat,upper,wc), vs fleet-vmm run "
            f"--no-stdin wc -c (one cold VM)"),
        # The first start of the snapshot path makes the snapshot: a warm-up round.
        "snapshot": Suite("snapshot", [
            BenchPath("linux-snapshot", fleet_command, None, {"plain": 0}, "linux-fleet", echo, expect=b"hi\n",
                      flags=("--snapshot",)),
            BenchPath("linux-cold", fleet_command, None, {"plain": 0}, "linux-fleet", echo, expect=b"hi\n",
                      flags=("--no-snapshot",)),
            # fsh's Linux commands share the working folder: the same with a
            # share (mounted, entered) restored and cold.
            BenchPath("linux-share-snapshot", fleet_command, None, {"plain": 0}, "linux-fleet", echo,
                      expect=b"hi\n", flags=("--snapshot",) + SHARE),
            BenchPath("linux-share-cold", fleet_command, None, {"plain": 0}, "linux-fleet", echo, expect=b"hi\n",
                      flags=("--no-snapshot",) + SHARE),
        ], "linux-cold", ("plain",), ("start-to-ready", "start-to-exit"),
            [Check("ratio", "start-to-ready", "linux-snapshot", 0.1)], o.linux_runs, max(min(o.warmup, 1), 1), 0,
            "fleet-vmm run linux-fleet echo hi: restored from a snapshot vs booted cold (--no-snapshot); "
            "the same with --share " + SHARE[1]),
    }


def warm_suite(o, raw_hello):
    warm = ("warm-hello", "warm-echo", "router-warm-hello")
    hi = {"plain": ["hi"]}
    plain = {"plain": []}
    return Suite("warm", [
        BenchPath("warm-hello", warm_command, None, {"plain": 0}, o.image, plain),
        BenchPath("cold-hello", cold_command, None, {"plain": 0}, o.image, plain),
        BenchPath("warm-echo", warm_command, None, {"plain": 0}, "echo", hi, expect=b"hi\n"),
        BenchPath("cold-echo", cold_command, None, {"plain": 0}, "echo", hi, expect=b"hi\n"),
        BenchPath("warm-rate", None, None, {"plain": 0}, "echo", hi, expect=b"hi\n", measure_fn=warm_rate_measure),
        BenchPath("cold-rate", None, None, {"plain": 0}, "echo", hi, expect=b"hi\n", measure_fn=cold_rate_measure),
        BenchPath("router-warm-hello", None, None, {"plain": 0}, o.image, plain, measure_fn=router_warm_measure),
        BenchPath("router-cold-hello", None, None, {"plain": 0}, o.image, plain, measure_fn=router_python_measure),
        raw_hello,
    ], "raw-hello", ("plain",), ("start-to-ready", "start-to-exit", "start-rate", "rss-per-vm", "pss-per-vm"),
        [Check("max", "start-to-ready", p, 5.0) for p in warm] +
        [Check("ratio", "start-to-ready", p, 0.25) for p in warm],
        o.runs, o.warmup, 0,
        f"fleet-vmm run {o.image} and echo hi from a warm pool of {2} (fleet-vmm pool) vs cold (--no-pool), "
        f"python3-libvirt createXML {o.image} through a fleet-router with --pool {o.image}:2 vs one without, "
        f"and raw QEMU {o.image}; start rate: 8 runs of echo hi, 2 at a time")



def modes_of(suite):
    return [("sequential", 1)] + ([("parallel", suite.parallel)] if suite.parallel else [])



def round_order(paths, rnd):
    """ABBA: the paths in order on even rounds, reversed on odd ones, so that
    neither side always runs first (warm caches, a busy neighbour)."""
    return paths if rnd % 2 == 0 else paths[::-1]
