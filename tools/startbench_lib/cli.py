"""startbench — start-time and throughput benchmarks for fleet's guests, in one run.

Suites (--suite, comma-separated; default: all of them):

  hello       the tiny guest (catalog image `hello`, --image) through `fleet-vmm run`
              against the raw qemu-system-x86_64 command line that `fleet-vmm cmdline`
              prints, one VM at a time and --parallel M at once. Metrics start-to-ready,
              start-to-exit, teardown. Floor: fleet-vmm/raw p50 <= 1.10 for each.
  runtime     a runtime image (`echo hi`, images/runtime) through fleet-vmm against the
              raw QEMU boot of the minimal guest (hello), one VM at a time. Floor:
              start-to-ready runtime-echo/raw-hello p50 <= 1.20 (start-to-exit shown).
  linux       `echo hi` under Linux on Debian's generic kernel (image linux-generic)
              and on fleet's own kernel (linux-fleet, images/linux/build-kernel), one
              VM at a time, --linux-runs rounds (default 5: a generic boot takes
              seconds under TCG). Floor: linux-fleet/linux-generic p50 <= 0.333 for
              start-to-ready and start-to-exit.
  throughput  the runtime `cat` moving --mib MiB (default 64) of random bytes from a
              file on its stdin to a pipe (`fleet-vmm run cat < FILE | reader`),
              against the host's own `cat` on the same file, --throughput-runs rounds
              (default 3). MB/s (10^6 bytes) = bytes / spawn-to-exit, boot included.
              Floor: runtime-cat p50 >= 20 MB/s (the ratio to the host is shown).
  warm        `fleet-vmm run` taking a VM from a warm pool (`fleet-vmm pool start`, 2
              waiting per image, refilled between boots before the clock starts):
              hello and `echo hi`, against the same runs cold (--no-pool) and the raw
              QEMU boot of hello (the baseline); and python3-libvirt createXML of hello
              through a private fleet-router with `--pool hello:2` (router-warm-hello)
              against the plain router's cold start (router-cold-hello). Metrics
              start-to-ready, start-to-exit;
              start-rate: 8 runs of `echo hi`, 2 at a time, warm and cold, in VMs/s;
              rss-per-vm: one waiting VM's QEMU RSS (MiB); pss-per-vm: its PSS, the
              pages the pool's QEMUs share split among them (MiB). Floors: warm start-to-ready
              p50 <= 5 ms, and <= 0.25x raw (fleet-vmm's and the router's).
  router      the tiny guest through fleet-router (a private one this run starts:
              --fleet-router, unix socket, no TCP, no mDNS) beside fleet-vmm run and
              the raw QEMU command line: python3-libvirt createXML on one open
              connection until it returns (the router answers once the guest is
              ready), and `virsh create` as a user types it (virsh's own start-up
              included). Teardown: python3-libvirt shutdown() of a `hello hold`
              domain until its stopped lifecycle event arrives (heard by a helper
              process with libvirt's event loop; that the domain is gone is
              checked after, not timed). Floor: router-python/fleet-vmm p50
              <= 1.25 for start-to-ready. libvirtd is not compared
              unless it is installed (it is not a dependency of fleet).
  fsh         fsh's start latency (issue 11): `fsh --connect URI -c 'wc -c </dev/null'`
              and the three-stage pipeline `cat </dev/null | upper | wc -c` (one run the
              router joins) through this run's private fleet-router, cold and through a
              second one with warm pools of cat, upper and wc (fsh-warm-*),
              against one cold `fleet-vmm run --no-stdin wc -c`. Metric start-to-exit.
              Floor: fsh-warm-pipe3/fleet-vmm-wc p50 <= 1.3. (tools/fshbench has the
              64 MiB throughput through fsh and fsh without a router.)
  cold-minimal  `hello hold` through fleet-vmm and through fleet-router (python3-libvirt
              createXML) against QEMU's minimal microvm line (`-M microvm -display
              none -serial stdio -kernel`, the exec block on -append), ended by
              SIGKILL. Teardown both ways fleet has: graceful (Ctrl-C to fleet-vmm
              run, shutdown() through the router: the program ends itself) and kill
              (fleet-vmm-kill: SIGUSR1 to fleet-vmm run, what `fleet-vmm kill NAME`
              sends; router-destroy: destroy() until it returns, which libvirt does
              once the domain is off, as waitpid does once the killed QEMU is
              gone; that it is gone is checked after). Floors: p50 <= 1.10x minimal for
              fleet-vmm and router-python start-to-ready and for the two kills'
              teardown (like for like with SIGKILL); every teardown p50 <= 5 ms.
  snapshot    `echo hi` on linux-fleet restored from its snapshot (--snapshot; the
              warm-up round makes it) against a cold boot (--no-snapshot), one VM at
              a time, --linux-runs rounds; and the same with a read-only share
              (/usr/share, mounted and entered: what fsh's Linux commands get),
              restored and cold. Floor: linux-snapshot/linux-cold p50 <= 0.1 for
              start-to-ready (docs/cold-path.md).

Metrics:
  start-to-ready  from just before spawning the command to the first byte of the
                  guest's stdout arriving (hello prints "hello..." first, echo "hi").
  start-to-exit   from spawn to process exit (plain `hello`, which exits at once).
  teardown        boot `hello hold`, wait for its first stdout byte, then ask it to
                  stop and measure from sending that request to the process's exit.
                  fleet-vmm: SIGINT to the `fleet-vmm run` process (it sends the
                  program SIGINT on ctl; hello exits 130). raw: the raw command plus
                  `-qmp unix:SOCK,server=on,wait=off`; after qmp_capabilities (not
                  timed) send `system_powerdown` (the ACPI power button).
  throughput      bytes that came out of stdout / spawn-to-exit, in MB/s.

Sequential mode boots one VM at a time, N rounds; parallel mode (hello only) launches
M VMs at once per round (N rounds, so N*M samples per path), each timed individually.
Every round runs all paths of a suite, in an order that flips each round (ABBA); the
first --warmup rounds are not recorded (linux and throughput: at most 1).
Times come from time.perf_counter; exit is seen through a pidfd. Output: a table
(or --json) with verdict lines; a progress line on stderr when it is a tty (or
--progress). A suite whose images are not in the catalog is skipped with a note
when it was not asked for by name. Exit status 1, with a one-line message, if
anything failed (fleet-vmm not built, an image of a requested suite missing, a
boot failed, printed the wrong bytes or hit --timeout and was killed); a p50 over
its floor is reported in the verdict lines, and is a failure only with --strict.

More paths and suites go in make_suites() (suites.py): a path is a name, a command
builder, a stop method, an image and its arguments.
"""
import argparse
import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys

