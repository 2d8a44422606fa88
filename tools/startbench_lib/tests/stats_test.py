#!/usr/bin/python3
"""startbench's arithmetic without a VM: percentiles, the summary and its
ratios, the ABBA order of rounds (warm-up rounds left out), and the verdict
lines against the floors."""
import os
import sys
import threading
import unittest

HERE = os.path.dirname(os.path.realpath(__file__))
sys.path[:0] = [os.path.join(HERE, "..", ".."), os.path.join(HERE, "..", "..", "..", "tests", "lib")]
sys.dont_write_bytecode = True

from startbench_lib import measure  # noqa: E402
from startbench_lib.paths import BenchPath  # noqa: E402
from startbench_lib.report import verdicts  # noqa: E402
from startbench_lib.stats import percentile, summarize  # noqa: E402
from startbench_lib.suites import Check, Suite, round_order  # noqa: E402


def path(name):
    return BenchPath(name, None, None, {"plain": 0}, "hello", {"plain": []})


def suite(checks=(), metrics=("start-to-ready", "start-to-exit"), runs=4, warmup=2):
    return Suite("hello", [path("fleet-vmm"), path("raw")], "raw", ("plain",), metrics, list(checks),
                 runs, warmup, 0, "image hello")


class Percentiles(unittest.TestCase):
    def test_linear_between_samples(self):
        xs = [float(x) for x in range(1, 11)]
        self.assertAlmostEqual(percentile(xs, .5), 5.5)
        self.assertAlmostEqual(percentile(xs, .9), 9.1)
        self.assertEqual(percentile(xs, 0), 1.0)
        self.assertEqual(percentile(xs, 1), 10.0)

    def test_order_of_samples_does_not_matter(self):
        self.assertAlmostEqual(percentile([3.0, 1.0, 2.0], .5), 2.0)
        self.assertAlmostEqual(percentile([9.0, 1.0], .9), 8.2)

    def test_one_sample(self):
        self.assertEqual(percentile([7.0], .5), 7.0)
        self.assertEqual(percentile([7.0], .9), 7.0)


class Summary(unittest.TestCase):
    def test_milliseconds_percentiles_and_ratios(self):
        samples = {"fleet-vmm": {"start-to-ready": [0.110, 0.120, 0.130], "start-to-exit": [0.2, 0.2, 0.2]},
                   "raw": {"start-to-ready": [0.100, 0.100, 0.100], "start-to-exit": [0.1, 0.3, 0.2]}}
        mode = summarize(suite(), samples, 1)
        self.assertEqual(mode["vms_at_once"], 1)
        st = mode["paths"]["fleet-vmm"]["start-to-ready"]
        self.assertEqual((st["n"], st["unit"], st["p50"], st["p90"]), (3, "ms", 120.0, 128.0))
        self.assertEqual(st["samples"], [110.0, 120.0, 130.0])
        self.assertEqual(list(mode["ratios"]), ["fleet-vmm/raw"])  # every path against the baseline
        r = mode["ratios"]["fleet-vmm/raw"]
        self.assertEqual(r["start-to-ready"], {"p50": 1.2, "p90": 1.28})
        self.assertEqual(r["start-to-exit"]["p50"], 1.0)
        self.assertAlmostEqual(r["start-to-exit"]["p90"], round(200 / 280, 4))

    def test_throughput_is_not_scaled(self):
        s = Suite("throughput", [path("runtime-cat"), path("host-cat")], "host-cat", ("plain",), ("throughput",),
                  [], 3, 1, 0)
        mode = summarize(s, {"runtime-cat": {"throughput": [30.0, 40.0, 50.0]},
                             "host-cat": {"throughput": [1000.0, 1000.0, 1000.0]}}, 1)
        self.assertEqual(mode["paths"]["runtime-cat"]["throughput"]["p50"], 40.0)
        self.assertEqual(mode["paths"]["runtime-cat"]["throughput"]["unit"], "MB/s")
        self.assertEqual(mode["ratios"]["runtime-cat/host-cat"]["throughput"]["p50"], 0.04)

    def test_no_samples_no_numbers(self):
        mode = summarize(suite(), {"fleet-vmm": {"start-to-ready": [], "start-to-exit": [0.1]},
                                   "raw": {"start-to-ready": [0.1], "start-to-exit": []}}, 1)
        self.assertIsNone(mode["paths"]["fleet-vmm"]["start-to-ready"]["p50"])
        self.assertEqual(mode["ratios"]["fleet-vmm/raw"]["start-to-ready"], {"p50": None, "p90": None})
        self.assertEqual(mode["ratios"]["fleet-vmm/raw"]["start-to-exit"], {"p50": None, "p90": None})


