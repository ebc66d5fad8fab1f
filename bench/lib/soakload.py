#!/usr/bin/env python3
"""Backends and load for bench/soak.sh (Python 3 stdlib only).

  echo PORT MAX_SECONDS             echo server on 127.0.0.1:PORT (asyncio), exits after MAX_SECONDS.
                                    Unlike benchtool.py's, it keeps up with bulk streams (it waits for
                                    the client to read instead of dropping it) and passes a half-close
                                    on: the client's FIN is answered with one after the echo.
  load DIR SECONDS SHORT_PORT STREAM_PORT BULK_PORT
                                    mixed load on 127.0.0.1 for SECONDS, then exit:
                                      short   SHORT_RATE connections/s: connect, send 1..2048 bytes,
                                              read the echo, half-close, read the FIN, close
                                      streams STREAMS long-lived connections, each a round trip of
                                              16..4096 bytes every 50..250 ms, closed cleanly after a
                                              random 1..10 minutes and opened again; a failed one is
                                              opened again after 200 ms
                                      bulk    BULK connections in a row each, every one streaming
                                              BULK_MB MiB at BULK_RATE MiB/s and checking every byte
                                              of the echo
                                    Writes to DIR: load.tsv (per second: ok and failed of each kind,
                                    bulk MiB), failures.tsv (one line per failure: epoch time, client,
                                    kind, detail) and status.json (totals, rewritten every second).
                                    Environment: SHORT_RATE (40), STREAMS (16), BULK (2), BULK_MB (32),
                                    BULK_RATE (8).
"""
import asyncio
import json
import os
import random
import socket
import sys
import threading
import time

CONNECT_TIMEOUT = 5.0  # a connect through the proxy takes well under 1 ms on loopback
IO_TIMEOUT = 10.0      # any single read or write; a stalled connection fails after this
KINDS = ("short_ok", "short_failed", "rt_ok", "rt_failed", "bulk_ok", "bulk_failed", "bulk_bytes")


# ---------------------------------------------------------------- backend

def echo(port, max_seconds):
    async def handle(reader, writer):
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()  # backpressure: stop reading while the client does not read
            if writer.can_write_eof():
                writer.write_eof()
        except OSError:
            pass
        finally:
            writer.close()

    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", port, reuse_address=True, backlog=1024)
        async with server:
            await asyncio.sleep(max_seconds)

    asyncio.run(main())


# ---------------------------------------------------------------- load

class Failed(Exception):
    """A client's exchange went wrong: kind is connect, refused, reset, eof, timeout, mismatch or error."""

    def __init__(self, kind, detail):
        super().__init__(detail)
        self.kind = kind


class Tally:
    """Counts shared by the client threads, written out once a second by the reporter."""

    def __init__(self, out):
        self.lock = threading.Lock()
        self.total = dict.fromkeys(KINDS, 0)
        self.second = dict.fromkeys(KINDS, 0)
        self.failures = open(os.path.join(out, "failures.tsv"), "a", buffering=1)
        self.out = out

    def add(self, key, n=1):
        with self.lock:
            self.total[key] += n
            self.second[key] += n

    def fail(self, client, port, e):
        kind, detail = classify(e)
        with self.lock:
            self.total[client + "_failed"] += 1
            self.second[client + "_failed"] += 1
            self.failures.write(f"{time.time():.3f}\t{client}\t{kind}\tport {port}: {detail}\n")

    def flush(self, log):
        with self.lock:
            second, self.second = self.second, dict.fromkeys(KINDS, 0)
            total = dict(self.total)
        log.write(f"{int(time.time())}\t" + "\t".join(str(second[k]) for k in KINDS) + "\n")
        tmp = os.path.join(self.out, "status.json.tmp")
        with open(tmp, "w") as f:
            json.dump(total, f)
        os.replace(tmp, os.path.join(self.out, "status.json"))


def classify(e):
    if isinstance(e, Failed):
        return e.kind, str(e)
    if isinstance(e, ConnectionRefusedError):
        return "refused", "connection refused"
    if isinstance(e, (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)):
        return "reset", f"connection reset ({type(e).__name__})"
    if isinstance(e, (socket.timeout, TimeoutError)):
        return "timeout", f"no progress for {IO_TIMEOUT:g} s"
    return "error", f"{type(e).__name__}: {e}"


def connect(port):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=CONNECT_TIMEOUT)
    except (socket.timeout, TimeoutError):
        raise Failed("connect", f"connect timed out after {CONNECT_TIMEOUT:g} s") from None
    s.settimeout(IO_TIMEOUT)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_exactly(s, n):
    parts, got = [], 0
    while got < n:
        chunk = s.recv(min(65536, n - got))
        if not chunk:
            raise Failed("eof", f"closed after {got} of {n} echoed bytes")
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


def round_trip(s, payload):
    s.sendall(payload)
    if read_exactly(s, len(payload)) != payload:
        raise Failed("mismatch", f"echo of {len(payload)} bytes differs from what was sent")


