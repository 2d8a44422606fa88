#!/usr/bin/python3
"""fleet-router's warm pools (`--pool`, the `pool` line of its config):
a createXML through python3-libvirt takes a waiting VM instead of booting,
behaves as a cold domain (console output, exit status, destroy, listing),
the pool refills, survives a router killed with -9 (adopted, nothing
leaked), ends with a router stopped by SIGTERM, and a claim is held to the
same quotas as a cold start. Real router, real guests under TCG."""
import glob
import json
import os
import subprocess
import sys

sys.path.append(os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "lib"))  # run by hand: HACKING.md
from fleet_test import paths  # noqa: E402
from fleet_test import router as routers  # noqa: E402
from fleet_test.check import Failure, check, skip_test, wait_until  # noqa: E402
from fleet_test.libvirt_client import need_libvirt_python  # noqa: E402
from fleet_test.procs import alive  # noqa: E402
from fleet_test.router import domain_xml, need_router  # noqa: E402
from fleet_test.runner import main  # noqa: E402

libvirt = need_libvirt_python()

POOLS = ["--pool", "hello:2,exit:1"]


def pools(router):
    p = subprocess.run([paths.VMM, "--runtime-dir", router.runtime, "pool", "ls", "--json"],
                       capture_output=True, timeout=30)
    check(p.returncode == 0, f"pool ls: {p.stderr!r}")
    return {j["image"]: j for j in json.loads(p.stdout)}


def wait_full(router, image, n, timeout=60):
    return wait_until(lambda: (pools(router).get(image, {}).get("idle") == n) and pools(router)[image],
                      timeout, f"{n} waiting VMs in the router's pool of {image}")


def waiting_qemus(router, image):
    """QEMU pids of the pool's waiting VMs (their slot records)."""
    out = set()
    for f in glob.glob(os.path.join(router.runtime, "pool", image, "slots", "*", "slot.json")):
        with open(f) as fh:
            out.add(json.load(fh)["pid"])
    return out


def console_log(router, name):
    try:
        with open(os.path.join(router.vms_dir(), name, "console.log"), "rb") as f:
            return f.read()
    except OSError:
        return b""


def run_to_end(router, conn, name, image, args, memory_mib=None):
    """createXML a domain that ends by itself; the router's log line for its end."""
    conn.createXML(domain_xml(name, image, args, memory_mib=memory_mib), 0)
    line = wait_until(lambda: next((l for l in router.log_text().splitlines()
                                    if f"domain '{name}' stopped" in l), None), 30, f"{name} to end")
    wait_until(lambda: name not in [d.name() for d in conn.listAllDomains()], 10, f"{name} gone from the list")
    return line


def from_pool(router, name, image):
    return router.log_text().count(f"domain '{name}': from the warm pool of {image}")


def test_create_takes_a_pooled_vm(router):
    wait_full(router, "hello", 2)
    before = waiting_qemus(router, "hello")
    conn = libvirt.open(router.uri_unix)
    dom = conn.createXML(domain_xml("warm", "hello", ["hold", "a b"]), 0)
    rec = router.record("warm")
    check(rec["pid"] in before, f"domain's QEMU {rec['pid']} is not one of the pool's waiting ones {before}")
    check(pools(router)["hello"]["idle"] < 2 or rec["pid"] not in waiting_qemus(router, "hello"),
          "the claimed VM is still offered by the pool")
    check(dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING, f"state {dom.state()}")
    check("warm" in [d.name() for d in conn.listAllDomains()], "the pooled domain is not listed")
    wait_until(lambda: b"hello hold a b\n" in console_log(router, "warm"), 15, "the program's output in console.log")
    # The same program cold (another memory size: not what the pool serves).
    conn.createXML(domain_xml("cold", "hello", ["hold", "a b"], memory_mib=24), 0)
    check(router.record("cold")["pid"] not in before, "a 24 MiB domain came from the 16 MiB pool")
    wait_until(lambda: b"hello hold a b\n" in console_log(router, "cold"), 15, "the cold program's output")
    check(console_log(router, "warm") == console_log(router, "cold"),
          f"console: warm {console_log(router, 'warm')!r}, cold {console_log(router, 'cold')!r}")
    dom.destroy()
    conn.lookupByName("cold").destroy()
    wait_until(lambda: not alive(rec["pid"]), 10, "the pooled domain's QEMU to end")
    # Refilled with new VMs: the used one is never offered again.
    full = wait_full(router, "hello", 2)
    check(rec["pid"] not in waiting_qemus(router, "hello"), "a used VM is back in the pool")
    check(full["rss_kib"] > 0, f"no memory reported for the pool: {full}")


