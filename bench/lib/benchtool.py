#!/usr/bin/env python3
"""Small measuring tools for bench/compare.sh and bench/syscalls.sh (Python 3 stdlib only).

  echo PORT MAX_SECONDS [proxy]     echo server on 127.0.0.1:PORT (epoll), exits after MAX_SECONDS;
                                    with "proxy", each connection's PROXY protocol header (v1 or v2)
                                    is dropped, not echoed
  hold HOST PORT N READY MAX_SECONDS
                                    open N connections one after another, each doing a 1-byte echo
                                    round trip; write "OK FAILED" to the file READY; keep them open
                                    until SIGTERM or MAX_SECONDS
  dial HOST PORT N SIZE [WINDOW]    N sequential connections: connect, send SIZE bytes, read the
                                    echo, close; prints "OK FAILED"; writes "START END" (epoch s)
                                    to the file WINDOW when given
  cpu PID                           CPU seconds (utime+stime) of PID and its descendants
  mem PID                           "ANON_PSS_KB PSS_KB RSS_KB PROCS" over PID and its descendants
  cores CPU...                      "BUSY TOTAL" jiffies of each CPU from /proc/stat
  iperf FILE                        from iperf3 -J output: "GBPS BYTES" (GBPS excludes omitted
                                    seconds; BYTES counts every interval, omitted ones included)
  wrk FILE                          from wrk --latency output: "key=value" words (rps, requests,
                                    p50_us, p99_us, errors, non2xx)
  strace FILE START END N           per-call counts of an `strace -f -ttt` log, calls started in
                                    [START, END], divided by N; prints JSON
  sctable NAME=JSON...              markdown table of those counts, one column per NAME
"""
import json
import os
import re
import selectors
import signal
import socket
import sys
import time


# ---------------------------------------------------------------- servers and clients

V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"


def header_length(data):
    """Length of the PROXY protocol header at the start of data; 0 while incomplete; -1 if none."""
    if data.startswith(V2_SIGNATURE[:len(data)]) or data.startswith(V2_SIGNATURE):
        if len(data) < 16:
            return 0
        total = 16 + int.from_bytes(data[14:16], "big")
        return total if len(data) >= total else 0
    if data.startswith(b"PROXY "[:len(data)]) or data.startswith(b"PROXY "):
        end = data.find(b"\r\n")
        return end + 2 if end >= 0 else (0 if len(data) < 107 else -1)
    return -1


def echo(port, max_seconds, proxy=False):
    sel = selectors.DefaultSelector()
    lsn = socket.socket()
    lsn.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsn.bind(("127.0.0.1", port))
    lsn.listen(4096)
    lsn.setblocking(False)
    sel.register(lsn, selectors.EVENT_READ, None)
    end = time.monotonic() + max_seconds
    while time.monotonic() < end:
        for key, _ in sel.select(1.0):
            if key.data is None:
                for _ in range(64):  # accept a burst, bounded
                    try:
                        conn, _ = lsn.accept()
                    except OSError:  # nothing left to accept (EAGAIN), or out of descriptors
                        break
                    conn.setblocking(False)
                    sel.register(conn, selectors.EVENT_READ, b"" if proxy else "conn")
                continue
            conn = key.fileobj
            try:
                data = conn.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if not data:
                sel.unregister(conn)
                conn.close()
                continue
            if isinstance(key.data, bytes):  # the header is still being read
                data = key.data + data
                n = header_length(data)
                if n < 0:
                    sel.unregister(conn)
                    conn.close()
                    continue
                if n == 0:
                    sel.modify(conn, selectors.EVENT_READ, data)
                    continue
                sel.modify(conn, selectors.EVENT_READ, "conn")
                data = data[n:]
                if not data:
                    continue
            try:
                # Echoes are small: a full send buffer means a client that stopped reading; drop it.
                conn.sendall(data)
            except OSError:
                sel.unregister(conn)
                conn.close()


def round_trip(sock, payload):
    sock.sendall(payload)
    got = 0
    while got < len(payload):
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before the echo came back")
        got += len(chunk)


def hold(host, port, n, ready, max_seconds):
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    held, failed = [], 0
    give_up = time.monotonic() + 60 + n / 100  # bounded opening phase
    for _ in range(n):
        if failed > 20 or time.monotonic() > give_up:
            failed += 1
            continue
        try:
            s = socket.create_connection((host, port), timeout=5)
            round_trip(s, b"!")
            held.append(s)
        except OSError:
            failed += 1
    tmp = ready + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{len(held)} {failed}\n")
    os.replace(tmp, ready)
    time.sleep(max_seconds)


