"""
Write C{bench/RESULTS.md} from the results of L{bench.run}: medians over the
runs, ratios against the baselines taken within each run, and the targets.

    .venv/bin/python -m bench.report   # rewrite RESULTS.md from results.json
    .venv/bin/python -m bench.report --merge A.json B.json  # one document

C{--merge} puts the results of several C{bench.run} invocations (scenarios
run separately, in the same session) into C{results.json}, run by run, and
writes C{RESULTS.md} from it.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
SERVERS = ("ours", "naive", "threaded", "c")
TITLES = {
    "ours": "ours (chatserver)",
    "naive": "naive Twisted",
    "threaded": "thread per client",
    "c": "C epoll",
}
MAX_BUFFER_MB = 1.0  # the default --max-buffer, 1 MiB
# Scenarios where a run counts only if the load generator used no more CPU
# than the server (issue 15): otherwise the generator, not the server, may
# have set the pace.  Such runs are left out of the medians and ratios.
GATED = ("fanout", "scale")


def put_section(path: Path, heading: str, section: str) -> None:
    """
    Put C{section}, whose first line is C{heading}, into C{path}
    (C{RESULTS.md}): in place of the section with that heading, else before
    its notes, else at its end.
    """
    text = path.read_text() if path.exists() else ""
    new = section.rstrip() + "\n\n"
    start = text.find(heading + "\n")
    if start >= 0:
        after = re.search(r"^## ", text[start + len(heading) :], re.MULTILINE)
        end = start + len(heading) + after.start() if after else len(text)
        text = text[:start] + new + text[end:]
    else:
        notes = text.find("\n## Notes on these results")
        if notes >= 0:
            text = text[: notes + 1] + new + text[notes + 1 :]
        elif text.strip():
            text = text.rstrip() + "\n\n" + new
        else:
            text = new
    path.write_text(text.rstrip() + "\n")


def counts(scenario: str, metrics: dict[str, Any]) -> bool:
    """
    @return: Whether a run of C{scenario} with these C{metrics} counts: in
        the L{GATED} scenarios, not if the load generator used more CPU than
        the server.
    """
    if scenario not in GATED:
        return True
    generator, server = metrics.get("generatorCpu"), metrics.get("serverCpu")
    if isinstance(generator, (int, float)) and isinstance(server, (int, float)):
        return generator <= server
    return True


def _median(values: list[Any]) -> float | None:
    present = [v for v in values if isinstance(v, (int, float))]
    return statistics.median(present) if present else None


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.{digits}f}"
    return str(value)


class Results:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.runs: list[dict[str, dict[str, dict[str, Any]]]] = document["runs"]

    def values(self, scenario: str, server: str, key: str) -> list[Any]:
        """
        @return: C{key} of each run of C{scenario} on C{server} that counts.
        """
        return [
            run[scenario][server].get(key)
            for run in self.runs
            if scenario in run
            and server in run[scenario]
            and counts(scenario, run[scenario][server])
        ]

    def excluded(self, scenario: str, server: str) -> tuple[int, int]:
        """
        @return: How many runs of C{scenario} on C{server} do not count, of
            how many.
        """
        ran = [
            run[scenario][server]
            for run in self.runs
            if server in run.get(scenario, {})
        ]
        return sum(not counts(scenario, m) for m in ran), len(ran)

    def median(self, scenario: str, server: str, key: str) -> float | None:
        return _median(self.values(scenario, server, key))

    def ratio(
        self, scenario: str, key: str, over: str, under: str
    ) -> tuple[float | None, list[float]]:
        """
        @return: The median over runs of C{over/under} for C{key}, each ratio
            taken within one run, and the ratios.
        """
        ratios = []
        for run in self.runs:
            first = run.get(scenario, {}).get(over, {})
            second = run.get(scenario, {}).get(under, {})
            if not (counts(scenario, first) and counts(scenario, second)):
                continue
            a, b = first.get(key), second.get(key)
            if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b:
                ratios.append(a / b)
        return _median(ratios), ratios

    def servers(self, scenario: str) -> list[str]:
        return [s for s in SERVERS if any(s in r.get(scenario, {}) for r in self.runs)]

    def nested(self, scenario: str, *path: str) -> list[Any]:
        """
        @return: Each run's value at C{path} under our server's results of
            C{scenario} (for the scenarios with several parts).
        """
        out = []
        for run in self.runs:
            value: Any = run.get(scenario, {}).get("ours")
            for key in path:
                value = value.get(key) if isinstance(value, dict) else None
            if value is not None:
                out.append(value)
        return out

    def failures(self, scenario: str, server: str) -> list[str]:
        return [
            f for f in self.values(scenario, server, "failure") if isinstance(f, str)
        ]


def _table(
    results: Results,
    scenario: str,
    rows: list[tuple[str, str, Callable[[Any], str] | None]],
) -> list[str]:
    servers = results.servers(scenario)
    if not servers:
        return ["(not run)", ""]
    out = [
        "| | " + " | ".join(TITLES[s] for s in servers) + " |",
        "|---|" + "---:|" * len(servers),
    ]
    for label, key, fmt in rows:
        cells = []
        for server in servers:
            value = results.median(scenario, server, key)
            cells.append(fmt(value) if fmt else _fmt(value))
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    if scenario in GATED:
        cells = []
        for server in servers:
            excluded, ran = results.excluded(scenario, server)
            cells.append(f"{ran - excluded} of {ran} ({excluded} excluded)")
        out.append(
            "| runs counted (generator CPU ≤ server CPU) | " + " | ".join(cells) + " |"
        )
        cells = []
        for server in servers:
            per = [
                run[scenario][server]
                for run in results.runs
                if server in run.get(scenario, {})
            ]
            cells.append(
                ", ".join(
                    f"{_fmt(m.get('serverCpu'))} / {_fmt(m.get('generatorCpu'))}"
                    + ("" if counts(scenario, m) else " ✗")
                    for m in per
                )
            )
        out.append(
            "| server / generator CPU (cores) per run, ✗ not counted | "
            + " | ".join(cells)
            + " |"
        )
        cells = [
            ", ".join(
                sorted(
                    {
                        str(run[scenario][server].get("loadgen", "python"))
                        for run in results.runs
                        if server in run.get(scenario, {})
                    }
                )
            )
            for server in servers
        ]
        out.append("| load generator | " + " | ".join(cells) + " |")
        cells = [
            ", ".join(
                sorted(
                    {
                        f"{m['checking']} / {m['counting']}"
                        for run in results.runs
                        if "counting" in (m := run.get(scenario, {}).get(server, {}))
                    }
                )
            )
            or "all check"
            for server in servers
        ]
        out.append(
            "| receivers checking every line / counting bytes (MSG_TRUNC) | "
            + " | ".join(cells)
            + " |"
        )
        for label, key in (
            ("server CPU µs per delivery", "cpuUsPerDelivery"),
            ("latency p99 (ms)", "p99"),
        ):
            cells = [
                _fmt(
                    _median(
                        [
                            run[scenario][server].get(key)
                            for run in results.runs
                            if server in run.get(scenario, {})
                        ]
                    )
                )
                for server in servers
            ]
            out.append(
                f"| {label}, all runs, not counted ones too | "
                + " | ".join(cells)
                + " |"
            )
    for server in servers:
        for failure in results.failures(scenario, server):
            out.append(f"\n{TITLES[server]} failed in a run: `{failure}`")
    out.append("")
    return out


TRAFFIC_ROWS: list[tuple[str, str, Callable[[Any], str] | None]] = [
    ("deliveries/s", "deliveriesPerSec", None),
    ("server CPU µs per delivery", "cpuUsPerDelivery", None),
    ("server CPU (cores)", "serverCpu", None),
    ("generator CPU (cores, of 2)", "generatorCpu", None),
    ("latency p50 (ms)", "p50", None),
    ("latency p99 (ms)", "p99", None),
    ("latency max (ms)", "max", None),
    ("peak server RSS (MB)", "peakRssMB", lambda v: _fmt(v, 1)),
    ("lines sent", "sent", lambda v: _fmt(v, 0)),
    ("deliveries", "deliveries", lambda v: _fmt(v, 0)),
    ("lost", "lost", lambda v: _fmt(v, 0)),
    ("duplicated", "duplicated", lambda v: _fmt(v, 0)),
    ("corrupted", "corrupted", lambda v: _fmt(v, 0)),
    ("error lines", "errors", lambda v: _fmt(v, 0)),
    ("machine CPU busy, all processes (cores, of 2)", "machineBusy", None),
]

CROWD_ROWS: list[tuple[str, str, Callable[[Any], str] | None]] = [
    ("clients logged in", "loggedIn", lambda v: _fmt(v, 0)),
    ("failed to log in", "failed", lambda v: _fmt(v, 0)),
    ("all welcomed (s)", "loginSeconds", None),
    ("all join notices read (s)", "settleSeconds", None),
    ("clients with all join notices", "settled", lambda v: _fmt(v, 0)),
    ("server CPU (s)", "serverCpuSeconds", None),
    ("generator CPU (s)", "generatorCpuSeconds", None),
    ("server RSS before (MB)", "rssBeforeMB", lambda v: _fmt(v, 1)),
    ("server RSS after (MB)", "rssMB", lambda v: _fmt(v, 1)),
    ("peak server RSS (MB)", "peakRssMB", lambda v: _fmt(v, 1)),
    ("RSS per connection (KB)", "kbPerConnection", None),
    ("error lines", "errors", lambda v: _fmt(v, 0)),
    ("machine CPU busy, all processes (cores, of 2)", "machineBusy", None),
]

SLOW_ROWS: list[tuple[str, str, Callable[[Any], str] | None]] = [
    ("deliveries/s (with the slow client)", "deliveriesPerSec", None),
    ("deliveries/s (same, without it)", "controlDeliveriesPerSec", None),
    ("normal clients' p99 (ms)", "p99", None),
    ("p99 without the slow client (ms)", "controlP99", None),
    ("p99 with / without", "p99VsControl", None),
    ("normal clients' max latency (ms)", "max", None),
    ("peak server RSS (MB)", "peakRssMB", lambda v: _fmt(v, 1)),
    ("peak server RSS without it (MB)", "controlPeakRssMB", lambda v: _fmt(v, 1)),
    ("slow client dropped after (s)", "slowDroppedAt", None),
    ("lines sent", "sent", lambda v: _fmt(v, 0)),
    ("lost (normal clients)", "lost", lambda v: _fmt(v, 0)),
    ("duplicated", "duplicated", lambda v: _fmt(v, 0)),
    ("corrupted", "corrupted", lambda v: _fmt(v, 0)),
    ("machine CPU busy, all processes (cores, of 2)", "machineBusy", None),
]


def _parts_table(
    results: Results,
    scenario: str,
    parts: list[tuple[str, str]],
    rows: list[tuple[str, str, Callable[[Any], str] | None]],
) -> list[str]:
    """
    A table of our server's results in C{scenario}, one column per part.
    """
    if not results.nested(scenario):
        return ["(not run)", ""]
    out = [
        "| | " + " | ".join(title for _, title in parts) + " |",
        "|---|" + "---:|" * len(parts),
    ]
    for label, key, fmt in rows:
        cells = []
        for part, _ in parts:
            value = _median(results.nested(scenario, part, key))
            cells.append(fmt(value) if fmt else _fmt(value))
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    for failure in results.nested(scenario, "failure"):
        out.append(f"\nA run failed: `{failure}`")
    out.append("")
    return out


def _count(v: Any) -> str:
    return _fmt(v, 0)


def _generation(v: Any) -> str:
    if v is None:
        return "n/a"
    return "none" if v < 0 else _fmt(v, 0)


ROOMS_ROWS: list[tuple[str, str, Callable[[Any], str] | None]] = [
    ("clients logged in", "loggedIn", _count),
    ("room memberships (joined, confirmed)", "memberships", _count),
    ("join phase (s)", "joinSeconds", None),
    ("lines sent", "sent", _count),
    ("deliveries expected (from membership)", "expected", _count),
    ("deliveries", "deliveries", _count),
    ("deliveries/s", "deliveriesPerSec", None),
    ("server CPU µs per delivery", "cpuUsPerDelivery", None),
    ("server CPU (cores)", "serverCpu", None),
    ("generator CPU (cores, of 2)", "generatorCpu", None),
    ("latency p50 (ms)", "p50", None),
    ("latency p99 (ms)", "p99", None),
    ("latency max (ms)", "max", None),
    ("lost", "lost", _count),
    ("duplicated", "duplicated", _count),
    ("to a non-member (unexpected)", "unexpected", _count),
    ("marked with the wrong room", "misrouted", _count),
    ("corrupted", "corrupted", _count),
    ("error lines", "errors", _count),
    ("longest reactor stall (ms)", "maxStallMs", None),
    ("stalls ≥ 50 ms", "stalls50ms", _count),
    ("longest garbage collection (ms)", "longestGcMs", None),
    ("its generation", "longestGcGeneration", _generation),
    ("peak server RSS (MB)", "peakRssMB", lambda v: _fmt(v, 1)),
]

MANY_ROWS: list[tuple[str, str, Callable[[Any], str] | None]] = [
    ("clients logged in", "loggedIn", _count),
    ("not logged in (refused or not in time)", "failed", _count),
    ("loopback source addresses", "sources", _count),
    ("all logged in (s)", "loginSeconds", None),
    ("all join notices read (s)", "settleSeconds", None),
    ("clients with all join notices", "settled", _count),
    ("server CPU (s)", "serverCpuSeconds", None),
    ("generator CPU (s)", "generatorCpuSeconds", None),
    ("server RSS before (MB)", "rssBeforeMB", lambda v: _fmt(v, 1)),
    ("server RSS after (MB)", "rssMB", lambda v: _fmt(v, 1)),
    ("peak server RSS (MB)", "peakRssMB", lambda v: _fmt(v, 1)),
    ("RSS per connection (KB)", "kbPerConnection", None),
    ("one line: recipients", "probeExpected", _count),
    ("one line: delivered", "probeDelivered", _count),
    ("one line: latency p50 (ms)", "probeP50", None),
    ("one line: latency p99 (ms)", "probeP99", None),
    ("error lines", "errors", _count),
    ("machine CPU busy, all processes (cores, of 2)", "machineBusy", None),
]

HISTORY_ROWS: list[tuple[str, str, Callable[[Any], str] | None]] = [
    ("deliveries/s", "deliveriesPerSec", None),
    ("server CPU µs per delivery", "cpuUsPerDelivery", None),
    ("server CPU (cores)", "serverCpu", None),
    ("generator CPU (cores, of 2)", "generatorCpu", None),
    ("latency p50 (ms)", "p50", None),
    ("latency p99 (ms)", "p99", None),
    ("lines sent (= lines kept)", "sent", _count),
    ("longest reactor stall (ms)", "maxStallMs", None),
    ("stalls ≥ 10 ms", "stalls10ms", _count),
    ("stalls ≥ 50 ms", "stalls50ms", _count),
    ("stalls ≥ 100 ms", "stalls100ms", _count),
    ("longest garbage collection (ms)", "longestGcMs", None),
    ("its generation", "longestGcGeneration", _generation),
    (
        "time in garbage collection (share, 1 s tallies)",
        "gcShare",
        lambda v: _fmt(v, 4),
    ),
    ("lost", "lost", _count),
    ("duplicated", "duplicated", _count),
    ("corrupted", "corrupted", _count),
    ("error lines", "errors", _count),
    ("peak server RSS (MB)", "peakRssMB", lambda v: _fmt(v, 1)),
    ("SQLite file after the run (MB)", "sqliteMB", lambda v: _fmt(v, 1)),
]


def _part_ratios(
    results: Results, scenario: str, key: str, over: str, under: str
) -> list[float]:
    a = results.nested(scenario, over, key)
    b = results.nested(scenario, under, key)
    return [x / y for x, y in zip(a, b, strict=False) if y]


def _rooms_check(results: Results) -> tuple[str, str, str, bool | None]:
    runs = results.nested("rooms", "rooms")
    bad = ("lost", "duplicated", "unexpected", "misrouted", "corrupted")
    exact = [
        all(r.get(k) == 0 for k in bad) and r.get("deliveries") == r.get("expected")
        for r in runs
    ]
    return (
        "Rooms: every line reaches every member of its room exactly once, and "
        "nobody else",
        "deliveries = expected; lost, duplicated, unexpected, misrouted, "
        "corrupted all 0"
        if exact and all(exact)
        else f"per run: {exact}",
        ", ".join(
            f"{_fmt(r.get('deliveries'))} of {_fmt(r.get('expected'))}" for r in runs
        ),
        all(exact) if exact else None,
    )


def targets(results: Results) -> list[tuple[str, str, str, bool | None]]:
    """
    @return: C{(target, measured, runs, met)} for each target.
    """
    out: list[tuple[str, str, str, bool | None]] = []
    ratio, ratios = results.ratio("fanout", "cpuUsPerDelivery", "naive", "ours")
    out.append(
        (
            "Fan-out: ≥ 4x less server CPU per delivery than naive Twisted",
            f"{_fmt(ratio)}x less",
            ", ".join(f"{r:.2f}x" for r in ratios),
            None if ratio is None else ratio >= 4,
        )
    )
    ours = results.median("scale", "ours", "p99")
    naive = results.median("scale", "naive", "p99")
    lost = results.values("scale", "ours", "lost")
    delivered = results.values("scale", "ours", "deliveries")
    allIn = bool(lost) and all(v == 0 for v in lost)
    out.append(
        (
            "Scale: p99 ≤ naive Twisted's at the same load, every line delivered",
            f"p99 {_fmt(ours)} ms vs {_fmt(naive)} ms; lost {lost}",
            "deliveries " + ", ".join(_fmt(d) for d in delivered),
            None if ours is None or naive is None else (ours <= naive and allIn),
        )
    )
    kb = results.median("idle", "ours", "kbPerConnection")
    out.append(
        (
            "Idle: ≤ 2.5 KB resident per logged-in connection at 10,000",
            f"{_fmt(kb)} KB",
            ", ".join(
                _fmt(v) for v in results.values("idle", "ours", "kbPerConnection")
            ),
            None if kb is None else kb <= 2.5,
        )
    )
    grow = [
        (a - b)
        for a, b in zip(
            results.values("slow", "ours", "peakRssMB"),
            results.values("slow", "ours", "controlPeakRssMB"),
            strict=True,
        )
        if isinstance(a, (int, float)) and isinstance(b, (int, float))
    ]
    dropped = results.values("slow", "ours", "slowDroppedAt")
    p99 = results.median("slow", "ours", "p99VsControl")
    growth = _median(grow)
    out.append(
        (
            "Slow consumer: memory bounded by --max-buffer (1 MiB), slow client "
            "dropped, others' p99 ≤ 1.5x without it",
            f"peak RSS +{_fmt(growth)} MB over the run without it; dropped after "
            f"{', '.join(_fmt(d) for d in dropped)} s; p99 {_fmt(p99)}x",
            ", ".join(
                _fmt(v) + "x" for v in results.values("slow", "ours", "p99VsControl")
            ),
            None
            if growth is None or p99 is None
            else (
                growth <= 2 * MAX_BUFFER_MB
                and all(d is not None for d in dropped)
                and p99 <= 1.5
            ),
        )
    )
    if results.nested("rooms"):
        out.append(_rooms_check(results))
    out += _issue15(results)
    return out


def _all_runs_ratio(
    results: Results, scenario: str, key: str, over: str, under: str
) -> str:
    """
    @return: The median over all runs, counted or not, of C{over/under} for
        C{key}, each taken within one run, and the ratios: for information
        where no run counts.
    """
    ratios = []
    for run in results.runs:
        a = run.get(scenario, {}).get(over, {}).get(key)
        b = run.get(scenario, {}).get(under, {}).get(key)
        if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b:
            ratios.append(a / b)
    if not ratios:
        return "n/a"
    return f"{_fmt(_median(ratios))}x ({', '.join(f'{r:.2f}x' for r in ratios)})"


def _issue15(results: Results) -> list[tuple[str, str, str, bool | None]]:
    """
    @return: Issue 15's targets against the C epoll server, when it ran.
    """
    out: list[tuple[str, str, str, bool | None]] = []
    if "c" in results.servers("fanout"):
        ratio, ratios = results.ratio("fanout", "cpuUsPerDelivery", "ours", "c")
        out.append(
            (
                "Fan-out: server CPU per delivery ≤ 2x the C epoll server's "
                "(counted runs only)",
                f"{_fmt(ratio)}x",
                ", ".join(f"{r:.2f}x" for r in ratios)
                or "no run counted; over all runs, not counted: "
                + _all_runs_ratio(results, "fanout", "cpuUsPerDelivery", "ours", "c"),
                None if ratio is None else ratio <= 2,
            )
        )
    if "c" in results.servers("scale"):
        ratio, ratios = results.ratio("scale", "p99", "ours", "c")
        naive, naives = results.ratio("scale", "p99", "ours", "naive")
        out.append(
            (
                "Scale: p99 ≤ 2x the C epoll server's and ≤ half naive "
                "Twisted's (counted runs only)",
                f"{_fmt(ratio)}x C's, {_fmt(naive)}x naive's",
                "vs C "
                + (
                    ", ".join(f"{r:.2f}x" for r in ratios)
                    or "none counted (over all runs, not counted: "
                    + _all_runs_ratio(results, "scale", "p99", "ours", "c")
                    + ")"
                )
                + "; vs naive "
                + (", ".join(f"{r:.2f}x" for r in naives) or "none counted"),
                None if ratio is None or naive is None else ratio <= 2 and naive <= 0.5,
            )
        )
    p99s = _part_ratios(results, "rooms", "p99", "rooms", "oneRoom")
    if p99s:
        out.append(
            (
                "Rooms: p99 within 2x of the one-room figure at the same deliveries/s",
                f"{_fmt(_median(p99s))}x",
                ", ".join(f"{r:.2f}x" for r in p99s),
                _median(p99s) <= 2,  # type: ignore[operator]
            )
        )
    if "ours" in results.servers("idle19k"):
        kb = results.median("idle19k", "ours", "kbPerConnection")
        logged = results.values("idle19k", "ours", "loggedIn")
        got = results.values("idle19k", "ours", "probeDelivered")
        want = results.values("idle19k", "ours", "probeExpected")
        out.append(
            (
                "19,000 idle logged-in connections in one process, answering",
                f"{_fmt(kb)} KB per connection; all logged in in "
                f"{_fmt(results.median('idle19k', 'ours', 'loginSeconds'))} s",
                "logged in "
                + ", ".join(_fmt(v) for v in logged)
                + "; one line delivered to "
                + ", ".join(
                    f"{_fmt(a)} of {_fmt(b)}" for a, b in zip(got, want, strict=False)
                ),
                bool(logged)
                and all(v == 19_000 for v in logged)
                and all(a == b and a for a, b in zip(got, want, strict=False)),
            )
        )
    return out


RATIOS = (
    ("fanout", "deliveriesPerSec", "fan-out deliveries/s", False),
    ("fanout", "cpuUsPerDelivery", "fan-out server CPU per delivery", True),
    ("scale", "cpuUsPerDelivery", "scale server CPU per delivery", True),
    ("scale", "p99", "scale latency p99", True),
    ("slow", "deliveriesPerSec", "slow-consumer deliveries/s", False),
    ("idle", "kbPerConnection", "idle RSS per connection", True),
    ("storm", "settleSeconds", "login storm time", True),
    ("storm", "serverCpuSeconds", "login storm server CPU", True),
)


def ratios(results: Results) -> list[str]:
    """
    @return: A table of how many times better ours is than each baseline,
        each ratio taken within one run, median over the runs.
    """
    out = [
        "Ours against each baseline (times better; each ratio within one run, "
        "median over runs):",
        "",
        "| measure | vs naive Twisted | vs thread per client |",
        "|---|---:|---:|",
    ]
    for scenario, key, label, lowerIsBetter in RATIOS:
        cells = []
        for baseline in ("naive", "threaded"):
            if lowerIsBetter:
                ratio, _ = results.ratio(scenario, key, baseline, "ours")
            else:
                ratio, _ = results.ratio(scenario, key, "ours", baseline)
            cells.append("n/a" if ratio is None else f"{ratio:.1f}x")
        out.append(f"| {label} | {cells[0]} | {cells[1]} |")
    out.append("")
    out.append(
        "(The idle and storm baselines' figures are for the clients they got "
        "logged in within the time limit, fewer than ours in the idle "
        "scenario.)"
    )
    return out


def _series(results: Results) -> list[str]:
    out = []
    run = results.runs[0].get("slow", {}) if results.runs else {}
    for server in SERVERS:
        metrics = run.get(server)
        if not metrics or "rssOverTime" not in metrics:
            continue
        points = ", ".join(f"{t:g}s {mb:g}" for t, mb in metrics["rssOverTime"])
        control = ", ".join(
            f"{t:g}s {mb:g}" for t, mb in metrics.get("controlRssOverTime", [])
        )
        out.append(f"- {TITLES[server]}, with the slow client: {points}")
        out.append(f"- {TITLES[server]}, without it: {control}")
    return out


def _run_counts(results: Results) -> str:
    counts: dict[str, int] = {}
    for run in results.runs:
        for scenario in run:
            counts[scenario] = counts.get(scenario, 0) + 1
    return ", ".join(f"{name} {n}" for name, n in counts.items()) + " run(s)"


def write_report(document: dict[str, Any], path: Path) -> None:
    results = Results(document)
    out = [
        "# Benchmark results",
        "",
        "Generated by `bench/report.py` from `bench/results.json`, written by "
        f"`{document['command'].strip()}` (started {document['started']}, "
        f"{document['seconds']} s in all).  Every number is the median over "
        f"the runs of its scenario ({_run_counts(results)}); ratios are taken "
        "within each run, then the median.",
        "",
        f"**Machine:** {document['machine']}.",
        "",
        "Servers: **ours** is `twistd -n chat --rate 0 --max-clients 20000 "
        "--login-timeout 0` (default `--max-buffer` 1 MiB), "
        f"{document.get('code', 'the installed package')}; "
        "**naive Twisted** is `bench/baselines/naive.py`; **thread per "
        "client** is `bench/baselines/threaded.py`"
        + (
            "; **C epoll** is `bench/baselines/cepoll.c`, built with the "
            "system C compiler (`cc -O2`) when the run starts"
            if any("c" in kinds for run in results.runs for kinds in run.values())
            else ""
        )
        + ".  Each scenario starts a "
        "fresh server process.  Load generator: "
        + (
            "for fan-out and scale the compiled one (`bench/cloadgen.c`, one "
            "thread, epoll), for the 19,000 connections too, for the others "
            "`bench/loadgen.py` in 2 worker processes"
            if document.get("loadgen") == "c"
            else "`bench/loadgen.py` in 2 worker processes (the 19,000 "
            "connections: `bench/cloadgen.c`)"
        )
        + ", on the same 2 cores, so a busy generator slows everything: its "
        "CPU is shown next to the server's.  In fan-out and scale a run where "
        "the generator used more CPU than the server does not count (left out "
        "of the medians and ratios; the tables say how many were)."
        + (
            "  In fan-out and scale only a sample of the compiled generator's "
            "receivers checks every line (the senders, the acknowledger and "
            "every 8th receiver), and the latencies are theirs; the others "
            "count the bytes they get and discard them without copying (`recv` "
            "with `MSG_TRUNC`), and each must end with exactly one "
            "fixed-length line per line sent, or the run reports the mismatch "
            "as lost, duplicated or corrupted lines (the tables say how many "
            "receivers did which)."
            if any(
                m.get("counting")
                for run in results.runs
                for kinds in run.values()
                for m in kinds.values()
            )
            else ""
        ),
        "",
        "## Targets",
        "",
        "| target | measured (median) | per run | met |",
        "|---|---|---|---|",
    ]
    for target, measured, per, met in targets(results):
        verdict = "n/a" if met is None else ("**yes**" if met else "**no**")
        out.append(f"| {target} | {measured} | {per} | {verdict} |")
    out += ["", *ratios(results), ""]
    out += [
        "## 1. Fan-out: 200 clients, 4 senders as fast as the server allows",
        "",
        "Each sender keeps at most 100 lines in flight (acknowledged by one "
        "receiver, one in each worker of the Python generator), so latency "
        "here is mostly that "
        "queue: compare throughput and CPU per delivery.",
        "",
        *_table(results, "fanout", TRAFFIC_ROWS),
        "## 2. Scale: 1,000 clients, 2 senders at 200 lines/s each",
        "",
        "Offered load: 400 lines/s x 999 recipients = 399,600 deliveries/s.",
        "",
        *_table(results, "scale", TRAFFIC_ROWS),
        "## 3. Idle: 10,000 logged-in idle clients",
        "",
        "1,000 connecting at a time; every client reads every join notice "
        "(about 50 million of them in all).  RSS per connection is (RSS after "
        "all are in and quiet - RSS before) / clients logged in.  Runs that "
        "did not finish within 60 s + 60 s report what they reached.",
        "",
        *_table(results, "idle", CROWD_ROWS),
        "## 3b. 19,000 idle logged-in connections",
        "",
        "One server process, 19,000 clients of the compiled load generator, "
        "1,000 connecting at a time, spread over 8 loopback source addresses "
        "(127.0.0.2 to 127.0.0.9, bound before connecting) so that ephemeral "
        "ports do not run out; each client logs in, lands in the default room "
        "and reads every join notice (about 180 million in all).  Our server "
        "gets `--exempt 127.0.0.0/8` (by default only 127.0.0.1 is exempt from "
        "the per-address limits) and raises its own soft open-files limit to "
        "the hard one.  RSS per connection as in the idle scenario; then one "
        "client sends one chat line and every other client must get it.  "
        "Limits 90 s to log in, 90 s more to read the notices.",
        "",
        *_table(results, "idle19k", MANY_ROWS),
        "## 4. Slow consumer: 50 clients plus one that never reads, 4 fast "
        "senders, 10 s",
        "",
        "Run twice per server: with the slow client, and the same without it "
        "(the control).  Senders keep 50 lines in flight each; lines are about "
        "500 bytes, and the slow client has a 4 KB receive buffer, so that "
        "what it does not read outgrows the kernel's loopback buffers within "
        "the 10 s.  Latency is that of the lines that arrived; lost counts "
        "those that had not arrived 3 s after the senders stopped.",
        "",
        *_table(results, "slow", SLOW_ROWS),
        "Server RSS (MB) over time, first run:",
        "",
        *_series(results),
        "",
        "## 5. Login storm: 2,000 clients connecting and logging in at once",
        "",
        *_table(results, "storm", CROWD_ROWS),
    ]
    cpuRatio = _part_ratios(results, "rooms", "cpuUsPerDelivery", "rooms", "oneRoom")
    out += [
        "## 6. Rooms: 5,000 users in 100 rooms",
        "",
        "Each user is in 1 to 5 of 100 rooms (`random.Random(2026)`, in "
        "`bench/run.py`'s `room_plan`): after logging in (everyone is in "
        "`#lobby`) each client sends `/join` for its rooms and `/part "
        "#lobby`, and waits to see each confirmed.  2 senders per room talk in "
        "the last room they joined: 400 lines/s in all, 2 lines/s each, for "
        "10 s (at most 20 lines each).  Every receiver checks it gets exactly "
        "the lines of its rooms' senders, once each, marked with the right "
        "room.  *One room*: the same 5,000 clients all left in `#lobby`, 4 of "
        "them sending, at the line rate that offers the same deliveries/s.  "
        "Before the measured part of each, the load generator waits until "
        "its clients have read every login and join notice and the server is "
        "idle.  History replay is on (the default 20 lines) but the rooms "
        "have no history when joined.",
        "",
        f"Recipients per line, on average: "
        f"{_fmt(_median(results.nested('rooms', 'recipientsPerLine')))}; offered "
        f"{_fmt(_median(results.nested('rooms', 'offeredDeliveriesPerSec')))} "
        f"deliveries/s; one-room line rate "
        f"{_fmt(_median(results.nested('rooms', 'oneRoomLineRate')))} lines/s.  "
        "Server CPU per delivery, rooms / one room, per run: "
        + (", ".join(f"{r:.2f}x" for r in cpuRatio) or "n/a")
        + ".  Machine CPU busy, all processes, during the scenario (cores, of "
        "2), per run: "
        + ", ".join(_fmt(v) for v in results.nested("rooms", "machineBusy"))
        + ".",
        "",
        *_parts_table(
            results,
            "rooms",
            [("rooms", "100 rooms"), ("oneRoom", "one room")],
            ROOMS_ROWS,
        ),
    ]
    stores = [("none", "--history none"), ("memory", "memory"), ("sqlite", "sqlite")]
    historyRatios = [
        f"{store}: "
        + (
            ", ".join(
                f"{r:.2f}x"
                for r in _part_ratios(
                    results, "history", "cpuUsPerDelivery", store, "none"
                )
            )
            or "n/a"
        )
        for store in ("memory", "sqlite")
    ]
    out += [
        "## 7. What history costs: the fan-out scenario with each store",
        "",
        "Scenario 1 (200 clients, 4 senders, 100 lines in flight each) with "
        "`--history none`, `memory` (the default) and `sqlite:PATH` (a new "
        "file in a temporary directory), one after the other in each run.  "
        "Every line sent is kept.  The server runs under "
        "`bench/lagserver.py`, which adds a 5 ms `LoopingCall` and records "
        "how late it runs: a stall is the time the reactor ran nothing else.  "
        "Server CPU per delivery against `none`, per run: "
        + "; ".join(historyRatios)
        + ".  Machine CPU busy, all processes, during the scenario (cores, of "
        "2), per run: "
        + ", ".join(_fmt(v) for v in results.nested("history", "machineBusy"))
        + ".",
        "",
        *_parts_table(results, "history", stores, HISTORY_ROWS),
    ]
    profiles = BENCH / "profiles"
    if profiles.is_dir():
        out += [
            "## Profiles of the fan-out and scale scenarios (py-spy)",
            "",
            "From `python -m bench.profile --scenario fanout --before e6d4e60 "
            "--after HEAD` (and `--scenario scale`), run in the same session as "
            "the benchmark: py-spy attached to the server for the "
            "5 s of sending.  Own time is the frame itself; total includes "
            "what it calls (the reactor's scaffolding, under which everything "
            "runs, is left out).  `untilConcludes` wraps the send and recv "
            "system calls.",
            "",
        ]
        for name in sorted(profiles.glob("*.md")):
            out += [name.read_text().strip(), ""]
    cluster = BENCH / "cluster.json"
    if cluster.exists():
        from bench.cluster import section

        out += [section(json.loads(cluster.read_text())), ""]
    history = BENCH / "history.json"
    if history.exists():
        from bench.history import section as history_section

        out += [history_section(json.loads(history.read_text())), ""]
    soak = BENCH / "soak.json"
    if soak.exists():
        from bench.soak import section as soak_section

        out += [soak_section(json.loads(soak.read_text())), ""]
    notes = BENCH / "NOTES.md"
    if notes.exists():
        out += [notes.read_text().strip(), ""]
    path.write_text("\n".join(out).rstrip() + "\n")


def merge_documents(documents: list[dict[str, Any]]) -> dict[str, Any]:
    """
    @return: One document with the runs of C{documents} put together run
        by run (run 1 of each, then run 2...).
    """
    first = documents[0]
    runs: list[dict[str, Any]] = []
    for document in documents:
        for i, run in enumerate(document["runs"]):
            if i == len(runs):
                runs.append({})
            runs[i].update(run)
    codes = []
    for d in documents:
        scenarios = sorted({name for run in d["runs"] for name in run})
        codes.append(
            f"{d.get('code', 'the installed package')} ({', '.join(scenarios)})"
        )
    return {
        "machine": first["machine"],
        "started": first["started"],
        "seconds": sum(d["seconds"] for d in documents),
        "command": "`, then `".join(d["command"].strip() for d in documents),
        "code": "; ".join(codes),
        "loadgen": next((d["loadgen"] for d in documents if "loadgen" in d), "python"),
        "runs": runs,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write bench/RESULTS.md.")
    parser.add_argument("--merge", nargs="+", metavar="JSON", default=[])
    options = parser.parse_args(argv)
    if options.merge:
        document = merge_documents(
            [json.loads(Path(path).read_text()) for path in options.merge]
        )
        (BENCH / "results.json").write_text(json.dumps(document, indent=1) + "\n")
    document = json.loads((BENCH / "results.json").read_text())
    write_report(document, BENCH / "RESULTS.md")


if __name__ == "__main__":
    main()
