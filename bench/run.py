"""
Run every benchmark scenario against our server and the two baselines, in
the same run, several times, and write C{bench/RESULTS.md} and
C{bench/results.json}.

    .venv/bin/python -m bench.run            # 3 runs of everything
    .venv/bin/python -m bench.run --runs 1 --scenarios fanout,slow
    .venv/bin/python -m bench.run --scenarios rooms,history --servers ours

Each scenario starts a fresh server process (so peak RSS is the scenario's
own), drives it with L{bench.loadgen.Load} in two worker processes, reads the
server's CPU time and memory from C{/proc}, and kills the server by its PID.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.loadgen import Load, merge

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PYTHON = str(ROOT / ".venv" / "bin" / "python")
TWISTD = str(ROOT / ".venv" / "bin" / "twistd")
TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
SERVERS = ("ours", "naive", "threaded")
# Servers that run only when --servers names them: "c" is the C epoll
# reference server (bench/baselines/cepoll.c), built with the system C
# compiler when first started.
OPTIONAL = ("c",)
SCENARIOS = ("fanout", "scale", "idle", "slow", "storm", "rooms", "history")
# Scenarios run only when --scenarios names them: idle19k is 19,000 idle
# logged-in connections to one server (issue 15).
OPTIONAL_SCENARIOS = ("idle19k",)
# The scenarios the compiled load generator can run (--loadgen c), and the
# one it runs them with unless told otherwise.
C_SCENARIOS = ("fanout", "scale")
LOADGEN = "c"
# Scenarios only some servers run: rooms and history stores only ours; 19,000
# connections ours and the C server (the others take minutes to get there).
ONLY = {"rooms": ("ours",), "history": ("ours",), "idle19k": ("ours", "c")}
# A directory holding the chatserver package to run instead of the installed
# one (--chatserver), put first on the server's PYTHONPATH.
SOURCE = ""
Metrics = dict[str, Any]


def raise_fd_limit(wanted: int = 100_000) -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, wanted))
            return
        except (ValueError, OSError):
            wanted = hard
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


class Server:
    """
    One server process under test, started on a free port of 127.0.0.1.
    """

    def __init__(
        self,
        kind: str,
        extra: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
        lagFile: str = "",
        tls: str = "",
    ) -> None:
        """
        @param lagFile: For ours: run it under L{bench.lagserver}, which
            records reactor stalls in this file.
        @param tls: For ours and c: a PEM file (private key and certificate)
            to listen with TLS instead of plain TCP.
        """
        self.kind = kind
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115
            prefix=f"bench-{kind}-", suffix=".log", delete=False
        )
        if kind == "ours":
            command = [
                TWISTD,
                "-n",
                "--pidfile=",
                "chat",
                "--port",
                f"ssl:0:interface=127.0.0.1:backlog=4096:privateKey={tls}"
                if tls
                else "tcp:0:interface=127.0.0.1:backlog=4096",
                "--rate",
                "0",
                "--max-clients",
                "20000",
                "--login-timeout",
                "0",
                *extra,
            ]
            if lagFile:
                command[:4] = [PYTHON, "-m", "bench.lagserver", lagFile]
            pattern = re.compile(rb"listening on 127\.0\.0\.1:(\d+)")
        elif kind == "c":
            from bench.baselines.cbuild import build

            command = [str(build()), "0", *([tls] if tls else [])]
            pattern = re.compile(rb"listening on 127\.0\.0\.1:(\d+)")
        else:
            command = [PYTHON, "-m", f"bench.baselines.{kind}"]
            pattern = re.compile(rb"listening on 127\.0\.0\.1:(\d+)")
        env = {**(env or {})}
        if kind == "ours" and SOURCE and "PYTHONPATH" not in env:
            env["PYTHONPATH"] = SOURCE
        self.proc = subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
        )
        self.pid = self.proc.pid
        deadline = time.monotonic() + 20
        while True:
            match = pattern.search(Path(self.log.name).read_bytes())
            if match:
                self.port = int(match[1])
                break
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"{kind} did not start: {Path(self.log.name).read_text()}"
                )
            time.sleep(0.05)

    def cpu(self) -> float:
        """
        @return: User plus system CPU seconds the server has used.
        """
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK

    def memory(self) -> tuple[float, float]:
        """
        @return: Resident and peak resident memory, in MB.
        """
        status = Path(f"/proc/{self.pid}/status").read_text()
        rss = int(re.search(r"VmRSS:\s+(\d+)", status)[1])  # type: ignore[index]
        hwm = int(re.search(r"VmHWM:\s+(\d+)", status)[1])  # type: ignore[index]
        return rss / 1024, hwm / 1024

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.log.close()
        os.unlink(self.log.name)


def busy() -> float:
    """
    @return: CPU ticks the whole machine has spent busy (not idle), for
        seeing whether something else ran during a scenario.
    """
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    return sum(fields) - fields[3] - fields[4]


def roster(clients: int, senders: int, role: str = "receiver") -> list[tuple[str, str]]:
    spec = [(f"s{i}", "sender") for i in range(senders)]
    spec += [(f"u{i}", role) for i in range(clients - senders)]
    return spec


def traffic(
    server: Server,
    spec: list[tuple[str, str]],
    send: dict[str, Any],
    drain_timeout: float,
    *,
    sample: bool = False,
    rooms: dict[str, tuple[str, ...]] | None = None,
    settle_timeout: float = 60,
    quiet: bool = False,
    measuring: Callable[[], None] | None = None,
) -> Metrics:
    """
    Log C{spec} in, have each client join its C{rooms} (if any), send for a
    while, drain, and measure the send and drain phases.

    @param quiet: Before measuring, wait until the clients have read
        everything the logins and joins made (notices) and the server is
        idle, so that none of that work is counted.
    @param measuring: Called just before the measured part (to start a
        profiler, say).
    """
    load = Load(server.port, spec, workers=2, rooms=rooms)
    samples: list[tuple[float, float]] = []
    joins: list[dict[str, Any]] = []
    try:
        t = time.monotonic()
        logins = load.call("login", {"concurrency": 500, "timeout": 60})
        settles = load.call("settle", {"timeout": settle_timeout})
        settleSeconds = time.monotonic() - t
        if rooms:
            joins = load.call("join", {"timeout": 120})
        if quiet:
            load.call("quiet", {"idle": 0.5, "timeout": 60})
            wait_idle(server)
        if measuring is not None:
            measuring()
        cpu0, t0 = server.cpu(), time.monotonic()
        last = [0.0]

        def tick() -> None:
            now = time.monotonic()
            if sample and now - last[0] >= 0.5 and server.proc.poll() is None:
                last[0] = now
                samples.append((round(now - t0, 1), round(server.memory()[0], 1)))

        tick()
        parts = load.call("send", send, tick=tick)
        sent = {s: n for p in parts for s, n in p["sent"].items()}
        sendCpu = sum(p["cpu"] for p in parts)
        drained = merge(
            load.call("drain", {"sent": sent, "timeout": drain_timeout}, tick=tick)
        )
        wall = time.monotonic() - t0
        cpu = server.cpu() - cpu0
        tick()
    finally:
        load.close()
    delivered = drained["delivered"]
    out: Metrics = {
        "clients": len(spec),
        "loggedIn": sum(r["loggedIn"] for r in logins),
        "sent": sum(sent.values()),
        "deliveries": delivered,
        "seconds": round(wall, 2),
        "deliveriesPerSec": delivered / wall,
        "cpuUsPerDelivery": cpu * 1e6 / delivered if delivered else None,
        "serverCpu": round(cpu / wall, 2),
        "generatorCpu": round((sendCpu + drained["cpu"]) / wall, 2),
        "peakRssMB": server.memory()[1],
        "lost": drained["lost"],
        "duplicated": drained["duplicated"],
        "corrupted": drained["corrupted"],
        "unexpected": drained["unexpected"],
        "misrouted": drained["misrouted"],
        "historyLines": drained["history"],
        "errors": drained["errorCount"],
        "errorSamples": drained["errors"][:3],
        "settled": sum(r["settled"] for r in settles),
        "settleSeconds": round(settleSeconds, 2),
        "p50": drained["p50"],
        "p99": drained["p99"],
        "max": drained["max"],
        "left": {k: round(v - t0, 2) for k, v in drained["left"].items()},
    }
    if sample:
        out["rssOverTime"] = samples
    if rooms:
        out["joined"] = sum(r["joined"] for r in joins)
        out["memberships"] = sum(r["memberships"] for r in joins)
        out["joinSeconds"] = round(max(r["seconds"] for r in joins), 2)
    out["expected"] = drained["expected"]
    out["window"] = (t0, t0 + wall)
    return out


def wait_idle(server: Server, cores: float = 0.05, timeout: float = 30) -> float:
    """
    Wait until C{server} uses less than C{cores} over half a second.

    @return: The seconds waited.
    """
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        cpu = server.cpu()
        time.sleep(0.5)
        if server.cpu() - cpu < cores * 0.5:
            break
    return time.monotonic() - started


# The compiled generator's receivers in fan-out and scale: the senders, the
# acknowledger and every CHECK_EVERY-th receiver check every line (and give
# the latencies); the others count bytes (recv with MSG_TRUNC, nothing
# copied), waking up only once COUNTING_RCVLOWAT bytes wait (SO_RCVLOWAT).
# Issue 15: copying every byte made the generator costlier than the C server.
CHECK_EVERY, COUNTING_RCVLOWAT = 8, 16384


def ctraffic(
    server: Server,
    clients: int,
    senders: int,
    send: dict[str, Any],
    drain_timeout: float,
    *,
    tls: bool = False,
) -> Metrics:
    """
    L{traffic} with the compiled load generator (L{bench.cloadgen}): the
    same phases, checks and figures, for C{clients} clients of which the
    first C{senders} send (the roster of L{roster}), over TLS if C{tls}.
    """
    from bench.cloadgen import CLoad

    load = CLoad(
        server.port,
        clients,
        senders,
        send,
        drainTimeout=drain_timeout,
        checkEvery=CHECK_EVERY,
        rcvlowat=COUNTING_RCVLOWAT,
        tls=tls,
    )
    try:
        settled = load.settled()
        cpu0, t0 = server.cpu(), time.monotonic()
        load.go()
        drained = load.result()
        wall = time.monotonic() - t0
        cpu = server.cpu() - cpu0
    finally:
        load.close()
    delivered = drained["delivered"]
    return {
        "loadgen": "c",
        "clients": clients,
        "loggedIn": settled["loggedIn"],
        "sent": drained["sentTotal"],
        "deliveries": delivered,
        "seconds": round(wall, 2),
        "deliveriesPerSec": delivered / wall,
        "cpuUsPerDelivery": cpu * 1e6 / delivered if delivered else None,
        "serverCpu": round(cpu / wall, 2),
        "generatorCpu": round(drained["cpu"] / wall, 2),
        "peakRssMB": server.memory()[1],
        "lost": drained["lost"],
        "duplicated": drained["duplicated"],
        "reordered": drained["reordered"],
        "corrupted": drained["corrupted"],
        "historyLines": drained["history"],
        "errors": drained["errorCount"] + settled["errorCount"],
        "errorSamples": (settled["errors"] + drained["errors"])[:3],
        "settled": settled["settled"],
        "settleSeconds": round(settled["loginSeconds"] + settled["settleSeconds"], 2),
        "p50": drained["p50"],
        "p99": drained["p99"],
        "max": drained["max"],
        "expected": drained["expected"],
        # Who checked every line (and gave the latencies), who counted bytes.
        "checking": drained["checking"],
        "counting": drained["counting"],
        "checkEvery": drained["checkEvery"],
        "checkedDeliveries": drained["checkedDeliveries"],
        "countedDeliveries": drained["countedDeliveries"],
        "countMismatch": drained["countMismatch"],
        "lineBytes": drained["lineBytes"],
        "tls": settled["tls"],
    }


def fanout(kind: str, seconds: float) -> Metrics:
    server = Server(kind)
    send = {"duration": seconds, "rate": 0, "window": 100}
    try:
        if LOADGEN == "c":
            return ctraffic(server, 200, 4, send, drain_timeout=10)
        return traffic(server, roster(200, 4), send, drain_timeout=10)
    finally:
        server.stop()


def scale(kind: str, seconds: float) -> Metrics:
    server = Server(kind)
    send = {"duration": seconds, "rate": 200.0, "window": 0}
    try:
        if LOADGEN == "c":
            return ctraffic(server, 1000, 2, send, drain_timeout=15)
        return traffic(server, roster(1000, 2), send, drain_timeout=15)
    finally:
        server.stop()


def slow(kind: str, seconds: float) -> Metrics:
    results = {}
    for label, spec in (
        ("control", roster(50, 4)),
        ("withSlow", [*roster(50, 4), ("slow", "slow")]),
    ):
        server = Server(kind)
        try:
            results[label] = traffic(
                server,
                spec,
                # Lines of about 500 bytes, so that what the slow client does
                # not read outgrows the kernel's socket buffers (several MB
                # on loopback) within the 10 s.
                {"duration": seconds, "rate": 0, "window": 50, "pad": 450},
                drain_timeout=3,
                sample=True,
            )
        finally:
            server.stop()
    out = dict(results["withSlow"])
    control = results["control"]
    out["controlP99"] = control["p99"]
    out["controlPeakRssMB"] = control["peakRssMB"]
    out["controlRssOverTime"] = control["rssOverTime"]
    out["controlDeliveriesPerSec"] = control["deliveriesPerSec"]
    out["p99VsControl"] = (
        out["p99"] / control["p99"] if out["p99"] and control["p99"] else None
    )
    out["slowDroppedAt"] = out["left"].get("slow")
    return out


# The rooms scenario: users, rooms, senders per room, lines/s in all, seed.
ROOM_USERS, ROOM_COUNT, ROOM_SENDERS, ROOM_RATE, ROOM_SEED = 5000, 100, 2, 400.0, 2026


def room_plan(
    users: int = ROOM_USERS,
    rooms: int = ROOM_COUNT,
    sendersPerRoom: int = ROOM_SENDERS,
    seed: int = ROOM_SEED,
) -> tuple[list[tuple[str, str]], dict[str, tuple[str, ...]]]:
    """
    Who is in which room: C{users} users, each in 1 to 5 of C{rooms} rooms
    (chosen with C{random.Random(seed)}), C{sendersPerRoom} of them talking
    in each room (the last room each joins, its current room).

    @return: The roster and each user's rooms, in the order joined.
    """
    rng = random.Random(seed)
    names = [f"#r{i}" for i in range(rooms)]
    spec: list[tuple[str, str]] = []
    plan: dict[str, tuple[str, ...]] = {}
    for r in range(rooms):
        for j in range(sendersPerRoom):
            name = f"s{r}x{j}"
            others = [n for n in names if n != names[r]]
            chosen = rng.sample(others, rng.randint(1, 5) - 1)
            spec.append((name, "sender"))
            plan[name] = (*chosen, names[r])
    for i in range(users - len(spec)):
        name = f"u{i}"
        spec.append((name, "receiver"))
        plan[name] = tuple(rng.sample(names, rng.randint(1, 5)))
    return spec, plan


def rooms(kind: str, seconds: float) -> Metrics:
    """
    5,000 users in 100 rooms, 2 senders in each room, 400 lines/s in all
    for C{2 * seconds} (at most that many lines per sender); then the same
    users all in the default room, 4 of them sending, with the line rate
    scaled down so that the offered deliveries/s are the same (the one-room
    figure).
    """
    spec, plan = room_plan()
    senders = [n for n, r in spec if r == "sender"]
    duration = 2 * seconds
    perSender = ROOM_RATE / len(senders)
    limit = round(perSender * duration)
    members: dict[str, int] = {}
    for names in plan.values():
        for name in names:
            members[name] = members.get(name, 0) + 1
    # Recipients per line, on average over the senders (they send alike).
    fanout = statistics.mean(members[plan[s][-1]] - 1 for s in senders)
    out: Metrics = {"recipientsPerLine": round(fanout, 1), "rooms": ROOM_COUNT}
    from bench.lagserver import read

    tmp = tempfile.mkdtemp(prefix="bench-rooms-")
    # Up to 5 rooms each, and the default room until the join phase leaves
    # it.  Under the lag probe, for the reactor's stalls.
    server = Server(kind, ("--max-rooms-per-user", "6"), lagFile=f"{tmp}/rooms.txt")
    try:
        out["rooms"] = traffic(
            server,
            spec,
            {"duration": duration, "rate": perSender, "window": 0, "lines": limit},
            drain_timeout=15,
            rooms=plan,
            settle_timeout=120,
            quiet=True,
        )
    finally:
        server.stop()
    # Everyone in the default room: the same deliveries/s needs fewer lines,
    # from 4 senders (from 200, each would send less than one line).
    oneRate = ROOM_RATE * fanout / (len(spec) - 1)
    oneSpec = [(n, "sender" if i < 4 else "receiver") for i, (n, _) in enumerate(spec)]
    server = Server(kind, lagFile=f"{tmp}/oneRoom.txt")
    try:
        out["oneRoom"] = traffic(
            server,
            oneSpec,
            {
                "duration": duration,
                "rate": oneRate / 4,
                "window": 0,
                "lines": round(oneRate / 4 * duration),
            },
            drain_timeout=15,
            settle_timeout=120,
            quiet=True,
        )
    finally:
        server.stop()
    for part in ("rooms", "oneRoom"):
        out[part].pop("left", None)  # who left the default room: not needed
        out[part].update(read(f"{tmp}/{part}.txt", *out[part]["window"]))
    shutil.rmtree(tmp, ignore_errors=True)
    out["offeredDeliveriesPerSec"] = round(ROOM_RATE * fanout)
    out["oneRoomLineRate"] = round(oneRate, 1)
    return out


def history(kind: str, seconds: float) -> Metrics:
    """
    The fan-out scenario with each history store (C{--history none},
    C{memory}, C{sqlite:PATH} on a new file), our server run under
    L{bench.lagserver} to record the reactor's stalls.
    """
    from bench.lagserver import read

    out: Metrics = {}
    with tempfile.TemporaryDirectory(prefix="bench-history-") as tmp:
        for store in ("none", "memory", "sqlite"):
            spec = f"sqlite:{tmp}/history.sqlite" if store == "sqlite" else store
            lag = f"{tmp}/lag-{store}.txt"
            server = Server(kind, ("--history", spec), lagFile=lag)
            try:
                metrics = traffic(
                    server,
                    roster(200, 4),
                    {"duration": seconds, "rate": 0, "window": 100},
                    drain_timeout=10,
                )
            finally:
                server.stop()
            start, end = metrics["window"]
            metrics.update(read(lag, start, end))
            if store == "sqlite":
                metrics["sqliteMB"] = round(
                    sum(f.stat().st_size for f in Path(tmp).glob("history.sqlite*"))
                    / 1e6,
                    1,
                )
            out[store] = metrics
    return out


def crowd(kind: str, clients: int, concurrency: int, role: str) -> Metrics:
    """
    Log C{clients} in (C{concurrency} connecting at once) and wait until
    every join notice has arrived.
    """
    server = Server(kind)
    try:
        time.sleep(0.3)
        rss0 = server.memory()[0]
        cpu0 = server.cpu()
        load = Load(server.port, roster(clients, 0, role), workers=2)
        try:
            t0 = time.monotonic()
            logins = load.call("login", {"concurrency": concurrency, "timeout": 60})
            loginSeconds = time.monotonic() - t0
            settles = load.call("settle", {"timeout": 60})
            settleSeconds = time.monotonic() - t0
            cpu = server.cpu() - cpu0
            time.sleep(0.5)
            rss, peak = server.memory()
            stats = load.call("stats")
        finally:
            load.close()
    finally:
        server.stop()
    loggedIn = sum(r["loggedIn"] for r in logins)
    settled = sum(r["settled"] for r in settles)
    return {
        "clients": clients,
        "loggedIn": loggedIn,
        "failed": sum(r["failed"] for r in logins),
        "settled": settled,
        "loginSeconds": round(loginSeconds, 2),
        "settleSeconds": round(settleSeconds, 2),
        "serverCpuSeconds": round(cpu, 2),
        "generatorCpuSeconds": round(
            sum(r["cpu"] for r in logins) + sum(r["cpu"] for r in settles), 2
        ),
        "rssBeforeMB": round(rss0, 1),
        "rssMB": round(rss, 1),
        "peakRssMB": round(peak, 1),
        "kbPerConnection": (rss - rss0) * 1024 / loggedIn if loggedIn else None,
        "errors": sum(s["errorCount"] for s in stats),
        "corrupted": sum(s["corrupted"] for s in stats),
    }


def idle(kind: str, seconds: float) -> Metrics:
    return crowd(kind, 10_000, 1000, "idle")


# The many-connections scenario: clients, loopback source addresses (from
# 127.0.0.2), connecting at once.
MANY, MANY_SOURCES, MANY_CONCURRENCY = 19_000, 8, 1000


def idle19k(kind: str, seconds: float) -> Metrics:
    """
    C{MANY} idle clients logged in to one server, each in the default room,
    with the compiled load generator, its connections spread over
    C{MANY_SOURCES} loopback addresses: how long until all are logged in
    and have read every join notice, the server's resident memory per
    connection, and then one chat line from the first client, which every
    other client must get.

    Our server is told that all of 127.0.0.0/8 is exempt from the
    per-address limits (by default only 127.0.0.1 is).
    """
    from bench.cloadgen import CLoad

    extra = ("--exempt", "127.0.0.0/8") if kind == "ours" else ()
    server = Server(kind, extra)
    try:
        time.sleep(0.3)
        rss0 = server.memory()[0]
        cpu0 = server.cpu()
        load = CLoad(
            server.port,
            MANY,
            1,
            {"duration": 5, "rate": 1.0, "window": 0, "lines": 1},
            concurrency=MANY_CONCURRENCY,
            loginTimeout=90,
            settleTimeout=90,
            drainTimeout=15,
            sources=MANY_SOURCES,
            checkEvery=1,  # one line: every client checks it
        )
        try:
            settled = load.settled()
            cpu = server.cpu() - cpu0
            time.sleep(1.0)  # the server trims freed memory 4 times a second
            rss, peak = server.memory()
            limit = _open_files_limit(server.pid)
            load.go()
            probe = load.result()
        finally:
            load.close()
    finally:
        server.stop()
    loggedIn = settled["loggedIn"]
    return {
        "loadgen": "c",
        "clients": MANY,
        "sources": MANY_SOURCES,
        "loggedIn": loggedIn,
        "failed": settled["failed"],
        "settled": settled["settled"],
        "loginSeconds": round(settled["loginSeconds"], 2),
        "settleSeconds": round(settled["loginSeconds"] + settled["settleSeconds"], 2),
        "serverCpuSeconds": round(cpu, 2),
        "generatorCpuSeconds": round(settled["loginCpu"] + settled["settleCpu"], 2),
        "rssBeforeMB": round(rss0, 1),
        "rssMB": round(rss, 1),
        "peakRssMB": round(peak, 1),
        "kbPerConnection": (rss - rss0) * 1024 / loggedIn if loggedIn else None,
        "serverOpenFilesLimit": limit,
        "probeExpected": probe["expected"],
        "probeDelivered": probe["delivered"],
        "probeLost": probe["lost"],
        "probeP50": probe["p50"],
        "probeP99": probe["p99"],
        "probeMax": probe["max"],
        "errors": settled["errorCount"] + probe["errorCount"],
        "errorSamples": (settled["errors"] + probe["errors"])[:3],
        "corrupted": probe["corrupted"],
    }


def _open_files_limit(pid: int) -> str:
    """
    @return: The soft and hard C{RLIMIT_NOFILE} of process C{pid}, as
        C{/proc/PID/limits} shows them ("20000/20000").
    """
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            soft, hard = line.split()[3:5]
            return f"{soft}/{hard}"
    return "unknown"


def storm(kind: str, seconds: float) -> Metrics:
    return crowd(kind, 2000, 2000, "idle")


RUNNERS: dict[str, Callable[[str, float], Metrics]] = {
    "fanout": fanout,
    "scale": scale,
    "idle": idle,
    "slow": slow,
    "storm": storm,
    "rooms": rooms,
    "history": history,
    "idle19k": idle19k,
}


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = Path("/proc/meminfo").read_text().split("\n")[0].split()[1]
    import twisted

    return (
        f"{os.cpu_count()} x {cpu}, {int(mem) // 1024} MB RAM, "
        f"Linux {platform.release()}, CPython {platform.python_version()}, "
        f"Twisted {twisted.__version__}, epoll reactor; server, generator and "
        "baselines on the same machine over 127.0.0.1"
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Run the chat benchmarks.")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--scenarios",
        default=",".join(SCENARIOS),
        help=f"comma-separated, of {', '.join((*SCENARIOS, *OPTIONAL_SCENARIOS))} "
        "(idle19k: 19,000 idle connections; not run by default)",
    )
    parser.add_argument(
        "--servers",
        default=",".join(SERVERS),
        help=f"comma-separated, of {', '.join((*SERVERS, *OPTIONAL))} "
        "(c: the C epoll reference server, built with cc; not run by default)",
    )
    parser.add_argument(
        "--loadgen",
        choices=("c", "python"),
        default="c",
        help="the load generator of the fanout and scale scenarios: c "
        "(bench/cloadgen.c, built with cc) or python (bench/loadgen.py); "
        "the others always use the Python one, idle19k the C one",
    )
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--slow-seconds", type=float, default=10.0)
    parser.add_argument("--out", default=str(BENCH / "results.json"))
    parser.add_argument("--no-report", action="store_true")
    parser.add_argument(
        "--chatserver",
        metavar="REVISION",
        default="",
        help="run our server from this git revision (exported to a temporary "
        "directory) instead of the installed package",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    options = parser.parse_args(argv)
    global SOURCE, LOADGEN
    LOADGEN = options.loadgen
    code = "the installed package"
    if options.chatserver:
        from bench.profile import checkout

        SOURCE = checkout(options.chatserver)
        revision = subprocess.run(
            ["git", "rev-parse", "--short", options.chatserver],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        code = f"chatserver from git revision {revision}"
    raise_fd_limit()
    scenarios = options.scenarios.split(",")
    unknownScenarios = [
        s for s in scenarios if s not in (*SCENARIOS, *OPTIONAL_SCENARIOS)
    ]
    if unknownScenarios:
        parser.error(f"unknown scenarios: {', '.join(unknownScenarios)}")
    servers = options.servers.split(",")
    unknown = [s for s in servers if s not in (*SERVERS, *OPTIONAL)]
    if unknown:
        parser.error(f"unknown servers: {', '.join(unknown)}")
    runs: list[dict[str, dict[str, Metrics]]] = []
    started = time.time()
    for run in range(options.runs):
        results: dict[str, dict[str, Metrics]] = {}
        for scenario in scenarios:
            seconds = options.slow_seconds if scenario == "slow" else options.seconds
            for kind in servers:
                if kind not in ONLY.get(scenario, (kind,)):
                    continue
                t = time.monotonic()
                load = float(Path("/proc/loadavg").read_text().split()[0])
                busy0 = busy()
                try:
                    metrics = RUNNERS[scenario](kind, seconds)
                except Exception as e:  # a failed scenario is a result too
                    metrics = {"failure": f"{type(e).__name__}: {e}"}
                metrics["loadBefore"] = load
                metrics["machineBusy"] = round(
                    (busy() - busy0) / (time.monotonic() - t) / TICK, 2
                )
                results.setdefault(scenario, {})[kind] = metrics
                brief = {
                    k: (round(v, 3) if isinstance(v, float) else v)
                    for k, v in metrics.items()
                    if k not in ("rssOverTime", "controlRssOverTime", "left", "window")
                }
                print(
                    f"run {run + 1} {scenario} {kind} "
                    f"({time.monotonic() - t:.0f}s): {brief}",
                    flush=True,
                )
        runs.append(results)
    document = {
        "machine": machine(),
        "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started)),
        "seconds": round(time.time() - started),
        "command": "python -m bench.run " + " ".join(argv or sys.argv[1:]),
        "code": code,
        "loadgen": LOADGEN,
        "runs": runs,
    }
    Path(options.out).write_text(json.dumps(document, indent=1) + "\n")
    if not options.no_report:
        from bench.report import write_report

        write_report(document, BENCH / "RESULTS.md")
    return 0


def median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


if __name__ == "__main__":
    raise SystemExit(main())
