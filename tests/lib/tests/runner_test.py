#!/usr/bin/python3
"""fleet_test.runner's verdicts: a test passes, fails or skips itself
(check.skip_test), and the summary counts each; check_memory checks a bound
on RSS except in a sanitizer build (FLEET_SANITIZED), where it only says so."""
import contextlib
import io
import os
import sys
import unittest

sys.path.append(os.path.join(os.path.dirname(os.path.realpath(__file__)), ".."))
sys.dont_write_bytecode = True
from fleet_test.check import Failure, check, check_memory, skip_test  # noqa: E402
from fleet_test.runner import run_tests  # noqa: E402


class Fixture:
    def __init__(self):
        self.cleaned = False

    def cleanup(self):
        self.cleaned = True


def test_passes(f):
    check(True, "never")


def test_fails(f):
    check(False, "the reason")


def test_skips(f):
    skip_test("this build cannot")


class RunnerTest(unittest.TestCase):
    def run_quietly(self, tests):
        fixtures = []

        def make(t):
            fixtures.append(Fixture())
            return fixtures[-1]
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            rc = run_tests(tests, make)
        self.assertTrue(all(f.cleaned for f in fixtures))
        return rc, out.getvalue().splitlines()

    def test_a_skip_is_neither_passed_nor_failed(self):
        rc, lines = self.run_quietly([test_passes, test_skips])
        self.assertEqual(rc, 0)
        self.assertIn("skip test_skips: this build cannot", lines)
        self.assertEqual(lines[-1], "1 passed, 0 failed, 1 skipped")

    def test_a_failure_still_fails_beside_a_skip(self):
        rc, lines = self.run_quietly([test_skips, test_fails])
        self.assertEqual(rc, 1)
        self.assertIn("FAIL test_fails: Failure: the reason", lines)
        self.assertEqual(lines[-1], "0 passed, 1 failed, 1 skipped")

    def test_no_skip_keeps_the_old_summary(self):
        rc, lines = self.run_quietly([test_passes])
        self.assertEqual((rc, lines[-1]), (0, "1 passed, 0 failed"))

    def test_check_memory(self):
        saved = os.environ.pop("FLEET_SANITIZED", None)
        try:
            with self.assertRaises(Failure):
                check_memory(False, "RSS grew")
            check_memory(True, "RSS grew")
            os.environ["FLEET_SANITIZED"] = "address"
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                check_memory(False, "RSS grew")
            self.assertIn("not checked in a sanitizer build: RSS grew", out.getvalue())
        finally:
            os.environ.pop("FLEET_SANITIZED", None)
            if saved is not None:
                os.environ["FLEET_SANITIZED"] = saved


if __name__ == "__main__":
    unittest.main()