from fleet_test.folder import scratch_dir
from fleet_test.paths import built_or_path

from .bench import Bench, BootError, kill_group, last_line
from .measure import Progress, run_mode
from .paths import RouterRun, raw_command
from .plot import plot, png_terminal
from .report import print_table, verdicts
from .warm import stop_pools
from .suites import DEFINITIONS, SUITE_NAMES, make_suites, modes_of


def default_fleet_vmm():
    return built_or_path("fleet-vmm", "vmm", "fleet-vmm")


def default_fleet_router():
    return built_or_path("fleet-router", "router", "daemon", "fleet-router")


def default_fsh():
    return built_or_path("fsh", "shell", "fsh")


def parse_args():
    ap = argparse.ArgumentParser(prog="startbench", formatter_class=argparse.RawDescriptionHelpFormatter,
                                 description=__doc__.split("\n\nMore paths")[0])
    ap.add_argument("--suite", action="append", metavar="NAME[,NAME...]",
                    help=f"suites to run: {', '.join(SUITE_NAMES)} (default: all; repeatable)")
    ap.add_argument("-n", "--runs", type=int, default=20, help="recorded rounds, hello and runtime (default 20)")
    ap.add_argument("--linux-runs", type=int, default=5, metavar="N", help="recorded rounds, linux (default 5)")
    ap.add_argument("--throughput-runs", type=int, default=3, metavar="N",
                    help="recorded rounds, throughput (default 3)")
    ap.add_argument("--mib", type=int, default=64, help="MiB through cat in the throughput suite (default 64)")
    ap.add_argument("-p", "--parallel", type=int, default=4, metavar="M",
                    help="VMs launched at once in hello's parallel mode (default 4; 0 disables it)")
    ap.add_argument("--warmup", type=int, default=2, metavar="K",
                    help="unrecorded rounds first (default 2; linux and throughput: at most 1)")
    ap.add_argument("--json", action="store_true", help="print JSON instead of the table")
    ap.add_argument("--plot", metavar="FILE.png", help="draw the distributions with gnuplot")
    ap.add_argument("--progress", action="store_true", help="progress line on stderr even if not a tty")
    ap.add_argument("--strict", action="store_true", help="exit 1 also when a p50 misses its floor")
    ap.add_argument("--fleet-vmm", default=default_fleet_vmm(), metavar="PATH",
                    help="fleet-vmm binary (default: build/vmm/fleet-vmm in the repo, else PATH)")
    ap.add_argument("--fleet-router", default=default_fleet_router(), metavar="PATH",
                    help="fleet-router binary for the router suite (default: build/router/daemon/fleet-router)")
    ap.add_argument("--fsh", default=default_fsh(), metavar="PATH",
                    help="fsh binary for the fsh suite (default: build/shell/fsh)")
    ap.add_argument("--image", default="hello", help="tiny catalog image for hello and runtime (default hello)")
    ap.add_argument("--accel", default="tcg", help="accelerator for every path (default tcg)")
    ap.add_argument("--timeout", type=float, default=30, metavar="SECONDS",
                    help="per boot; a hung boot is killed and reported as an error (default 30)")
    o = ap.parse_args()
    if (o.runs < 1 or o.linux_runs < 1 or o.throughput_runs < 1 or o.parallel < 0 or o.warmup < 0
            or o.timeout <= 0 or o.mib < 1):
        ap.error("need --runs, --linux-runs, --throughput-runs, --mib >= 1, --parallel >= 0, --warmup >= 0, "
                 "--timeout > 0")
    o.explicit = o.suite is not None
    o.suite = [n.strip() for arg in (o.suite or [",".join(SUITE_NAMES)]) for n in arg.split(",") if n.strip()]
    unknown = [n for n in o.suite if n not in SUITE_NAMES]
    if unknown or not o.suite:
        ap.error(f"unknown suite {', '.join(unknown) or '(none)'}; choose from {', '.join(SUITE_NAMES)}")
    o.suite = list(dict.fromkeys(o.suite))
    return o


