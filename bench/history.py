"""
Issue 24's history benchmark: a store filled to a million lines in a
thousand rooms, through a real C{twistd chat}, and what that costs.

    .venv/bin/python -m bench.history --runs 3
    .venv/bin/python -m bench.history --quick          # the tests' smoke size

Each run starts, for each store (C{--history none}, C{memory},
C{sqlite:PATH} on a new file), a fresh C{twistd -n chat} under
L{bench.lagserver} (the reactor's stalls, a full collection forced every
L{FULL_GC_EVERY} seconds) and measures, in this order:

  - C{fill}: L{FILLERS} connections send C{--lines} lines into C{--rooms}
    rooms (each connection its share of the rooms, L{BURST} lines to a
    room at a time, C{/join} to make it current), as fast as the server
    reads them.  The lines kept per second: for SQLite, until the file
    holds the last line (its largest id, read from a connection of our
    own every 20 ms); for the others, until the server has answered a
    command sent after each connection's last line.
  - C{pages}: one client joins C{--page-rooms} rooms chosen with a fixed
    seed and times, from its command to the C{=== End of history} line,
    the replay on joining and then L{PAGES} C{/history} pages of 20 lines
    going back: p50, p99, max over all of them.
  - C{load}: C{--users} users of the compiled load generator in the default
    room, 2 of them sending 200 lines/s each for C{--seconds} (issue 15's
    scale scenario) against the filled server: delivery latency p50/p99, and
    the longest reactor stall while sending (with the forced full
    collections in it).
  - C{trim} (SQLite only): the server is restarted on the filled file with
    C{--history-max} L{TRIM_TO}, so that its first trim deletes all but
    L{TRIM_TO} lines of each room: how long that takes, the longest stall
    meanwhile, the file's size (with its log) before and after.

Then, in this process, the memory store's own trimming
(L{memory_trim}): a store of C{--lines} lines all grown too old, and the
longest single step of its trim (the longest the reactor would stop).

Ratios (p99 against C{none}) are taken within each run; the tables give
medians over runs.  C{--chatserver REV} runs our server (and the memory
trim) from a git revision instead of the installed package: how the
"before" figures were measured.  Results go to C{bench/history.json} and,
as the section L{HEADING}, into C{bench/RESULTS.md} (L{bench.report}
keeps it there when it rewrites the file).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from twisted.internet.defer import Deferred

from bench.lagserver import read
from bench.report import put_section
from bench.run import BENCH, PYTHON, ROOT, Server, machine, raise_fd_limit

Metrics = dict[str, Any]

HEADING = "## History at a million lines (issue 24)"

STORES = ("none", "memory", "sqlite")
FILLERS = 10
BURST = 10
PAGES = 4
TRIM_TO = 500
FULL_GC_EVERY = 2.0
# Enough for a million lines of the fill's length in memory (about 250 bytes
# each as the store counts them), so the bound drops nothing.
MEMORY_BOUND = 1 << 30
TEXT = "line {n:08d} of the history fill, a few words of padding"
# Nobody's name: a private line to it is answered with an error, in turn.
SYNC = b"nobody-sync"


class Filler(asyncio.Protocol):
    """
    One connection of the fill: logs in, then sends what it is given and
    discards what it gets, but for the answer it waits for.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.buffer = b""
        self.waiting: tuple[tuple[bytes, ...], asyncio.Future[None]] | None = None
        self.errors: list[str] = []
        self.transport: asyncio.Transport | None = None
        # The line that answered the last expect().
        self.last = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        *complete, self.buffer = self.buffer.split(b"\n")
        for line in complete:
            if (line.startswith(b"!!!") or b" !!! " in line) and SYNC not in line:
                self.errors.append(line.decode(errors="replace"))
            if self.waiting is not None and any(m in line for m in self.waiting[0]):
                _, future = self.waiting
                self.waiting = None
                self.last = line
                if not future.done():
                    future.set_result(None)

    def expect(self, *markers: bytes) -> asyncio.Future[None]:
        """
        @return: A future that fires once a line holding one of C{markers}
            arrives.
        """
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiting = (markers, future)
        return future

    def write(self, data: bytes) -> None:
        assert self.transport is not None
        self.transport.write(data)

    async def drained(self) -> None:
        # Wait while our own send buffer is over 1 MB: the server reads as
        # fast as it can, so this is its pace.
        assert self.transport is not None
        while self.transport.get_write_buffer_size() > 1 << 20:
            await asyncio.sleep(0.002)


async def _connect(port: int, name: str) -> Filler:
    loop = asyncio.get_running_loop()
    _, client = await loop.create_connection(lambda: Filler(name), "127.0.0.1", port)
    welcome = client.expect(b"=== Users ")
    client.write(name.encode() + b"\n")
    try:
        await asyncio.wait_for(welcome, 30)
    except TimeoutError:
        raise RuntimeError(f"{name} not logged in in 30 s") from None
    # What logging in sent after the welcome (with SQLite, the default
    # room's replay comes a moment later) must not be taken for an answer.
    synced = client.expect(b"no such user: " + SYNC)
    client.write(b"/msg " + SYNC + b" x\n")
    await asyncio.wait_for(synced, 30)
    return client


