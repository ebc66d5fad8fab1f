#!/usr/bin/env python3
"""Samples and verdict for bench/soak.sh (Python 3 stdlib only).

  sample DIR PID ADMIN_URL START [HEAP_REPORT]
        append one row to DIR/soak.csv (the header first): FProxy's RSS, threads and descriptors
        from /proc/PID, its GC heap from HEAP_REPORT (the output of `dotnet-gcdump report`; the
        column stays empty without one), connections and failures from ADMIN_URL/metrics, the config version from
        ADMIN_URL/apps, the clients' counts from DIR/status.json, and the clients' failures of
        DIR/failures.tsv sorted into planned and unplanned by the outages of DIR/outages.tsv and
        DIR/outage.now. START is the epoch time of minute 0.
  verdict DIR WARMUP_MINUTES
        markdown summary of DIR/soak.csv (the table, the trends, the failures) on stdout and in
        DIR/summary.md; exit status 1 when something grew or a failure was unplanned.

Planned and unplanned. A failure a client saw is planned when it happened while a backend was down
(from OUTAGE_LEAD s before the kill to GRACE s after the restart) and is of a kind an outage causes
(the connection reset or closed early, a timeout). A refused or timed-out connect to the proxy, or
an echo that differs from what was sent, is never planned: the proxy's ports stay open whatever
the backends do, and it must never corrupt a byte. Failures the proxy counts
(fproxy_connections_failed_total) are planned when the minute they fall in overlaps an outage.

Growth. After the warm-up, a least-squares line is fitted to each series over time and its slope
projected to one hour; when that stretch is at least MIN_JUDGED minutes long, the run fails if the
projection exceeds the series' allowance (TREND below): for
memory, a share of the series' mean or a floor in MiB, whichever is larger (allocator and GC
noise is a MiB or two either way); for descriptors and threads, a small absolute slack (one leaked
descriptor a minute already shows as 60 an hour).
"""
import csv
import json
import math
import os
import re
import sys
import time
import urllib.request

OUTAGE_LEAD = 1.0   # s: clocks of the script and the clients are the same, this only covers rounding
GRACE = 10.0        # s after a backend is back: connections it reset may still be noticed
MIN_JUDGED = 10.0   # minutes: growth is judged only over at least this long a stretch after the warm-up
PLANNED_KINDS = {"reset", "eof", "timeout", "error"}

# series: (CSV column, label, relative allowance per hour of the mean, absolute floor per hour)
TREND = [
    ("rss_mib", "RSS (MiB)", 0.10, 8.0),
    ("gc_heap_mib", "GC heap (MiB)", 0.10, 4.0),
    ("fds", "descriptors", 0.0, 20.0),
    ("threads", "threads", 0.0, 10.0),
]

COLUMNS = ["minute", "epoch", "time", "rss_mib", "gc_heap_mib", "fds", "threads", "active", "accepted", "conn_per_s",
           "short_ok", "rt_ok", "bulk_mib", "client_failed", "planned", "unplanned",
           "proxy_failed", "proxy_unplanned", "proxy_reasons", "rewrites", "applied", "outage"]


# ---------------------------------------------------------------- reading

def proc_status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "Threads"):
                out[key] = int(value.split()[0])
    return out["VmRSS"], out["Threads"]


