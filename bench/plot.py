#!/usr/bin/env python3
"""Plots bench history (compare.sh --history) as an SVG line chart: one line per figure, the
proxy's median ratio to the reference proxy (HAProxy) at each recorded run. Pure Python (stdlib),
the SVG is written by hand.

  bench/plot.py [HISTORY] [-o OUT.svg] [--proxy fproxy] [--figures "bulk1_cpu cc_cpu ..."]
                [--mode full|quick|all] [--linear] [--last N]

HISTORY defaults to bench/history.tsv; without -o the SVG goes to stdout. The default figures
are the CPU-per-unit-of-work ones and idle memory, where lower is better, so below the dashed
line at 1 the proxy is cheaper than the reference. The y axis is logarithmic (0.5 and 2 are as
far from 1) unless --linear.
"""
import argparse
import math
import os
import sys
from html import escape

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from report import FIGURES  # noqa: E402

LABELS = {k: lbl for k, lbl, _ in FIGURES}
BETTER = {k: b for k, _, b in FIGURES}
DEFAULT_FIGURES = ["bulk1_cpu", "bulk8_cpu", "cc_cpu", "ka_cpu", "mem"]
COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#7f7f7f",
          "#bcbd22", "#17becf", "#393b79", "#637939", "#843c39"]


def read_history(path, proxy, mode):
    """-> (points: list of (date, commit)), {figure: {point index: ratio}}, reference"""
    points, index, series, ref = [], {}, {}, None
    with open(path) as f:
        header = f.readline().rstrip("\n").split("\t")
        col = {name: i for i, name in enumerate(header)}
        for need in ("date", "commit", "proxy", "figure", "ratio"):
            if need not in col:
                sys.exit(f"{path}: no '{need}' column")
        for line in f:
            row = line.rstrip("\n").split("\t")
            if len(row) != len(header) or row[col["proxy"]] != proxy:
                continue
            if mode != "all" and "mode" in col and row[col["mode"]] != mode:
                continue
            try:
                value = float(row[col["ratio"]])
            except ValueError:
                continue
            key = (row[col["date"]], row[col["commit"]])
            if key not in index:
                index[key] = len(points)
                points.append(key)
            series.setdefault(row[col["figure"]], {})[index[key]] = value
            if "reference" in col:
                ref = row[col["reference"]]
    return points, series, ref


def nice_ticks(lo, hi, log):
    if log:
        a, b = math.floor(math.log2(lo)), math.ceil(math.log2(hi))
        return [2.0 ** e for e in range(a, b + 1)]
    span = hi - lo
    step = 10 ** math.floor(math.log10(span / 4)) if span > 0 else 0.1
    for m in (1, 2, 5, 10):
        if span / (step * m) <= 6:
            step *= m
            break
    start = math.floor(lo / step) * step
    return [start + i * step for i in range(int((hi - start) / step) + 2) if start + i * step <= hi + 1e-9]


def tick_label(v):
    return f"{v:g}" if v >= 0.1 else f"{v:.2g}"