async def _fill(
    port: int, lines: int, rooms: int, sqlitePath: str | None, start: int = 0
) -> Metrics:
    clients = [await _connect(port, f"fill{i}") for i in range(FILLERS)]
    perRoom = lines // rooms
    t0 = time.monotonic()
    n = start

    async def one(index: int, client: Filler) -> None:
        nonlocal n
        mine = [r for r in range(rooms) if r % FILLERS == index]
        for offset in range(0, perRoom, BURST):
            for r in mine:
                chunk = [f"/join #r{r}\n"]
                for _ in range(min(BURST, perRoom - offset)):
                    n += 1
                    chunk.append(TEXT.format(n=n) + "\n")
                client.write("".join(chunk).encode())
                await client.drained()
        # A line the server answers once it has read all before it.
        done = client.expect(b"no such user: " + SYNC)
        client.write(b"/msg " + SYNC + b" x\n")
        await asyncio.wait_for(done, 600)

    await asyncio.gather(*(one(i, c) for i, c in enumerate(clients)))
    answered = time.monotonic() - t0
    total = n - start
    kept = answered
    inFile = None
    if sqlitePath is not None:
        kept, inFile = await _written(sqlitePath, n, t0)
    for c in clients:
        assert c.transport is not None
        c.transport.close()
    return {
        "lines": total,
        "answeredSeconds": round(answered, 2),
        "keptSeconds": round(kept, 2),
        "linesPerSecond": round(total / kept) if kept else None,
        "linesInFile": inFile,
        "errors": sum(len(c.errors) for c in clients),
        "errorSamples": [e for c in clients for e in c.errors][:3],
    }


async def _written(
    path: str, last: int, t0: float, timeout: float = 600
) -> tuple[float, int]:
    """
    @return: Seconds from C{t0} until the file at C{path} holds id C{last},
        and how many lines it holds then (fewer than were sent if the store
        dropped some).
    """
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        while time.monotonic() - t0 < timeout:
            try:
                (largest,) = connection.execute(
                    "SELECT max(id) FROM history"
                ).fetchone()
            except sqlite3.OperationalError:
                largest = None
            if largest is not None and largest >= last:
                return time.monotonic() - t0, int(
                    connection.execute("SELECT count(*) FROM history").fetchone()[0]
                )
            await asyncio.sleep(0.02)
    finally:
        connection.close()
    raise RuntimeError(f"{path} did not get line {last} in {timeout} s")


async def _pages(port: int, rooms: int, sample: int, seed: int) -> Metrics:
    client = await _connect(port, "pager")
    chosen = random.Random(seed).sample(range(rooms), min(sample, rooms))
    joins: list[float] = []
    pages: list[float] = []
    for r in chosen:
        for i in range(PAGES + 1):
            # A join's replay ends with "End of history"; so does a page, or
            # with "No more history" at the start of the room's.
            done = client.expect(b"=== End of history", b"=== No more history")
            t = time.perf_counter()
            client.write(
                (f"/join #r{r}\n" if i == 0 else f"/history #r{r} 20\n").encode()
            )
            try:
                await asyncio.wait_for(done, 30)
            except TimeoutError:
                raise RuntimeError(
                    f"no end of history for #r{r} in 30 s"
                    f" (errors: {client.errors[-3:]})"
                ) from None
            (joins if i == 0 else pages).append((time.perf_counter() - t) * 1000)
        client.write(f"/part #r{r}\n".encode())
    assert client.transport is not None
    client.transport.close()
    everything = joins + pages
    return {
        "replay": _stats(joins),
        "page": _stats(pages),
        "all": _stats(everything),
        "errors": len(client.errors),
        "errorSamples": client.errors[:3],
    }


def _stats(values: list[float]) -> dict[str, float]:
    """
    @return: The median, 95th and 99th percentiles, largest and count of
        C{values} (milliseconds), each percentile a value measured.
    """
    values = sorted(values)

    def rank(fraction: float) -> float:
        return values[min(len(values) - 1, int(fraction * len(values)))]

    return {
        "p50": round(rank(0.50), 3),
        "p95": round(rank(0.95), 3),
        "p99": round(rank(0.99), 3),
        "max": round(values[-1], 3),
        "count": len(values),
    }


def search_queries(
    lines: int, rooms: int, count: int, seed: int
) -> dict[str, list[str]]:
    """
    The searches timed over the filled history, C{count} of each kind, chosen
    with a fixed C{seed} among the fill's lines (L{TEXT}, numbered from 1):

      - C{rare}: one line's number, a word found once in all rooms;
      - C{prefix}: the first six digits of a number and C{*}, a prefix
        found in a hundred lines;
      - C{room}: C{padding}, in every line, in one room (C{#rN padding});
      - C{common}: C{padding} and C{fill}, in every line of every room, so
        the newest page of a million matches.
    """
    pick = random.Random(seed)
    numbers = [pick.randint(1, lines) for _ in range(2 * count)]
    return {
        "rare": [f"/search {n:08d}" for n in numbers[:count]],
        "prefix": [f"/search {n // 100:06d}*" for n in numbers[count:]],
        "room": [f"/search #r{pick.randrange(rooms)} padding" for _ in range(count)],
        "common": ["/search padding fill"] * count,
    }


