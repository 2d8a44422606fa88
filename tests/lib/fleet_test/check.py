"""The verdicts a test gives: a Failure with a message, or a skip (exit 77)."""
import sys
import time

SKIP = 77  # meson counts a test that exits 77 as skipped


class Failure(Exception):
    """What a test found wrong; the message says what."""


def check(cond, what):
    if not cond:
        raise Failure(what)


def skip(reason):
    """Exit 77: this machine cannot run the test. The reason says why."""
    print(f"SKIP: {reason}", flush=True)
    sys.exit(SKIP)


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
