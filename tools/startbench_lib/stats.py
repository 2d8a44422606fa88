"""Statistics of the samples: p50/p90 per path and metric, and the ratios of
each path to the suite's baseline."""
from .suites import UNITS


def percentile(xs, q):
    s = sorted(xs)
    k = (len(s) - 1) * q
    i = int(k)
    return s[i] + (s[min(i + 1, len(s) - 1)] - s[i]) * (k - i)


def summarize(suite, samples, width):
    mode = {"vms_at_once": width, "paths": {}, "ratios": {}}
    scale = lambda m: 1e3 if UNITS[m] == "ms" else 1   # seconds -> ms
    for name, by_metric in samples.items():
        mode["paths"][name] = {m: {"n": len(xs), "unit": UNITS[m],
                                   "p50": round(percentile(xs, .5) * scale(m), 3) if xs else None,
                                   "p90": round(percentile(xs, .9) * scale(m), 3) if xs else None,
                                   "samples": [round(x * scale(m), 3) for x in xs]}
                               for m, xs in by_metric.items()}
    base = mode["paths"][suite.baseline]
    for name, stats in mode["paths"].items():
        if name == suite.baseline:
            continue
        mode["ratios"][f"{name}/{suite.baseline}"] = r = {}
        for m in suite.metrics:
            a, z = stats[m], base[m]
            r[m] = {k: (round(a[k] / z[k], 4) if a["n"] and z["n"] and z[k] else None) for k in ("p50", "p90")}
    return mode