async def _searches(
    port: int, lines: int, rooms: int, count: int, seed: int
) -> Metrics:
    """
    One client joins every room (a search looks in the rooms one is in),
    then times each of L{search_queries}, from its command to the C{End of
    search} line (C{No more results} when nothing is found): p50, p95, p99
    by kind and over all, and how many searches found nothing
    (C{foundNothing}: each looks for a line the fill sent, so the store
    lost some).
    """
    client = await _connect(port, "seeker")
    for first in range(0, rooms, 100):
        client.write(
            "".join(
                f"/join #r{r}\n" for r in range(first, min(rooms, first + 100))
            ).encode()
        )
        synced = client.expect(b"no such user: " + SYNC)
        client.write(b"/msg " + SYNC + b" x\n")
        await asyncio.wait_for(synced, 120)
    times: dict[str, list[float]] = {}
    empty: dict[str, list[str]] = {}
    for kind, queries in search_queries(lines, rooms, count, seed).items():
        times[kind] = []
        empty[kind] = []
        for query in queries:
            # A search that finds nothing ends with "No more results":
            # taken for no answer, it hung the benchmark (issue 24).
            done = client.expect(b"=== End of search", b"=== No more results")
            t = time.perf_counter()
            client.write(query.encode() + b"\n")
            try:
                await asyncio.wait_for(done, 60)
            except TimeoutError:
                raise RuntimeError(
                    f"no end of search for {query!r} in 60 s"
                    f" (errors: {client.errors[-3:]})"
                ) from None
            times[kind].append((time.perf_counter() - t) * 1000)
            if client.last.startswith(b"=== No more results"):
                empty[kind].append(query)
    assert client.transport is not None
    client.transport.close()
    out: Metrics = {kind: _stats(values) for kind, values in times.items()}
    out["all"] = _stats([v for values in times.values() for v in values])
    # Every query is of a line the fill sent: one found nothing only if
    # the store lost lines.
    out["foundNothing"] = sum(len(queries) for queries in empty.values())
    out["foundNothingSamples"] = [q for queries in empty.values() for q in queries][:3]
    out["errors"] = len(client.errors)
    out["errorSamples"] = client.errors[:3]
    return out


async def _paced_fill(
    port: int, rooms: int, rate: int, seconds: float, start: int
) -> Metrics:
    """
    L{FILLERS} connections send C{rate} lines a second in all into the
    fill's rooms for C{seconds}, every 10 ms their share, then one line to
    the room C{#busyend} that nothing else is said in.

    @return: How many lines were sent, and at what rate they were sent.
    """
    clients = [await _connect(port, f"busy{i}") for i in range(FILLERS)]
    tick = 0.01
    perTick = max(1, round(rate * tick / FILLERS))
    n = start
    t0 = time.monotonic()
    ticks = 0
    while time.monotonic() - t0 < seconds:
        for index, client in enumerate(clients):
            room = (ticks * FILLERS + index) % rooms
            chunk = [f"/join #r{room}\n"]
            for _ in range(perTick):
                n += 1
                chunk.append(TEXT.format(n=n) + "\n")
            client.write("".join(chunk).encode())
        ticks += 1
        # Keep to the schedule: behind it, send the next tick at once.
        await asyncio.sleep(max(0.0, t0 + ticks * tick - time.monotonic()))
    sent = time.monotonic() - t0
    clients[0].write(b"/join #busyend\nthe last line of the busy fill\n")
    for client in clients:
        done = client.expect(b"no such user: " + SYNC)
        client.write(b"/msg " + SYNC + b" x\n")
        await asyncio.wait_for(done, 600)
    answered = time.monotonic() - t0
    for client in clients:
        assert client.transport is not None
        client.transport.close()
    return {
        "lines": n - start,
        "sentSeconds": round(sent, 2),
        "answeredSeconds": round(answered, 2),
        "sentPerSecond": round((n - start) / sent),
        "answeredPerSecond": round((n - start) / answered),
        "errors": sum(len(c.errors) for c in clients),
        "t0": t0,
    }


def _busy_kept(path: str, t0: float, timeout: float = 600) -> float:
    """
    @return: Seconds from C{t0} until the SQLite file at C{path} holds the
        busy fill's last line (the only line of C{#busyend}).
    """
    while time.monotonic() - t0 < timeout:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = connection.execute(
                "SELECT 1 FROM history WHERE room_key = '#busyend' LIMIT 1"
            ).fetchone()
        except sqlite3.OperationalError:
            row = None
        finally:
            connection.close()
        if row is not None:
            return time.monotonic() - t0
        time.sleep(0.02)
    raise RuntimeError(f"{path} did not get the busy fill's last line in {timeout} s")


def _load(
    server: Server,
    lag: str,
    users: int,
    seconds: float,
    *,
    rate: float = 200.0,
    meanwhile: Callable[[], Metrics] | None = None,
) -> Metrics:
    """
    C{users} users of the compiled generator in the default room, 2 of them
    sending C{rate} lines a second each for C{seconds}: delivery latency,
    the server's CPU and the reactor's longest stall.

    @param meanwhile: Run while they send (after the generator is told to
        go); what it returns is the result's C{fill}.
    """
    from bench.cloadgen import CLoad
    from bench.run import CHECK_EVERY, COUNTING_RCVLOWAT

    load = CLoad(
        server.port,
        users,
        2,
        {"duration": seconds, "rate": rate, "window": 0},
        drainTimeout=15 if meanwhile is None else 30,
        checkEvery=CHECK_EVERY,
        rcvlowat=COUNTING_RCVLOWAT,
    )
    extra: Metrics = {}
    try:
        load.settled()
        cpu0, t0 = server.cpu(), time.monotonic()
        load.go()
        if meanwhile is not None:
            extra["fill"] = meanwhile()
        drained = load.result()
        t1 = time.monotonic()
        cpu = server.cpu() - cpu0
    finally:
        load.close()
    stalls = read(lag, t0, t1)
    return {
        **extra,
        "users": users,
        "deliveries": drained["delivered"],
        "expected": drained["expected"],
        "lost": drained["lost"],
        "p50": drained["p50"],
        "p99": drained["p99"],
        "max": drained["max"],
        "serverCpu": round(cpu / (t1 - t0), 2),
        "maxStallMs": round(float(stalls["maxStallMs"] or 0), 2),
        "longestGcMs": stalls["longestGcMs"],
        "longestGcGeneration": stalls["longestGcGeneration"],
        "stalls10ms": stalls["stalls10ms"],
    }


