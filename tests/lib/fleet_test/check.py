"""The verdicts a test gives: a Failure with a message, or a skip (exit 77)."""
import os
import sys
import time

SKIP = 77  # meson counts a test that exits 77 as skipped


class Failure(Exception):
    """What a test found wrong; the message says what."""


def check(cond, what):
    if not cond:
        raise Failure(what)


class Skipped(Exception):
    """One test of a file that this build cannot run (skip_test); the
    runner reports it as skipped, neither passed nor failed."""


def skip_test(reason):
    """Skip the one running test (the runner says `skip NAME: reason`); for
    a test file that cannot run at all, skip() (exit 77)."""
    raise Skipped(reason)


def skip(reason):
    """Exit 77: this machine cannot run the test. The reason says why."""
    print(f"SKIP: {reason}", flush=True)
    sys.exit(SKIP)


def sanitized():
    """Whether this is a sanitizer build's test run (FLEET_SANITIZED, set by
    meson: HACKING.md)."""
    return bool(os.environ.get("FLEET_SANITIZED"))


def check_memory(cond, what):
    """check() for a bound on a process's RSS. A sanitizer build's shadow
    memory, redzones and quarantine of freed memory grow every RSS by far
    more, so there it only says what it saw, and the test goes on."""
    if not sanitized():
        check(cond, what)
    elif not cond:
        print(f"  not checked in a sanitizer build: {what}", flush=True)


def wait_until(cond, timeout, what, interval=0.05):
    """cond()'s first true value, polled every interval; Failure after timeout.
    (For what has no event to wait on: a file another process writes, a
    state a daemon reports.)"""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise Failure(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)