def dial(host, port, n, size, window=None):
    payload = b"p" * size
    ok = failed = 0
    start = time.time()
    give_up = time.monotonic() + 120 + n / 10
    for _ in range(n):
        if failed > 20 or time.monotonic() > give_up:
            failed += 1
            continue
        try:
            with socket.create_connection((host, port), timeout=5) as s:
                round_trip(s, payload)
            ok += 1
        except OSError:
            failed += 1
    end = time.time()
    if window:
        with open(window, "w") as f:
            f.write(f"{start:.6f} {end:.6f}\n")
    print(ok, failed)


# ---------------------------------------------------------------- /proc readings

def descendants(pid):
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        kids.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, ()))
    return out


def cpu(pid):
    ticks = 0
    for p in descendants(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime (all threads, live or exited)
        except (OSError, IndexError, ValueError):
            pass
    print(f"{ticks / os.sysconf('SC_CLK_TCK'):.3f}")


def mem(pid):
    """PSS of anonymous + shmem pages, total PSS, RSS (kB), processes: over PID's tree.
    The first leaves out file-backed pages (binary, libraries), whose PSS moves whenever some
    other process on the machine maps or unmaps the same library; where the kernel has no
    Pss_Anon (before 5.7) it is the total PSS."""
    got = {"Pss": 0, "Pss_Anon": 0, "Pss_Shmem": 0, "Rss": 0}
    has_anon = False
    procs = 0
    for p in descendants(pid):
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    key = line.split(":", 1)[0]
                    if key in got:
                        got[key] += int(line.split()[1])
                        has_anon = has_anon or key == "Pss_Anon"
            procs += 1
        except OSError:
            pass
    working = got["Pss_Anon"] + got["Pss_Shmem"] if has_anon else got["Pss"]
    print(working, got["Pss"], got["Rss"], procs)


def cores(cpus):
    want = {f"cpu{c}" for c in cpus}
    out = {}
    with open("/proc/stat") as f:
        for line in f:
            parts = line.split()
            if parts and parts[0] in want:
                v = [int(x) for x in parts[1:9]]
                idle = v[3] + v[4]  # idle + iowait
                out[parts[0]] = (sum(v) - idle, sum(v))
    print(" ".join(f"{out[f'cpu{c}'][0]} {out[f'cpu{c}'][1]}" for c in cpus))


# ---------------------------------------------------------------- tool output parsers

def iperf(path):
    try:
        with open(path) as f:
            d = json.load(f)
        gbps = d["end"]["sum_received"]["bits_per_second"] / 1e9
        moved = sum(i["sum"]["bytes"] for i in d["intervals"])
        print(f"{gbps:.3f} {moved}")
    except (OSError, ValueError, KeyError, TypeError):
        print("fail 0")


UNIT_US = {"us": 1.0, "ms": 1e3, "s": 1e6, "m": 60e6}


def wrk(path):
    with open(path, errors="replace") as f:
        text = f.read()
    out = {}
    m = re.search(r"^\s*(\d+) requests in ", text, re.M)
    if m:
        out["requests"] = int(m.group(1))
    m = re.search(r"^Requests/sec:\s*([\d.]+)", text, re.M)
    if m:
        out["rps"] = float(m.group(1))
    for pct in ("50", "99"):
        m = re.search(rf"^\s*{pct}(?:\.0+)?%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.M)
        if m:
            out[f"p{pct}_us"] = round(float(m.group(1)) * UNIT_US[m.group(2)], 1)
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    out["errors"] = sum(int(x) for x in m.groups()) if m else 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    out["non2xx"] = int(m.group(1)) if m else 0
    print(" ".join(f"{k}={v}" for k, v in out.items()))


# "PID TIME rest": a call line, an unfinished start, or a "<... NAME resumed>" end
LINE = re.compile(r"^(\d+)\s+(\d+\.\d+)\s+(.*)$")
CALL = re.compile(r"^([a-z_0-9]+)\(")
RESUMED = re.compile(r"^<\.\.\. ([a-z_0-9]+) resumed>")
RESULT = re.compile(r"\)\s+=\s+(-?\d+|\?|0x[0-9a-f]+)(?:\s+([A-Z][A-Z0-9_]+))?")


def strace(path, start, end, n):
    counts, errors, pending = {}, {}, {}

    def add(name, ts, tail):
        if not (start <= ts <= end):
            return
        counts[name] = counts.get(name, 0) + 1
        m = RESULT.search(tail) if tail is not None else None
        if m and m.group(1) == "-1" and m.group(2):
            key = (name, m.group(2))
            errors[key] = errors.get(key, 0) + 1

    with open(path, errors="replace") as f:
        for raw in f:
            m = LINE.match(raw.rstrip("\n"))
            if not m:
                continue
            pid, ts, rest = m.group(1), float(m.group(2)), m.group(3)
            r = RESUMED.match(rest)
            if r:
                name, t0 = pending.pop(pid, (r.group(1), ts))
                add(name, t0, rest)
                continue
            c = CALL.match(rest)
            if not c:
                continue  # signals, exits
            if rest.endswith("<unfinished ...>"):
                pending[pid] = (c.group(1), ts)
            else:
                add(c.group(1), ts, rest)
    for pid, (name, t0) in pending.items():  # still blocked when strace detached
        add(name, t0, None)
    print(json.dumps({
        "connections": n,
        "calls": {k: v / n for k, v in counts.items()},
        "errors": {f"{k[0]} {k[1]}": v / n for k, v in errors.items()},
    }))


RARE = 0.05  # calls per connection below which a syscall is only listed in the "others" row
CLOCK_CALLS = ("clock_gettime", "clock_gettime64", "gettimeofday", "time")


def sctable(pairs):
    cols = []
    for pair in pairs:
        name, path = pair.split("=", 1)
        with open(path) as f:
            cols.append((name, json.load(f)))
    names = sorted({k for _, d in cols for k in d["calls"]},
                   key=lambda k: (-max(d["calls"].get(k, 0) for _, d in cols), k))

    def cell(d, call):
        v = d["calls"].get(call, 0)
        if not v:
            return "0"
        errs = sorted(((e.split(" ", 1)[1], n) for e, n in d["errors"].items() if e.split(" ", 1)[0] == call),
                      key=lambda x: -x[1])
        s = f"{v:.2f}"
        return s + (" (" + ", ".join(f"{n:.2f} {e}" for e, n in errs) + ")" if errs else "")

    head = ["syscall"] + [n for n, _ in cols]
    print("| " + " | ".join(head) + " |")
    print("|---|" + "---:|" * len(cols) + "")
    rare = [k for k in names if max(d["calls"].get(k, 0) for _, d in cols) < RARE]
    for call in names:
        if call not in rare:
            print(f"| {call} | " + " | ".join(cell(d, call) for _, d in cols) + " |")
    if rare:
        sums = [sum(d["calls"].get(k, 0) for k in rare) for _, d in cols]
        print(f"| {len(rare)} others, each < {RARE} ({', '.join(rare)}) | "
              + " | ".join(f"{v:.2f}" for v in sums) + " |")
    total = [sum(d["calls"].values()) for _, d in cols]
    failed = [sum(d["errors"].values()) for _, d in cols]
    print("| **total** | " + " | ".join(f"**{t:.2f}** ({f:.2f} failed)" for t, f in zip(total, failed)) + " |")
    if any(k in CLOCK_CALLS for k in names):
        rest = [sum(v for k, v in d["calls"].items() if k not in CLOCK_CALLS) for _, d in cols]
        print("| total without clock reads | " + " | ".join(f"{t:.2f}" for t in rest) + " |")
    print("\nCalls per proxied connection (" + ", ".join(f"{n}: {d['connections']} connections" for n, d in cols)
          + "); in brackets, those that failed, by errno.")


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    cmd, a = argv[1], argv[2:]
    try:
        if cmd == "echo":
            echo(int(a[0]), float(a[1]), len(a) > 2 and a[2] == "proxy")
        elif cmd == "hold":
            hold(a[0], int(a[1]), int(a[2]), a[3], float(a[4]))
        elif cmd == "dial":
            dial(a[0], int(a[1]), int(a[2]), int(a[3]), a[4] if len(a) > 4 else None)
        elif cmd == "cpu":
            cpu(int(a[0]))
        elif cmd == "mem":
            mem(int(a[0]))
        elif cmd == "cores":
            cores(a)
        elif cmd == "iperf":
            iperf(a[0])
        elif cmd == "wrk":
            wrk(a[0])
        elif cmd == "strace":
            strace(a[0], float(a[1]), float(a[2]), int(a[3]))
        elif cmd == "sctable":
            sctable(a)
        else:
            sys.exit(__doc__)
    except (IndexError, ValueError):
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