def _busy(
    server: Server,
    lag: str,
    options: argparse.Namespace,
    sqlitePath: str | None,
) -> Metrics:
    """
    The fill and the load at once: L{_load} with its 2 senders at
    C{--busy-probe} lines a second each (the latency probe), while
    L{_paced_fill} sends C{--busy-rate} lines a second into the fill's rooms
    for C{--seconds}.  For SQLite, the lines are kept when the file holds
    the fill's last line.
    """

    def fill() -> Metrics:
        return asyncio.run(
            _paced_fill(
                server.port,
                options.rooms,
                options.busy_rate,
                options.seconds,
                options.lines + 1_000_000,
            )
        )

    out = _load(
        server,
        lag,
        options.users,
        options.seconds,
        rate=options.busy_probe,
        meanwhile=fill,
    )
    filled: Metrics = out["fill"]
    fillStarted = filled.pop("t0")
    if sqlitePath is not None:
        kept = _busy_kept(sqlitePath, fillStarted)
        filled["keptSeconds"] = round(kept, 2)
        filled["keptPerSecond"] = round(filled["lines"] / kept)
    return out


def _size_mb(path: str) -> float:
    return round(
        sum(f.stat().st_size for f in Path(path).parent.glob(Path(path).name + "*"))
        / 1e6,
        1,
    )


def _options(store: str, path: str, options: argparse.Namespace) -> tuple[str, ...]:
    spec = f"sqlite:{path}" if store == "sqlite" else store
    return (
        "--history",
        spec,
        "--history-memory",
        str(MEMORY_BOUND),
        "--max-rooms",
        str(max(1000, options.rooms + 10)),
        "--max-rooms-per-user",
        str(options.rooms + 10),
        "--max-buffer",
        str(16 << 20),
    )


def one_store(store: str, options: argparse.Namespace, tmp: str) -> Metrics:
    """
    Fill, page, load (and for SQLite, trim) one store in a fresh server.
    """
    path = f"{tmp}/history.sqlite"
    lag = f"{tmp}/lag-{store}.txt"
    env = {"LAGSERVER_FULL_GC": str(FULL_GC_EVERY)}
    out: Metrics = {"loadBefore": float(Path("/proc/loadavg").read_text().split()[0])}
    server = Server("ours", _options(store, path, options), env=env, lagFile=lag)
    try:
        out["fill"] = asyncio.run(
            _fill(
                server.port,
                options.lines,
                options.rooms,
                path if store == "sqlite" else None,
            )
        )
        out["rssAfterFillMB"] = round(server.memory()[0], 1)
        if store != "none":
            out["pages"] = asyncio.run(
                _pages(server.port, options.rooms, options.page_rooms, seed=24)
            )
            if options.searches:
                out["search"] = asyncio.run(
                    _searches(
                        server.port,
                        options.lines,
                        options.rooms,
                        options.searches,
                        seed=24,
                    )
                )
        if options.users:
            out["load"] = _load(server, lag, options.users, options.seconds)
            if options.busy_rate:
                out["busy"] = _busy(
                    server, lag, options, path if store == "sqlite" else None
                )
    finally:
        server.stop()
    if store == "sqlite":
        out["fileMB"] = _size_mb(path)
        out["trim"] = _trim(path, lag, options)
    return out


