"""
Issue 25's TLS benchmarks: what a TLS connection costs our server against
a plain one, and against the C epoll server with OpenSSL, in the same run.

    .venv/bin/python -m bench.tls --runs 3

Three scenarios, each with the compiled load generator (L{bench.cloadgen},
C{--tls} for the TLS clients) and a fresh server process per measurement:

  - C{idle}: C{--idle-clients} (10,000) clients log in to our server and
    to the C server, over plain TCP and over TLS, and read every join
    notice; the server's resident memory per logged-in connection, then one
    chat line that every client must get.
  - C{fanout}: issue 15's fan-out (200 clients, 4 senders as fast as 100
    lines in flight allow, C{--seconds}) against our server and the C
    server, each over plain TCP and over TLS: server CPU per delivery.
  - C{storm}: C{--storm-clients} (1,000) clients connect at once and log
    in, against our server and the C server, over plain TCP and over TLS:
    the time until all are logged in, and the server's CPU meanwhile.

Both servers get the same certificate, a new self-signed ECDSA P-256 one
(C{openssl req}) for each invocation.  It writes C{bench/tls.json} and the
section "TLS (issue 25)" of C{bench/RESULTS.md} (C{--report-only} rewrites
the section from the JSON; C{--quick} is the tests' smoke size).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import run
from bench.cloadgen import CLoad
from bench.report import put_section

BENCH = Path(__file__).resolve().parent
SCENARIOS = ("idle", "fanout", "storm")
# Each scenario's measurements: our server and the C server, plain and TLS.
PARTS = ("ours-plain", "ours-tls", "c-plain", "c-tls")
HEADING = "## TLS (issue 25)"
# The idle crowd's connections spread over this many loopback addresses
# (from 127.0.0.2), as idle19k does, so that ephemeral ports do not run out.
IDLE_SOURCES = 8
Metrics = dict[str, Any]


def certificate(directory: Path) -> str:
    """
    Make a self-signed ECDSA P-256 certificate for C{localhost} and
    127.0.0.1 in C{directory}.

    @return: The path of a PEM file holding the private key and the
        certificate, as both servers read it.
    """
    key, cert = directory / "key.pem", directory / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    pem = directory / "server.pem"
    pem.write_bytes(key.read_bytes() + cert.read_bytes())
    return str(pem)


def _load() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def crowd(
    kind: str,
    pem: str,
    clients: int,
    *,
    concurrency: int,
    sources: int = 0,
    timeout: float = 120,
) -> Metrics:
    """
    Log C{clients} in to a fresh C{kind} server (over TLS if C{pem}) with
    the compiled generator, C{concurrency} connecting at once, wait until
    every join notice has been read, measure, then send one chat line that
    every other client must get.
    """
    extra = ("--exempt", "127.0.0.0/8") if kind == "ours" and sources else ()
    server = run.Server(kind, extra, tls=pem)
    loadBefore = _load()
    try:
        time.sleep(0.3)
        rss0 = server.memory()[0]
        cpu0 = server.cpu()
        load = CLoad(
            server.port,
            clients,
            1,
            {"duration": 5, "rate": 1.0, "window": 0, "lines": 1},
            concurrency=concurrency,
            loginTimeout=timeout,
            settleTimeout=timeout,
            drainTimeout=15,
            sources=sources,
            checkEvery=1,  # one line: every client checks it
            tls=bool(pem),
        )
        try:
            settled = load.settled()
            cpu = server.cpu() - cpu0
            time.sleep(1.0)  # the server trims freed memory 4 times a second
            rss, peak = server.memory()
            load.go()
            probe = load.result()
        finally:
            load.close()
    finally:
        server.stop()
    loggedIn = settled["loggedIn"]
    return {
        "clients": clients,
        "tls": settled["tls"],
        "loggedIn": loggedIn,
        "failed": settled["failed"],
        "settled": settled["settled"],
        "loginSeconds": round(settled["loginSeconds"], 3),
        "settleSeconds": round(settled["loginSeconds"] + settled["settleSeconds"], 3),
        "serverCpuSeconds": round(cpu, 2),
        "generatorCpuSeconds": round(settled["loginCpu"] + settled["settleCpu"], 2),
        "rssBeforeMB": round(rss0, 1),
        "rssMB": round(rss, 1),
        "peakRssMB": round(peak, 1),
        "kbPerConnection": (rss - rss0) * 1024 / loggedIn if loggedIn else None,
        "probeExpected": probe["expected"],
        "probeDelivered": probe["delivered"],
        "probeLost": probe["lost"],
        "errors": settled["errorCount"] + probe["errorCount"],
        "errorSamples": (settled["errors"] + probe["errors"])[:3],
        "loadBefore": loadBefore,
    }


def idle(pem: str, options: argparse.Namespace) -> dict[str, Metrics]:
    """
    Memory per idle logged-in connection, plain and TLS: ours, and the C
    server for what OpenSSL itself keeps per connection.
    """
    return {
        f"{kind}-{label}": crowd(
            kind,
            tls,
            options.idle_clients,
            concurrency=min(1000, options.idle_clients),
            sources=IDLE_SOURCES,
            timeout=options.idle_timeout,
        )
        for label, tls in (("plain", ""), ("tls", pem))
        for kind in ("ours", "c")
        if f"{kind}-{label}" in options.parts
    }


def storm(pem: str, options: argparse.Namespace) -> dict[str, Metrics]:
    """
    All of C{--storm-clients} logging in at once, ours and the C server,
    plain and TLS.
    """
    return {
        f"{kind}-{label}": crowd(
            kind, tls, options.storm_clients, concurrency=options.storm_clients
        )
        for label, tls in (("plain", ""), ("tls", pem))
        for kind in ("ours", "c")
        if f"{kind}-{label}" in options.parts
    }


def fanout(pem: str, options: argparse.Namespace) -> dict[str, Metrics]:
    """
    Issue 15's fan-out against ours and the C server, plain and TLS.
    """
    out: dict[str, Metrics] = {}
    for label, tls in (("plain", ""), ("tls", pem)):
        for kind in ("ours", "c"):
            if f"{kind}-{label}" not in options.parts:
                continue
            server = run.Server(kind, tls=tls)
            loadBefore = _load()
            try:
                metrics = run.ctraffic(
                    server,
                    options.fanout_clients,
                    4,
                    {"duration": options.seconds, "rate": 0, "window": 100},
                    drain_timeout=10,
                    tls=bool(tls),
                )
            finally:
                server.stop()
            metrics["loadBefore"] = loadBefore
            out[f"{kind}-{label}"] = metrics
    return out


RUNNERS: dict[str, Callable[[str, argparse.Namespace], dict[str, Metrics]]] = {
    "idle": idle,
    "fanout": fanout,
    "storm": storm,
}


def _uptime() -> str:
    return subprocess.run(
        ["uptime"], capture_output=True, text=True, check=False
    ).stdout.strip()


def _ratio(a: Any, b: Any) -> float | None:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b:
        return a / b
    return None


def _median(values: list[Any]) -> float | None:
    present = [v for v in values if isinstance(v, (int, float))]
    return statistics.median(present) if present else None


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{0 if abs(value) >= 10_000 else digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


# Each target: its scenario, the figure, the numerator's and denominator's
# measurements, the bound, and whether a smaller ratio is better.
TARGETS = (
    ("idle", "kbPerConnection", "ours-tls", None, 4.0, "KB per idle TLS connection"),
    ("fanout", "cpuUsPerDelivery", "ours-tls", "ours-plain", 2.0, "TLS vs plain"),
    ("fanout", "cpuUsPerDelivery", "ours-tls", "c-tls", 2.0, "TLS vs C TLS"),
    ("fanout", "cpuUsPerDelivery", "ours-plain", "c-plain", 1.5, "plain vs C"),
    ("storm", "loginSeconds", "ours-tls", "c-tls", 2.0, "TLS logins vs C TLS"),
)


def _generator_heavy(metrics: Metrics) -> bool:
    """
    @return: Whether the generator used more CPU than the server in
        C{metrics} (a fan-out's; other scenarios never are).
    """
    generator, server = metrics.get("generatorCpu"), metrics.get("serverCpu")
    return generator is not None and server is not None and generator > server


def merge(documents: list[dict[str, Any]]) -> dict[str, Any]:
    """
    @return: One document with the invocations of all of C{documents} and
        their runs put together run by run (the first run of each is the
        merged first run, and so on).
    """
    runs: list[dict[str, dict[str, Metrics]]] = []
    for document in documents:
        for number, results in enumerate(document["runs"]):
            if number == len(runs):
                runs.append({})
            for scenario, parts in results.items():
                runs[number].setdefault(scenario, {}).update(parts)
    return {
        "machine": documents[0]["machine"],
        "invocations": [i for d in documents for i in d["invocations"]],
        "runs": runs,
    }


def section(document: dict[str, Any]) -> str:
    """
    @return: The "TLS (issue 25)" section of C{RESULTS.md} for C{document}
        (what L{main} wrote to C{tls.json}).
    """
    runs: list[dict[str, dict[str, Metrics]]] = document["runs"]

    def values(scenario: str, part: str, key: str) -> list[Any]:
        return [r[scenario].get(part, {}).get(key) for r in runs if scenario in r]

    out = [HEADING, ""]
    for invocation in document["invocations"]:
        counted = sum(1 for r in runs if any(s in r for s in invocation["scenarios"]))
        out.append(
            f"- `{invocation['command']}` on {invocation['code']}, "
            f"{counted} run(s), started {invocation['started']} "
            f"({invocation['seconds']} s); `uptime` before: "
            f"`{invocation['uptimeBefore']}`, after: `{invocation['uptimeAfter']}`."
        )
    out += [
        "",
        f"{document['machine']}.  Medians over the runs; each ratio is the "
        "median of the ratios within each run.  The compiled load generator "
        "throughout (`--tls`: TLS 1.3 through libssl); both servers get the "
        "same self-signed ECDSA P-256 certificate.  The load average before "
        "each measurement is in `bench/tls.json` (`loadBefore`).",
        "",
        "| target (issue 25) | per run | median | bound | met |",
        "|---|---|---|---|---|",
    ]
    footnote = (
        "(`*`: in that run the generator used more CPU than one of the two "
        "servers it measured.)"
    )
    for scenario, key, top, bottom, bound, label in TARGETS:
        if not any(scenario in r for r in runs):
            continue
        if bottom is None:
            each = values(scenario, top, key)
        else:
            each = [
                _ratio(a, b)
                for a, b in zip(
                    values(scenario, top, key),
                    values(scenario, bottom, key),
                    strict=True,
                )
            ]
        middle = _median(each)
        if middle is None:
            continue  # not measured in these runs
        met = "yes" if middle <= bound else "no"
        unit = "" if bottom is None else "x"
        # A fan-out run whose generator used more CPU than a server it
        # measured is marked (issue 15's rule leaves such runs out).
        marks = [
            "*"
            if any(
                _generator_heavy(r[scenario].get(part, {}))
                for part in (top, bottom)
                if part
            )
            else ""
            for r in runs
            if scenario in r
        ]
        out.append(
            f"| {label} ({key}) | "
            f"{', '.join(_fmt(v) + unit + m for v, m in zip(each, marks, strict=True))}"
            f" | {_fmt(middle)}{unit} | {bound}{unit} | {met} |"
        )
    out += ["", footnote]
    tables = {
        "idle": (
            "Idle logged-in connections (`idle`)",
            (
                ("clients", "clients"),
                ("loggedIn", "logged in"),
                ("settleSeconds", "s to log in and read every notice"),
                ("serverCpuSeconds", "server CPU s"),
                ("rssMB", "RSS MB"),
                ("kbPerConnection", "KB per connection"),
                ("probeLost", "probe lost"),
                ("errors", "errors"),
            ),
        ),
        "fanout": (
            "Fan-out, 200 clients, 4 senders (`fanout`)",
            (
                ("deliveriesPerSec", "deliveries/s"),
                ("cpuUsPerDelivery", "server CPU us per delivery"),
                ("serverCpu", "server cores"),
                ("generatorCpu", "generator cores"),
                ("p50", "p50 ms"),
                ("p99", "p99 ms"),
                ("lost", "lost"),
                ("errors", "errors"),
            ),
        ),
        "storm": (
            "Login storm, all clients connecting at once (`storm`)",
            (
                ("clients", "clients"),
                ("loggedIn", "logged in"),
                ("loginSeconds", "s until all logged in"),
                ("settleSeconds", "s until every notice read"),
                ("serverCpuSeconds", "server CPU s"),
                ("errors", "errors"),
            ),
        ),
    }
    for scenario, (title, columns) in tables.items():
        if not any(scenario in r for r in runs):
            continue
        parts = [p for p in PARTS if any(p in r.get(scenario, {}) for r in runs)]
        out += [
            "",
            f"{title}, medians:",
            "",
            "| server | " + " | ".join(label for _, label in columns) + " |",
            "|---|" + "---|" * len(columns),
        ]
        for part in parts:
            cells = [_fmt(_median(values(scenario, part, key))) for key, _ in columns]
            out.append(f"| {part} | " + " | ".join(cells) + " |")
    before = document.get("before")
    if before:
        out += ["", f"Before: {before['note']}", ""]
        out += section(before).split("\n", 2)[2].splitlines()
    return "\n".join(out) + "\n"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Issue 25's TLS benchmarks.")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument(
        "--parts",
        default=",".join(PARTS),
        help="which servers run, comma-separated, of " + ", ".join(PARTS),
    )
    parser.add_argument("--idle-clients", type=int, default=10_000)
    parser.add_argument("--idle-timeout", type=float, default=120)
    parser.add_argument("--storm-clients", type=int, default=1_000)
    parser.add_argument("--fanout-clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--out", default=str(BENCH / "tls.json"))
    parser.add_argument("--results", default=str(BENCH / "RESULTS.md"))
    parser.add_argument("--no-report", action="store_true")
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="rewrite the section of RESULTS.md from --out, run nothing",
    )
    parser.add_argument(
        "--merge",
        nargs="+",
        metavar="JSON",
        help="put the runs of these --out files together, run by run, into "
        "--out and rewrite the section; run nothing",
    )
    parser.add_argument(
        "--before",
        nargs="+",
        metavar="JSON",
        help="with --merge: --out files of the code before, shown apart",
    )
    parser.add_argument("--before-note", default="main's chatserver")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="the tests' smoke size: 1 run, 200 idle, 50 storming, 20 "
        "fan-out clients for 1 s",
    )
    parser.add_argument(
        "--chatserver",
        metavar="REVISION",
        default="",
        help="run our server from this git revision instead of the installed package",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    options = _parser().parse_args(argv)
    if options.merge:
        document = merge([json.loads(Path(f).read_text()) for f in options.merge])
        if options.before:
            before = merge([json.loads(Path(f).read_text()) for f in options.before])
            before["note"] = options.before_note
            document["before"] = before
        Path(options.out).write_text(json.dumps(document, indent=1) + "\n")
    if options.merge or options.report_only:
        document = json.loads(Path(options.out).read_text())
        put_section(Path(options.results), HEADING, section(document))
        return 0
    if options.quick:
        options.runs, options.seconds = 1, 1.0
        options.idle_clients, options.storm_clients = 200, 50
        options.fanout_clients, options.idle_timeout = 20, 60
    code = "the installed package"
    if options.chatserver:
        from bench.profile import checkout

        run.SOURCE = checkout(options.chatserver)
        code = f"chatserver from git revision {options.chatserver}"
    run.raise_fd_limit()
    scenarios = options.scenarios.split(",")
    options.parts = options.parts.split(",")
    unknown = [s for s in scenarios if s not in SCENARIOS]
    unknown += [p for p in options.parts if p not in PARTS]
    if unknown:
        _parser().error(f"unknown scenarios or parts: {', '.join(unknown)}")
    started = time.time()
    uptime = _uptime()
    runs: list[dict[str, dict[str, Metrics]]] = []
    with tempfile.TemporaryDirectory(prefix="bench-tls-") as tmp:
        pem = certificate(Path(tmp))
        for number in range(options.runs):
            results: dict[str, dict[str, Metrics]] = {}
            for scenario in scenarios:
                t = time.monotonic()
                results[scenario] = RUNNERS[scenario](pem, options)
                for part, metrics in results[scenario].items():
                    brief = {
                        k: round(v, 3) if isinstance(v, float) else v
                        for k, v in metrics.items()
                        if k not in ("errorSamples",)
                    }
                    print(f"run {number + 1} {scenario} {part}: {brief}", flush=True)
                print(f"({time.monotonic() - t:.0f} s)", flush=True)
            runs.append(results)
    document = {
        "machine": run.machine(),
        "invocations": [
            {
                "command": "python -m bench.tls " + " ".join(argv or sys.argv[1:]),
                "code": code,
                "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started)),
                "seconds": round(time.time() - started),
                "uptimeBefore": uptime,
                "uptimeAfter": _uptime(),
                "scenarios": scenarios,
            }
        ],
        "runs": runs,
    }
    Path(options.out).write_text(json.dumps(document, indent=1) + "\n")
    if not options.no_report:
        put_section(Path(options.results), HEADING, section(document))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
