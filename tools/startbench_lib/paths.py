"""The compared paths: how to launch a boot and how to ask it to stop.

command(bench, path, kind, scratch) -> argv; scratch is a per-boot path prefix.
prepare_stop(proc, scratch, stack, timeout) -> trigger; preparing is not timed,
calling trigger() sends the stop request (teardown is timed from there).
A path may instead measure itself: measure_fn(bench, path, kind) -> {metric: seconds}.
"""
import contextlib
import dataclasses
import os
import select
import signal
import subprocess
import sys
import time

from fleet_test.check import Failure
from fleet_test.qmp import Qmp, QmpError
from fleet_test.router import Router, domain_xml

from .bench import BootError, last_line


@dataclasses.dataclass(frozen=True)
class BenchPath:
    name: str
    command: object
    prepare_stop: object
    status: dict        # expected exit status per kind
    image: str          # catalog image (None: a host command)
    args: dict          # guest arguments (host: argv) per kind
    stdin: bool = False  # throughput: stdin is the input file
    expect: bytes = None  # the exact stdout wanted (None: anything; throughput: the input)
    measure_fn: object = None  # measure(bench, path, kind) -> {metric: seconds}, instead of a process
    flags: tuple = ()     # fleet-vmm run options before the image
    ready_of_hold: bool = False  # a hold boot's start-to-ready counts too (suites without plain boots)



def fleet_command(b, path, kind, scratch):
    stdin = [] if path.stdin else ["--no-stdin"]
    # Cold unless a path asks otherwise: no warm pool, no snapshot.
    flags = path.flags or ("--no-snapshot",)
    return [b.opts.fleet_vmm, "run", *stdin, "--no-pool", "--accel", b.opts.accel,
            "--name", "startbench-" + os.path.basename(scratch), *flags, path.image, *path.args[kind]]


def sigint_stop(proc, scratch, stack, timeout):
    return lambda: os.kill(proc.pid, signal.SIGINT)   # the fleet-vmm process only


def usr1_stop(proc, scratch, stack, timeout):
    """Kill the VM: SIGUSR1 to the `fleet-vmm run` process (its supervisor),
    the request `fleet-vmm kill NAME` sends it, without that command's own start."""
    return lambda: os.kill(proc.pid, signal.SIGUSR1)


def raw_command(b, path, kind, scratch):
    argv = b.raw_argv(path.image, path.args[kind])
    if kind == "hold":
        argv += ["-qmp", f"unix:{scratch}.qmp,server=on,wait=off"]
    return argv


def minimal_command(b, path, kind, scratch):
    """The minimal microvm line of issue 13: `-M microvm -serial stdio -kernel`,
    plus `-display none` (a headless host) and fleet's exec block on the
    kernel command line (what hello needs to know its arguments)."""
    argv = b.raw_argv(path.image, path.args[kind])
    return [argv[0], "-M", "microvm", "-display", "none", "-serial", "stdio",
            "-kernel", argv[argv.index("-kernel") + 1], "-append", argv[argv.index("-append") + 1]]


def kill_stop(proc, scratch, stack, timeout):
    return lambda: os.kill(proc.pid, signal.SIGKILL)


def host_command(b, path, kind, scratch):
    return [*path.args[kind]]



def qmp_stop(proc, scratch, stack, timeout):
    try:
        qmp = stack.enter_context(Qmp(scratch + ".qmp", timeout))
    except (OSError, QmpError) as e:
        raise BootError(f"QMP: {e or type(e).__name__}") from None
    return lambda: qmp.send("system_powerdown")


# ---- the router suite: a private fleet-router, python3-libvirt and virsh ---------------

