"""What a run says: the verdict lines (a p50 against its floor) and the table."""
from .suites import UNITS


def verdicts(suites, results):
    out = []
    for name, data in results["suites"].items():
        suite = suites[name]
        for mode, md in data.get("modes", {}).items():
            for c in suite.checks:
                if c.kind == "ratio":
                    pair = f"{c.path}/{suite.baseline}"
                    value = md["ratios"][pair][c.metric]["p50"]
                    shown = lambda v: f"{v:.3f}"
                    rel = ("<=", ">")
                    bound = f"{c.bound:.2f}" if c.bound >= 0.5 else f"{c.bound:.3f}"
                else:
                    pair = c.path
                    value = md["paths"][c.path][c.metric]["p50"]
                    shown = lambda v: f"{v:.1f} {UNITS[c.metric]}"
                    rel = (">=", "<") if c.kind == "min" else ("<=", ">")
                    bound = f"{c.bound:g} {UNITS[c.metric]}"
                ok = value is not None and c.judge(value)
                text = "no data" if value is None else (f"{shown(value)} {rel[0] if ok else rel[1]} {bound} "
                                                        f"{'OK' if ok else 'UNDER' if c.kind == 'min' else 'OVER'}")
                out.append({"suite": name, "mode": mode, "metric": c.metric, "pair": pair, "check": c.kind,
                            "bound": c.bound, "p50": value, "within_floor": ok,
                            "line": f"verdict {name:<10} {mode:<10} {c.metric:<15} {pair} p50 {text}"})
    return out


def print_table(results):
    fmt = lambda v, spec: "-" if v is None else format(v, spec)
    for name, data in results["suites"].items():
        if "skipped" in data:
            print(f"{name}: skipped: {data['skipped']}\n")
            continue
        for mode, md in data["modes"].items():
            names = list(md["paths"])
            width, runs = md["vms_at_once"], data["runs"]
            at_once = "one at a time" if width == 1 else f"{width} VMs at once"
            print(f"{name} {mode}: {data['note']}; {at_once}, {runs} rounds, {runs * width} samples per path "
                  f"and metric; times in ms, throughput in MB/s")
            # Each column as wide as its name needs, so that long names stay apart.
            pw = {nm: max(18, len(nm) + 6) for nm in names}
            rw = {r: max(30, len(r) + 6) for r in md["ratios"]}
            head = f"  {'metric':<16}" + "".join(f"{nm + ' p50':>{pw[nm]}}{'p90':>8}" for nm in names)
            print(head + "".join(f"{r + ' p50':>{rw[r]}}{'p90':>7}" for r in md["ratios"]))
            for m in data["metrics"]:
                row = f"  {m:<16}"
                for nm in names:
                    st = md["paths"][nm][m]
                    row += f"{fmt(st['p50'], '.1f'):>{pw[nm]}}{fmt(st['p90'], '.1f'):>8}"
                for r, rv in md["ratios"].items():
                    row += f"{fmt(rv[m]['p50'], '.3f'):>{rw[r]}}{fmt(rv[m]['p90'], '.3f'):>7}"
                print(row)
            print()
    for v in results["verdicts"]:
        print(v["line"])
    seen = {}                                   # identical errors print once, counted
    for e in results["errors"]:
        key = (e["suite"], e["mode"], e["error"])
        seen[key] = seen.get(key, 0) + 1
    for (suite, mode, error), count in seen.items():
        print(f"error ({suite} {mode}, {count}x): {error}")