def test_exit_status_as_cold(router):
    wait_full(router, "exit", 1)
    before = waiting_qemus(router, "exit")
    conn = libvirt.open(router.uri_unix)
    warm = run_to_end(router, conn, "w7", "exit", ["7"])
    check(from_pool(router, "w7", "exit") == 1, "w7 did not come from the pool")
    check(not any(alive(p) for p in before), f"the waiting VM {before} did not run w7's program")
    cold = run_to_end(router, conn, "c7", "exit", ["7"], memory_mib=24)
    check(from_pool(router, "c7", "exit") == 0, "a 24 MiB domain came from the 16 MiB pool")
    check("status 7" in warm and warm.split("stopped")[1] == cold.split("stopped")[1],
          f"warm ended {warm!r}, cold {cold!r}")
    # The same name again: another VM of the refilled pool, never the used one.
    wait_full(router, "exit", 1)
    refilled = waiting_qemus(router, "exit")
    check(not (refilled & before), "a used VM is back in the pool")
    run_to_end(router, conn, "w7", "exit", ["3"])
    check(from_pool(router, "w7", "exit") == 2, "the second w7 did not come from the pool")
    check(not any(alive(p) for p in refilled), "the second w7 did not take the refilled VM")


def test_kill_9_and_restart_adopts(router):
    full = wait_full(router, "hello", 2)
    qemus = waiting_qemus(router, "hello")
    router.kill()  # -9: the pool daemon and its VMs stay for the next router
    check(alive(full["pid"]), "the pool daemon died with the router")
    router.start()
    wait_until(lambda: "warm pool 'hello': adopted" in router.log_text(), 15, "the pool adopted")
    check(pools(router)["hello"]["pid"] == full["pid"], "the adopted pool has another daemon")
    check(waiting_qemus(router, "hello") == qemus, "the adopted pool's VMs changed")
    conn = libvirt.open(router.uri_unix)
    conn.createXML(domain_xml("after", "hello", ["hold"]), 0)
    check(router.record("after")["pid"] in qemus, "the restarted router booted instead of claiming")
    wait_full(router, "hello", 2)
    conn.lookupByName("after").destroy()
    wait_until(lambda: "after" not in router.records(), 10, "the domain's record cleared")
    # SIGTERM: the pools end; only what was claimed would run on.
    router.stop()
    wait_until(lambda: not router.qemu_processes(), 15, "no QEMU left after the router stopped")
    check(not alive(full["pid"]), "the pool daemon outlived a router stopped by SIGTERM")
    router.start()
    wait_full(router, "hello", 2)


def test_restart_with_another_size_replaces(router):
    old = wait_full(router, "hello", 2)
    router.kill()
    router.extra_args = ["--pool", "hello:1"]
    router.start()
    new = wait_full(router, "hello", 1)
    check(new["pid"] != old["pid"] and not alive(old["pid"]), "the old pool daemon was not ended")
    # exit's pool is not configured any more: the router ended it.
    wait_until(lambda: "exit" not in pools(router), 15, "the unconfigured pool ended")
    wait_until(lambda: len(router.qemu_processes()) == 1, 20, "one QEMU: the one waiting VM (nothing leaked)")