def fetch(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.read().decode()


METRIC = re.compile(r'^([a-z_]+)\{([^}]*)\} (\S+)$')


def metrics(text):
    """Sums of the few series the soak reads: {name: total} and failures by reason."""
    sums, reasons = {}, {}
    for line in text.splitlines():
        m = METRIC.match(line)
        if not m:
            continue
        name, labels, value = m.group(1), m.group(2), float(m.group(3))
        sums[name] = sums.get(name, 0) + value
        if name == "fproxy_connections_failed_total":
            r = re.search(r'reason="([^"]+)"', labels)
            if r:
                reasons[r.group(1)] = reasons.get(r.group(1), 0) + value
    return sums, reasons


def gc_heap_mib(path):
    """The heap of a `dotnet-gcdump report`: its first line reads "   3,154,730  GC Heap bytes"."""
    try:
        with open(path) as f:
            for line in f:
                if line.strip().endswith("GC Heap bytes"):
                    return f"{int(line.split()[0].replace(',', '')) / 2**20:.2f}"
    except (OSError, ValueError):
        pass
    return ""


def outages(d):
    """[(start, end, backend)]; end is +inf for the outage going on now."""
    out = []
    for name, ongoing in (("outages.tsv", False), ("outage.now", True)):
        try:
            with open(os.path.join(d, name)) as f:
                for line in f:
                    p = line.split()
                    if len(p) >= 2:
                        out.append((float(p[1]), math.inf if ongoing else float(p[2]), p[0]))
        except OSError:
            pass
    return out


def planned_window(t0, t1, windows):
    """Does [t0, t1] meet an outage, widened by its lead and grace?"""
    return any(t0 <= end + GRACE and t1 >= start - OUTAGE_LEAD for start, end, _ in windows)


def failures(d, windows):
    """[(time, client, kind, detail, planned)] from DIR/failures.tsv."""
    out = []
    try:
        with open(os.path.join(d, "failures.tsv")) as f:
            for line in f:
                p = line.rstrip("\n").split("\t")
                if len(p) < 4:
                    continue
                t = float(p[0])
                out.append((t, p[1], p[2], p[3], p[2] in PLANNED_KINDS and planned_window(t, t, windows)))
    except OSError:
        pass
    return out


def read_rows(path):
    try:
        with open(path, newline="") as f:
            return list(csv.DictReader(f))
    except OSError:
        return []


# ---------------------------------------------------------------- sample

def sample(d, pid, admin, start, heap_report=None):
    path = os.path.join(d, "soak.csv")
    rows = read_rows(path)
    prev = rows[-1] if rows else None
    now = time.time()
    rss_kb, threads = proc_status(pid)
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    sums, reasons = metrics(fetch(admin + "/metrics"))
    version = json.loads(fetch(admin + "/apps"))["version"]
    try:
        with open(os.path.join(d, "status.json")) as f:
            load = json.load(f)
    except (OSError, ValueError):
        load = {}
    windows = outages(d)
    failed = failures(d, windows)
    planned = sum(1 for f in failed if f[4])
    try:
        with open(os.path.join(d, "rewrites.tsv")) as f:
            rewrites = sum(1 for _ in f)
    except OSError:
        rewrites = 0

    accepted = int(sums.get("fproxy_connections_accepted_total", 0))
    proxy_failed = int(sums.get("fproxy_connections_failed_total", 0))
    # the proxy's failures since the previous sample (the first: since the start, warm-up included)
    t_prev, failed_before, proxy_unplanned, conn_per_s = 0.0, 0, 0, ""
    if prev:
        t_prev, failed_before, proxy_unplanned = float(prev["epoch"]), int(prev["proxy_failed"]), int(prev["proxy_unplanned"])
        conn_per_s = f"{(accepted - int(prev['accepted'])) / max(1e-3, now - t_prev):.1f}"
    if not planned_window(t_prev, now, windows):
        proxy_unplanned += proxy_failed - failed_before
    ongoing = [w[2] for w in windows if w[1] == math.inf]
    row = {
        "minute": f"{(now - start) / 60:.2f}",
        "epoch": f"{now:.3f}",
        "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(now)),
        "rss_mib": f"{rss_kb / 1024:.1f}",
        "gc_heap_mib": gc_heap_mib(heap_report) if heap_report else "",
        "fds": fds,
        "threads": threads,
        "active": int(sums.get("fproxy_connections_active", 0)),
        "accepted": accepted,
        "conn_per_s": conn_per_s,
        "short_ok": load.get("short_ok", 0),
        "rt_ok": load.get("rt_ok", 0),
        "bulk_mib": load.get("bulk_bytes", 0) >> 20,
        "client_failed": len(failed),
        "planned": planned,
        "unplanned": len(failed) - planned,
        "proxy_failed": proxy_failed,
        "proxy_unplanned": proxy_unplanned,
        "proxy_reasons": " ".join(f"{k}:{int(v)}" for k, v in sorted(reasons.items())),
        "rewrites": rewrites,
        "applied": version - 1,
        "outage": " ".join(ongoing),
    }
    new = not rows
    with open(path, "a", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        if new:
            w.writeheader()
        w.writerow(row)
    print(f"minute {row['minute']}: RSS {row['rss_mib']} MiB, GC heap {row['gc_heap_mib'] or '-'} MiB, "
          f"{fds} fds, {threads} threads, {row['active']} open, {conn_per_s or '-'} conn/s, "
          f"failed {planned} planned / {row['unplanned']} unplanned (proxy: {proxy_failed}, "
          f"{proxy_unplanned} unplanned), config {row['applied']}/{rewrites} applied"
          + (f", {' '.join(ongoing)} down" if ongoing else ""))


# ---------------------------------------------------------------- verdict

def fit(xs, ys):
    """Least-squares slope of ys over xs."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx if sxx else 0.0


def verdict(d, warmup):
    rows = read_rows(os.path.join(d, "soak.csv"))
    if len(rows) < 2:
        print("fewer than two samples: nothing to judge")
        return 1
    windows = outages(d)
    failed = failures(d, windows)
    problems, out = [], []
    put = out.append

    put("| minute | RSS MiB | GC heap MiB | descriptors | threads | open | conn/s | client failures planned / unplanned | proxy failures (unplanned) | config rewrites applied | down |")
    put("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for r in rows:
        put(f"| {float(r['minute']):.1f} | {r['rss_mib']} | {r['gc_heap_mib'] or '-'} | {r['fds']} | {r['threads']} | "
            f"{r['active']} | {r['conn_per_s'] or '-'} | {r['planned']} / {r['unplanned']} | "
            f"{r['proxy_failed']} ({r['proxy_unplanned']}) | {r['applied']}/{r['rewrites']} | {r['outage']} |")
    first, last = rows[0], rows[-1]
    put("")
    put(f"RSS {first['rss_mib']} MiB at the start, {last['rss_mib']} MiB at the end; GC heap "
        f"{first['gc_heap_mib'] or '-'} -> {last['gc_heap_mib'] or '-'} MiB; descriptors {first['fds']} -> {last['fds']}; "
        f"threads {first['threads']} -> {last['threads']}.")
    served = int(last["accepted"])
    put(f"Served {served} connections through the proxy ({int(last['short_ok'])} short ones and "
        f"{int(last['rt_ok'])} keep-alive round trips by the clients, {last['bulk_mib']} MiB of bulk echoed and checked); "
        f"{len(windows)} planned outage(s) of a backend; {last['applied']} of {last['rewrites']} config rewrites applied.")

    # growth
    t_end = float(last["minute"])
    kept = [r for r in rows if float(r["minute"]) >= warmup - 1e-6]
    put("")
    # measured from the nominal warm-up, not the first sample after it, which comes a few seconds late
    judged = len(kept) >= 4 and t_end - warmup >= MIN_JUDGED - 0.05
    if len(kept) < 4:
        put(f"Trend: only {len(kept)} sample(s) after the {warmup:g}-minute warm-up: too few to fit a line.")
    else:
        put(f"Trend over minutes {float(kept[0]['minute']):.1f} to {t_end:.1f} (least squares, projected to one hour)"
            + (":" if judged else f"; shown, not judged: a line through less than {MIN_JUDGED:g} minutes says "
               "little about an hour."))
        put("")
        put("| series | mean | growth per hour | allowed | |")
        put("| --- | ---: | ---: | ---: | --- |")
        for col, label, rel, floor in TREND:
            pts = [(float(r["minute"]) / 60, float(r[col])) for r in kept if r[col] != ""]
            if len(pts) < 4:
                put(f"| {label} | - | - | - | not measured |")
                continue
            mean = sum(y for _, y in pts) / len(pts)
            slope = fit([x for x, _ in pts], [y for _, y in pts])
            allowed = max(rel * mean, floor)
            ok = slope <= allowed
            put(f"| {label} | {mean:.1f} | {slope:+.1f} | {allowed:.1f} | "
                f"{('ok' if ok else '**grew**') if judged else ('within' if ok else 'above')} |")
            if judged and not ok:
                problems.append(f"{label} grew by {slope:+.1f} per hour (allowed {allowed:.1f}; mean {mean:.1f})")

    # failures
    unplanned = [f for f in failed if not f[4]]
    put("")
    put(f"Client failures: {len(failed)}, of which {len(failed) - len(unplanned)} planned (during an outage) "
        f"and {len(unplanned)} unplanned.")
    for start, end, name in windows:
        inside = [f for f in failed if f[4] and start - OUTAGE_LEAD <= f[0] <= end + GRACE]
        kinds = {}
        for f in inside:
            kinds[f"{f[1]} {f[2]}"] = kinds.get(f"{f[1]} {f[2]}", 0) + 1
        put(f"- {name} down at minute {(start - rows_start(rows)) / 60:.1f} for {end - start:.0f} s: "
            f"{len(inside)} failure(s)" + (f" ({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))})" if kinds else ""))
    for f in unplanned[:20]:
        put(f"- unplanned at minute {(f[0] - rows_start(rows)) / 60:.2f}: {f[1]} {f[2]}: {f[3]}")
    if len(unplanned) > 20:
        put(f"- ... {len(unplanned) - 20} more in failures.tsv")
    put(f"Failures the proxy counted, by reason: {last['proxy_reasons'] or 'none'}; "
        f"{last['proxy_unplanned']} in sample intervals without an outage.")
    if unplanned:
        problems.append(f"{len(unplanned)} client failure(s) outside the planned outages")
    checks = []
    try:
        with open(os.path.join(d, "checks.tsv")) as f:
            checks = [line.rstrip("\n").split("\t") for line in f]
    except OSError:
        pass
    for c in checks:
        if len(c) >= 3 and c[2] != "ok":
            put(f"- config generation {c[1]} not in force as written: {c[3] if len(c) > 3 else ''}")
    bad = sum(1 for c in checks if len(c) >= 3 and c[2] != "ok")
    if bad:
        problems.append(f"{bad} of {len(checks)} config checks failed")
    if int(last["proxy_unplanned"]):
        problems.append(f"the proxy counted {last['proxy_unplanned']} failed connection(s) in minutes without an outage "
                        f"(by reason over the run: {last['proxy_reasons']})")
    if int(last["applied"]) != int(last["rewrites"]):
        problems.append(f"{last['applied']} of {last['rewrites']} config rewrites applied")

    put("")
    if problems:
        put("**Verdict: FAIL**: " + "; ".join(problems) + ".")
    else:
        put("**Verdict: PASS**: " + ("no growth beyond the allowances, " if judged else "growth not judged (too short), ")
            + "no failure outside the planned outages, every config rewrite applied.")
    text = "\n".join(out) + "\n"
    with open(os.path.join(d, "summary.md"), "w") as f:
        f.write(text)
    sys.stdout.write(text)
    return 1 if problems else 0


def rows_start(rows):
    """Epoch time of minute 0."""
    return float(rows[0]["epoch"]) - float(rows[0]["minute"]) * 60


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    cmd, a = argv[1], argv[2:]
    try:
        if cmd == "sample":
            sample(a[0], int(a[1]), a[2].rstrip("/"), float(a[3]), a[4] if len(a) > 4 and a[4] else None)
        elif cmd == "verdict":
            sys.exit(verdict(a[0], float(a[1])))
        else:
            sys.exit(__doc__)
    except (IndexError, ValueError):
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
