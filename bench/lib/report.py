#!/usr/bin/env python3
"""Turns compare.sh's run-*/results.tsv into markdown: medians across runs, ratios against the
reference proxy (median of the per-run ratios), each run's own table (run-K/table.md), and
appends the median ratios to a history file. Python 3 stdlib only.

results.tsv lines: TARGET <tab> KEY <tab> VALUE (a number, "fail", or free text for *_errors).
"""
import argparse
import datetime
import os
import statistics

# key, label, better ("lower" or "higher")
COST = [
    ("bulk1_cpu", "bulk 1 stream: CPU ms/GB", "lower"),
    ("bulk8_cpu", "bulk 8 streams: CPU ms/GB", "lower"),
    ("cc_cpu", "new connections: CPU µs/conn", "lower"),
    ("ka_cpu", "keep-alive: CPU µs/req", "lower"),
    ("mem", "idle: bytes/conn", "lower"),
]
SPEED = [
    ("bulk1_gbps", "bulk 1 stream: Gbit/s", "higher"),
    ("bulk8_gbps", "bulk 8 streams: Gbit/s", "higher"),
    ("cc_rps", "new connections: conn/s", "higher"),
    ("cc_p50", "new connections: p50 µs", "lower"),
    ("cc_p99", "new connections: p99 µs", "lower"),
    ("ka_rps", "keep-alive: req/s", "higher"),
    ("ka_p50", "keep-alive: p50 µs", "lower"),
    ("ka_p99", "keep-alive: p99 µs", "lower"),
]
FIGURES = COST + SPEED
WORKLOADS = [("bulk1", "bulk 1 stream"), ("bulk8", "bulk 8 streams"), ("cc", "new connections"),
             ("ka", "keep-alive")]