def close_cleanly(s):
    """Half-close, then expect the echo server's FIN (passed on by the proxy) and nothing else."""
    s.shutdown(socket.SHUT_WR)
    extra = s.recv(1)
    if extra:
        raise Failed("mismatch", "bytes after the echo")
    s.close()


def short_client(port, rate, stop, tally):
    """One of the threads making new connections; each paces itself to `rate` per second."""
    rng = random.Random()
    interval = 1.0 / rate
    due = time.monotonic() + rng.random() * interval
    while not stop.is_set():
        delay = due - time.monotonic()
        if delay > 0:
            stop.wait(delay)
        # behind by more than a second (a slow connect): start over rather than burst to catch up
        due = max(due + interval, time.monotonic() - 1.0)
        s = None
        try:
            s = connect(port)
            round_trip(s, rng.randbytes(rng.randint(1, 2048)))
            close_cleanly(s)
            tally.add("short_ok")
        except (OSError, Failed) as e:
            tally.fail("short", port, e)
            if s:
                s.close()


def stream_client(port, stop, tally):
    rng = random.Random()
    while not stop.is_set():
        s = None
        try:
            s = connect(port)
            close_at = time.monotonic() + rng.uniform(60, 600)
            while not stop.is_set() and time.monotonic() < close_at:
                round_trip(s, rng.randbytes(rng.randint(16, 4096)))
                tally.add("rt_ok")
                stop.wait(rng.uniform(0.05, 0.25))
            close_cleanly(s)
        except (OSError, Failed) as e:
            tally.fail("rt", port, e)
            if s:
                s.close()
            stop.wait(0.2)


PATTERN = bytes(range(256)) * 260  # any 64 KiB window of the stream, at any offset
CHUNK = 65536
WINDOW = 256 * 1024  # bytes in flight; well under what loopback buffers hold, so sends never block for good


def bulk_client(port, size, rate, stop, tally):
    view = memoryview(PATTERN)
    while not stop.is_set():
        s = None
        try:
            s = connect(port)
            sent = received = 0
            start = time.monotonic()
            while received < size:
                if stop.is_set():
                    break
                if sent < size and sent - received < WINDOW:
                    n = min(CHUNK, size - sent)
                    s.sendall(view[sent % 256:sent % 256 + n])
                    sent += n
                    ahead = sent / rate - (time.monotonic() - start)
                    if ahead > 0:
                        stop.wait(ahead)
                    continue
                data = s.recv(CHUNK)
                if not data:
                    raise Failed("eof", f"closed after {received} of {size} echoed bytes")
                if data != view[received % 256:received % 256 + len(data)]:
                    raise Failed("mismatch", f"echo differs from what was sent at byte {received}")
                received += len(data)
                tally.add("bulk_bytes", len(data))
            if stop.is_set():
                s.close()
                return
            close_cleanly(s)
            tally.add("bulk_ok")
        except (OSError, Failed) as e:
            tally.fail("bulk", port, e)
            if s:
                s.close()
            stop.wait(0.2)


def load(out, seconds, short_port, stream_port, bulk_port):
    env = os.environ
    short_rate = float(env.get("SHORT_RATE", 40))
    streams = int(env.get("STREAMS", 16))
    bulk = int(env.get("BULK", 2))
    bulk_size = int(float(env.get("BULK_MB", 32)) * 1024 * 1024)
    bulk_rate = float(env.get("BULK_RATE", 8)) * 1024 * 1024
    os.makedirs(out, exist_ok=True)
    tally = Tally(out)
    stop = threading.Event()
    short_threads = 4  # a slow connect in one thread does not stall the others
    threads = [threading.Thread(target=short_client, args=(short_port, short_rate / short_threads, stop, tally))
               for _ in range(short_threads)]
    threads += [threading.Thread(target=stream_client, args=(stream_port, stop, tally)) for _ in range(streams)]
    threads += [threading.Thread(target=bulk_client, args=(bulk_port, bulk_size, bulk_rate, stop, tally))
                for _ in range(bulk)]
    for t in threads:
        t.daemon = True
        t.start()
    end = time.monotonic() + seconds
    with open(os.path.join(out, "load.tsv"), "a", buffering=1) as log:
        log.write("time\t" + "\t".join(KINDS) + "\n")
        next_flush = time.monotonic() + 1
        while time.monotonic() < end:
            time.sleep(max(0.0, next_flush - time.monotonic()))
            next_flush += 1
            tally.flush(log)
        stop.set()
        for t in threads:
            t.join(IO_TIMEOUT + CONNECT_TIMEOUT + 1)
        tally.flush(log)


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    cmd, a = argv[1], argv[2:]
    try:
        if cmd == "echo":
            echo(int(a[0]), float(a[1]))
        elif cmd == "load":
            load(a[0], float(a[1]), int(a[2]), int(a[3]), int(a[4]))
        else:
            sys.exit(__doc__)
    except (IndexError, ValueError):
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
