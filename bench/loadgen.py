"""
A load generator that speaks the chat protocol.

It opens many connections, logs them all in, has some of them send chat lines
that carry a sequence number, a send time and a checksum, and has every
receiver check that each expected line arrived exactly once and intact.  It
counts lost, duplicated and corrupted deliveries, records the latency of each
delivery, and reports its own CPU time so that a saturated generator shows.

Every line from the server is read with L{chatwire.lines.parse}, the one
definition of the grammar.  The same line reaches hundreds of receivers, so
the verdict on each distinct line (as bytes) is cached: a corrupted copy is
different bytes, so it is parsed and checked on its own.  Lines replayed from
history (after login and after each join) are counted apart and never taken
for deliveries.

With rooms (L{Load}'s C{rooms}), each client joins its rooms and leaves the
default room (the C{join} phase), each sender talks in the last room it
joined, and each receiver expects exactly the lines of the senders of its
rooms: a line from a sender of another room counts as unexpected, a line
marked with a room other than its sender's as misrouted.

The clients are spread over several worker processes (L{Generator}); a
parent drives them through phases: log in, settle (all join notices read),
send, drain.

Smoke run against a server already listening::

    python -m bench.loadgen --port 8123 --clients 5 --senders 2 --lines 20
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import resource
import socket
import struct
import sys
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from chatwire import lines

PAD = "x" * 20
_LINGER_RESET = struct.pack("ii", 1, 0)

# Kinds of line, as cached verdicts.
MESSAGE, CORRUPT, NOTICE, ERROR, OTHER, HISTORY = range(6)
# Notices: joined or left, in the verdict's third field.
JOINED, LEFT = 1, 2
# (kind, sender or name or text, seq or notice kind, sent_ns, room or "")
Verdict = tuple[int, str, int, int, str]
# The start of a join notice in the default room, for idle clients.
_JOIN_START = b"\n-->"


def chat_text(name: str, seq: int, sent_ns: int, pad: str = PAD) -> str:
    """
    @return: The text of chat line C{seq} from C{name}, sent at C{sent_ns}
        (C{time.monotonic_ns}), with a checksum over all of it.
    """
    body = f"{seq} {sent_ns} {pad}"
    crc = zlib.crc32(f"{name} {body}".encode())
    return f"{body} {crc:08x}"


def classify(raw: bytes) -> Verdict:
    """
    Read one server line with L{lines.parse} and check a chat line's
    checksum.

    @return: C{(kind, sender, seq, sent_ns, room)}; C{room} is the room the
        line is marked with (C{""} when unmarked).  A line replayed from
        history (or the end of a replay) is C{HISTORY}, whatever it wraps;
        for a notice, C{seq} is C{JOINED} or C{LEFT}.
    """
    try:
        event = lines.parse(raw)
    except lines.LineFormatError:
        return (CORRUPT, "", 0, 0, "")
    room = ""
    if isinstance(event, lines.InRoom):
        room, event = event.room, event.line
    if isinstance(event, (lines.History, lines.HistoryEnd)):
        return (HISTORY, "", 0, 0, room)
    if isinstance(event, lines.Message):
        parts = event.text.split(" ")
        if len(parts) != 4:
            return (CORRUPT, "", 0, 0, room)
        body = " ".join(parts[:3])
        if f"{zlib.crc32(f'{event.sender} {body}'.encode()):08x}" != parts[3]:
            return (CORRUPT, "", 0, 0, room)
        return (MESSAGE, event.sender, int(parts[0]), int(parts[1]), room)
    if isinstance(event, lines.Joined):
        return (NOTICE, event.name, JOINED, 0, room)
    if isinstance(event, lines.Left):
        return (NOTICE, event.name, LEFT, 0, room)
    if isinstance(event, lines.Error):
        return (ERROR, event.text, 0, 0, room)
    return (OTHER, "", 0, 0, room)


def bucket(us: int) -> int:
    """
    @return: C{us} rounded down to 6 significant bits (within 1.6%), a
        histogram key.
    """
    shift = us.bit_length() - 6
    if shift <= 0:
        return us
    return (us >> shift) << shift


def percentile(hist: dict[int, int], fraction: float) -> float | None:
    """
    @return: The C{fraction} percentile of a latency histogram, in ms.
    """
    total = sum(hist.values())
    if not total:
        return None
    rank = fraction * total
    seen = 0
    for key in sorted(hist):
        seen += hist[key]
        if seen >= rank:
            return key / 1000
    return max(hist) / 1000


@dataclass
class SenderState:
    """
    A sender's progress.  C{slots} are the places in the shared array where
    each worker's acknowledging receiver writes how many of this sender's
    lines it has.
    """

    name: str
    slots: list[int]
    seq: int = 0
    event: asyncio.Event = field(default_factory=asyncio.Event)


class Client(asyncio.Protocol):
    """
    One connection: logs in, then checks every chat line it receives.
    """

    transport: asyncio.Transport

    def __init__(self, gen: Generator, name: str, role: str) -> None:
        self.gen = gen
        self.name = name
        self.role = role  # "receiver", "sender", "idle" or "slow"
        # The port it connects to: its node, in a cluster.
        self.port = gen.ports.get(name, gen.port)
        self.buffer = b""
        self.state = 0  # 0 connecting, 1 name sent, 2 welcomed, 3 logged in
        self.expectJoins = -1
        self.joins = 0
        # Idle clients once logged in: the last 3 bytes read, so that a join
        # notice split between reads is counted once.
        self.tail: bytes | None = None
        # The rooms this client joins (and then leaves the default room),
        # the senders whose lines it expects (None: every other sender), and
        # the joins and the leave it still waits to see confirmed.
        self.rooms: tuple[str, ...] = ()
        self.expect: frozenset[str] | None = None
        self.pending: set[tuple[int, str]] = set()
        self.joinedAll: asyncio.Future[bool] | None = None
        self.settled = False
        self.closed = False
        # sender -> [next expected seq, unique received]
        self.seen: dict[str, list[int]] = {}
        self.missing: set[tuple[str, int]] = set()
        # sender -> slot in the shared array, on the acknowledging receiver
        self.acks: dict[str, int] = {}
        self.loggedIn: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.loggedIn.done():
            self.loggedIn.set_result(False)

    def data_received(self, data: bytes) -> None:
        if self.state == 3 and self.role == "idle":
            # Idle clients only count their join notices: the lines that
            # start with "-->" (not history lines, say), without splitting.
            tail = self.tail
            if tail is None:
                # What is buffered is the start of a line: read it again
                # with what follows (its last 3 bytes alone would miss a
                # join notice begun in it, and that client never settles).
                data = self.buffer + data
                self.buffer = b""
                tail = b"\n"
            self.joins += data.count(_JOIN_START) + (tail + data[:3]).count(_JOIN_START)
            self.tail = (tail + data[-3:])[-3:]
            self.checkSettled()
            return
        chunks = (self.buffer + data).split(b"\n")
        self.buffer = chunks.pop()
        now = self.gen.lastRead = time.monotonic_ns()
        for raw in chunks:
            self.lineReceived(raw, now)
        if self.role == "slow" and self.state == 3:
            self.transport.pause_reading()

    def lineReceived(self, raw: bytes, now: int) -> None:
        if self.state != 3:
            self.login(raw)
            return
        gen = self.gen
        verdict = gen.cache.get(raw)
        if verdict is None:
            verdict = classify(raw)
            if len(gen.cache) > 200_000:
                gen.cache.clear()
            gen.cache[raw] = verdict
        kind = verdict[0]
        if kind == MESSAGE:
            sender, seq = verdict[1], verdict[2]
            if self.expect is not None and sender not in self.expect:
                gen.unexpected += 1
                return
            if gen.senderRoom and gen.senderRoom.get(sender) != verdict[4]:
                gen.misrouted += 1
            gen.delivered += 1
            key = bucket((now - verdict[3]) // 1000)
            hist = (
                gen.crossHist
                if gen.ports.get(sender, self.port) != self.port
                else gen.hist
            )
            hist[key] = hist.get(key, 0) + 1
            seen = self.seen.get(sender)
            if seen is None:
                seen = self.seen[sender] = [0, 0]
            expected = seen[0]
            if seq == expected:
                seen[0] = seq + 1
                seen[1] += 1
            elif seq > expected:
                for gap in range(expected, seq):
                    self.missing.add((sender, gap))
                seen[0] = seq + 1
                seen[1] += 1
            elif (sender, seq) in self.missing:
                self.missing.discard((sender, seq))
                seen[1] += 1
                gen.reordered += 1
            else:
                gen.duplicated += 1
            if self.acks:
                self.acknowledge(sender, seq)
        elif kind == NOTICE:
            self.noticed(raw, verdict)
        elif kind == HISTORY:
            gen.history += 1
        elif kind == CORRUPT:
            gen.corrupted += 1
        elif kind == ERROR:
            gen.errors.append(f"{self.name}: {verdict[1]}")
        else:
            gen.other += 1

    def noticed(self, raw: bytes, verdict: Verdict) -> None:
        """
        Count a join or leave notice, and see whether it confirms one of
        this client's own joins or its leave.
        """
        self.joins += 1
        self.gen.notices += 1
        if raw.startswith(b"<--"):
            self.gen.left.setdefault(verdict[1], time.monotonic())
        if self.pending and verdict[1] == self.name:
            self.pending.discard((verdict[2], verdict[4]))
            done = self.joinedAll
            if not self.pending and done is not None and not done.done():
                done.set_result(True)
        self.checkSettled()

    def acknowledge(self, sender: str, seq: int) -> None:
        slot = self.acks.get(sender)
        if slot is not None:
            self.gen.shared[slot] = seq + 1
            local = self.gen.senders.get(sender)
            if local is not None:
                local.event.set()

    def login(self, raw: bytes) -> None:
        try:
            event = lines.parse(raw)
        except lines.LineFormatError:
            self.gen.corrupted += 1
            return
        if isinstance(event, lines.Prompt) and self.state == 0:
            self.transport.write(self.name.encode() + b"\n")
            self.state = 1
        elif isinstance(event, lines.Welcome):
            self.state = 2
        elif isinstance(event, lines.Joined):
            # The thread-per-client baseline can tell of a later login
            # before its own welcome.
            self.joins += 1
        elif isinstance(event, lines.UserList) and self.state == 2:
            self.state = 3
            self.expectJoins = self.gen.total - len(event.names)
            if not self.loggedIn.done():
                self.loggedIn.set_result(True)
            self.checkSettled()
        elif isinstance(event, lines.Error):
            self.gen.errors.append(f"{self.name}: {event.text}")
            if not self.loggedIn.done():
                self.loggedIn.set_result(False)

    def checkSettled(self) -> None:
        if (
            self.role != "slow"
            and not self.settled
            and self.expectJoins >= 0
            and self.joins >= self.expectJoins
        ):
            self.settled = True
            self.gen.settled += 1

    def abort(self) -> None:
        transport = getattr(self, "transport", None)  # None: never connected
        if transport is not None and not self.closed:
            transport.abort()


class Generator:
    """
    The clients of one worker process and the counters they share.
    """

    def __init__(
        self,
        host: str,
        port: int,
        total: int,
        clients: list[tuple[str, str]],
        *,
        senders: list[str],
        worker: int,
        shared: Any,
        rooms: dict[str, tuple[str, ...]] | None = None,
        senderRooms: dict[str, str] | None = None,
        ports: dict[str, int] | None = None,
    ) -> None:
        self.host, self.port, self.total = host, port, total
        # A cluster's nodes: the port each client connects to (else
        # C{port}); deliveries between clients of different ports have
        # their latency in C{crossHist} instead of C{hist}.
        self.ports = ports or {}
        self.crossHist: dict[int, int] = {}
        self.spec = clients
        # Every sender's window spans all workers: in each worker one
        # receiver writes, per sender, how many lines it has into the shared
        # array (worker-major), and senders read the least of them.
        self.allSenders = senders
        self.worker = worker
        self.shared = shared
        # With rooms: each of these clients' rooms, and every sender's room
        # (the last it joins, where its lines go).
        self.rooms = rooms or {}
        self.senderRoom = senderRooms or {}
        self.clients: list[Client] = []
        self.senders: dict[str, SenderState] = {}
        self.cache: dict[bytes, Verdict] = {}
        self.hist: dict[int, int] = {}
        self.delivered = self.duplicated = self.reordered = 0
        self.corrupted = self.notices = self.other = self.settled = 0
        self.history = self.unexpected = self.misrouted = 0
        # When a client that checks its lines last read (monotonic_ns).
        self.lastRead = 0
        self.errors: list[str] = []
        self.left: dict[str, float] = {}
        self.failed = 0

    # Phases

    async def login(self, concurrency: int, timeout: float) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        limit = asyncio.Semaphore(concurrency)
        started = time.monotonic()

        async def one(name: str, role: str) -> None:
            async with limit:
                client = Client(self, name, role)
                rooms = self.rooms.get(name)
                if rooms is not None:
                    client.rooms = rooms
                    client.expect = frozenset(
                        s
                        for s, room in self.senderRoom.items()
                        if room in rooms and s != name
                    )
                self.clients.append(client)
                try:
                    if role == "slow":
                        # A small receive buffer, so that what it does not
                        # read piles up in the server rather than the kernel.
                        sock = socket.socket()
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                        sock.setblocking(False)
                        await loop.sock_connect(sock, (self.host, self.port))
                        await loop.create_connection(lambda: client, sock=sock)
                    else:
                        await loop.create_connection(
                            lambda: client, self.host, client.port
                        )
                    ok = await client.loggedIn
                except OSError as e:
                    self.errors.append(f"{name}: {e}")
                    ok = False
                if not ok:
                    self.failed += 1

        tasks = [asyncio.ensure_future(one(n, r)) for n, r in self.spec]
        _done, pending = await asyncio.wait(tasks, timeout=timeout)
        for task in pending:
            task.cancel()
        count = len(self.allSenders)
        workers = len(self.shared) // count if count else 0
        own = {n for n, r in self.spec if r == "sender"}
        for i, sender in enumerate(self.allSenders):
            slots = [w * count + i for w in range(workers)]
            if sender in own:
                self.senders[sender] = SenderState(sender, slots)
        ready = [c for c in self.clients if c.state == 3 and c.role != "slow"]
        receivers = [c for c in ready if c.role == "receiver"] or ready
        if receivers:
            acker = receivers[0]
            for i, sender in enumerate(self.allSenders):
                slot = self.worker * count + i
                if sender == acker.name:
                    self.shared[slot] = 1 << 62  # it never gets its own lines
                else:
                    acker.acks[sender] = slot
        return {
            "loggedIn": sum(c.state == 3 for c in self.clients),
            "failed": self.failed + len(pending),
            "seconds": time.monotonic() - started,
        }

    async def settle(self, timeout: float) -> dict[str, Any]:
        started = time.monotonic()
        deadline = started + timeout
        want = sum(c.state == 3 and c.role != "slow" for c in self.clients)
        while self.settled < want and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        return {
            "settled": self.settled,
            "of": want,
            "seconds": time.monotonic() - started,
        }

    async def join(
        self, timeout: float, leave: str = "#lobby", concurrency: int = 500
    ) -> dict[str, Any]:
        """
        Have each logged-in client with rooms join them (the last one joined
        becomes its current room) and then leave C{leave}, and wait until it
        has seen each of these confirmed.
        """
        started = time.monotonic()
        loop = asyncio.get_running_loop()
        limit = asyncio.Semaphore(concurrency)
        waiting = [c for c in self.clients if c.state == 3 and c.rooms]

        async def one(client: Client) -> bool:
            async with limit:
                client.pending = {(JOINED, room) for room in client.rooms}
                commands = [f"/join {room}\n" for room in client.rooms]
                if leave:
                    client.pending.add((LEFT, leave))
                    commands.append(f"/part {leave}\n")
                client.joinedAll = loop.create_future()
                client.transport.write("".join(commands).encode())
                return await client.joinedAll

        tasks = [asyncio.ensure_future(one(c)) for c in waiting]
        joined = 0
        if tasks:
            done, pending = await asyncio.wait(tasks, timeout=timeout)
            for task in pending:
                task.cancel()
            joined = sum(1 for t in done if t.result())
        return {
            "joined": joined,
            "of": len(waiting),
            "memberships": sum(len(c.rooms) for c in waiting),
            "seconds": time.monotonic() - started,
        }

    async def quiet(self, idle: float, timeout: float) -> dict[str, Any]:
        """
        Wait until no checking client has read anything for C{idle} seconds
        (what earlier phases sent has all been read), or C{timeout}.
        """
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if time.monotonic_ns() - self.lastRead >= idle * 1e9:
                break
            await asyncio.sleep(0.05)
        return {"seconds": time.monotonic() - started}

    async def send(
        self,
        duration: float,
        rate: float,
        window: int,
        pad: int = len(PAD),
        lines: int = 0,
    ) -> dict[str, int]:
        byName = {c.name: c for c in self.clients if c.state == 3}
        tasks = [
            asyncio.ensure_future(
                self.sendLoop(
                    byName[s],
                    st,
                    duration=duration,
                    rate=rate,
                    window=window,
                    pad="x" * pad,
                    limit=lines,
                )
            )
            for s, st in self.senders.items()
            if s in byName
        ]
        if tasks:
            await asyncio.wait(tasks)
        return {s: st.seq for s, st in self.senders.items()}

    async def sendLoop(
        self,
        client: Client,
        state: SenderState,
        *,
        duration: float,
        rate: float,
        window: int,
        pad: str,
        limit: int = 0,
    ) -> None:
        """
        Send for C{duration} seconds, and at most C{limit} lines (0: no
        limit), at C{rate} lines/s or (C{rate} 0) keeping at most C{window}
        lines unacknowledged.
        """
        start = time.monotonic()
        end = start + duration
        name = client.name
        write = client.transport.write
        most = limit or 1 << 62
        while not client.closed and state.seq < most:
            now = time.monotonic()
            if now >= end:
                break
            if rate > 0:
                # Open loop: catch up on the schedule, then sleep.
                due = min(int((now - start) * rate) + 1, most)
                batch = []
                while state.seq < due:
                    text = chat_text(name, state.seq, time.monotonic_ns(), pad)
                    batch.append(text.encode() + b"\n")
                    state.seq += 1
                if batch:
                    write(b"".join(batch))
                await asyncio.sleep(max(0.0, start + due / rate - time.monotonic()))
            else:
                acked = min(self.shared[slot] for slot in state.slots)
                room = min(window - (state.seq - acked), most - state.seq)
                if room > 0:
                    batch = []
                    for _ in range(room):
                        text = chat_text(name, state.seq, time.monotonic_ns(), pad)
                        batch.append(text.encode() + b"\n")
                        state.seq += 1
                    write(b"".join(batch))
                state.event.clear()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(state.event.wait(), 0.002)

    async def drain(self, sent: dict[str, int], timeout: float) -> dict[str, Any]:
        started = time.monotonic()
        deadline = started + timeout
        checked = [c for c in self.clients if c.state == 3 and c.role != "slow"]
        # Each client with the senders it expects lines from, and how many.
        owed = [
            (
                c,
                [
                    (s, n)
                    for s, n in sent.items()
                    if s != c.name and (c.expect is None or s in c.expect)
                ],
            )
            for c in checked
        ]

        def outstanding() -> int:
            total = 0
            for c, expected in owed:
                seenBy = c.seen
                for sender, count in expected:
                    seen = seenBy.get(sender)
                    total += max(0, count - (seen[1] if seen else 0))
            return total

        lost = outstanding()
        while lost > 0 and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
            lost = outstanding()
        return {
            "expected": sum(n for _, expected in owed for _, n in expected),
            "lost": lost,
            "drainSeconds": time.monotonic() - started,
        }

    def stats(self) -> dict[str, Any]:
        return {
            "delivered": self.delivered,
            "duplicated": self.duplicated,
            "reordered": self.reordered,
            "corrupted": self.corrupted,
            "notices": self.notices,
            "other": self.other,
            "history": self.history,
            "unexpected": self.unexpected,
            "misrouted": self.misrouted,
            "errors": self.errors[:20],
            "errorCount": len(self.errors),
            "hist": self.hist,
            "crossHist": self.crossHist,
            "left": self.left,
            "closed": sum(c.closed for c in self.clients),
        }

    def reset(self) -> None:
        self.hist = {}
        self.crossHist = {}
        self.delivered = self.duplicated = self.reordered = self.corrupted = 0
        self.unexpected = self.misrouted = 0

    def close(self) -> None:
        for c in self.clients:
            c.abort()


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _worker(conn: Connection, args: dict[str, Any]) -> None:
    asyncio.run(_serve(conn, args))


async def _serve(conn: Connection, args: dict[str, Any]) -> None:
    gen = Generator(
        args["host"],
        args["port"],
        args["total"],
        args["clients"],
        senders=args["senders"],
        worker=args["worker"],
        shared=args["shared"],
        rooms=args.get("rooms"),
        senderRooms=args.get("senderRooms"),
        ports=args.get("ports"),
    )
    loop = asyncio.get_running_loop()
    commands: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
    loop.add_reader(conn.fileno(), lambda: commands.put_nowait(conn.recv()))
    while True:
        command, params = await commands.get()
        cpu, wall = cpu_seconds(), time.monotonic()
        result: dict[str, Any]
        if command == "login":
            result = await gen.login(params["concurrency"], params["timeout"])
        elif command == "settle":
            result = await gen.settle(params["timeout"])
        elif command == "join":
            result = await gen.join(**params)
        elif command == "quiet":
            result = await gen.quiet(**params)
        elif command == "reset":
            gen.reset()
            result = {}
        elif command == "send":
            result = {"sent": await gen.send(**params)}
        elif command == "drain":
            result = await gen.drain(params["sent"], params["timeout"])
            result.update(gen.stats())
        elif command == "stats":
            result = gen.stats()
        else:
            gen.close()
            await asyncio.sleep(0.05)
            conn.send({"cpu": 0.0})
            return
        result["cpu"] = cpu_seconds() - cpu
        result["wall"] = time.monotonic() - wall
        conn.send(result)


class Load:
    """
    The parent's handle on a set of worker processes sharing one scenario's
    clients.

    @param clients: C{(name, role)} of each client; the senders (role
        C{"sender"}) are also receivers.
    @param rooms: With rooms, the rooms each client joins in the C{join}
        phase, by name: a sender talks in the last of its rooms, and a
        client expects the lines of the senders of its rooms only.
    @param ports: With a cluster, the port (node) of each client, by name;
        the others connect to C{port}.
    """

    def __init__(
        self,
        port: int,
        clients: list[tuple[str, str]],
        workers: int = 2,
        host: str = "127.0.0.1",
        rooms: dict[str, tuple[str, ...]] | None = None,
        *,
        ports: dict[str, int] | None = None,
    ) -> None:
        workers = max(1, min(workers, len(clients)))
        parts: list[list[tuple[str, str]]] = [[] for _ in range(workers)]
        for i, client in enumerate(clients):
            parts[i % workers].append(client)
        self.senders = [n for n, r in clients if r == "sender"]
        senderRooms = (
            {s: rooms[s][-1] for s in self.senders if rooms.get(s)} if rooms else None
        )
        context = multiprocessing.get_context("fork")
        self.conns: list[Connection] = []
        self.procs: list[Any] = []
        shared = context.Array("q", workers * max(1, len(self.senders)), lock=False)
        for worker, part in enumerate(parts):
            parent, child = context.Pipe()
            proc = context.Process(
                target=_worker,
                args=(
                    child,
                    {
                        "host": host,
                        "port": port,
                        "total": len(clients),
                        "clients": part,
                        "senders": self.senders,
                        "worker": worker,
                        "shared": shared,
                        "rooms": (
                            {n: rooms[n] for n, _ in part if n in rooms}
                            if rooms
                            else None
                        ),
                        "senderRooms": senderRooms,
                        "ports": ports,
                    },
                ),
                daemon=True,
            )
            proc.start()
            self.conns.append(parent)
            self.procs.append(proc)

    def call(
        self,
        command: str,
        params: dict[str, Any] | None = None,
        tick: Callable[[], None] | None = None,
        timeout: float = 600.0,
    ) -> list[dict[str, Any]]:
        """
        Run one phase in every worker and wait for all their answers,
        calling C{tick} about every 100 ms meanwhile.

        Before C{send}, every worker first resets its counters and answers:
        a worker that reset only when told to send could count, then forget,
        lines that the senders of a faster worker had already sent.
        """
        if command == "send":
            self.call("reset", timeout=timeout)
        for conn in self.conns:
            conn.send((command, params or {}))
        results: list[dict[str, Any] | None] = [None] * len(self.conns)
        deadline = time.monotonic() + timeout
        while any(r is None for r in results):
            if time.monotonic() > deadline:
                raise TimeoutError(f"workers did not answer {command}")
            for i, conn in enumerate(self.conns):
                if results[i] is None and conn.poll(0.1 / len(self.conns)):
                    results[i] = conn.recv()
            if tick is not None:
                tick()
        return [r for r in results if r is not None]

    def close(self) -> None:
        for conn in self.conns:
            with contextlib.suppress(OSError):
                conn.send(("stop", {}))
        for proc in self.procs:
            proc.join(2)
            if proc.is_alive():
                proc.kill()
                proc.join()


def merge(results: list[dict[str, Any]]) -> dict[str, Any]:
    """
    Add up the drain results of all workers.
    """
    hist: dict[int, int] = {}
    for r in results:
        for k, v in r["hist"].items():
            hist[int(k)] = hist.get(int(k), 0) + v
    out: dict[str, Any] = {
        key: sum(r[key] for r in results)
        for key in (
            "expected",
            "lost",
            "delivered",
            "duplicated",
            "reordered",
            "corrupted",
            "notices",
            "history",
            "unexpected",
            "misrouted",
            "errorCount",
            "closed",
            "cpu",
        )
    }
    out["drainSeconds"] = max(r["drainSeconds"] for r in results)
    out["errors"] = [e for r in results for e in r["errors"]][:20]
    left: dict[str, float] = {}
    for r in results:
        for name, when in r["left"].items():
            left[name] = min(when, left.get(name, when))
    out["left"] = left
    out["hist"] = hist
    for label, fraction in (("p50", 0.5), ("p99", 0.99), ("max", 1.0)):
        out[label] = percentile(hist, fraction)
    return out


def smoke(
    port: int,
    *,
    clients: int = 5,
    senders: int = 2,
    lines_each: int = 20,
    workers: int = 1,
    host: str = "127.0.0.1",
) -> dict[str, Any]:
    """
    A short exactly-once check: log C{clients} in, have C{senders} of them
    send C{lines_each} lines each, and count what arrived.
    """
    spec = [(f"s{i}", "sender") for i in range(senders)]
    spec += [(f"r{i}", "receiver") for i in range(clients - senders)]
    load = Load(port, spec, workers=workers, host=host)
    try:
        logins = load.call("login", {"concurrency": 100, "timeout": 10}, timeout=20)
        load.call("settle", {"timeout": 10}, timeout=20)
        # A rate just high enough to send lines_each lines in one second.
        sent_parts = load.call(
            "send", {"duration": 1.0, "rate": float(lines_each), "window": 0}
        )
        sent = {s: n for part in sent_parts for s, n in part["sent"].items()}
        result = merge(load.call("drain", {"sent": sent, "timeout": 10}, timeout=20))
    finally:
        load.close()
    result["sent"] = sent
    result["loggedIn"] = sum(r["loggedIn"] for r in logins)
    del result["hist"]
    return result


def rooms_smoke(
    port: int,
    rooms: dict[str, tuple[str, ...]],
    senders: tuple[str, ...],
    *,
    lines_each: int = 10,
    host: str = "127.0.0.1",
) -> dict[str, Any]:
    """
    A short exactly-once check with rooms: log in every client of C{rooms},
    have each join its rooms and leave C{#lobby}, have C{senders} send
    C{lines_each} lines each in the last room they joined, and count what
    arrived where.
    """
    spec = [(name, "sender" if name in senders else "receiver") for name in rooms]
    load = Load(port, spec, workers=1, host=host, rooms=rooms)
    try:
        logins = load.call("login", {"concurrency": 100, "timeout": 10}, timeout=20)
        load.call("settle", {"timeout": 10}, timeout=20)
        joins = load.call("join", {"timeout": 10}, timeout=20)
        sent_parts = load.call(
            "send",
            {
                "duration": 2.0,
                "rate": float(lines_each),
                "window": 0,
                "lines": lines_each,
            },
        )
        sent = {s: n for part in sent_parts for s, n in part["sent"].items()}
        result = merge(load.call("drain", {"sent": sent, "timeout": 10}, timeout=20))
    finally:
        load.close()
    result["sent"] = sent
    result["loggedIn"] = sum(r["loggedIn"] for r in logins)
    result["joined"] = sum(r["joined"] for r in joins)
    del result["hist"]
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--clients", type=int, default=5)
    parser.add_argument("--senders", type=int, default=2)
    parser.add_argument("--lines", type=int, default=20)
    parser.add_argument("--workers", type=int, default=1)
    options = parser.parse_args(argv)
    result = smoke(
        options.port,
        clients=options.clients,
        senders=options.senders,
        lines_each=options.lines,
        workers=options.workers,
        host=options.host,
    )
    json.dump(result, sys.stdout, indent=2, sort_keys=True)
    print()
    ok = (
        result["loggedIn"] == options.clients
        and all(n > 0 for n in result["sent"].values())
        and result["lost"] == 0
        and result["duplicated"] == 0
        and result["corrupted"] == 0
        and result["errorCount"] == 0
        and result["delivered"] == result["expected"]
    )
    print("exactly once: OK" if ok else "exactly once: FAILED", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    raise SystemExit(main())