def load(path):
    res = {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                parts = line.rstrip("\n").split("\t")
                if len(parts) == 3:
                    res.setdefault(parts[0], {})[parts[1]] = parts[2]
    return res


def num(run, target, key):
    try:
        return float(run.get(target, {})[key])
    except (KeyError, ValueError):
        return None


def fmt(v):
    if v is None:
        return "-"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def ratio(run, target, ref, key):
    a, b = num(run, target, key), num(run, ref, key)
    return a / b if a is not None and b else None


def table(head, rows, keep=1):
    """markdown table; rows whose cells after the first `keep` are all "-" (not measured) are left out"""
    rows = [r for r in rows if any(c != "-" for c in r[keep:])]
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def spread(values):
    """median [min–max] of the non-missing values, with "(n of N)" when some runs failed"""
    got = [v for v in values if v is not None]
    if not got:
        return "-"
    s = fmt(statistics.median(got))
    if len(values) > 1:
        s += f" [{fmt(min(got))}–{fmt(max(got))}]"
    if len(got) < len(values):
        s += f" ({len(got)} of {len(values)} runs)"
    return s


def report(runs, targets, ref, title_suffix, h="###"):
    proxies = [t for t in targets if t != "direct"]
    others = [t for t in proxies if t != ref]
    n = len(runs)
    out = []
    med = lambda t, k: fmt(median([num(r, t, k) for r in runs]))  # noqa: E731

    def section(title, head, rows, keep=1):  # a table without measured rows is left out
        text = table(head, rows, keep)
        if text.count("\n") > 1:
            out.append(f"{chr(10) if out else ''}{h} {title}\n")
            out.append(text)

    section(f"CPU per unit of work and idle memory{title_suffix} (lower is better)",
            ["figure"] + proxies, [[lbl] + [med(t, k) for t in proxies] for k, lbl, _ in COST])
    section(f"Throughput and latency{title_suffix}",
            ["figure"] + targets, [[lbl] + [med(t, k) for t in targets] for k, lbl, _ in SPEED])
    if others:
        what = "median of the per-run ratios [min–max]" if n > 1 else "value / " + ref
        rows = []
        for k, lbl, better in FIGURES:
            cells = [spread([ratio(r, t, ref, k) for r in runs]) if n > 1
                     else fmt(ratio(runs[0], t, ref, k)) for t in others]
            rows.append([lbl, better] + cells)
        section(f"Ratio vs {ref} ({what}; below 1 is better where lower is better)",
                ["figure", "better"] + others, rows, keep=2)
    rows, crowded = [], []
    for w, lbl in WORKLOADS:
        cells = []
        for t in targets:
            pct = median([num(r, t, w + "_pct") for r in runs])
            cores = [r.get(t, {}).get(w + "_cores") for r in runs]
            cores = [c for c in cores if c]
            pairs = [c.split("/") for c in cores if c.count("/") == 1]
            core = "/".join(f"{median([float(p[i]) for p in pairs]):.0f}" for i in (0, 1)) if pairs else "-"
            cells.append(f"{pct:.0f} ({core})" if pct is not None else f"({core})" if cores else "-")
            if pct is not None and pairs and float(core.split("/")[0]) - pct > 20:
                crowded.append(f"{t} {lbl}")
        rows.append([lbl] + cells)
    section(f"Proxy process CPU % during each workload (proxy core busy % / load core busy %){title_suffix}",
            ["workload"] + targets, rows)
    if crowded:
        out.append("\nThe proxy's core was busy for more than 20 points above the proxy's own CPU time during: "
                   + ", ".join(crowded) + ". Either other processes ran on that core (then rates there "
                   "are low, while CPU per unit of work is less affected), or kernel work not charged to the "
                   "process (softirq network processing) was large.")
    errs = [f"run {i}: {t} {k}: {v}" for i, r in enumerate(runs, 1) for t in targets
            for k, v in sorted(r.get(t, {}).items()) if k.endswith("_errors") or v == "fail"]
    if errs:
        out.append("\nProblems:\n\n" + "\n".join(f"- {e}" for e in errs))
    return "\n".join(out)


def append_history(path, runs, targets, ref, commit, mode):
    others = [t for t in targets if t not in ("direct", ref)]
    rows = []
    date = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    for t in others:
        for k, _, _ in FIGURES:
            m = median([ratio(r, t, ref, k) for r in runs])
            if m is not None:
                rows.append([date, commit, t, ref, k, f"{m:.3f}", str(len(runs)), mode])
    if not rows:
        return 0
    new = not os.path.exists(path) or os.path.getsize(path) == 0
    with open(path, "a") as f:
        if new:
            f.write("date\tcommit\tproxy\treference\tfigure\tratio\truns\tmode\n")
        for row in rows:
            f.write("\t".join(row) + "\n")
    return len(rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", required=True)
    ap.add_argument("--runs", type=int, required=True)
    ap.add_argument("--targets", required=True)
    ap.add_argument("--reference", required=True)
    ap.add_argument("--commit", default="unknown")
    ap.add_argument("--mode", default="full")
    ap.add_argument("--history", default="none")
    a = ap.parse_args()
    targets = a.targets.split()
    runs = [load(f"{a.out}/run-{i}/results.tsv") for i in range(1, a.runs + 1)]

    env = open(f"{a.out}/env.txt").read().rstrip() if os.path.exists(f"{a.out}/env.txt") else ""
    per_run = []
    for i, run in enumerate(runs, 1):
        text = report([run], targets, a.reference, f", run {i} of {a.runs}", "####")
        per_run.append(text)
        with open(f"{a.out}/run-{i}/table.md", "w") as f:
            f.write(text + "\n")
    suffix = f", median of {a.runs} runs" if a.runs > 1 else ""
    print("```\n" + env + "\n```\n")
    print(report(runs, targets, a.reference, suffix))
    if a.runs > 1:
        print("\n<details><summary>Each run</summary>\n")
        for text in per_run:
            print(text + "\n")
        print("</details>")
    if a.history != "none":
        n = append_history(a.history, runs, targets, a.reference, a.commit, a.mode)
        print(f"\n({n} median ratios appended to {a.history})")


if __name__ == "__main__":
    main()
