"""
What a history store costs the reactor's thread per line, in one process
(issue 24's busy phase, without a server in front):

    .venv/bin/python -m bench.history_writes --rate 20000 --seconds 6
    .venv/bin/python -m bench.history_writes --revision 5a10634   # and before

For each store (C{none}: only the entries made; C{sqlite}: this tree's
L{SQLiteHistory} on a new file; C{sqlite@REV} with C{--revision}: that git
revision's C{chatserver/history/sqlite.py} on a new file), a
C{LoopingCall} appends C{--rate} lines a second into 1,000 rooms, every
10 ms its share, for C{--seconds}; a second one, every 5 ms, records how
late it runs (the reactor's stalls).  It reports the reactor thread's CPU
time per line (all of it, and in C{append} alone), the CPU time of the
process's other threads (the pool's) per line, the lines kept per second
(until the store has written them all) and the stalls.  CPU times hold on a
shared machine where wall times do not.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.run import ROOT

TEXT = "line {n:08d} of the history fill, a few words of padding"
TICK = 0.01
PROBE = 0.005


def _store_class(revision: str) -> Any:
    """
    @return: L{SQLiteHistory} of this tree, or of git C{revision} if given.
    """
    if not revision:
        from chatserver.history.sqlite import SQLiteHistory

        return SQLiteHistory
    source = subprocess.run(
        ["git", "show", f"{revision}:chatserver/history/sqlite.py"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    path = Path(tempfile.mkdtemp()) / "sqlite_then.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("sqlite_then", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.SQLiteHistory


def _threads_cpu() -> dict[int, float]:
    """
    @return: CPU seconds of each thread of this process, by native id.
    """
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for tid in os.listdir("/proc/self/task"):
        stat = Path(f"/proc/self/task/{tid}/stat").read_text()
        fields = stat.rsplit(")", 1)[1].split()
        out[int(tid)] = (int(fields[11]) + int(fields[12])) / tick
    return out


class _Run:
    """
    One measurement, in this process (the reactor cannot be restarted).
    """

    def __init__(self, store: str, rate: int, seconds: float, revision: str) -> None:
        from chatserver.history.store import HistoryEntry

        self.entry = HistoryEntry
        self.history: Any = None
        if store != "none":
            path = os.path.join(tempfile.mkdtemp(), "history.sqlite")
            self.history = _store_class(revision)(path)
            self.history.check()
        self.perTick = max(1, round(rate * TICK))
        self.seconds = seconds
        self.n = 0
        self.appendCpu = 0.0
        self.lags: list[float] = []
        self.last = 0.0
        self.out: dict[str, Any] = {"rate": rate}

    def tick(self) -> None:
        started = time.thread_time()
        for _ in range(self.perTick):
            self.n += 1
            n = self.n
            room = f"#r{n % 1000}"
            if self.history is None:
                self.entry(n, room, time.time(), "message", "fill", TEXT.format(n=n))
            else:
                self.history.append(
                    room,
                    room=room,
                    kind="message",
                    sender="fill",
                    text=TEXT.format(n=n),
                    time=time.time(),
                )
        self.appendCpu += time.thread_time() - started

    def probe(self) -> None:
        now = time.perf_counter()
        if self.last:
            self.lags.append(now - self.last - PROBE)
        self.last = now

    def run(self) -> dict[str, Any]:
        from twisted.internet import reactor
        from twisted.internet.task import LoopingCall

        self.reactor: Any = reactor
        self.ticks, self.probes = LoopingCall(self.tick), LoopingCall(self.probe)
        reactor.callWhenRunning(self.start)
        reactor.run()
        return self.out

    def start(self) -> None:
        if self.history is not None:
            self.history.start()
        self.t0, self.cpu0 = time.perf_counter(), time.thread_time()
        self.threads0 = _threads_cpu()
        self.ticks.start(TICK)
        self.probes.start(PROBE)
        self.reactor.callLater(self.seconds, self.stop)

    def stop(self) -> None:
        self.ticks.stop()
        self.sent = time.perf_counter() - self.t0
        self.written()

    def written(self) -> None:
        history = self.history
        if history is not None and (history._pending or history._writing is not None):
            self.reactor.callLater(0.01, self.written)
            return
        self.probes.stop()
        kept = time.perf_counter() - self.t0
        cpu = time.thread_time() - self.cpu0
        main = threading.get_native_id()
        others = sum(
            v - self.threads0.get(k, 0.0)
            for k, v in _threads_cpu().items()
            if k != main
        )
        n, ordered = self.n, sorted(self.lags)
        self.out.update(
            lines=n,
            sentPerSecond=round(n / self.sent),
            keptPerSecond=round(n / kept),
            reactorUsPerLine=round(cpu / n * 1e6, 2),
            appendUsPerLine=round(self.appendCpu / n * 1e6, 2),
            otherThreadsUsPerLine=round(others / n * 1e6, 2),
            lagP99Ms=round(ordered[int(len(ordered) * 0.99)] * 1000, 2),
            lagMaxMs=round(ordered[-1] * 1000, 2),
        )
        if history is None:
            self.reactor.stop()
        else:
            history.stop().addBoth(lambda _: self.reactor.stop())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="What a history store costs the reactor's thread per line."
    )
    parser.add_argument("--rate", type=int, default=20000)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--revision", default="", help="also measure this revision's SQLite store"
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.one:
        store, _, revision = options.one.partition("@")
        found = _Run(store, options.rate, options.seconds, revision).run()
        print({**found, "store": options.one}, flush=True)
        return 0
    stores = ["none", "sqlite"] + (
        [f"sqlite@{options.revision}"] if options.revision else []
    )
    for _ in range(options.runs):
        for store in stores:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "bench.history_writes",
                    "--one",
                    store,
                    "--rate",
                    str(options.rate),
                    "--seconds",
                    str(options.seconds),
                ],
                cwd=ROOT,
                check=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