class Rounds(unittest.TestCase):
    def test_abba(self):
        self.assertEqual([round_order(["A", "B"], r) for r in range(4)],
                         [["A", "B"], ["B", "A"], ["A", "B"], ["B", "A"]])

    def test_run_mode_alternates_and_leaves_out_the_warmup(self):
        calls = []
        real_boot = measure.boot

        def fake_boot(b, p, kind):
            calls.append(p.name)
            n = len(calls)  # boots 1-4 are the two warm-up rounds
            return {"start-to-ready": n / 1000, "start-to-exit": 2 * n / 1000}, None
        measure.boot = fake_boot
        try:
            s = suite()
            results = {"suites": {"hello": {"modes": {}}}, "errors": []}
            measure.run_mode(None, s, "sequential", 1, measure.Progress(False, 0), results)
        finally:
            measure.boot = real_boot
        self.assertEqual(calls, ["fleet-vmm", "raw", "raw", "fleet-vmm"] * 3)
        md = results["suites"]["hello"]["modes"]["sequential"]
        self.assertEqual(md["paths"]["fleet-vmm"]["start-to-ready"]["samples"], [5.0, 8.0, 9.0, 12.0])
        self.assertEqual(md["paths"]["raw"]["start-to-ready"]["samples"], [6.0, 7.0, 10.0, 11.0])
        self.assertEqual(results["errors"], [])

    def test_parallel_boots_and_errors(self):
        lock = threading.Lock()
        seen = []

        def fake_boot(b, p, kind):
            with lock:
                seen.append(p.name)
                if p.name == "raw" and len(seen) == 12:
                    return None, "raw plain: exit status 2, expected 1: boom"
            return {"start-to-ready": 0.1, "start-to-exit": 0.2}, None
        real_boot = measure.boot
        measure.boot = fake_boot
        try:
            results = {"suites": {"hello": {"modes": {}}}, "errors": []}
            measure.run_mode(None, suite(runs=1, warmup=1), "parallel", 4, measure.Progress(False, 0), results)
        finally:
            measure.boot = real_boot
        self.assertEqual(len(seen), 16)  # 2 rounds x 2 paths x 4 at once
        md = results["suites"]["hello"]["modes"]["parallel"]
        self.assertEqual(md["vms_at_once"], 4)
        self.assertEqual(md["paths"]["fleet-vmm"]["start-to-ready"]["n"], 4)
        self.assertEqual(md["paths"]["raw"]["start-to-ready"]["n"], 3)  # the failed boot is no sample
        self.assertEqual([e["error"] for e in results["errors"]], ["raw plain: exit status 2, expected 1: boom"])


class Verdicts(unittest.TestCase):
    def run_verdicts(self, checks, ratio_p50, throughput_p50=None):
        s = suite(checks)
        md = {"vms_at_once": 1,
              "paths": {"fleet-vmm": {"throughput": {"p50": throughput_p50}}},
              "ratios": {"fleet-vmm/raw": {"start-to-ready": {"p50": ratio_p50}}}}
        return verdicts({"hello": s}, {"suites": {"hello": {"modes": {"sequential": md}}}})

    def test_ratio_within_and_over(self):
        (v,) = self.run_verdicts([Check("ratio", "start-to-ready", "fleet-vmm", 1.10)], 1.0456)
        self.assertTrue(v["within_floor"])
        self.assertEqual(v["line"], "verdict hello      sequential start-to-ready  fleet-vmm/raw p50 1.046 <= 1.10 OK")
        (v,) = self.run_verdicts([Check("ratio", "start-to-ready", "fleet-vmm", 1.10)], 1.2)
        self.assertFalse(v["within_floor"])
        self.assertTrue(v["line"].endswith("fleet-vmm/raw p50 1.200 > 1.10 OVER"), v["line"])

    def test_small_bounds_show_three_places(self):
        (v,) = self.run_verdicts([Check("ratio", "start-to-ready", "fleet-vmm", round(1 / 3, 3))], 0.25)
        self.assertTrue(v["line"].endswith("p50 0.250 <= 0.333 OK"), v["line"])

    def test_minimum(self):
        (v,) = self.run_verdicts([Check("min", "throughput", "fleet-vmm", 20.0)], None, throughput_p50=35.25)
        self.assertTrue(v["within_floor"])
        self.assertTrue(v["line"].endswith("fleet-vmm p50 35.2 MB/s >= 20 MB/s OK"), v["line"])
        (v,) = self.run_verdicts([Check("min", "throughput", "fleet-vmm", 20.0)], None, throughput_p50=12.0)
        self.assertTrue(v["line"].endswith("p50 12.0 MB/s < 20 MB/s UNDER"), v["line"])

    def test_no_data_misses_the_floor(self):
        (v,) = self.run_verdicts([Check("ratio", "start-to-ready", "fleet-vmm", 1.10)], None)
        self.assertFalse(v["within_floor"])
        self.assertTrue(v["line"].endswith("p50 no data"), v["line"])

    def test_judge(self):
        self.assertTrue(Check("ratio", "m", "p", 1.1).judge(1.1))
        self.assertFalse(Check("ratio", "m", "p", 1.1).judge(1.1001))
        self.assertTrue(Check("min", "m", "p", 20).judge(20))
        self.assertFalse(Check("min", "m", "p", 20).judge(19.99))


if __name__ == "__main__":
    unittest.main(verbosity=2)
