"""The mini test runner every Python test uses, and Tally for check scripts.

A test is a function of one fixture (a Fleet, a Router, ...), made fresh
for it and cleaned up after it. Attributes of a test function change how
it runs: test_name (reported name), manual_start (the runner does not call
fixture.start()), timeout (seconds before the watchdog reports it hung),
router_kwargs (passed on to the fixture factory). Output, one line per test:
`ok   NAME (1.23s)`, `FAIL NAME: Type: message` or `skip NAME: why` (check.skip_test),
then `N passed, M failed` (and `, K skipped` when some were).
"""
import os
import signal
import sys
import threading
import time
import traceback

from .check import Failure, Skipped


def variant(fn, name, *args):
    """fn bound to extra arguments, reported under its own name."""
    def t(fixture):
        return fn(fixture, *args)
    t.test_name = name
    for attr in ("manual_start", "timeout", "router_kwargs"):
        if hasattr(fn, attr):
            setattr(t, attr, getattr(fn, attr))
    return t


def name_of(test):
    return getattr(test, "test_name", test.__name__)


def _notes(fixture):
    notes = getattr(fixture, "failure_notes", None)
    return notes() if notes else ""


def _run_one(test, fixture, default_timeout):
    """Run one test on its fixture; True if it passed, None if it skipped."""
    name = name_of(test)
    start = time.monotonic()
    limit = getattr(test, "timeout", default_timeout)
    watchdog = None
    if limit:
        def hung():  # a test stuck in a C call: report, clean up, leave
            print(f"FAIL {name}: still running after {limit}s (hung)", flush=True)
            if _notes(fixture):
                print(_notes(fixture), flush=True)
            fixture.cleanup()
            os._exit(1)
        watchdog = threading.Timer(limit, hung)
        watchdog.daemon = True
        watchdog.start()
    try:
        if hasattr(fixture, "start") and not getattr(test, "manual_start", False):
            fixture.start()
        test(fixture)
        print(f"ok   {name} ({time.monotonic() - start:.2f}s)", flush=True)
        return True
    except SystemExit:
        raise
    except Skipped as e:
        print(f"skip {name}: {e}", flush=True)
        return None
    except Exception as e:  # a failure or an unexpected error
        print(f"FAIL {name}: {type(e).__name__}: {e}", flush=True)
        if not isinstance(e, Failure):
            traceback.print_exc()
        if _notes(fixture):
            print(_notes(fixture), flush=True)
        return False
    finally:
        if watchdog:
            watchdog.cancel()
        fixture.cleanup()


def run_tests(tests, fixture, timeout=None, only=None):
    """Run each test with a fresh fixture(test); the exit status (0 or 1).

    only: names to pick (a test runs if one of them is part of its name;
    none: all). timeout: the default per-test watchdog (None: none).
    """
    def on_term(signum, frame):  # meson's timeout: clean up on the way out
        raise SystemExit(f"killed by signal {signum}")
    signal.signal(signal.SIGTERM, on_term)
    if only:
        tests = [t for t in tests if any(o in name_of(t) for o in only)]
    results = [_run_one(t, fixture(t), timeout) for t in tests]
    failed, skipped = results.count(False), results.count(None)
    also = f", {skipped} skipped" if skipped else ""
    print(f"{len(tests) - failed - skipped} passed, {failed} failed{also}", flush=True)
    return 1 if failed else 0


def main(tests, fixture, timeout=None, hard_exit=False):
    """run_tests with the names given on the command line; exit with its
    status. hard_exit: os._exit, for a program whose libvirt event loop
    thread never returns."""
    rc = run_tests(tests, fixture, timeout=timeout, only=sys.argv[1:])
    sys.stdout.flush()
    if hard_exit:
        os._exit(rc)
    sys.exit(rc)


class Tally:
    """Checks that are not test functions (one line each, as they go):
    `ok   WHAT` or `FAIL WHAT: DETAIL`, then `N passed, M failed`."""

    def __init__(self):
        self.passed = self.failed = 0

    def report(self, ok, what, detail=""):
        if ok:
            self.passed += 1
            print(f"ok   {what}", flush=True)
        else:
            self.failed += 1
            print(f"FAIL {what}{': ' + detail if detail else ''}", flush=True)
        return ok

    def finish(self):
        """Print the count and exit: 1 if anything failed."""
        print(f"{self.passed} passed, {self.failed} failed", flush=True)
        sys.exit(1 if self.failed else 0)
