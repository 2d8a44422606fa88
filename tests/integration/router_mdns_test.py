#!/usr/bin/python3
"""fleet-router announces itself: the real router inside a private avahi
environment (avahi_env.py: its own network namespace, D-Bus and
avahi-daemon), found with the real avahi-browse, reached with the real
virsh at the address and port the announcement gives, and withdrawn when
the router stops.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from avahi_env import AvahiEnv, Unavailable  # noqa: E402
import routertest  # noqa: E402

NAME = "fleet on test"


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def main():
    routertest.need_router()
    routertest.need_virsh()
    root = tempfile.mkdtemp(prefix="fleet-router-mdns-", dir="/dev/shm" if os.access("/dev/shm", os.W_OK) else None)
    run = os.path.join(root, "run")
    try:
        with AvahiEnv() as env:
            p = env.popen([routertest.ROUTER, "--runtime-dir", run, "--state-dir", os.path.join(root, "state"),
                           "--images", routertest.IMAGES, "--listen", "127.0.0.1:0", "--mdns-name", NAME],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            env.wait_line(p, "mdns: published", timeout=20)
            with open(os.path.join(run, "router.json")) as f:
                info = json.load(f)
            found = env.wait_browse(lambda s: any(x["name"] == NAME for x in s))
            s = [x for x in found if x["name"] == NAME][0]
            print(f"  avahi-browse: {s}")
            check(s["port"] == info["tcp_port"], f"announced port {s['port']} != listening port {info['tcp_port']}")
            txt = dict(t.split("=", 1) for t in s["txt"])
            check(txt.get("impl") == "fleet", f"TXT without impl=fleet: {s['txt']}")
            check(txt.get("version") == info["version"], f"TXT version {txt.get('version')} != {info['version']}")
            check(txt.get("path") == "/system", f"TXT path: {s['txt']}")
            # What a client (fsh) does with it: connect where it points.
            uri = f"qemu+tcp://{s['address']}:{s['port']}{txt['path']}"
            r = env.run(["virsh", "-c", uri, "hostname"], timeout=30)
            check(r.returncode == 0 and r.stdout.strip(), f"virsh -c {uri} hostname: {r.returncode} {r.stderr!r}")
            print(f"  virsh -c {uri} hostname: {r.stdout.strip()}")
            # Stopping the router withdraws the record.
            check(env.stop(p) == 0, "fleet-router's exit status after SIGTERM")
            env.wait_browse(lambda s: not any(x["name"] == NAME for x in s), timeout=10)
            print("  withdrawn after SIGTERM")
        print("router mdns: ok")
        return 0
    except Unavailable as e:
        print(f"SKIP: {e}")
        return 77
    except AssertionError as e:
        print(f"FAIL: {e}")
        return 1
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
