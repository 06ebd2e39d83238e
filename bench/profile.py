"""
Profile our server with py-spy during the fan-out scenario, before and after
the outbox, and write the top frames to C{bench/profiles/*.md} (which
L{bench.report} puts into C{RESULTS.md}).

    .venv/bin/pip install -r bench/requirements.txt
    .venv/bin/python -m bench.profile [--before GIT-REVISION]
    .venv/bin/python -m bench.profile --scenario scale --before e6d4e60 \
        --after HEAD --out /tmp/profiles

"Before" is the server at C{--before} (by default the commit just before
the outbox), run from a copy of its C{chatserver} package put first on
C{PYTHONPATH}; "after" is the installed package, or C{--after}'s revision.
C{--scenario scale} profiles the scale scenario (1,000 clients, 2 senders
at 200 lines/s each: about one line per reactor turn) instead of the
fan-out one.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.loadgen import Load, merge
from bench.run import BENCH, ROOT, Server, raise_fd_limit, roster

PYSPY = str(ROOT / ".venv" / "bin" / "py-spy")
BEFORE = "f639be1^"


def checkout(revision: str) -> str:
    directory = tempfile.mkdtemp(prefix="chat-before-")
    archive = subprocess.run(
        ["git", "archive", revision, "chatserver"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", directory], input=archive, check=True)
    return directory


# Per scenario: clients, senders, what the senders do.
SCENARIOS: dict[str, tuple[int, int, dict[str, float]]] = {
    "fanout": (200, 4, {"rate": 0, "window": 100}),
    "scale": (1000, 2, {"rate": 200.0, "window": 0}),
}


def record(
    server: Server, seconds: float, output: Path, scenario: str = "fanout"
) -> dict[str, float]:
    clients, senders, send = SCENARIOS[scenario]
    load = Load(server.port, roster(clients, senders), workers=2)
    try:
        load.call("login", {"concurrency": 500, "timeout": 60})
        load.call("settle", {"timeout": 60})
        spy = subprocess.Popen(
            [
                PYSPY,
                "record",
                "--pid",
                str(server.pid),
                "--duration",
                str(int(seconds)),
                "--rate",
                "250",
                "--format",
                "raw",
                "--nonblocking",
                "--output",
                str(output),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        cpu0, t0 = server.cpu(), time.monotonic()
        parts = load.call("send", {"duration": seconds, **send})
        sent = {s: n for p in parts for s, n in p["sent"].items()}
        drained = merge(load.call("drain", {"sent": sent, "timeout": 10}))
        wall = time.monotonic() - t0
        cpu = server.cpu() - cpu0
        spy.wait(60)
    finally:
        load.close()
    return {
        "deliveriesPerSec": drained["delivered"] / wall,
        "cpuUsPerDelivery": cpu * 1e6 / max(1, drained["delivered"]),
        "lost": drained["lost"],
    }


_LINE = re.compile(r":\d+\)")


def summarize(
    raw: Path, title: str, measured: dict[str, float], scenario: str = "fanout"
) -> str:
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        frames = [_LINE.sub(")", f) for f in stack.split(";") if f]
        frames = [f.replace(str(ROOT) + "/", "") for f in frames]
        frames = [re.sub(r"/[^ ]*/site-packages/", "", f) for f in frames]
        total += n
        own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    out = [
        f"### {title}",
        "",
        f"{total} samples at 250 Hz; "
        + ("fan-out as in scenario 1 " if scenario == "fanout" else "")
        + ("scale as in scenario 2 " if scenario == "scale" else "")
        + f"({measured['deliveriesPerSec']:,.0f} deliveries/s, "
        f"{measured['cpuUsPerDelivery']:.2f} µs CPU per delivery, "
        f"{measured['lost']} lost, under py-spy).",
        "",
        "| self % | frame (own time) | | total % | frame (with callees) |",
        "|---:|---|---|---:|---|",
    ]
    top_own = own.most_common(15)
    # Leave out the reactor's own scaffolding, under which everything runs.
    top_incl = [(f, n) for f, n in inclusive.most_common(60) if n < 0.66 * total][:15]
    for i in range(max(len(top_own), len(top_incl))):
        a = top_own[i] if i < len(top_own) else ("", 0)
        b = top_incl[i] if i < len(top_incl) else ("", 0)
        out.append(
            f"| {100 * a[1] / max(1, total):.1f} | `{a[0]}` | | "
            f"{100 * b[1] / max(1, total):.1f} | `{b[0]}` |"
        )
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description="Profile the fan-out scenario.")
    parser.add_argument("--before", default=BEFORE)
    parser.add_argument(
        "--after", default="", help="a git revision (default: the installed package)"
    )
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="fanout")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--out", default=str(BENCH / "profiles"))
    options = parser.parse_args()
    raise_fd_limit()
    profiles = Path(options.out)
    profiles.mkdir(exist_ok=True)
    before = checkout(options.before)
    afterEnv = {"PYTHONPATH": checkout(options.after)} if options.after else {}
    afterTitle = (
        f"After: our server at {options.after}"
        if options.after
        else "After: our server with the outbox (installed package)"
    )
    for name, title, env in (
        ("1-before", f"Before: our server at {options.before}", {"PYTHONPATH": before}),
        ("2-after", afterTitle, afterEnv),
    ):
        server = Server("ours", env=env)
        raw = Path(tempfile.mkstemp(suffix=".txt")[1])
        try:
            measured = record(server, options.seconds, raw, options.scenario)
        finally:
            server.stop()
        (profiles / f"{name}.md").write_text(
            summarize(raw, title, measured, options.scenario) + "\n"
        )
        os.unlink(raw)
        print(f"{name}: {measured}", flush=True)


if __name__ == "__main__":
    main()