def test_restored_pool_and_its_boot_changed(router):
    """--pool-boot snapshot: the pool's Linux VMs are restored from their
    image's snapshot, and a domain that takes one runs as a cold one; a
    router restarted with another --pool-boot replaces the pool."""
    images = subprocess.run([paths.VMM, "--images", paths.IMAGES, "images"], capture_output=True, timeout=30)
    if b"linux-cat" not in images.stdout:
        skip_test("no Linux images in this build")
    full = wait_full(router, "linux-cat", 1, timeout=120)
    check(full["boot"] == "snapshot", f"pool ls: {full}")
    logs = glob.glob(os.path.join(router.runtime, "pool", "linux-cat", "slots", "*", "vmm.log"))
    check(len(logs) == 1 and b"restoring from snapshot" in open(logs[0], "rb").read(), f"not restored: {logs}")
    conn = libvirt.open(router.uri_unix)
    ends = {}
    for name, path in (("found", "/proc/version"), ("missing", "/nonexistent")):  # cat's status: 0, then 1
        wait_full(router, "linux-cat", 1, timeout=120)
        ends[name] = run_to_end(router, conn, name, "linux-cat", [path])
        check(from_pool(router, name, "linux-cat") == 1, f"{name} did not come from the pool")
    check("status 0" in ends["found"] and "status 1" in ends["missing"], f"ends: {ends}")
    wait_full(router, "linux-cat", 1, timeout=120)
    router.kill()
    router.extra_args = ["--pool", "linux-cat:1", "--pool-boot", "cold"]
    router.start()
    wait_until(lambda: "warm pool 'linux-cat': the running one differs" in router.log_text(), 15, "the pool replaced")
    new = wait_full(router, "linux-cat", 1, timeout=120)
    check(new["boot"] == "cold" and new["pid"] != full["pid"] and not alive(full["pid"]), f"{full} -> {new}")


test_restored_pool_and_its_boot_changed.router_kwargs = {
    "extra_args": ["--pool", "linux-cat:1", "--pool-boot", "snapshot"]}


def test_claims_are_held_to_quotas(router):
    wait_full(router, "hello", 2)
    conn = libvirt.open(router.uri_unix)
    try:
        conn.createXML(domain_xml("big", "hello", ["hold"]), 0)
    except libvirt.libvirtError as e:
        check("memory" in (e.get_error_message() or ""), f"refused for another reason: {e}")
    else:
        raise Failure("a claim beyond the host memory budget was let through")
    check(pools(router)["hello"]["idle"] == 2, "a refused start took a pooled VM")


test_claims_are_held_to_quotas.router_kwargs = {"extra_args": POOLS + ["--host-memory-budget", "8M"]}


def test_bad_config_is_one_line_with_file_and_line(router):
    conf = os.path.join(router.root, "router.conf")
    for text, want in [("pool = echo:0\n", "1: pool: the size of 'echo' must be 1 to 64"),
                       ("# warm\nstop-timeout = 5\npool = echo:2,,cat\n", "3: pool: an empty image name"),
                       ("pool = echo\npool-size = 99\n", "2: pool-size: must be 1 to 64"),
                       ("pool = echo\npool-boot = warm\n", "2: pool-boot: 'warm' is not a pool boot: auto, snapshot or cold")]:
        with open(conf, "w") as f:
            f.write(text)
        cmd = [a for a in router.command() if a not in ("--config", "none")] + ["--config", conf]
        p = subprocess.run(cmd, capture_output=True, timeout=10, env={**os.environ, "FLEET_ACCEL": "tcg"})
        err = p.stderr.decode()
        check(p.returncode == 1 and err.count("\n") == 1, f"{text!r}: rc {p.returncode}, {err!r}")
        check(err.startswith(f"fleet-router: {conf}:{want}"), f"{text!r}: {err!r}, wanted {conf}:{want}")
    p = subprocess.run(router.command() + ["--pool", "echo,hello:x"], capture_output=True, timeout=10)
    check(p.returncode == 1 and p.stderr == b"fleet-router: --pool: bad size 'x' for 'hello'\n",
          f"--pool on the command line: rc {p.returncode}, {p.stderr!r}")


test_bad_config_is_one_line_with_file_and_line.router_kwargs = {"extra_args": []}


def fixture(test):
    kwargs = getattr(test, "router_kwargs", {"extra_args": list(POOLS)})
    return routers.Router(**kwargs)


if __name__ == "__main__":
    need_router()
    main([test_create_takes_a_pooled_vm, test_exit_status_as_cold, test_kill_9_and_restart_adopts,
          test_restart_with_another_size_replaces, test_restored_pool_and_its_boot_changed,
          test_claims_are_held_to_quotas,
          test_bad_config_is_one_line_with_file_and_line], fixture, timeout=routers.TEST_TIMEOUT)
