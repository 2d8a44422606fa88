"""libfleet-router-mdns against a real avahi-daemon, seen by the real
avahi-browse: router/mdns's mdns-publish (the publisher exactly as
fleet-router runs it) in a private network namespace with its own D-Bus
system bus and avahi-daemon (fleet_test/avahi.py).

  publish     the record resolves: name, port, TXT (and TXT order on the wire)
  collision   a second publisher of the same name is renamed; both visible
  withdraw    after SIGTERM the record leaves avahi-browse
  no-daemon   no bus at all: exactly one warning, and it keeps running
  late        dbus + avahi started after the publisher: it publishes
  restart     avahi-daemon restarted under a publisher: it publishes again
  bus-restart the same with the D-Bus system bus restarted too

Environment (meson sets it): FLEET_MDNS_PUBLISH (default
build/router/mdns/mdns-publish). Exit 77 = skipped, with the reason.
Run by hand: /usr/bin/python3 tests/integration/mdns_test.py [SECTION...]
"""
import os
import signal
import subprocess
import sys
import time
import traceback

sys.path.append(os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "lib"))  # run by hand: HACKING.md
from fleet_test.avahi import AvahiEnv, Unavailable  # noqa: E402
from fleet_test.check import check  # noqa: E402
from fleet_test.paths import MDNS_PUBLISH as PUBLISH  # noqa: E402

NAME = "fleet on mdns-test"
TXT = ["impl=fleet", "version=0.1.0", "path=/system", "transport=tcp"]
PUBLISHED = f"mdns: published '{NAME}' _libvirt._tcp port 16509"


def publisher(env, name=NAME, port=16509, txt=TXT, bus=None):
    """mdns-publish in env's namespace; bus overrides the system bus address."""
    extra = {"DBUS_SYSTEM_BUS_ADDRESS": bus} if bus else None
    return env.popen([PUBLISH, "-p", str(port), name, *txt], env=extra, stdout=subprocess.PIPE)


def named(services, name):
    return [s for s in services if s["name"] == name]


