#!/usr/bin/env python3
"""
Benchmark the Tk client against a burst of incoming lines (10,000 by
default, spread over 5 rooms the client is in, one sender per room): how
long until the rooms' views have drained, the longest stall of the Tk event
loop meanwhile, and the peak memory.

    .venv/bin/python bench/client_burst.py   # 3 runs, 10,000 lines, 5 rooms

    .venv/bin/python bench/client_burst.py --runs 5 --lines 20000 \
        --scrollback 5000 --batch 250 --rooms 5

A chat server runs in a child process on 127.0.0.1 (a port the kernel picks,
no rate limit), so its work is not counted; this process runs the real
client window (L{chatclient.app.ChatClient}, installed into the reactor with
L{tksupport}) logged in as C{alice} and in rooms C{#room0}... besides the
default room (which stays selected, so every burst line is unread), and a
raw TCP client per room that writes its share of the burst (line i to room
i % rooms) at once.  The window lives on a private Xvfb display that
the script starts and stops (pass C{--display} to use C{$DISPLAY} instead).

What is measured, per run:

  - received: seconds from the senders' writes until the client's protocol has
    parsed the last line;
  - drained: seconds until the last line is in the Text widget and nothing
    is pending;
  - Tk stall: the longest gap between two ticks of a 1 ms Tk C{after} timer
    from the write until the drain (Tk runs its timers only when the
    reactor lets it, so this is how long a click or a key would wait);
    the idle gap (tksupport polls Tk every 10 ms) is printed for reference;
  - peak RSS: the process's resident set high-water mark during the run
    (reset before each run through C{/proc/self/clear_refs}), and its growth
    over the RSS just before the burst.

C{--batch 1000000} hands the whole burst to Tk in one go, to compare.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import subprocess
import sys
import time
import tkinter as tk
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from twisted.internet import defer, task, tksupport  # noqa: E402
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol  # noqa: E402
from twisted.protocols.basic import LineReceiver  # noqa: E402

from chatclient.app import ChatClient, Options  # noqa: E402
from chatclient.model import ViewLine  # noqa: E402
from chatwire import lines  # noqa: E402
from devtools.xvfb import start_xvfb  # noqa: E402


@dataclass
class Result:
    received: float
    drained: float
    tkStall: float
    idleGap: float
    peakRss: int
    rssGrowth: int
    batches: int
    shown: int


SERVER = """
from twisted.internet import reactor
from twisted.internet.endpoints import serverFromString
from chatserver.config import ChatConfig
from chatserver.doors.line.factory import LineFactory
from chatserver.server import ChatServer
factory = LineFactory(ChatServer(ChatConfig(rate=0, loginTimeout=0)))
listening = serverFromString(reactor, "tcp:0:interface=127.0.0.1").listen(factory)
listening.addCallback(lambda port: print(port.getHost().port, flush=True))
reactor.run()
"""


def start_server() -> tuple[subprocess.Popen[str], int]:
    """
    Start a chat server in a child process.

    @return: The process and the port it listens on.
    """
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER],
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    line = server.stdout.readline()
    if not line.strip().isdigit():
        server.kill()
        raise SystemExit("client_burst: the server did not start")
    return server, int(line)


def _status(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def reset_peak() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
    except OSError:
        pass


class Sender(LineReceiver):
    delimiter = lines.LINE_END

    def __init__(self) -> None:
        self.welcomed: defer.Deferred[None] = defer.Deferred()

    def lineReceived(self, line: bytes) -> None:
        if line.startswith(b"=== Welcome") and not self.welcomed.called:
            self.welcomed.callback(None)


def wait_until(
    reactor: Any, condition: Any, timeout: float = 120.0
) -> defer.Deferred[None]:
    @defer.inlineCallbacks
    def poll() -> Generator[defer.Deferred[None], None, None]:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise RuntimeError("client_burst: timed out")
            yield task.deferLater(reactor, 0.002, lambda: None)

    return poll()


@defer.inlineCallbacks
def logged_in(
    reactor: Any, number: int, scrollback: int, batch: int, rooms: int
) -> Generator[defer.Deferred[Any], Any, tuple[ChatClient, list[Sender]]]:
    """
    Open the client window and log it in as alice, in C{rooms} rooms
    (C{#room0}...) besides the default room, each with a sender in it.
    """
    root = tk.Tk()
    client = ChatClient(
        root, reactor, Options("127.0.0.1", number, "alice", scrollback)
    )
    client.model.batchSize = batch
    tksupport.install(root)
    client.start()
    yield wait_until(reactor, lambda: client.session.loggedIn)
    yield wait_until(reactor, lambda: bool(client.model.home.name))
    senders = []
    for index in range(rooms):
        room = f"#room{index}"
        client.session.send(f"/join {room}")
        yield wait_until(reactor, lambda r=room: client.model.conversation(r))
        sender = yield connectProtocol(
            TCP4ClientEndpoint(reactor, "127.0.0.1", number), Sender()
        )
        name = f"sender{index}"
        sender.sendLine(name.encode())
        yield sender.welcomed
        sender.sendLine(f"/join {room}".encode())
        conversation = client.model.conversation(room)
        assert conversation is not None
        yield wait_until(reactor, lambda c=conversation, n=name: n in c.members)
        senders.append(sender)
    client.model.select(client.model.home)
    yield task.deferLater(reactor, 0.3, lambda: None)  # settle
    return client, senders


@defer.inlineCallbacks
def one_run(  # noqa: PLR0915
    reactor: Any, count: int, scrollback: int, batch: int, rooms: int
) -> Generator[defer.Deferred[Any], Any, Result]:
    server, number = start_server()
    client, senders = yield logged_in(reactor, number, scrollback, batch, rooms)
    root = client.root
    window, model, session = client.window, client.model, client.session
    # Line i goes to room i % rooms: the last line of each room.
    lasts = {f"burst line {i}" for i in range(max(0, count - rooms), count)}
    received: set[str] = set()
    marks: dict[str, float] = {}
    batches = [0]
    appendLines = window.appendLines

    def counting(lines_: Sequence[ViewLine], trim: int, conversation: Any) -> None:
        batches[0] += 1
        appendLines(lines_, trim, conversation)

    window.appendLines = counting
    lineReceived = session.lineReceived

    def watching(event: lines.Event) -> None:
        lineReceived(event)
        line = event.line if isinstance(event, lines.InRoom) else event
        if isinstance(line, lines.Message) and line.text in lasts:
            received.add(line.text)
            if received == lasts:
                marks["received"] = time.perf_counter()

    session.lineReceived = watching

    ticks: list[float] = []
    heartbeat: list[str] = []

    def tick() -> None:
        ticks.append(time.perf_counter())
        heartbeat[:] = [root.after(1, tick)]

    tick()
    yield task.deferLater(reactor, 0.3, lambda: None)
    idle = ticks[:]
    idleGap = max(b - a for a, b in itertools.pairwise(idle))

    payloads = [
        b"".join(f"burst line {i}\r\n".encode() for i in range(k, count, rooms))
        for k in range(rooms)
    ]
    baseRss = _status("VmRSS")
    reset_peak()
    start = time.perf_counter()
    ticks[:] = [start]
    for sender, payload in zip(senders, payloads, strict=True):
        sender.transport.write(payload)
    views = [window.views[id(model.conversation(f"#room{k}"))][2] for k in range(rooms)]

    def drained() -> bool:
        if "received" not in marks or model.pending:
            return False
        shown = {view.get("end-2l", "end").strip().split("> ", 1)[-1] for view in views}
        return shown == lasts

    yield wait_until(reactor, drained)
    end = time.perf_counter()
    peak = _status("VmHWM")
    during = [t for t in ticks if t <= end] + [end]
    stall = max(b - a for a, b in itertools.pairwise(during))
    root.after_cancel(heartbeat[0])
    shown = sum(int(view.index("end-1c").split(".")[0]) - 1 for view in views)

    yield client.close()
    tksupport.uninstall()
    root.destroy()
    for sender in senders:
        sender.transport.loseConnection()
    server.terminate()
    server.wait()
    return Result(
        received=marks["received"] - start,
        drained=end - start,
        tkStall=stall,
        idleGap=idleGap,
        peakRss=peak,
        rssGrowth=peak - baseRss,
        batches=batches[0],
        shown=shown,
    )


def report(results: list[Result], args: argparse.Namespace) -> None:
    def row(label: str, values: list[float], unit: str, scale: float = 1) -> None:
        cells = "  ".join(f"{v * scale:9.1f}" for v in values)
        median = statistics.median(values) * scale
        print(f"{label:<22}{median:9.1f} {unit:<4}   runs: {cells}")

    print(
        f"client burst: {args.lines} lines over {args.rooms} rooms, "
        f"scrollback {args.scrollback}, "
        f"batch {args.batch}, {len(results)} runs (median, then each run)"
    )
    row("received (all parsed)", [r.received for r in results], "ms", 1000)
    row("drained (view done)", [r.drained for r in results], "ms", 1000)
    row("longest Tk stall", [r.tkStall for r in results], "ms", 1000)
    row("idle Tk tick gap", [r.idleGap for r in results], "ms", 1000)
    row("peak RSS", [r.peakRss for r in results], "MiB", 1 / 2**20)
    row("RSS growth", [r.rssGrowth for r in results], "MiB", 1 / 2**20)
    print(
        f"{'batches':<22}{statistics.median(r.batches for r in results):9.0f}"
        f"        lines kept in the rooms' views: {results[0].shown}"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--scrollback", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=250)
    parser.add_argument("--rooms", type=int, default=5)
    parser.add_argument(
        "--display", action="store_true", help="use $DISPLAY, not a private Xvfb"
    )
    args = parser.parse_args(argv)
    xvfb = None if args.display else start_xvfb("client_burst")
    results: list[Result] = []

    @defer.inlineCallbacks
    def runs(reactor: Any) -> Generator[defer.Deferred[Any], Any, None]:
        for _ in range(args.runs):
            result = yield one_run(
                reactor, args.lines, args.scrollback, args.batch, args.rooms
            )
            results.append(result)

    try:
        task.react(runs)
    except SystemExit as e:
        if e.code:
            raise
    finally:
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait()
        if results:
            report(results, args)


if __name__ == "__main__":
    main()
