"""
Issue 14's cluster benchmark: the same users and the same load on one
node without Redis, on a one-node cluster and on a three-node cluster,
all on this machine, in the same run.

    .venv/bin/python -m bench.cluster --runs 3

Each configuration of each run starts its own C{redis-server} (no
persistence, on a free port of 127.0.0.1) and real C{twistd -n chat
--cluster redis://127.0.0.1:PORT --node-name nI} nodes (L{bench.run.Server};
C{single} is the same server without C{--cluster}), logs C{--users} clients
in, spread evenly over the nodes and all in the default room, and then
measures two phases with L{bench.loadgen.Load}:

  - C{fixed}: C{--senders} senders (spread over the nodes like everyone)
    send C{--rate} lines/s in all, open loop, for C{--seconds}: delivery
    latency p50/p99 (same-node and cross-node deliveries apart), deliveries/s,
    server CPU per delivery per node, Redis's CPU, the load generator's CPU.
  - C{full}: the same senders as fast as C{--window} lines in flight each
    allow, for C{--full-seconds}: the deliveries/s achieved and their cost.

Every receiver checks that every line of every other sender arrives once,
intact and in its sender's order; a phase with a lost, duplicated,
reordered, corrupted or unexpected line (or an error line) fails the run
(exit status 1).  CPU times come from C{/proc/PID/stat} (the nodes, Redis)
and from the generator's workers themselves; nothing but these processes is
started, and each is stopped by its PID.

The results go to C{bench/cluster.json} and, as the section "Cluster
(issue 14)", into C{bench/RESULTS.md} (L{section}; L{bench.report} keeps it
there when it rewrites the file).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.loadgen import Load, merge, percentile
from bench.report import put_section
from bench.run import BENCH, TICK, Server, busy, machine, raise_fd_limit, wait_idle

Metrics = dict[str, Any]

CONFIGS = {"single": 0, "cluster1": 1, "cluster3": 3}
"""
Each configuration with its number of cluster nodes (0: one node without
C{--cluster}).
"""

TITLES = {
    "single": "1 node, no Redis",
    "cluster1": "1-node cluster",
    "cluster3": "3-node cluster",
}

HEADING = "## Cluster (issue 14)"

# What makes a phase's deliveries not exactly once.
FAULTS = ("lost", "duplicated", "reordered", "corrupted", "unexpected", "errors")


def proc_cpu(pid: int) -> float:
    """
    @return: The user plus system CPU seconds process C{pid} has used.
    """
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


class Redis:
    """
    A C{redis-server} without persistence on a free port of 127.0.0.1, in a
    temporary directory of its own.
    """

    def __init__(self) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self.url = f"redis://127.0.0.1:{self.port}"
        self.directory = tempfile.mkdtemp(prefix="bench-redis-")
        self.proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.directory,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )
        self.pid = self.proc.pid
        deadline = time.monotonic() + 10
        while not self.answers():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), 1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def cpu(self) -> float:
        return proc_cpu(self.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.directory, ignore_errors=True)


class Setup:
    """
    One configuration running: Redis (for a cluster) and its nodes, each
    in the cluster before this returns.
    """

    def __init__(self, nodes: int) -> None:
        self.redis: Redis | None = None
        self.nodes: list[Server] = []
        try:
            if nodes == 0:
                self.nodes.append(Server("ours"))
                return
            self.redis = Redis()
            for i in range(nodes):
                extra = ("--cluster", self.redis.url, "--node-name", f"n{i}")
                self.nodes.append(Server("ours", extra))
            for i, node in enumerate(self.nodes):
                self._joined(node, f"n{i}")
        except BaseException:
            self.stop()
            raise

    @staticmethod
    def _joined(node: Server, name: str) -> None:
        pattern = re.compile(rf"Node {name} is in the cluster".encode())
        deadline = time.monotonic() + 20
        while not pattern.search(Path(node.log.name).read_bytes()):
            if node.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"node {name} did not join: {Path(node.log.name).read_text()}"
                )
            time.sleep(0.05)

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
        if self.redis is not None:
            self.redis.stop()


def plan(
    users: int, senders: int, nodes: int
) -> tuple[list[tuple[str, str]], list[int]]:
    """
    @return: The clients (name, role), senders first, and the node of each
        client: client I on node I modulo the nodes, so that senders and
        receivers are spread evenly.
    """
    spec = [(f"s{i}", "sender") for i in range(senders)]
    spec += [(f"u{i}", "receiver") for i in range(users - senders)]
    return spec, [i % max(1, nodes) for i in range(users)]


def _percentiles(hist: dict[int, int]) -> tuple[float | None, float | None]:
    return percentile(hist, 0.5), percentile(hist, 0.99)


def _add(into: dict[int, int], hist: dict[Any, int]) -> None:
    for key, count in hist.items():
        into[int(key)] = into.get(int(key), 0) + count


class Phases:
    """
    The logged-in clients of one configuration, and what each phase
    measured.
    """

    def __init__(self, setup: Setup, users: int, senders: int) -> None:
        self.setup = setup
        self.spec, nodeOf = plan(users, senders, len(setup.nodes))
        self.nodeOf = {name: nodeOf[i] for i, (name, _) in enumerate(self.spec)}
        ports = {name: setup.nodes[n].port for name, n in self.nodeOf.items()}
        self.load = Load(
            setup.nodes[0].port,
            self.spec,
            workers=2,
            ports=ports if setup.redis is not None else None,
        )
        self.sent: dict[str, int] = {}
        self.expected = 0
        try:
            t = time.monotonic()
            logins = self.load.call("login", {"concurrency": 500, "timeout": 60})
            settles = self.load.call("settle", {"timeout": 60})
            self.loggedIn = sum(r["loggedIn"] for r in logins)
            self.settled = sum(r["settled"] for r in settles)
            self.loginSeconds = round(time.monotonic() - t, 2)
        except BaseException:
            self.load.close()
            raise

    def close(self) -> None:
        self.load.close()

    def quiet(self) -> None:
        """
        Wait until the clients have read everything and every node is idle.
        """
        self.load.call("quiet", {"idle": 0.5, "timeout": 30})
        for node in self.setup.nodes:
            wait_idle(node, timeout=15)

    def run(self, send: dict[str, Any], drainTimeout: float) -> Metrics:
        """
        One phase: send, drain, and measure.
        """
        self.quiet()
        nodes, redis = self.setup.nodes, self.setup.redis
        nodeCpu0 = [node.cpu() for node in nodes]
        redisCpu0 = redis.cpu() if redis is not None else 0.0
        busy0, t0 = busy(), time.monotonic()
        parts = self.load.call("send", send)
        sent = {s: n for p in parts for s, n in p["sent"].items()}
        results = self.load.call("drain", {"sent": sent, "timeout": drainTimeout})
        wall = time.monotonic() - t0
        nodeCpu = [node.cpu() - c for node, c in zip(nodes, nodeCpu0, strict=True)]
        redisCpu = redis.cpu() - redisCpu0 if redis is not None else None
        machineBusy = (busy() - busy0) / TICK / wall
        drained = merge(results)
        generatorCpu = sum(p["cpu"] for p in parts) + drained["cpu"]
        same: dict[int, int] = {}
        cross: dict[int, int] = {}
        for r in results:
            _add(same, r["hist"])
            _add(cross, r.get("crossHist", {}))
        every: dict[int, int] = {}
        _add(every, same)
        _add(every, cross)
        # This phase's lines, and the deliveries each node owes its users.
        phaseSent = {s: n - self.sent.get(s, 0) for s, n in sent.items()}
        lines = sum(phaseSent.values())
        owed = [0] * len(nodes)
        for name, node in self.nodeOf.items():
            owed[node] += lines - phaseSent.get(name, 0)
        expected = drained["expected"] - self.expected
        self.sent, self.expected = sent, drained["expected"]
        delivered = drained["delivered"]
        p50, p99 = _percentiles(every)
        sameP50, sameP99 = _percentiles(same)
        crossP50, crossP99 = _percentiles(cross)
        ours = sum(nodeCpu) + (redisCpu or 0.0) + generatorCpu
        out: Metrics = {
            "lines": lines,
            "linesPerSec": lines / wall,
            "expected": expected,
            "deliveries": delivered,
            "seconds": round(wall, 2),
            "deliveriesPerSec": delivered / wall,
            "p50": p50,
            "p99": p99,
            "sameP50": sameP50,
            "sameP99": sameP99,
            "crossP50": crossP50,
            "crossP99": crossP99,
            "sameDeliveries": sum(same.values()),
            "crossDeliveries": sum(cross.values()),
            "nodeCpu": [round(c / wall, 3) for c in nodeCpu],
            "nodeCpuUsPerLine": [c * 1e6 / lines if lines else None for c in nodeCpu],
            "nodeCpuUsPerDelivery": [
                c * 1e6 / n if n else None for c, n in zip(nodeCpu, owed, strict=True)
            ],
            "cpuUsPerDelivery": sum(nodeCpu) * 1e6 / delivered if delivered else None,
            "redisCpu": None if redisCpu is None else round(redisCpu / wall, 3),
            "redisUsPerLine": (
                redisCpu * 1e6 / lines if redisCpu is not None and lines else None
            ),
            "allCpuUsPerDelivery": (
                (sum(nodeCpu) + (redisCpu or 0.0)) * 1e6 / delivered
                if delivered
                else None
            ),
            "generatorCpu": round(generatorCpu / wall, 3),
            "machineBusy": round(machineBusy, 3),
            "othersCpu": round(machineBusy - ours / wall, 3),
            "lost": drained["lost"],
            "duplicated": drained["duplicated"],
            "reordered": drained["reordered"],
            "corrupted": drained["corrupted"],
            "unexpected": drained["unexpected"],
            "errors": drained["errorCount"],
            "errorSamples": drained["errors"][:3],
        }
        # Exactly once is checked per receiver and sender, by sequence
        # number: the unique lines seen against the lines sent.  The
        # deliveries counted may fall short of the expected ones by the
        # first line of each sender: a worker starts counting when it
        # starts its phase, a moment after the other may have sent.
        out["exactlyOnce"] = not any(out[fault] for fault in FAULTS)
        return out


def one(config: str, options: argparse.Namespace) -> Metrics:
    """
    Run both phases on one configuration.
    """
    loadBefore = os.getloadavg()[0]
    setup = Setup(CONFIGS[config])
    try:
        phases = Phases(setup, options.users, options.senders)
        try:
            rate = options.rate / options.senders
            fixed = phases.run(
                {"duration": options.seconds, "rate": rate, "window": 0},
                drainTimeout=20,
            )
            full = phases.run(
                {
                    "duration": options.full_seconds,
                    "rate": 0,
                    "window": options.window,
                },
                drainTimeout=30,
            )
        finally:
            phases.close()
        return {
            "nodes": len(setup.nodes),
            "redis": setup.redis is not None,
            "loadBefore": round(loadBefore, 2),
            "loggedIn": phases.loggedIn,
            "settled": phases.settled,
            "loginSeconds": phases.loginSeconds,
            "fixed": fixed,
            "full": full,
        }
    finally:
        setup.stop()


def _median(values: list[Any]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def _fmt(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "n/a"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def _ratio(
    runs: list[Metrics], phase: str, key: str, a: str, b: str, *, bKey: str = ""
) -> list[float]:
    """
    @return: C{a}'s C{key} over C{b}'s (or C{b}'s C{bKey}), within each run
        that has both.
    """
    out = []
    for run in runs:
        x = run.get(a, {}).get(phase, {}).get(key)
        y = run.get(b, {}).get(phase, {}).get(bKey or key)
        if x is not None and y:
            out.append(x / y)
    return out


Row = tuple[str, str, Callable[[Metrics], float | None], int]


def _pick(key: str, index: int | None = None) -> Callable[[Any], float | None]:
    def get(phase: Metrics) -> float | None:
        value = phase.get(key)
        if index is None:
            return value if isinstance(value, (int, float)) else None
        if isinstance(value, list) and index < len(value):
            item = value[index]
            return item if isinstance(item, (int, float)) else None
        return None

    return get


def _mean(key: str) -> Callable[[Metrics], float | None]:
    def get(phase: Metrics) -> float | None:
        values = [v for v in phase.get(key, []) if v is not None]
        return statistics.mean(values) if values else None

    return get


def _table(document: Metrics, phase: str, rows: list[Row]) -> list[str]:
    runs: list[Metrics] = document["runs"]
    configs = [c for c in CONFIGS if any(c in run for run in runs)]
    out = [
        "| | " + " | ".join(TITLES[c] for c in configs) + " |",
        "|---|" + "---:|" * len(configs),
    ]
    for label, only, get, digits in rows:
        cells = []
        for config in configs:
            if only and config not in only.split(","):
                cells.append("")
                continue
            values = [get(run[config][phase]) for run in runs if config in run]
            cells.append(_fmt(_median(values), digits))
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    return out


FIXED_ROWS: list[Row] = [
    ("lines/s offered (all senders)", "", _pick("linesPerSec"), 0),
    ("deliveries/s", "", _pick("deliveriesPerSec"), 0),
    ("latency p50, all deliveries (ms)", "", _pick("p50"), 1),
    ("latency p99, all deliveries (ms)", "", _pick("p99"), 1),
    ("latency p50, same-node deliveries (ms)", "", _pick("sameP50"), 1),
    ("latency p99, same-node deliveries (ms)", "", _pick("sameP99"), 1),
    ("latency p50, cross-node deliveries (ms)", "cluster3", _pick("crossP50"), 1),
    ("latency p99, cross-node deliveries (ms)", "cluster3", _pick("crossP99"), 1),
    ("server CPU per delivery, all nodes (µs)", "", _pick("cpuUsPerDelivery"), 2),
    (
        "  node n0 (µs per delivery to its users)",
        "",
        _pick("nodeCpuUsPerDelivery", 0),
        2,
    ),
    ("  node n1", "cluster3", _pick("nodeCpuUsPerDelivery", 1), 2),
    ("  node n2", "cluster3", _pick("nodeCpuUsPerDelivery", 2), 2),
    ("server CPU per line, each node (µs)", "", _mean("nodeCpuUsPerLine"), 0),
    ("server CPU, all nodes (cores)", "", lambda p: sum(p["nodeCpu"]), 2),
    ("Redis CPU (cores)", "cluster1,cluster3", _pick("redisCpu"), 3),
    ("Redis CPU per line (µs)", "cluster1,cluster3", _pick("redisUsPerLine"), 1),
    ("nodes + Redis CPU per delivery (µs)", "", _pick("allCpuUsPerDelivery"), 2),
    ("load generator CPU (cores)", "", _pick("generatorCpu"), 2),
    ("machine busy, all processes (cores of 2)", "", _pick("machineBusy"), 2),
]

FULL_ROWS: list[Row] = [
    ("lines/s sent (all senders)", "", _pick("linesPerSec"), 0),
    ("deliveries/s", "", _pick("deliveriesPerSec"), 0),
    ("latency p50 (ms)", "", _pick("p50"), 1),
    ("latency p99 (ms)", "", _pick("p99"), 1),
    ("server CPU per delivery, all nodes (µs)", "", _pick("cpuUsPerDelivery"), 2),
    ("server CPU per line, each node (µs)", "", _mean("nodeCpuUsPerLine"), 0),
    ("server CPU, all nodes (cores)", "", lambda p: sum(p["nodeCpu"]), 2),
    ("Redis CPU (cores)", "cluster1,cluster3", _pick("redisCpu"), 3),
    ("Redis CPU per line (µs)", "cluster1,cluster3", _pick("redisUsPerLine"), 1),
    ("nodes + Redis CPU per delivery (µs)", "", _pick("allCpuUsPerDelivery"), 2),
    ("load generator CPU (cores)", "", _pick("generatorCpu"), 2),
    ("machine busy, all processes (cores of 2)", "", _pick("machineBusy"), 2),
]


def _per_run(document: Metrics) -> list[str]:
    runs: list[Metrics] = document["runs"]
    names = " / ".join(TITLES[c] for c in CONFIGS if any(c in run for run in runs))
    out = [
        f"| run | load before ({names}) | 3-node cross / 1-node p99, fixed "
        f"| 3-node cross p99 (ms) | deliveries/s at full speed ({names}) "
        "| exactly once |",
        "|---:|---|---:|---:|---|---|",
    ]
    for i, run in enumerate(runs):
        loads = "/".join(_fmt(run[c]["loadBefore"], 1) for c in CONFIGS if c in run)
        ratio = _ratio([run], "fixed", "crossP99", "cluster3", "single", bKey="p99")
        cross = run.get("cluster3", {}).get("fixed", {}).get("crossP99")
        full = " / ".join(
            _fmt(run[c]["full"]["deliveriesPerSec"]) for c in CONFIGS if c in run
        )
        ok = all(run[c][p]["exactlyOnce"] for c in run for p in ("fixed", "full"))
        out.append(
            f"| {i + 1} | {loads} | {_fmt(ratio[0]) + 'x' if ratio else 'n/a'} | "
            f"{_fmt(cross, 1)} | {full} | {'yes' if ok else '**no**'} |"
        )
    return out


def section(document: Metrics) -> str:
    """
    @return: The "Cluster (issue 14)" section of C{RESULTS.md}.
    """
    runs: list[Metrics] = document["runs"]
    o = document["options"]
    checked = [run[c][p] for run in runs for c in run for p in ("fixed", "full")]
    delivered = sum(p["deliveries"] for p in checked)
    expected = sum(p["expected"] for p in checked)
    faults = {f: sum(p[f] for p in checked) for f in FAULTS}
    allOnce = all(p["exactlyOnce"] for p in checked)

    def ratio(phase: str, key: str, a: str, b: str, bKey: str = "") -> str:
        values = _ratio(runs, phase, key, a, b, bKey=bKey)
        if not values:
            return "n/a"
        return (
            f"{_fmt(_median(values))}x (per run "
            + ", ".join(f"{v:.2f}" for v in values)
            + ")"
        )

    lines = [
        HEADING,
        "",
        f"Written by `{document['command']}` (started {document['started']}, "
        f"{document['seconds']} s in all), chatserver {document['code']}.  "
        f"Medians over {len(runs)} runs; ratios within each run, then the "
        "median.",
        "",
        f"**Machine:** {document['machine']}; load average before each "
        "configuration, per run (in the order of the tables): "
        + "; ".join(
            "/".join(_fmt(run[c]["loadBefore"], 1) for c in CONFIGS if c in run)
            for run in runs
        )
        + ".  Other engineers' benchmarks shared the machine: the machine-busy "
        "row counts every process, ours and theirs.",
        "",
        f"**Set-up:** {o['users']} users, all in `#lobby`, {o['senders']} of "
        "them senders; in a cluster client I connects to node I mod N (3 "
        "nodes: 100 users and 2 senders each).  Each configuration starts its "
        "own `redis-server --save '' --appendonly no` on 127.0.0.1 and real "
        "`twistd -n chat --rate 0 --cluster redis://127.0.0.1:PORT "
        "--node-name nI` nodes (`bench.run.Server`); *1 node, no Redis* is "
        "the same server without `--cluster`.  Load generator: the Python one "
        "(`bench/loadgen.py`, 2 worker processes, asyncio), on the same 2 "
        "cores as the nodes and Redis.  CPU from `/proc/PID/stat`; a node's "
        "CPU per delivery divides its CPU by the deliveries to its own users.",
        "",
        "**Exactly once:** every receiver checked every line of every other "
        "sender (by its sequence number, against the lines sent), in both "
        "phases of every configuration and run: "
        + ", ".join(f"{n} {f}" for f, n in faults.items())
        + (
            " — every line arrived exactly once, intact, in its sender's order."
            if allOnce
            else " — **not exactly once** (see `bench/cluster.json`)."
        )
        + f"  {delivered:,} deliveries counted of {expected:,} expected"
        + (
            "."
            if delivered == expected
            else ": a worker of the generator counts from when it starts a "
            "phase, and the other's senders may have sent their first line a "
            "moment before (at most one line per sender per receiver; those "
            "lines are seen, not lost)."
        ),
        "",
        f"### Fixed load: {o['rate']:g} lines/s in all for {o['seconds']:g} s "
        f"({o['users'] - 1} receivers per line)",
        "",
        *_table(document, "fixed", FIXED_ROWS),
        "",
        "Cross-node p99 / single-node p99 (3-node cluster against 1 node, no "
        "Redis): "
        + ratio("fixed", "crossP99", "cluster3", "single", "p99")
        + "; cross-node p50: "
        + ratio("fixed", "crossP50", "cluster3", "single", "p50")
        + ".  1-node cluster p50 / 1 node, no Redis: "
        + ratio("fixed", "p50", "cluster1", "single")
        + ".",
        "",
        f"### Full speed: {o['senders']} senders, {o['window']} lines in "
        f"flight each, {o['full_seconds']:g} s",
        "",
        *_table(document, "full", FULL_ROWS),
        "",
        "Deliveries/s, 3-node cluster / 1-node cluster: "
        + ratio("full", "deliveriesPerSec", "cluster3", "cluster1")
        + "; 1-node cluster / 1 node, no Redis: "
        + ratio("full", "deliveriesPerSec", "cluster1", "single")
        + ".",
        "",
        "Per run:",
        "",
        *_per_run(document),
        "",
        'The analysis is in the notes below ("The cluster benchmark").',
    ]
    return "\n".join(lines)


def write_section(document: Metrics, path: Path) -> None:
    """
    Put L{section} into C{path} (C{RESULTS.md}).
    """
    put_section(path, HEADING, section(document))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the cluster benchmark.")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--configs", default=",".join(CONFIGS))
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--senders", type=int, default=6)
    parser.add_argument(
        "--rate", type=float, default=150.0, help="lines/s of all senders together"
    )
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--full-seconds", type=float, default=6.0)
    parser.add_argument("--window", type=int, default=100)
    parser.add_argument("--out", default=str(BENCH / "cluster.json"))
    parser.add_argument("--no-report", action="store_true")
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="only rewrite the section of RESULTS.md from --out's results",
    )
    options = parser.parse_args(argv)
    if options.report_only:
        write_section(json.loads(Path(options.out).read_text()), BENCH / "RESULTS.md")
        return 0
    configs = options.configs.split(",")
    unknown = [c for c in configs if c not in CONFIGS]
    if unknown:
        parser.error(f"unknown configurations: {', '.join(unknown)}")
    raise_fd_limit(10_000)
    started = time.time()
    runs: list[dict[str, Metrics]] = []
    for run in range(options.runs):
        results: dict[str, Metrics] = {}
        # A different configuration first in each run.
        order = configs[run % len(configs) :] + configs[: run % len(configs)]
        for config in order:
            t = time.monotonic()
            metrics = one(config, options)
            results[config] = metrics
            brief = {
                phase: {
                    k: (round(v, 3) if isinstance(v, float) else v)
                    for k, v in metrics[phase].items()
                    if k not in ("errorSamples",)
                }
                for phase in ("fixed", "full")
            }
            print(
                f"run {run + 1} {config} ({time.monotonic() - t:.0f}s, load "
                f"{metrics['loadBefore']}): {json.dumps(brief)}",
                flush=True,
            )
        runs.append({c: results[c] for c in configs})
    document: Metrics = {
        "machine": machine(),
        "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started)),
        "seconds": round(time.time() - started),
        "command": ".venv/bin/python -m bench.cluster "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "code": _code(),
        "options": vars(options),
        "runs": runs,
    }
    Path(options.out).write_text(json.dumps(document, indent=1) + "\n")
    if not options.no_report:
        write_section(document, BENCH / "RESULTS.md")
    print(section(document))
    checked = [r[p] for run in runs for r in run.values() for p in ("fixed", "full")]
    return 0 if all(p["exactlyOnce"] for p in checked) else 1


def _code() -> str:
    """
    @return: Which chatserver ran: the installed package, with the git
        revision of the tree it was installed from.
    """
    revision = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=BENCH.parent,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return f"installed from git revision {revision or 'unknown'}"


if __name__ == "__main__":
    raise SystemExit(main())