def catalog(o, env):
    """Image names in fleet-vmm's catalog."""
    r = subprocess.run([o.fleet_vmm, "images"], env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if r.returncode != 0:
        raise BootError(f"'{o.fleet_vmm} images' failed: {last_line(r.stderr)}")
    return {line.split()[0] for line in r.stdout.splitlines()[1:] if line.strip()}


def missing_images(suite, names):
    want = [p.image for p in suite.paths if p.image]
    hints = {"linux-fleet": "fleet's kernel is not built: images/linux/build-kernel, then meson setup --reconfigure",
             "linux-generic": "no Linux images: see images/linux/README.md"}
    gone = [i for i in dict.fromkeys(want) if i not in names]
    return "; ".join(f"no image {i}" + (f" ({hints[i]})" if i in hints else "") for i in gone)


def choose(o, suites, names, results, b):
    """The suites to run, in order; the others are noted as skipped (or
    fail the run, when asked for by name)."""
    chosen = []
    for name in o.suite:
        suite = suites[name]
        results["suites"][name] = {"note": suite.note, "runs": suite.runs, "warmup": suite.warmup,
                                   "paths": [p.name for p in suite.paths], "baseline": suite.baseline,
                                   "metrics": list(suite.metrics),
                                   "floors": [dataclasses.asdict(c) for c in suite.checks], "modes": {}}
        why = missing_images(suite, names)
        if name == "fsh" and not why and not os.access(o.fsh, os.X_OK):
            why = f"no fsh at {o.fsh}"
        if name in ("router", "fsh") and not why:
            if not os.access(o.fleet_router, os.X_OK):
                why = f"no fleet-router at {o.fleet_router}"
            elif not shutil.which("virsh"):
                why = "no virsh (apt-get install libvirt-clients)"
        if why:
            if o.explicit:
                raise BootError(f"suite {name}: {why}")
            results["suites"][name]["skipped"] = why
            continue
        chosen.append(suite)
        for p in suite.paths:        # fails early if fleet-vmm or QEMU cannot run,
            if p.command is raw_command:  # and keeps `fleet-vmm cmdline` out of the rounds
                for kind in suite.kinds:
                    if kind in p.args:
                        b.raw_argv(p.image, p.args[kind])
    return chosen


def write_input(b, mib):
    """The throughput suite's input: mib MiB of random bytes, in a file."""
    b.input = (os.path.join(b.tmp, "input"), mib * 1024 * 1024)
    with open(b.input[0], "wb") as f:
        for _ in range(mib):
            f.write(os.urandom(1024 * 1024))


def show_results(o, suites, results, term):
    """Print the table or JSON, draw the plot; exit 1 on errors (or, with
    --strict, on a missed floor)."""
    results["verdicts"] = verdicts(suites, results)
    if o.json:
        json.dump(results, sys.stdout, indent=2)
        print()
    else:
        print_table(results)
    if o.plot:
        plot(results, term, o.plot, f"startbench ({o.accel}): {', '.join(o.suite)} — "
                                    f"{o.runs}/{o.linux_runs}/{o.throughput_runs} rounds, parallel {o.parallel}")
    if results["errors"]:
        sys.exit(f"startbench: {len(results['errors'])} run(s) failed; first: {results['errors'][0]['error']}")
    missed = [v for v in results["verdicts"] if not v["within_floor"]]
    if o.strict and missed:
        sys.exit(f"startbench: {len(missed)} floor(s) missed; first: {missed[0]['line']}")


def main():
    o = parse_args()
    if not (shutil.which(o.fleet_vmm) if os.sep not in o.fleet_vmm else os.access(o.fleet_vmm, os.X_OK)):
        sys.exit(f"startbench: fleet-vmm not found at {o.fleet_vmm} (build it: ninja -C build)")
    term = png_terminal() if o.plot else None
    if o.plot and not os.access(os.path.dirname(os.path.abspath(o.plot)), os.W_OK):
        sys.exit(f"startbench: cannot write the plot to {o.plot}")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("startbench: terminated"))
    suites = make_suites(o)
    results = {"config": {"suites": o.suite, "runs": o.runs, "linux_runs": o.linux_runs,
                          "throughput_runs": o.throughput_runs, "mib": o.mib, "parallel": o.parallel,
                          "warmup": o.warmup, "image": o.image, "accel": o.accel, "timeout_s": o.timeout,
                          "fleet_vmm": o.fleet_vmm, "fleet_router": o.fleet_router, "fsh": o.fsh},
               "definitions": DEFINITIONS, "suites": {}, "errors": []}
    # fleet-vmm's runtime folder belongs on tmpfs, as /run is on a Debian
    # host; this machine's /tmp and /run are on disk, where the journal makes
    # each rename and unlink of the VM's records cost milliseconds.
    tmp = scratch_dir("startbench-")
    b = Bench(o, tmp)
    b.router_factory = RouterRun
    progress = None
    try:
        names = catalog(o, b.env)
        chosen = choose(o, suites, names, results, b)
        if suites["throughput"] in chosen:
            write_input(b, o.mib)
        total = sum(w * (s.warmup + s.runs) * sum(k in p.status for p in s.paths for k in s.kinds)
                    for s in chosen for _, w in modes_of(s))
        progress = Progress(o.progress or sys.stderr.isatty(), total)
        for suite in chosen:
            for mode, width in modes_of(suite):
                run_mode(b, suite, mode, width, progress, results)
        progress.clear()
    except BootError as e:
        if progress:
            progress.clear()
        sys.exit(f"startbench: {e}")
    except KeyboardInterrupt:
        if progress:
            progress.clear()
        sys.exit("startbench: interrupted")
    finally:
        with b.lock:
            for p in list(b.live):
                kill_group(p)
        if b.router:
            b.router.close()
        stop_pools(b)
        shutil.rmtree(tmp, ignore_errors=True)
    show_results(o, suites, results, term)

if __name__ == "__main__":
    main()
