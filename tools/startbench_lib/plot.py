"""The distributions through gnuplot: one panel per suite, mode and metric."""
import json
import shutil
import subprocess
import sys

from .bench import last_line
from .suites import UNITS


def png_terminal():
    if not shutil.which("gnuplot"):
        sys.exit("startbench: --plot needs gnuplot, which is not installed (apt-get install gnuplot-nox)")
    for term in ("pngcairo", "png"):
        r = subprocess.run(["gnuplot", "-e", f"set terminal {term}"], capture_output=True)
        if r.returncode == 0:
            return term
    sys.exit("startbench: gnuplot has no PNG terminal (tried pngcairo and png)")


def plot(results, term, file, title):
    """One panel per suite, mode and metric: the empirical CDF of each path."""
    rows = [(name, mode, data["metrics"]) for name, data in results["suites"].items()
            for mode in data.get("modes", {})]
    cols = max((len(ms) for *_, ms in rows), default=1)
    lines, blocks = [], 0
    lines += [f"set terminal {term} size {500 * cols},{460 * max(len(rows), 1) + 60}"
              + (" font 'Sans,10'" if term == "pngcairo" else ""),
              f"set multiplot layout {max(len(rows), 1)},{cols} title {json.dumps(title, ensure_ascii=False)}",
              "set grid", "set ytics 0.1", "set key bottom right opaque", "set yrange [0:1]",
              "set ylabel 'fraction of samples <= value'"]
    for name, mode, metrics in rows:
        for m in metrics:
            plots = []
            for pname, stats in results["suites"][name]["modes"][mode]["paths"].items():
                xs = sorted(stats[m]["samples"])
                if not xs:
                    continue
                blocks += 1
                pts = [(xs[0], 0.0)] + [(x, (i + 1) / len(xs)) for i, x in enumerate(xs)]
                lines += [f"$d{blocks} << EOD", *(f"{x} {y}" for x, y in pts), "EOD"]
                plots.append(f"$d{blocks} using 1:2 with steps lw 2 "
                             f"title '{pname} (p50 {stats[m]['p50']:.1f} {UNITS[m]})'")
            lines.append(f"set title '{name}: {m} — {mode}'")
            lines.append(f"set xlabel '{'throughput (MB/s)' if UNITS[m] == 'MB/s' else 'time (ms)'}'")
            lines.append("plot " + ", ".join(plots) if plots else "plot NaN title 'no data'")
        lines += ["set multiplot next"] * (cols - len(metrics))
    lines.append("unset multiplot")
    r = subprocess.run(["gnuplot"], input="\n".join(lines + [""]).encode(), capture_output=True)
    if r.returncode != 0 or not r.stdout.startswith(b"\x89PNG"):
        sys.exit(f"startbench: gnuplot failed: {last_line(r.stderr.decode(errors='replace'))}")
    try:
        with open(file, "wb") as f:     # the PNG came on gnuplot's stdout
            f.write(r.stdout)
    except OSError as e:
        sys.exit(f"startbench: cannot write the plot: {e}")