def _trim(path: str, lag: str, options: argparse.Namespace) -> Metrics:
    """
    Restart on the filled file with C{--history-max} L{TRIM_TO}: the first
    trim deletes all but that many lines of each room.
    """
    before = _size_mb(path)
    keep = min(TRIM_TO, options.lines // options.rooms // 10)
    extra = (*_options("sqlite", path, options), "--history-max", str(keep))
    # What the rooms keep: the fill's, the default room where the load
    # talked, and the busy fill's last room.
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        (expected,) = connection.execute(
            "SELECT sum(min(n, ?)) FROM"
            " (SELECT count(*) AS n FROM history GROUP BY room_key)",
            (keep,),
        ).fetchone()
    finally:
        connection.close()
    server = Server("ours", extra, lagFile=lag)
    try:
        t0 = time.monotonic()
        started = _started(server, t0)
        while True:
            # A new connection each time: one kept open could go on reading
            # the file as it was.
            connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                (count,) = connection.execute("SELECT count(*) FROM history").fetchone()
            finally:
                connection.close()
            if count <= expected:
                break
            if time.monotonic() - t0 > 600:
                raise RuntimeError(f"{count} lines left after 600 s")
            time.sleep(0.2)
        deleted = time.monotonic() - t0
        # The compaction and checkpoint follow the last delete.
        wal = Path(f"{path}-wal")
        emptied = True
        while wal.exists() and wal.stat().st_size:
            if time.monotonic() - deleted - t0 > 30:
                # A store that never empties its log (main's, before issue 24).
                emptied = False
                break
            time.sleep(0.2)
        t1 = time.monotonic()
        # The stalls of start-up (its gc.collect() before gc.freeze(), 10 ms
        # or so) are every start's, not the trim's, which runs meanwhile.
        stalls = read(lag, started, t1)
        startUp = read(lag, t0, started)
    finally:
        server.stop()
    return {
        "keep": keep,
        "linesBefore": options.lines,
        "linesAfter": expected,
        "deleteSeconds": round(deleted, 2),
        "logEmptied": emptied,
        "seconds": round(t1 - t0, 2),
        "maxStallMs": round(float(stalls["maxStallMs"] or 0), 2),
        "maxStallAt": stalls["maxStallAt"],
        "longestGcMs": stalls["longestGcMs"],
        "startUpSeconds": round(started - t0, 2),
        "startUpMaxStallMs": round(float(startUp["maxStallMs"] or 0), 2),
        "stalls10ms": stalls["stalls10ms"],
        "fileMBBefore": before,
        "fileMBAfter": _size_mb(path),
    }


def _started(server: Server, t0: float, timeout: float = 30) -> float:
    """
    @return: A monotonic time just after C{server} logged that it froze
        what it made to start (L{chatserver.tuning.gcfreeze}): its start-up
        is over.
    """
    log = Path(server.log.name)
    while time.monotonic() - t0 < timeout:
        if b"objects made at start frozen" in log.read_bytes():
            # The probe's record of the freeze's stall comes right after.
            time.sleep(0.05)
            return time.monotonic()
        time.sleep(0.01)
    raise RuntimeError(f"the server did not finish starting in {timeout} s")


def memory_trim(lines: int, rooms: int) -> Metrics:
    """
    In this process: a memory store of C{lines} lines in C{rooms} rooms, all
    grown too old, and its trim, timed step by step (each step is one turn
    of the reactor; main's trim is one step).
    """
    from twisted.internet.task import Clock

    from chatserver.history.memory import MemoryHistory

    clock = Clock()
    store = MemoryHistory(
        maxPerRoom=lines, keepSeconds=10, clock=clock, maxBytes=1 << 40
    )
    names = [f"#r{r}" for r in range(rooms)]
    for n in range(lines):
        room = names[n % rooms]
        store.append(
            room,
            room=room,
            kind="message",
            sender="fill",
            text=TEXT.format(n=n),
            time=0,
        )
    clock.advance(20)
    gc.collect()
    # Each step timed in wall time and in this process's CPU time: on a
    # shared machine the first also counts the moments the process was not
    # running at all.
    steps: list[float] = []
    cpu: list[float] = []
    t, c = time.perf_counter(), time.process_time()
    store.trim()
    steps.append(time.perf_counter() - t)
    cpu.append(time.process_time() - c)
    # One call at a time, as the reactor would run them in turn (Clock's
    # advance would run a call scheduled by a call due in the same go).
    while clock.calls:
        call = clock.calls.pop(0)
        t, c = time.perf_counter(), time.process_time()
        call.func(*call.args, **call.kw)
        steps.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    steps.sort()
    return {
        "lines": lines,
        "steps": len(steps),
        "longestStepMs": round(steps[-1] * 1000, 2),
        "p99StepMs": round(steps[int(0.99 * len(steps))] * 1000, 2),
        "longestStepCpuMs": round(max(cpu) * 1000, 2),
        "totalMs": round(sum(steps) * 1000, 1),
        "roomsLeft": store.roomCount(),
    }


def sqlite_rate(lines: int, rooms: int, path: str) -> Metrics:
    """
    In this process, with the real reactor (so: once per process): an
    SQLite store on a new file at C{path}, C{lines} lines in C{rooms} rooms
    appended 1,000 to a turn of the reactor, and the time until the file
    holds them all: the store's own rate, without a server in front (and
    how many the file holds: fewer if the store dropped some).
    """
    from twisted.internet import reactor
    from twisted.internet.task import cooperate

    from chatserver.history.sqlite import SQLiteHistory

    store = SQLiteHistory(path)
    store.check()
    names = [f"#r{r}" for r in range(rooms)]
    out: Metrics = {}

    def append() -> Any:
        n = 0
        while n < lines:
            for _ in range(min(1000, lines - n)):
                room = names[n % rooms]
                n += 1
                store.append(
                    room,
                    room=room,
                    kind="message",
                    sender="fill",
                    text=TEXT.format(n=n),
                    time=time.time(),
                )
            yield None

    async def run() -> None:
        await store.start()
        t0 = time.monotonic()
        await cooperate(append()).whenDone()
        out["appendSeconds"] = round(time.monotonic() - t0, 2)
        await store.stop()
        kept = time.monotonic() - t0
        out["keptSeconds"] = round(kept, 2)
        out["linesPerSecond"] = round(lines / kept)
        # Fewer than appended if the store fell behind by more than its
        # backlog and dropped some.
        connection = sqlite3.connect(path)
        try:
            (out["linesInFile"],) = connection.execute(
                "SELECT count(*) FROM history"
            ).fetchone()
        finally:
            connection.close()

    def done(result: object) -> None:
        reactor.stop()

    reactor.callWhenRunning(lambda: Deferred.fromCoroutine(run()).addBoth(done))
    reactor.run()
    out["lines"] = lines
    return out


def _sqlite_rate_elsewhere(source: str, lines: int, rooms: int, tmp: str) -> Metrics:
    """
    L{sqlite_rate} in a process of its own (see L{_memory_trim_elsewhere}).
    """
    return _elsewhere(
        source, f"sqlite_rate({lines}, {rooms}, {f'{tmp}/rate.sqlite'!r})"
    )


def _median(values: list[Any]) -> float | None:
    present = sorted(v for v in values if v is not None)
    if not present:
        return None
    middle = len(present) // 2
    if len(present) % 2:
        return float(present[middle])
    return float(present[middle - 1] + present[middle]) / 2


def _get(metrics: Metrics, *path: str) -> Any:
    for key in path:
        if not isinstance(metrics, dict) or key not in metrics:
            return None
        metrics = metrics[key]
    return metrics


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "n/a"
    if (isinstance(value, float) and digits == 0) or isinstance(value, int):
        return f"{round(value):,}"
    return f"{value:,.{digits}f}"


ROWS: list[tuple[str, tuple[str, ...], int]] = [
    ("lines kept per second (fill)", ("fill", "linesPerSecond"), 0),
    ("lines in the SQLite file after the fill", ("fill", "linesInFile"), 0),
    ("fill: seconds until kept", ("fill", "keptSeconds"), 2),
    ("fill: seconds until the server answered", ("fill", "answeredSeconds"), 2),
    ("server RSS after the fill (MB)", ("rssAfterFillMB",), 1),
    ("replay on join p50 (ms)", ("pages", "replay", "p50"), 3),
    ("replay on join p99 (ms)", ("pages", "replay", "p99"), 3),
    ("/history page p50 (ms)", ("pages", "page", "p50"), 3),
    ("/history page p99 (ms)", ("pages", "page", "p99"), 3),
    ("replay and pages p99 (ms)", ("pages", "all", "p99"), 3),
    ("replay and pages max (ms)", ("pages", "all", "max"), 3),
    ("load: delivery latency p50 (ms)", ("load", "p50"), 2),
    ("load: delivery latency p99 (ms)", ("load", "p99"), 2),
    ("load: lost deliveries", ("load", "lost"), 0),
    ("load: server CPU (cores)", ("load", "serverCpu"), 2),
    ("load: longest reactor stall (ms)", ("load", "maxStallMs"), 2),
    ("load: longest garbage collection (ms)", ("load", "longestGcMs"), 2),
    ("load: stalls of 10 ms or more", ("load", "stalls10ms"), 0),
    ("search: a rare word, p95 (ms)", ("search", "rare", "p95"), 2),
    ("search: a prefix of 100 lines, p95 (ms)", ("search", "prefix", "p95"), 2),
    ("search: a word in all of one room, p95 (ms)", ("search", "room", "p95"), 2),
    ("search: words in every line, p95 (ms)", ("search", "common", "p95"), 2),
    ("search: all kinds, p95 (ms)", ("search", "all", "p95"), 2),
    ("search: all kinds, max (ms)", ("search", "all", "max"), 2),
    ("search: found nothing (lines lost)", ("search", "foundNothing"), 0),
    ("busy: lines sent per second", ("busy", "fill", "sentPerSecond"), 0),
    ("busy: lines kept per second (SQLite)", ("busy", "fill", "keptPerSecond"), 0),
    ("busy: delivery latency p50 (ms)", ("busy", "p50"), 2),
    ("busy: delivery latency p99 (ms)", ("busy", "p99"), 2),
    ("busy: lost deliveries", ("busy", "lost"), 0),
    ("busy: server CPU (cores)", ("busy", "serverCpu"), 2),
    ("busy: longest reactor stall (ms)", ("busy", "maxStallMs"), 2),
    ("busy: longest garbage collection (ms)", ("busy", "longestGcMs"), 2),
]


def _ratio(runs: list[Metrics], store: str, key: tuple[str, ...]) -> list[float]:
    out = []
    for run in runs:
        a, b = _get(run, store, *key), _get(run, "none", *key)
        if a is not None and b:
            out.append(a / b)
    return out


def section(document: Metrics) -> str:
    """
    @return: The section L{HEADING} of C{RESULTS.md}.
    """
    runs: list[Metrics] = document["runs"]
    o = document["options"]
    stores = [s for s in STORES if any(s in run for run in runs)]
    lines = [
        HEADING,
        "",
        f"Written by `{document['command']}` (started {document['started']}, "
        f"{document['seconds']} s in all), chatserver {document['code']}.  "
        f"Medians over {len(runs)} runs; ratios within each run, then the "
        "median.",
        "",
        f"**Machine:** {document['machine']}; load average (1 min) before "
        "each store, per run: "
        + "; ".join(
            "/".join(_fmt(run[s].get("loadBefore"), 1) for s in stores if s in run)
            for run in runs
        )
        + ".  Other engineers' tests and benchmarks shared the 2 cores"
        + (
            f"; this benchmark and the servers it started ran at nice "
            f"{document['nice']} (`nice -n {document['nice']}`), below them, so "
            "absolute figures are low and noisy: read the ratios within a run."
            if document.get("nice")
            else "."
        ),
        "",
        f"**Set-up:** each store in a fresh `twistd -n chat` under "
        f"`bench/lagserver.py` (a full collection forced every "
        f"{FULL_GC_EVERY:g} s).  Fill: {FILLERS} connections send "
        f"{o['lines']:,} lines into {o['rooms']:,} rooms ({BURST} lines to a "
        "room at a time), as fast as the server reads them; *kept* is when "
        "the SQLite file holds the last line (read from a connection of our "
        "own), or for the others when the server has answered a command "
        "sent after each connection's last line.  Pages: one client joins "
        f"{o['page_rooms']} rooms (fixed seed) and times the replay on "
        f"joining (20 lines) and {PAGES} `/history` pages of 20 going back, "
        "from its command to the `End of history` line.  Load: "
        f"{o['users']:,} users of the compiled generator in `#lobby`, 2 "
        f"sending 200 lines/s each for {o['seconds']:g} s (issue 15's scale "
        "scenario) on the filled server; the stall is the longest the "
        "reactor ran nothing else while they sent.  Search: one client in "
        f"every room times {o.get('searches', 0)} searches of each kind "
        "(`bench.history.search_queries`: a rare word, a prefix found in 100 "
        "lines, a word in every line of one room, words in every line of "
        "every room), from its command to the `End of search` line.  Busy: "
        f"the load again, its 2 senders at {o.get('busy_probe', 0):g} lines/s "
        f"each, while {FILLERS} connections send {o.get('busy_rate', 0):,} "
        "lines/s into the rooms; *kept* is when the SQLite file holds the "
        "last of them.",
        "",
        "| | " + " | ".join(f"`--history {s}`" for s in stores) + " |",
        "|---|" + "---:|" * len(stores),
    ]
    for title, key, digits in ROWS:
        cells = []
        for s in stores:
            values = [_get(run, s, *key) for run in runs]
            cells.append(_fmt(_median(values), digits))
        lines.append(f"| {title} | " + " | ".join(cells) + " |")
    lines.append("")
    for s in stores:
        if s == "none":
            continue
        ratios = {
            "load p99": _ratio(runs, s, ("load", "p99")),
            "busy p99": _ratio(runs, s, ("busy", "p99")),
            "fill rate": _ratio(runs, s, ("fill", "linesPerSecond")),
        }
        lines.append(
            f"- `{s}` against `none`, same run: "
            + "; ".join(
                f"{name} "
                + (
                    f"{_median(values):.2f}x (per run "
                    f"{', '.join(f'{v:.2f}' for v in values)})"
                    if values
                    else "n/a"
                )
                for name, values in ratios.items()
            )
            + "."
        )
    # Each with the lines the file held after the fill (the load's lines
    # in the default room come on top).
    trims: list[tuple[Metrics, Any]] = [
        (t, _get(run, "sqlite", "fill", "linesInFile"))
        for run in runs
        if (t := _get(run, "sqlite", "trim"))
    ]
    if trims:
        lines += [
            "",
            f"**SQLite retention:** restarted on the filled file with "
            f"`--history-max {trims[0][0]['keep']}` (all but {trims[0][0]['keep']} "
            "lines of each room "
            "to delete, in batches of 500 with a 50 ms pause after each, then "
            "the freed pages given back and the log emptied): "
            + "; ".join(
                f"from {_fmt(f)} lines to {t['linesAfter']:,} in "
                f"{t['deleteSeconds']:g} s, done with compaction in {t['seconds']:g} "
                f"s, longest stall {t['maxStallMs']:g} ms"
                + (
                    f" ({t['maxStallAt']:g} s after start-up; start-up's own "
                    f"{t['startUpMaxStallMs']:g} ms left out)"
                    if t.get("maxStallAt") is not None and "startUpMaxStallMs" in t
                    else ""
                )
                + ", file and log "
                f"{t['fileMBBefore']:g} MB -> {t['fileMBAfter']:g} MB"
                + ("" if t.get("logEmptied", True) else " (log not emptied)")
                for t, f in trims
            )
            + ".",
        ]
    rates: list[Metrics] = [run["sqliteRate"] for run in runs if run.get("sqliteRate")]
    if rates:
        lines += [
            "",
            "**The SQLite store alone** (`bench.history.sqlite_rate`, in a "
            "process of its own: the store on a new file, the lines appended "
            "1,000 to a turn of the reactor, until the file holds them all, "
            "no server in front): "
            + _fmt(_median([r["linesPerSecond"] for r in rates]), 0)
            + " lines kept per second (median; per run "
            + ", ".join(_fmt(r["linesPerSecond"], 0) for r in rates)
            + ").",
        ]
    mem: list[Metrics] = [run["memoryTrim"] for run in runs if run.get("memoryTrim")]
    if mem:
        lines += [
            "",
            "**Memory retention** (in the benchmark's process, `bench.history."
            f"memory_trim`): {mem[0]['lines']:,} lines all grown too old, "
            "trimmed; the longest step is the longest the reactor would "
            "stop: "
            + "; ".join(
                f"{m['steps']:,} steps, longest {m['longestStepMs']:g} ms "
                f"({m.get('longestStepCpuMs', 'n/a')} ms of CPU; p99 "
                f"{m.get('p99StepMs', 'n/a')} ms), {m['totalMs']:g} ms in all"
                for m in mem
            )
            + ".",
        ]
    failures = [
        f"run {i + 1} {s}: {run[s]['failure']}"
        for i, run in enumerate(runs)
        for s in run
        if isinstance(run[s], dict) and "failure" in run[s]
    ]
    if failures:
        lines += ["", "**Failures:** " + "; ".join(failures)]
    lines += ["", 'The analysis is in the notes below ("History at a million lines").']
    return "\n".join(lines)


def write_section(document: Metrics, path: Path) -> None:
    """
    Put L{section} into C{path} (C{RESULTS.md}).
    """
    put_section(path, HEADING, section(document))


def _memory_trim_elsewhere(source: str, lines: int, rooms: int) -> Metrics:
    """
    L{memory_trim} in a process of its own, with C{source} (a checkout) first
    on its path, or the installed package if empty.
    """
    return _elsewhere(source, f"memory_trim({lines}, {rooms})")


def _elsewhere(source: str, call: str) -> Metrics:
    """
    Run C{call} (of this module) in a process of its own, with C{source} (a
    checkout) first on its path, or the installed package if empty.
    """
    env = {**os.environ}
    if source:
        env["PYTHONPATH"] = os.pathsep.join([source, str(ROOT)])
    else:
        env["PYTHONPATH"] = str(ROOT)
    code = (
        "import json, sys; sys.path[:] = [p for p in sys.path if p != ''];"
        "from bench.history import memory_trim, sqlite_rate;"
        f"print(json.dumps({call}))"
    )
    done = subprocess.run(
        [PYTHON, "-c", code],
        env=env,
        cwd="/",
        capture_output=True,
        text=True,
        check=True,
    )
    result: Metrics = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Run the history benchmark.")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--stores", default=",".join(STORES))
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--rooms", type=int, default=1000)
    parser.add_argument("--page-rooms", type=int, default=200)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument(
        "--searches",
        type=int,
        default=50,
        help="searches of each kind timed over the filled history (0: none)",
    )
    parser.add_argument(
        "--busy-rate",
        type=int,
        default=20_000,
        help="lines a second sent into the rooms while the load runs again "
        "(0: no such phase)",
    )
    parser.add_argument(
        "--busy-probe",
        type=float,
        default=20.0,
        help="lines a second each of the load's 2 senders sends meanwhile",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="the tests' smoke size: 1 run, 5,000 lines in 50 rooms, 20 "
        "rooms paged, 20 users for 1 s; nothing written but --out",
    )
    parser.add_argument(
        "--chatserver",
        metavar="REVISION",
        default="",
        help="run our server from this git revision (exported to a temporary "
        "directory) instead of the installed package",
    )
    parser.add_argument("--out", default=str(BENCH / "history.json"))
    parser.add_argument("--no-report", action="store_true")
    parser.add_argument(
        "--memory-trim-only",
        action="store_true",
        help="only measure the memory store's trim again, into --out's runs",
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="only rewrite the section of RESULTS.md from --out's results",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    options = parser.parse_args(argv)
    if options.report_only:
        write_section(json.loads(Path(options.out).read_text()), BENCH / "RESULTS.md")
        return 0
    if options.memory_trim_only:
        done: Metrics = json.loads(Path(options.out).read_text())
        o = done["options"]
        for i, run in enumerate(done["runs"]):
            run["memoryTrim"] = _memory_trim_elsewhere("", o["lines"], o["rooms"])
            print(f"run {i + 1} memory trim: {run['memoryTrim']}", flush=True)
        done["command"] += (
            "`, then `.venv/bin/python -m bench.history --memory-trim-only"
        )
        Path(options.out).write_text(json.dumps(done, indent=1) + "\n")
        return 0
    if options.quick:
        options.runs, options.lines, options.rooms = 1, 5000, 50
        options.page_rooms, options.users, options.seconds = 20, 20, 1.0
        options.searches, options.busy_rate = 3, 2000
        options.no_report = True
    stores = options.stores.split(",")
    unknown = [s for s in stores if s not in STORES]
    if unknown:
        parser.error(f"unknown stores: {', '.join(unknown)}")
    import bench.run

    code = "installed from git revision " + _revision("HEAD")
    source = ""
    if options.chatserver:
        from bench.profile import checkout

        source = bench.run.SOURCE = checkout(options.chatserver)
        code = f"from git revision {_revision(options.chatserver)}"
    raise_fd_limit(10_000)
    started = time.time()
    runs = [_one_run(run, stores, options, source) for run in range(options.runs)]
    document: Metrics = {
        "machine": machine(),
        "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started)),
        "seconds": round(time.time() - started),
        "nice": os.nice(0),
        "command": ".venv/bin/python -m bench.history "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "code": code,
        "options": vars(options),
        "runs": runs,
    }
    Path(options.out).write_text(json.dumps(document, indent=1) + "\n")
    if not options.no_report:
        write_section(document, BENCH / "RESULTS.md")
    print(section(document))
    failed = any("failure" in r for run in runs for r in run.values())
    return 1 if failed else 0


def _one_run(
    run: int, stores: list[str], options: argparse.Namespace, source: str
) -> Metrics:
    """
    One run: each store in its own server, then the stores' own measures.
    """
    results: Metrics = {}
    for store in stores:
        t = time.monotonic()
        tmp = tempfile.mkdtemp(prefix="bench-history-")
        load = float(Path("/proc/loadavg").read_text().split()[0])
        try:
            metrics = one_store(store, options, tmp)
        except Exception as e:  # a failed store is a result too
            metrics = {"failure": f"{type(e).__name__}: {e}", "loadBefore": load}
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        results[store] = metrics
        print(
            f"run {run + 1} {store} ({time.monotonic() - t:.0f}s): "
            f"{json.dumps(metrics)}",
            flush=True,
        )
    if "memory" in stores:
        results["memoryTrim"] = _memory_trim_elsewhere(
            source, options.lines, options.rooms
        )
        print(f"run {run + 1} memory trim: {results['memoryTrim']}", flush=True)
    if "sqlite" in stores:
        tmp = tempfile.mkdtemp(prefix="bench-history-")
        try:
            results["sqliteRate"] = _sqlite_rate_elsewhere(
                source, options.lines, options.rooms, tmp
            )
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        print(f"run {run + 1} sqlite rate: {results['sqliteRate']}", flush=True)
    return results


def _revision(name: str) -> str:
    return (
        subprocess.run(
            ["git", "rev-parse", "--short", name],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        or "unknown"
    )


if __name__ == "__main__":
    raise SystemExit(main())