def lines_after(env, p, seconds):
    """p's stdout lines after seconds more of running."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        env.lines(p, wait=deadline - time.monotonic())
    return env.lines(p)


# --- sections -------------------------------------------------------------------


def test_publish(env):
    p = publisher(env)
    t = time.monotonic()
    env.wait_line(p, PUBLISHED)
    print(f"  published {time.monotonic() - t:.2f}s after start")
    found = named(env.wait_browse(lambda s: named(s, NAME)), NAME)
    check(len(found) == 1, f"one '{NAME}' expected: {found}")
    s = found[0]
    check(s["type"] == "_libvirt._tcp" and s["domain"] == "local", f"type/domain: {s}")
    check(s["port"] == 16509, f"port: {s}")
    check(s["host"] == "fleet-test.local" and s["address"] == "127.0.0.1", f"host/address: {s}")
    check(sorted(s["txt"]) == sorted(TXT), f"TXT: {s['txt']} != {TXT}")
    wire = env.txt_on_wire(NAME)
    check(wire == TXT, f"TXT on the wire, in order: {wire} != {TXT}")
    print(f"  avahi-browse: {s}")
    print(f"  on the wire: {wire}")
    return p


def test_collision(env, first):
    second = publisher(env, txt=["impl=fleet", "second=yes"])
    renamed = f"{NAME} #2"
    env.wait_line(second, f"mdns: name '{NAME}' is taken; publishing as '{renamed}'")
    env.wait_line(second, f"mdns: published '{renamed}' _libvirt._tcp port 16509")
    found = env.wait_browse(lambda s: named(s, NAME) and named(s, renamed))
    check(sorted(named(found, renamed)[0]["txt"]) == ["impl=fleet", "second=yes"], f"second's TXT: {found}")
    check(first.poll() is None and len(env.lines(first)) == 1, f"first publisher untouched: {env.lines(first)}")
    print(f"  both visible: {sorted(s['name'] for s in found)}")
    return second


def test_withdraw(env, first, second):
    t = time.monotonic()
    check(env.stop(first) == 0, f"mdns-publish exit status {first.returncode}")
    check(env.lines(first)[-1] == "mdns-publish: withdrawn", f"last line: {env.lines(first)}")
    found = env.wait_browse(lambda s: not named(s, NAME) and named(s, f"{NAME} #2"))
    print(f"  gone from avahi-browse {time.monotonic() - t:.2f}s after SIGTERM; left: {[s['name'] for s in found]}")
    check(env.stop(second) == 0, "second mdns-publish exit status")
    env.wait_browse(lambda s: not s)


def test_no_daemon(env):
    nowhere = "unix:path=" + env.path("no-such-bus")
    p = publisher(env, bus=nowhere)
    lines = lines_after(env, p, 3.5)  # past the retries at 1 s and 3 s
    check(len(lines) == 1, f"exactly one line expected: {lines}")
    check(lines[0].startswith("mdns: no avahi-daemon (") and lines[0].endswith("); serving without mDNS"),
          f"the warning: {lines[0]!r}")
    check(p.poll() is None, "mdns-publish must keep running")
    print(f"  {lines[0]}")
    check(env.stop(p) == 0, f"exit status after SIGTERM: {p.returncode}")


def test_late(env):
    # Nothing at all yet: the publisher retries on its own timer.
    p = publisher(env)
    env.wait_line(p, "mdns: no avahi-daemon (")
    time.sleep(0.5)
    t = time.monotonic()
    env.start_dbus()
    env.start_avahi()
    up = time.monotonic()
    env.wait_line(p, PUBLISHED, timeout=30)
    print(f"  bus and daemon up in {up - t:.2f}s; published {time.monotonic() - up:.2f}s later (retry timer)")
    env.wait_browse(lambda s: named(s, NAME))
    check(len(env.lines(p)) == 2, f"one warning, one published line: {env.lines(p)}")
    check(env.stop(p) == 0, "exit status")
    env.wait_browse(lambda s: not s)

    # A bus but no daemon: avahi-client waits for the daemon's name.
    env.stop_avahi()
    p = publisher(env)
    env.wait_line(p, "mdns: no avahi-daemon (Daemon not running)")
    time.sleep(0.5)
    t = time.monotonic()
    env.start_avahi()
    up = time.monotonic()
    env.wait_line(p, PUBLISHED, timeout=30)
    print(f"  daemon up in {up - t:.2f}s; published {time.monotonic() - up:.2f}s later (D-Bus name owner signal)")
    env.wait_browse(lambda s: named(s, NAME))
    return p


def test_restart(env, p):
    before = len(env.lines(p))
    env.stop_avahi()
    env.wait_line(p, "mdns: lost avahi-daemon (", after=before)
    published_again(env, p, before, "daemon", [env.start_avahi])
    check(p.poll() is None, "mdns-publish must keep running")


def test_bus_restart(env, p):
    # The bus itself goes too: the new client cannot even connect, and
    # retries on the publisher's timer until the bus is back.
    before = len(env.lines(p))
    env.stop_avahi()
    env.stop_dbus()
    env.wait_line(p, "mdns: lost avahi-daemon (", after=before)
    time.sleep(1.5)
    published_again(env, p, before, "bus and daemon", [env.start_dbus, env.start_avahi])
    check(env.stop(p) == 0, "exit status")


def published_again(env, p, before, what, starts):
    """Start what was stopped (starts, in order); p publishes again, and says
    nothing but one 'lost' and one 'published' line after line `before`."""
    t = time.monotonic()
    for start in starts:
        start()
    up = time.monotonic()
    env.wait_line(p, PUBLISHED, after=before, timeout=30)
    print(f"  {what} restarted in {up - t:.2f}s; published again {time.monotonic() - up:.2f}s later")
    env.wait_browse(lambda s: named(s, NAME))
    new = env.lines(p)[before:]
    print("  " + "\n  ".join(new))
    check(len(new) == 2, f"one 'lost', one 'published': {new}")


# --- driver ---------------------------------------------------------------------------


def main():
    if not os.access(PUBLISH, os.X_OK):
        print(f"SKIP: no mdns-publish at {PUBLISH} (meson compile -C build mdns-publish)")
        return 77
    wanted = set(sys.argv[1:]) or {"publish", "collision", "withdraw", "no-daemon", "late", "restart", "bus-restart"}
    try:
        with AvahiEnv() as env:
            if wanted & {"publish", "collision", "withdraw"}:
                print("publish:")
                first = test_publish(env)
                print("collision:")
                second = test_collision(env, first)
                print("withdraw:")
                test_withdraw(env, first, second)
            if "no-daemon" in wanted:
                print("no-daemon:")
                test_no_daemon(env)
        if wanted & {"late", "restart", "bus-restart"}:
            with AvahiEnv(daemons=False) as env:
                print("late:")
                p = test_late(env)
                print("restart:")
                test_restart(env, p)
                print("bus-restart:")
                test_bus_restart(env, p)
    except Unavailable as e:
        print(f"SKIP: {e}")
        return 77
    except Exception:
        traceback.print_exc()
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # unwind: the with blocks stop everything
    sys.exit(main())
