"""
C{twistd chat} with a reactor lag probe, for the benchmarks only.

    python -m bench.lagserver LAGFILE [twistd chat options...]

runs C{twistd -n --pidfile= chat OPTIONS} in this process after adding a
C{LoopingCall} that runs every L{INTERVAL} seconds and measures how late it
runs: a call that comes C{INTERVAL + lag} after the one before means the
reactor was busy (a stall) for about C{lag}.  It appends to C{LAGFILE}, in
text with one record a line (small writes, so that the probe does not cause
the stalls it measures)::

    T LAG      a call LAG seconds late (LAG >= REPORT), at monotonic time T
    n T N      N calls so far, at time T, once a second
    g T G D    a garbage collection of generation G took D seconds (D >= REPORT)
    gc T S0 S1 S2 C0 C1 C2   seconds spent in, and number of, collections of
               each generation so far, at time T, once a second

Times are C{time.monotonic()}, the same clock as other processes' on the same
machine.

With C{LAGSERVER_FULL_GC=SECONDS} in the environment, a full collection
(C{gc.collect()}) is also run every SECONDS (for C{bench.history}: what a
full collection costs the reactor with a full memory store, whether or not
the collector's own thresholds would have run one during the measurement).
The chat server itself is not changed: the probe is one more
reactor client, like the server's own timers.
"""

from __future__ import annotations

import gc
import os
import sys
import time
from pathlib import Path
from typing import IO

INTERVAL = 0.005
# Lags shorter than this are only counted.
REPORT = 0.001
ROOT = Path(__file__).resolve().parent.parent


class GCWatch:
    """
    Times the interpreter's garbage collections (C{gc.callbacks}).
    """

    def __init__(self, out: IO[str]) -> None:
        self.out = out
        self.started = 0.0
        self.seconds = [0.0, 0.0, 0.0]
        self.counts = [0, 0, 0]

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self.started = time.perf_counter()
            return
        took = time.perf_counter() - self.started
        generation = info["generation"]
        self.seconds[generation] += took
        self.counts[generation] += 1
        if took >= REPORT:
            self.out.write(f"g {time.monotonic():.6f} {generation} {took:.6f}\n")

    def line(self, now: float) -> str:
        s, c = self.seconds, self.counts
        return f"gc {now:.6f} {s[0]:.6f} {s[1]:.6f} {s[2]:.6f} {c[0]} {c[1]} {c[2]}\n"


class LagProbe:
    """
    Measures how late a periodic call runs, and appends what it finds to a
    file.
    """

    def __init__(self, out: IO[str], watch: GCWatch | None = None) -> None:
        self.out = out
        self.watch = watch
        self.last = time.monotonic()
        self.calls = 0
        self.nextCount = self.last + 1.0

    def __call__(self) -> None:
        now = time.monotonic()
        if not self.calls:
            # The first call: the reactor has just started, after all that
            # starting took, which is no stall.
            self.last = now
            self.calls = 1
            return
        lag = now - self.last - INTERVAL
        self.last = now
        self.calls += 1
        if lag >= REPORT:
            self.out.write(f"{now:.6f} {lag:.6f}\n")
            self.out.flush()
        if now >= self.nextCount:
            self.nextCount = now + 1.0
            self.out.write(f"n {now:.6f} {self.calls}\n")
            if self.watch is not None:
                self.out.write(self.watch.line(now))
            self.out.flush()


def main(argv: list[str]) -> None:
    path, options = argv[0], argv[1:]
    # Run the chatserver that the plain twistd would: the installed package
    # (or the one on PYTHONPATH), not the working tree that "python -m" puts
    # first on the path.
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT]
    extra = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    sys.path[:0] = extra
    from twisted.internet import epollreactor

    epollreactor.install()
    from twisted.internet import reactor
    from twisted.internet.task import LoopingCall

    # Open for the life of the process.
    out = open(path, "a")  # noqa: SIM115
    watch = GCWatch(out)
    gc.callbacks.append(watch)
    probe = LoopingCall(LagProbe(out, watch))
    reactor.callWhenRunning(probe.start, INTERVAL, now=False)
    fullEvery = float(os.environ.get("LAGSERVER_FULL_GC", "0") or 0)
    if fullEvery > 0:
        full = LoopingCall(gc.collect)
        reactor.callWhenRunning(full.start, fullEvery, now=False)
    from twisted.scripts.twistd import run

    sys.argv = ["twistd", "-n", "--pidfile=", "chat", *options]
    run()


def read(path: str, start: float, end: float) -> dict[str, float | int | None]:
    """
    @return: What the probe found between monotonic times C{start} and
        C{end}: the longest stall (ms) and when it began (seconds from
        C{start}), how many calls were late by 10 ms,
        50 ms and 100 ms or more, how many calls ran; the longest garbage
        collection (ms), the share of the time spent collecting, and how
        many collections (full ones apart) ran.
    """
    lags: list[float] = []
    # The longest stall so far, and when it began (seconds from start).
    longest = -1.0
    longestAt: float | None = None
    counts: list[tuple[float, int]] = []
    gcs: list[tuple[float, list[float]]] = []
    longestGC, longestGen = 0.0, -1
    for line in Path(path).read_text().splitlines():
        fields = line.split()
        if fields[0] == "n":
            counts.append((float(fields[1]), int(fields[2])))
        elif fields[0] == "gc":
            gcs.append((float(fields[1]), [float(f) for f in fields[2:]]))
        elif fields[0] == "g":
            when, took = float(fields[1]), float(fields[3])
            if when >= start and when - took <= end and took * 1000 > longestGC:
                longestGC, longestGen = took * 1000, int(fields[2])
        elif len(fields) == 2:
            when, lag = float(fields[0]), float(fields[1])
            # A stall that overlaps the window: it began at when - lag.
            if when >= start and when - lag <= end:
                if lag * 1000 > longest:
                    longest, longestAt = lag * 1000, round(when - lag - start, 3)
                lags.append(lag * 1000)
    inside = [n for t, n in counts if start <= t <= end]
    calls = inside[-1] - inside[0] if len(inside) >= 2 else None
    gcInside = [(t, v) for t, v in gcs if start <= t <= end]
    gcStats: dict[str, float | int | None] = {
        "longestGcMs": round(longestGC, 2),
        "longestGcGeneration": longestGen,
    }
    if len(gcInside) >= 2:
        (t0, first), (t1, last) = gcInside[0], gcInside[-1]
        delta = [b - a for a, b in zip(first, last, strict=True)]
        gcStats["gcShare"] = round(sum(delta[:3]) / (t1 - t0), 4)
        gcStats["gcFullCollections"] = round(delta[5])
        gcStats["gcCollections"] = round(sum(delta[3:]))
    return {
        **gcStats,
        "maxStallMs": max(lags, default=0.0),
        "maxStallAt": longestAt,
        "stalls10ms": sum(lag >= 10 for lag in lags),
        "stalls50ms": sum(lag >= 50 for lag in lags),
        "stalls100ms": sum(lag >= 100 for lag in lags),
        "probeCalls": calls,
    }


if __name__ == "__main__":
    main(sys.argv[1:])