class StopWatcher:
    """A stop_events helper process for one router (its own process, so
    libvirt's event loop stays out of the one whose calls are timed):
    watch(name) before asking a domain to stop, then stopped_at(name,
    deadline), the CLOCK_MONOTONIC time its stopped event came, or None."""

    def __init__(self, uri, env, timeout):
        helper = os.path.join(os.path.dirname(os.path.abspath(__file__)), "stop_events.py")
        self.proc = subprocess.Popen([sys.executable, helper, uri], env=env, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.buf = b""
        if self._line(now() + timeout) != "ready":
            self.close()
            raise BootError("the libvirt event listener (stop_events.py) did not start")

    def _line(self, deadline):
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buf:
            left = deadline - now()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return None
            chunk = os.read(fd, 4096)
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode()

    def watch(self, name, timeout):
        self.proc.stdin.write(f"watch {name}\n".encode())
        self.proc.stdin.flush()
        line = self._line(now() + timeout)
        if line != f"watching {name}":
            raise BootError(f"cannot listen for {name}'s events: {line or 'no answer'}")

    def stopped_at(self, name, deadline):
        while (line := self._line(deadline)) is not None:
            word, _, rest = line.partition(" ")
            who, _, t = rest.partition(" ")
            if word == "stopped" and who == name:
                return float(t)
        return None

    def close(self):
        with contextlib.suppress(Exception):
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def now():
    """CLOCK_MONOTONIC, the clock StopWatcher's times are on."""
    return time.clock_gettime(time.CLOCK_MONOTONIC)


class RouterRun:
    """A fleet-router of this run's own (fleet_test.router: private folders,
    cleaned up by pid; unix socket only, no TCP, no mDNS, no autostart), and
    a python3-libvirt connection to it, opened once (their cost is not a boot's)."""

    def __init__(self, b, extra_args=()):
        try:
            import libvirt
        except ImportError:
            raise BootError("python3-libvirt is missing (apt-get install python3-libvirt; "
                            "run startbench with /usr/bin/python3)") from None
        self.libvirt = libvirt
        libvirt.registerErrorHandler(lambda *_: None, None)  # errors are raised, not printed
        self.router = Router(verbose=False, name="startbench", listen="none", tls="none", images=None,
                             binary=b.opts.fleet_router, extra_args=["--no-autostart", *extra_args],
                             popen=lambda argv, extra, **kw: subprocess.Popen(
                                 argv, env={**b.env, **extra}, start_new_session=True, **kw))
        try:
            self.router.start(timeout=10)
        except Failure:
            why = last_line(self.router.log_text().split("----\n", 1)[-1])
            self.router.cleanup()
            raise BootError(f"fleet-router did not start: {why}") from None
        self.uri = self.router.uri_unix
        self.conn = libvirt.open(self.uri)
        self.env = b.env
        self.watcher = None  # a StopWatcher, started on the first shutdown()
        self.type = "kvm" if b.opts.accel == "kvm" else "qemu"

    def domain_xml(self, name, image, args):
        return domain_xml(name, image=image, args=args, type=self.type)

    def stop_watcher(self, timeout):
        if self.watcher is None:
            self.watcher = StopWatcher(self.uri, self.env, timeout)
        return self.watcher

    def close(self):
        if self.watcher is not None:
            self.watcher.close()
        with contextlib.suppress(Exception):
            for d in self.conn.listAllDomains(0):
                with contextlib.suppress(Exception):
                    d.destroy()
            self.conn.close()
        self.router.cleanup()


def router_python_measure(b, path, kind, r=None, stop="shutdown"):
    """createXML until it returns (ready); or, for hold, shutdown() until
    the domain's stopped event arrives (StopWatcher), or destroy()
    (stop="destroy") until it returns, which is once the domain is gone
    (and, with path.ready_of_hold, its createXML as ready too).
    r: the RouterRun to use (default: the run's plain router)."""
    r = r or b.router_run()
    lv = r.libvirt
    name = f"sb-{next(b.ids)}"
    xml = r.domain_xml(name, path.image, path.args[kind])
    try:
        t0 = time.perf_counter()
        dom = r.conn.createXML(xml, 0)
        t_ready = time.perf_counter()
        if kind != "hold":
            return {"start-to-ready": t_ready - t0}
        ready = {"start-to-ready": t_ready - t0} if path.ready_of_hold else {}
        # shutdown() only asks: its end is the stopped event, which another
        # process listens for from before the ask (not timed). destroy()
        # returns once the domain is off, as waitpid returns once a killed
        # QEMU is gone.
        watcher = r.stop_watcher(b.opts.timeout) if stop == "shutdown" else None
        if watcher:
            watcher.watch(name, b.opts.timeout)
        t_stop = now()
        getattr(dom, stop)()
        t_done = watcher.stopped_at(name, t_stop + b.opts.timeout) if watcher else now()
        if t_done is None:
            raise BootError(f"no stopped event for {name} {b.opts.timeout:g}s after {stop}()")
        # Checked after the clock: the domain is really gone.
        try:
            r.conn.lookupByName(name)
        except lv.libvirtError as e:
            if e.get_error_code() == lv.VIR_ERR_NO_DOMAIN:
                return {**ready, "teardown": t_done - t_stop}
            raise
        raise BootError(f"domain {name} still there when {stop}() was done")
    except lv.libvirtError as e:
        raise BootError(f"python3-libvirt: {e.get_error_message()}") from None


def virsh_command(b, path, kind, scratch):
    r = b.router_run()
    name = "sb-" + os.path.basename(scratch)
    with open(scratch + ".xml", "w") as f:
        f.write(r.domain_xml(name, path.image, path.args[kind]))
    return ["virsh", "-c", r.uri, "create", scratch + ".xml"]


def router_destroy_measure(b, path, kind):
    """router_python_measure, the domain ended by destroy() (virsh destroy)."""
    return router_python_measure(b, path, kind, stop="destroy")
