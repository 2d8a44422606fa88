#!/usr/bin/python3
"""fleet-router announces itself: the real router inside a private avahi
environment (fleet_test/avahi.py: its own network namespace, D-Bus and
avahi-daemon), found with the real avahi-browse, reached with the real
virsh at the address and port the announcement gives, and withdrawn when
the router stops. Only an authenticated listener other hosts can reach is
announced: TLS on all addresses (plain TCP and the sockets never are).
"""
import os
import sys

sys.path.append(os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "lib"))  # run by hand: HACKING.md
from fleet_test.avahi import AvahiEnv, Unavailable  # noqa: E402
from fleet_test.check import SKIP, Failure, check, wait_until  # noqa: E402
from fleet_test.router import PKI, Router, need_router  # noqa: E402
from fleet_test.virsh import need_virsh  # noqa: E402

NAME = "fleet on test"


def announced(env):
    """A router in env's namespaces, announced and found; then withdrawn."""
    router = Router(verbose=False, name="router-mdns", mdns_name=NAME, tls="0.0.0.0:0",
                    popen=lambda argv, extra, **kw: env.popen(argv, env=extra, **kw))
    try:
        router.start()
        wait_until(lambda: "mdns: published" in router.log_text(), 20, "the router's 'mdns: published' line")
        info = router.info
        found = env.wait_browse(lambda s: any(x["name"] == NAME for x in s))
        s = [x for x in found if x["name"] == NAME][0]
        print(f"  avahi-browse: {s}")
        check(s["port"] == info["tls_port"], f"announced port {s['port']} != TLS port {info['tls_port']}")
        txt = dict(t.split("=", 1) for t in s["txt"])
        check(txt.get("impl") == "fleet", f"TXT without impl=fleet: {s['txt']}")
        check(txt.get("version") == info["version"], f"TXT version {txt.get('version')} != {info['version']}")
        check(txt.get("path") == "/system", f"TXT path: {s['txt']}")
        check(txt.get("transport") == "tls", f"TXT transport: {s['txt']}")
        # What a client (fsh) does with it: connect where it points, with its
        # certificate (the test server certificate names localhost only).
        uri = f"qemu+tls://{s['address']}:{s['port']}{txt['path']}?pkipath={PKI}&no_verify=1"
        r = env.run(["virsh", "-c", uri, "hostname"], timeout=30)
        check(r.returncode == 0 and r.stdout.strip(), f"virsh -c {uri} hostname: {r.returncode} {r.stderr!r}")
        print(f"  virsh -c {uri} hostname: {r.stdout.strip()}")
        # Stopping the router withdraws the record.
        router.stop()
        env.wait_browse(lambda s: not any(x["name"] == NAME for x in s), timeout=10)
        print("  withdrawn after SIGTERM")
    finally:
        router.cleanup()


def main():
    need_router()
    need_virsh()
    try:
        with AvahiEnv() as env:
            announced(env)
        print("router mdns: ok")
        return 0
    except Unavailable as e:
        print(f"SKIP: {e}")
        return SKIP
    except Failure as e:
        print(f"FAIL: {e}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