def plot(points, series, figures, proxy, ref, log):
    W, H = 1000, 440
    left, right, top, bottom = 60, 340, 52, 60
    pw, ph = W - left - right, H - top - bottom
    values = [v for f in figures for v in series.get(f, {}).values()] + [1.0]
    lo, hi = min(values), max(values)
    if log:
        lo, hi = 2.0 ** math.floor(math.log2(lo)), 2.0 ** math.ceil(math.log2(hi))
        if lo == hi:
            lo, hi = lo / 2, hi * 2
        fy = lambda v: top + ph * (math.log2(hi) - math.log2(v)) / (math.log2(hi) - math.log2(lo))  # noqa: E731
    else:
        lo, hi = min(0.0, lo), hi * 1.1
        fy = lambda v: top + ph * (hi - v) / (hi - lo)  # noqa: E731
    n = len(points)
    fx = (lambda i: left + pw * i / (n - 1)) if n > 1 else (lambda i: left + pw / 2)  # noqa: E731

    o = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
         'font-family="sans-serif" font-size="12">',
         f'<rect width="{W}" height="{H}" fill="white"/>',
         f'<text x="{left}" y="24" font-size="15" font-weight="bold">'
         f'{escape(proxy)} / {escape(ref or "reference")}: median ratio per benchmark run</text>',
         f'<text x="{left}" y="40" fill="#555">below the dashed line (1 = same as {escape(ref or "the reference")}) '
         f'{escape(proxy)} needs less CPU per unit of work or memory{"; log scale" if log else ""}; '
         'legend: last value</text>']
    # grid and y axis
    for t in nice_ticks(lo, hi, log):
        if lo - 1e-12 <= t <= hi + 1e-12:
            y = fy(t)
            o.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" stroke="#e4e4e4"/>')
            o.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#333">{tick_label(t)}</text>')
    o.append(f'<line x1="{left}" y1="{fy(1.0):.1f}" x2="{left + pw}" y2="{fy(1.0):.1f}" '
             'stroke="#333" stroke-dasharray="5,4"/>')
    o.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#999"/>')
    # x labels, date over commit: as many as fit 80 px apart, counted back from the last run
    step = max(1, math.ceil(n / max(1, pw // 80)))
    for i, (date, commit) in enumerate(points):
        if (n - 1 - i) % step:
            continue
        x = fx(i)
        o.append(f'<line x1="{x:.1f}" y1="{top + ph}" x2="{x:.1f}" y2="{top + ph + 4}" stroke="#999"/>')
        o.append(f'<text x="{x:.1f}" y="{top + ph + 18}" text-anchor="middle" fill="#333">{escape(date[:10])}</text>')
        o.append(f'<text x="{x:.1f}" y="{top + ph + 32}" text-anchor="middle" fill="#777" font-size="11">'
                 f'{escape(commit[:14])}</text>')
    # lines, points, legend
    shown = 0
    for j, fig in enumerate(figures):
        pts = sorted(series.get(fig, {}).items())
        if not pts:
            continue
        color = COLORS[j % len(COLORS)]
        label = LABELS.get(fig, fig)
        if len(pts) > 1:
            path = " ".join(f"{'M' if k == 0 else 'L'}{fx(i):.1f},{fy(v):.1f}" for k, (i, v) in enumerate(pts))
            o.append(f'<path d="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
        for i, v in pts:
            date, commit = points[i]
            o.append(f'<circle cx="{fx(i):.1f}" cy="{fy(v):.1f}" r="3.5" fill="{color}">'
                     f'<title>{escape(label)}: {v:.3f} ({escape(date)}, {escape(commit)})</title></circle>')
        ly = top + 10 + 20 * shown
        shown += 1
        last = pts[-1][1]
        o.append(f'<line x1="{left + pw + 16}" y1="{ly}" x2="{left + pw + 40}" y2="{ly}" stroke="{color}" stroke-width="2"/>')
        hint = " (higher is better)" if BETTER.get(fig) == "higher" else ""
        o.append(f'<text x="{left + pw + 46}" y="{ly + 4}" font-size="11">{escape(label)}: {last:.2f}{hint}</text>')
    o.append("</svg>")
    return "\n".join(o) + "\n"


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("history", nargs="?", default=os.path.join(here, "history.tsv"))
    ap.add_argument("-o", "--output", help="SVG file to write (default: stdout)")
    ap.add_argument("--proxy", default="fproxy")
    ap.add_argument("--figures", default=" ".join(DEFAULT_FIGURES),
                    help='space-separated keys, or "all" (keys: ' + " ".join(LABELS) + ")")
    ap.add_argument("--mode", default="full", choices=["full", "quick", "all"],
                    help="which runs: full ones (default), --quick ones, or all")
    ap.add_argument("--linear", action="store_true", help="linear y axis instead of log2")
    ap.add_argument("--last", type=int, default=0, help="only the last N runs")
    a = ap.parse_args()
    if not os.path.exists(a.history):
        sys.exit(f"no history file {a.history}: compare.sh writes it (see bench/README.md)")
    points, series, ref = read_history(a.history, a.proxy, a.mode)
    if not points:
        sys.exit(f"{a.history}: no {a.mode if a.mode != 'all' else ''} rows for proxy {a.proxy}")
    if a.last > 0 and len(points) > a.last:
        cut = len(points) - a.last
        points = points[cut:]
        series = {f: {i - cut: v for i, v in s.items() if i >= cut} for f, s in series.items()}
    figures = list(LABELS) if a.figures == "all" else a.figures.split()
    svg = plot(points, series, figures, a.proxy, ref, not a.linear)
    if a.output:
        with open(a.output, "w") as f:
            f.write(svg)
    else:
        sys.stdout.write(svg)


if __name__ == "__main__":
    main()
