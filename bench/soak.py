"""
The soak (issue 25): one real C{twistd chat} for an hour under changing
load, measured minute by minute.

The server listens with the line door, the IRC door (plain, and over TLS
with a self-signed certificate the bench makes) and the web door, and keeps
its history in SQLite.  Users (5,000 by default) are spread over the four
listeners in turn and over the rooms (100), each in one room; a tenth of
them leave (C{/quit}, C{QUIT}, C{quit}) and come back a few seconds later
every minute, spread over the minute, each with a new connection.  Lines
(500 a second in all) are sent by the users in turn.  Each line's text
carries a number unique to the run, its send time
(C{time.monotonic_ns}, one clock for every process of the machine) and a
CRC-32 over the sender, the room and both numbers.

Exactly once, by membership: every few seconds the worker processes hand
the lines they sent to the parent, which hands all of them to every worker;
each worker then checks, for each of its sessions (a connection of a user),
every line sent in its room more than C{lag} seconds ago: a line sent after
the session saw its own join confirmed and more than C{margin} seconds
before it sent its quit must have arrived exactly once (else it is lost;
twice is duplicated).  One sent in between may arrive or not, since the
server may have taken the join or the quit first ("undecided" when
missing), unless the session got a later line of the same sender (for the
quit) or an earlier one (for the join): the server takes one connection's
lines in the order they were sent, so then it is lost.  A line marked with another
room, with a wrong checksum, or not sent to the room at all counts as
misrouted, corrupted or unexpected; one arriving after its check (later
than C{lag}) as late.

Each minute the parent reads the server's resident memory
(C{/proc/PID/status}), its open descriptors (C{/proc/PID/fd}) and its CPU
time (C{/proc/PID/stat}), and the generator's CPU time (every worker's
C{getrusage}); latencies go into per-minute histograms (1.6 %
resolution, L{bench.loadgen.bucket}).  The figures are written to a JSON
file after every minute, so a run cut short keeps what it measured.

    .venv/bin/python -m bench.soak --minutes 60 --out /tmp/soak
    .venv/bin/python -m bench.soak --report-only /tmp/soak/soak.json

The report (a table per minute and the verdict) goes into C{RESULTS.md}
(section "Soak (issue 25)") and a plot into C{bench/soak.png}
(matplotlib: C{bench/requirements.txt}).  C{--minutes 3} is the short form;
the tests run a tiny one (C{tiny_plan}: a few dozen users, two-second
minutes).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import importlib
import json
import multiprocessing
import os
import random
import re
import signal
import socket
import ssl
import struct
import subprocess
import sys
import time
import zlib
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import asdict, dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, cast

from bench.loadgen import cpu_seconds, percentile
from bench.report import put_section
from bench.run import raise_fd_limit

TWISTD = str(Path(sys.executable).parent / "twistd")
TICK = os.sysconf("SC_CLK_TCK")
DOORS = ("line", "irc", "web", "irc-tls")
HEADING = "## Soak (issue 25)"
_LINGER_RESET = struct.pack("ii", 1, 0)

# Counters kept per minute (of sending for lost, of arrival for the rest).
COUNTS = (
    "sent",
    "delivered",
    "lost",
    "lostNearQuit",
    "undecided",
    "duplicated",
    "late",
    "corrupted",
    "misrouted",
    "unexpected",
    "leaves",
    "logins",
    "errors",
)
# (send time in ns, line number, room index, sender's user index)
Entry = tuple[int, int, int, int]


@dataclass
class Plan:
    """
    What one soak does.

    @ivar minute: Seconds in a measured "minute" (60; the tests' tiny form
        uses 2).
    @ivar churn: The share of the users that leave and come back each
        minute.
    @ivar absence: Seconds a leaving user stays away.
    @ivar check: Seconds between checks of what arrived.
    @ivar lag: A line is checked once it is this many seconds old.
    @ivar margin: Lines sent this close before a session's quit may arrive
        or not.
    @ivar settle: Minutes before the reference minute of the verdict.
    """

    minutes: int = 60
    users: int = 5000
    rooms: int = 100
    rate: float = 500.0
    workers: int = 2
    minute: float = 60.0
    churn: float = 0.1
    absence: float = 5.0
    check: float = 10.0
    lag: float = 30.0
    margin: float = 5.0
    loginRate: float = 400.0
    settle: int = 10
    uvloop: bool = True

    @property
    def perWorker(self) -> list[list[int]]:
        # Every worker gets users of every door and of every room.
        return [
            [u for u in range(self.users) if (u + u // len(DOORS)) % self.workers == w]
            for w in range(self.workers)
        ]


def tiny_plan(minutes: int = 3) -> Plan:
    """
    @return: The tests' smoke form: 24 users in 3 rooms, 2-second minutes.
    """
    return Plan(
        minutes=minutes,
        users=24,
        rooms=3,
        rate=40.0,
        workers=2,
        minute=2.0,
        churn=0.25,
        absence=0.3,
        check=0.5,
        lag=1.0,
        margin=0.2,
        loginRate=200.0,
        settle=1,
    )


def door_of(user: int) -> str:
    return DOORS[user % len(DOORS)]


def room_of(plan: Plan, user: int) -> int:
    return (user // len(DOORS)) % plan.rooms


def room_name(room: int) -> str:
    return f"#r{room:03d}"


def chat_text(name: bytes, room: bytes, number: int, sent: int) -> bytes:
    """
    @return: The text of line C{number} from C{name} in C{room}, sent at
        C{sent} (C{time.monotonic_ns}), with a CRC-32 over all of it.
    """
    body = b"%d %d" % (number, sent)
    crc = zlib.crc32(b"%s %s %s" % (name, room, body))
    return b"%s %08x" % (body, crc)


def read_text(name: bytes, room: bytes, text: bytes) -> tuple[int, int] | None:
    """
    @return: The line number and send time of a text made by L{chat_text}
        for C{name} in C{room}; L{None} when it is not one (corrupted, or
        said by someone else or in another room).
    """
    parts = text.split(b" ")
    if len(parts) != 3:
        return None
    try:
        number, sent = int(parts[0]), int(parts[1])
    except ValueError:
        return None
    # The check as written, byte for byte: an upper-case hex digit is a
    # changed byte too.
    crc = zlib.crc32(b"%s %s %s %s" % (name, room, parts[0], parts[1]))
    if parts[2] != b"%08x" % crc:
        return None
    return number, sent


def _new_minute() -> dict[str, Any]:
    counts: dict[str, Any] = dict.fromkeys(COUNTS, 0)
    for door in ("", *DOORS):
        counts[f"hist {door}".strip()] = {}
    return counts


class Session(asyncio.Protocol):
    """
    One connection of one user, through its door: it logs in, joins its
    room (and leaves the default room), says lines when told, checks what
    it gets, and quits when told.
    """

    def __init__(self, worker: Worker, user: int) -> None:
        self.worker = worker
        self.user = user
        self.door = door_of(user)
        self.hist = "hist " + self.door  # its latencies' key in a minute
        self.name = b"u%d" % user
        self.room = room_name(room_of(worker.plan, user)).encode()
        self.roomIndex = room_of(worker.plan, user)
        self.started = time.monotonic_ns()
        self.checkedUntil = self.started
        self.joinedAt: int | None = None
        self.leftAt: int | None = None
        self.closedAt: int | None = None
        self.received: dict[int, int] = {}
        # The send times of the first and last lines received from each
        # sender (by user index): one connection's lines are taken by the
        # server in the order they were sent.
        self.firstFrom: dict[int, int] = {}
        self.lastFrom: dict[int, int] = {}
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.upgraded = False

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            # No TIME_WAIT left behind by thousands of connections a minute.
            with contextlib.suppress(OSError, AttributeError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
        if self.door == "web":
            key = base64.b64encode(os.urandom(16))
            self.write(
                b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Key: " + key + b"\r\n"
                b"Sec-WebSocket-Version: 13\r\n\r\n"
            )
        elif self.door == "line":
            self.write(self.name + b"\r\n/join " + self.room + b"\r\n/part #lobby\r\n")
        else:
            self.write(
                b"NICK %s\r\nUSER %s 0 * :soak\r\nJOIN %s\r\n"
                % (self.name, self.name, self.room)
            )

    def connection_lost(self, exc: Exception | None) -> None:
        self.closedAt = time.monotonic_ns()
        if self.leftAt is None:
            self.leftAt = self.closedAt
            if not self.worker.closing:
                self.worker.count("errors")
        self.worker.closed(self)

    def data_received(self, data: bytes) -> None:
        now = time.monotonic_ns()
        if self.door == "web":
            self._frames(data, now)
            return
        lines = (self.buffer + data).split(b"\r\n")
        self.buffer = lines.pop()
        for line in lines:
            if self.door == "line":
                self._lineDoor(line, now)
            else:
                self._ircDoor(line, now)

    # Doors

    def _lineDoor(self, line: bytes, now: int) -> None:
        if line.startswith(b"#"):
            room, _, rest = line.partition(b" ")
            if rest.startswith(b"<") and not rest.startswith(b"<-- "):
                sender, _, text = rest[1:].partition(b"> ")
                self.worker.arrived(self, sender, room, text, now)
            elif self.joinedAt is None and rest == b"--> %s has joined" % self.name:
                self.joined(room, now)
        elif line.startswith(b"!!!"):
            self.worker.count("errors")

    def _ircDoor(self, line: bytes, now: int) -> None:
        parts = line.split(b" ", 3)
        if len(parts) < 2:
            return
        if parts[0] == b"PING":
            self.write(b"PONG " + parts[1] + b"\r\n")
        elif parts[1] == b"PRIVMSG" and len(parts) == 4:
            sender = parts[0][1:].partition(b"!")[0]
            self.worker.arrived(self, sender, parts[2], parts[3][1:], now)
        elif parts[1] == b"JOIN" and parts[0].startswith(b":%s!" % self.name):
            self.joined(parts[2].lstrip(b":"), now)
        elif parts[1] in (b"432", b"433", b"403", b"405", b"465"):
            self.worker.count("errors")

    def _frames(self, data: bytes, now: int) -> None:
        buffer = self.buffer + data
        if not self.upgraded:
            head, found, rest = buffer.partition(b"\r\n\r\n")
            if not found:
                self.buffer = buffer
                return
            if b" 101 " not in head.split(b"\r\n", 1)[0]:
                self.worker.count("errors")
            self.upgraded = True
            buffer = rest
            self.send({"type": "login", "name": self.name.decode()})
            self.send({"type": "join", "room": self.room.decode()})
            self.send({"type": "part", "room": "#lobby"})
        offset = 0
        end = len(buffer)
        while end - offset >= 2:
            size = buffer[offset + 1] & 0x7F
            start = 2
            if size == 126:
                if end - offset < 4:
                    break
                size = int.from_bytes(buffer[offset + 2 : offset + 4], "big")
                start = 4
            elif size == 127:
                if end - offset < 10:
                    break
                size = int.from_bytes(buffer[offset + 2 : offset + 10], "big")
                start = 10
            if end - offset < start + size:
                break
            opcode = buffer[offset] & 0x0F
            payload = buffer[offset + start : offset + start + size]
            offset += start + size
            if opcode == 1:
                self._message(payload, now)
            elif opcode == 9:
                self.frame(0x8A, payload)
            elif opcode == 8:
                self.frame(0x88, payload[:2])  # the close answered, as browsers do
        self.buffer = buffer[offset:]

    def _message(self, payload: bytes, now: int) -> None:
        if payload.startswith(b'{"type":"message"'):
            message = json.loads(payload)
            self.worker.arrived(
                self,
                message["from"].encode(),
                message["room"].encode(),
                message["text"].encode(),
                now,
            )
        elif payload.startswith(b'{"type":"room"') and self.joinedAt is None:
            room = json.loads(payload)["room"].encode()
            if room == self.room:
                self.joined(room, now)
        elif payload.startswith(b'{"type":"error"'):
            self.worker.count("errors")

    # Talking

    def joined(self, room: bytes, now: int) -> None:
        if room == self.room:
            self.joinedAt = now
            self.worker.count("logins")

    def write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def frame(self, opcode: int, payload: bytes) -> None:
        mask = os.urandom(4)
        size = len(payload)
        if size < 126:
            head = bytes([opcode, 0x80 | size])
        else:
            head = bytes([opcode, 0xFE]) + size.to_bytes(2, "big")
        masked = (
            int.from_bytes(payload, "big")
            ^ int.from_bytes((mask * (size // 4 + 1))[:size], "big")
        ).to_bytes(size, "big")
        self.write(head + mask + masked)

    def send(self, message: dict[str, str]) -> None:
        self.frame(0x81, json.dumps(message, separators=(",", ":")).encode())

    def say(self, text: bytes) -> None:
        if self.door == "web":
            self.send(
                {"type": "say", "room": self.room.decode(), "text": text.decode()}
            )
        elif self.door == "line":
            self.write(text + b"\r\n")
        else:
            self.write(b"PRIVMSG %s :%s\r\n" % (self.room, text))

    def quit(self) -> None:
        self.leftAt = time.monotonic_ns()
        if self.door == "web":
            self.send({"type": "quit"})
        elif self.door == "line":
            self.write(b"/quit\r\n")
        else:
            self.write(b"QUIT :soak\r\n")

    @property
    def talking(self) -> bool:
        return self.joinedAt is not None and self.leftAt is None

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()


class Worker:
    """
    One load process: its share of the users, their sessions, their lines,
    and the checks of what they got.
    """

    def __init__(self, plan: Plan, index: int, ports: dict[str, int]) -> None:
        self.plan = plan
        self.index = index
        self.ports = ports
        self.users = plan.perWorker[index]
        self.sessions: dict[int, Session] = {}
        self.live: list[Session] = []  # every session not yet fully checked
        self.rooms: dict[int, list[Entry]] = {}
        self.outbox: list[Entry] = []
        self.minutes: dict[int, dict[str, Any]] = {}
        # Lines counted lost or undecided at a session, by (session, line
        # number): one arriving after all is then counted late instead.
        self.missing: dict[tuple[int, int], tuple[str, ...]] = {}
        self.minuteNs = int(plan.minute * 1e9)
        # The minute arrivals are being counted in, and its bounds.
        self.current: dict[str, Any] = {}
        self.minuteFrom = self.minuteTo = 0
        # What each distinct line reads as (its number, send time and
        # sender), kept until the next check: a line reaches every member
        # of its room, so most are read once per worker, not once per copy.
        self.texts: dict[tuple[bytes, bytes, bytes], tuple[int, int, int] | None]
        self.texts = {}
        self.start = 0
        self.sent = 0
        self.turn = 0
        self.sending = False
        self.closing = False
        self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        self.tls.check_hostname = False
        self.tls.verify_mode = ssl.CERT_NONE
        self.loop = asyncio.get_running_loop()
        self.leaving = random.Random(index)

    def minute(self, t: int) -> dict[str, Any]:
        # Minute -1 is the logging in, before the first measured minute.
        number = -1
        if self.start and t >= self.start:
            number = (t - self.start) // self.minuteNs
        found = self.minutes.get(number)
        if found is None:
            found = self.minutes[number] = _new_minute()
        return found

    def count(self, what: str, t: int | None = None) -> None:
        self.minute(time.monotonic_ns() if t is None else t)[what] += 1

    def connect(self, user: int) -> None:
        session = Session(self, user)
        self.sessions[user] = session
        self.live.append(session)
        door = session.door
        coroutine = self.loop.create_connection(
            lambda: session,
            "127.0.0.1",
            self.ports[door],
            ssl=self.tls if door == "irc-tls" else None,
        )
        task = self.loop.create_task(coroutine)
        task.add_done_callback(lambda t: self._connected(t, session))

    def _connected(self, task: asyncio.Task[Any], session: Session) -> None:
        if task.cancelled() or task.exception() is not None:
            self.count("errors")
            session.closedAt = session.leftAt = time.monotonic_ns()
            self.loop.call_later(1.0, self.connect, session.user)

    def closed(self, session: Session) -> None:
        if self.sending or not self.start:
            self.loop.call_later(self.plan.absence, self.connect, session.user)

    async def login(self) -> int:
        """
        Connect every user of this worker, C{loginRate} a second in all.

        @return: How many have joined their room.
        """
        pace = self.plan.loginRate / self.plan.workers
        for i, user in enumerate(self.users):
            self.connect(user)
            if i % 20 == 19:
                await asyncio.sleep(20 / pace)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            joined = sum(1 for s in self.sessions.values() if s.joinedAt is not None)
            if joined == len(self.users):
                break
            await asyncio.sleep(0.1)
        return sum(1 for s in self.sessions.values() if s.joinedAt is not None)

    def go(self, start: int) -> None:
        self.start = start
        self.sending = True
        self.loop.call_later(max(0.0, (start - time.monotonic_ns()) / 1e9), self._tick)
        leaves = self.plan.churn * len(self.users)
        if leaves:
            self.loop.call_later(self.plan.minute / leaves, self._leave)

    def _tick(self) -> None:
        if not self.sending:
            return
        now = time.monotonic_ns()
        due = int((now - self.start) / 1e9 * self.plan.rate / self.plan.workers)
        users = self.users
        tries = 0
        while self.sent < due and tries < 2 * len(users):
            self.turn = (self.turn + 1) % len(users)
            tries += 1
            session = self.sessions.get(users[self.turn])
            if session is None or not session.talking:
                continue
            number = self.sent * self.plan.workers + self.index
            self.sent += 1
            t = time.monotonic_ns()
            session.say(chat_text(session.name, session.room, number, t))
            self.outbox.append((t, number, session.roomIndex, session.user))
            self.count("sent", t)
        self.loop.call_later(0.01, self._tick)

    def _leave(self) -> None:
        if not self.sending:
            return
        talking = [s for s in self.sessions.values() if s.talking]
        if talking:
            self.leaving.choice(talking).quit()
            self.count("leaves")
        self.loop.call_later(
            self.plan.minute / (self.plan.churn * len(self.users)), self._leave
        )

    def arrived(
        self, session: Session, sender: bytes, room: bytes, text: bytes, now: int
    ) -> None:
        """
        A chat line reached C{session}: check it and time it.
        """
        if sender == session.name:
            return  # the web door's echo of one's own line
        key = (sender, room, text)
        try:
            found = self.texts[key]
        except KeyError:
            read = read_text(sender, room, text)
            found = self.texts[key] = None if read is None else (*read, int(sender[1:]))
        if self.minuteFrom <= now < self.minuteTo:
            minute = self.current
        else:
            minute = self.minute(now)
            if self.start and now >= self.start:
                self.current = minute
                self.minuteFrom = now - (now - self.start) % self.minuteNs
                self.minuteTo = self.minuteFrom + self.minuteNs
        if found is None:
            minute["corrupted"] += 1
            return
        if room != session.room:
            minute["misrouted"] += 1
            return
        number, sent, user = found
        minute["delivered"] += 1
        latency = (now - sent) // 1000
        shift = latency.bit_length() - 6  # bucket(), inline: once per delivery
        if shift > 0:
            latency = (latency >> shift) << shift
        hist = minute[session.hist]
        hist[latency] = hist.get(latency, 0) + 1
        if number in session.received:
            minute["duplicated"] += 1
        elif sent < session.checkedUntil:
            was = self.missing.pop((id(session), number), None)
            if was is None:
                minute["duplicated"] += 1  # received, and checked, before
            else:
                for what in was:
                    self.minute(sent)[what] -= 1
                minute["late"] += 1
        else:
            session.received[number] = sent
            session.firstFrom.setdefault(user, sent)
            session.lastFrom[user] = sent  # one sender's lines come in order

    def checkUntil(self, entries: list[Entry], cut: int) -> None:
        """
        Take in every line sent (C{entries}, from every worker) and check
        each session for the lines sent before C{cut}.
        """
        self.texts.clear()
        touched = set()
        for entry in entries:
            self.rooms.setdefault(entry[2], []).append(entry)
            touched.add(entry[2])
        for room in touched:
            self.rooms[room].sort()
        margin = int(self.plan.margin * 1e9)
        lagNs = int(self.plan.lag * 1e9)
        for session in self.live:
            log = self.rooms.get(session.roomIndex, [])
            low = bisect_left(log, (session.checkedUntil,))
            high = bisect_left(log, (cut,))
            joined = session.joinedAt
            left = session.leftAt
            received = session.received
            for t, number, _room, user in log[low:high]:
                got = received.pop(number, None)
                if user == session.user or got is not None:
                    continue
                if joined is None:
                    self.missing[(id(session), number)] = ()
                    continue
                if left is not None and t > left:
                    # Sent after the quit: not for this session (it may
                    # still come, before the server takes the quit).
                    self.missing[(id(session), number)] = ()
                    continue
                if t <= joined:
                    # Sent before the join was seen: the server may have
                    # taken it first, unless it took an earlier one after.
                    edge = session.firstFrom.get(user, t) >= t
                elif left is not None and t >= left - margin:
                    # Sent just before the quit: the server may have taken
                    # the quit first, unless it took a later one before.
                    edge = session.lastFrom.get(user, t) <= t
                else:
                    edge = False
                counted: tuple[str, ...] = ("undecided",) if edge else ("lost",)
                if not edge and left is not None and t > left - lagNs:
                    # Lost by a connection that quit soon after: the quit
                    # may have overtaken it on a server this far behind.
                    counted += ("lostNearQuit",)
                for what in counted:
                    self.count(what, t)
                self.missing[(id(session), number)] = counted
            for number, t in list(received.items()):
                if t < cut:
                    del received[number]
                    self.count("unexpected", t)
            session.checkedUntil = max(session.checkedUntil, cut)
        self.live = [s for s in self.live if s.closedAt is None or s.closedAt >= cut]
        alive = {id(s) for s in self.live}
        self.missing = {k: v for k, v in self.missing.items() if k[0] in alive}
        for room, log in self.rooms.items():
            self.rooms[room] = log[bisect_left(log, (cut,)) :]

    def report(self) -> dict[str, Any]:
        entries, self.outbox = self.outbox, []
        online = sum(1 for s in self.sessions.values() if s.talking)
        return {
            "entries": entries,
            "minutes": self.minutes,
            "cpu": cpu_seconds(),
            "online": online,
        }

    def stop(self) -> None:
        self.sending = False

    def close(self) -> None:
        self.closing = True
        for session in self.sessions.values():
            session.abort()


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """
    @return: uvloop's event loop when it is installed (C{bench/requirements.txt}:
        it makes the generator's reads cheaper), else L{None}: asyncio's.
    """
    try:
        uvloop = importlib.import_module("uvloop")
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def _worker(conn: Connection, plan: Plan, index: int, ports: dict[str, int]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with asyncio.Runner(loop_factory=loop_factory() if plan.uvloop else None) as runner:
        runner.run(_serve(conn, plan, index, ports))


async def _serve(
    conn: Connection, plan: Plan, index: int, ports: dict[str, int]
) -> None:
    worker = Worker(plan, index, ports)
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    inbox: asyncio.Queue[Any] = asyncio.Queue()

    def read() -> None:
        # uvloop makes the pipe non-blocking: a message is read whole.
        os.set_blocking(conn.fileno(), True)
        inbox.put_nowait(conn.recv())

    loop.add_reader(conn.fileno(), read)
    conn.send(("ready", await worker.login()))
    while not done.done():
        command, argument = await inbox.get()
        if command == "go":
            worker.go(argument)
        elif command == "report":
            conn.send(("report", worker.report()))
        elif command == "check":
            entries, cut = argument
            worker.checkUntil(entries, cut)
        elif command == "stop":
            worker.stop()
        elif command == "close":
            worker.close()
            conn.send(("closed", worker.report()))
            done.set_result(None)
    loop.remove_reader(conn.fileno())


def make_certificate(directory: Path) -> Path:
    """
    @return: A PEM file holding a new self-signed key and certificate for
        127.0.0.1, made with C{openssl}.
    """
    key, cert = directory / "key.pem", directory / "cert.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes"),
            *("-keyout", str(key), "-out", str(cert), "-days", "2"),
            *("-subj", "/CN=127.0.0.1"),
        ],
        check=True,
        capture_output=True,
    )
    pem = directory / "server.pem"
    pem.write_bytes(key.read_bytes() + cert.read_bytes())
    return pem


class Server:
    """
    The C{twistd chat} under soak: line, IRC, IRC over TLS and web
    listeners on 127.0.0.1, history in SQLite.
    """

    def __init__(self, directory: Path, plan: Plan) -> None:
        pem = make_certificate(directory)
        self.log = directory / "twistd.log"
        for old in directory.glob("twistd.log*"):
            old.unlink()  # its ports are read from it, its tracebacks counted
        local = "interface=127.0.0.1:backlog=4096"
        self.process = subprocess.Popen(
            [
                *(TWISTD, "-n", "--pidfile=", "--logfile", str(self.log), "chat"),
                *("--port", f"tcp:0:{local}", "--irc", f"tcp:0:{local}"),
                *("--irc", f"ssl:0:privateKey={pem}:{local}"),
                *("--web", f"tcp:0:{local}"),
                *("--history", f"sqlite:{directory / 'history.db'}"),
                *("--max-clients", str(plan.users * 2 + 100)),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        self.pid = self.process.pid
        self.ports = self._ports()

    def _ports(self) -> dict[str, int]:
        patterns = {
            "line": r"\(tcp:",
            "irc": r"\(irc tcp:",
            "irc-tls": r"\(irc ssl:",
            "web": r"\(web tcp:",
        }
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            text = self.log.read_text() if self.log.exists() else ""
            found = {
                door: re.search(r"listening on 127\.0\.0\.1:(\d+) " + p, text)
                for door, p in patterns.items()
            }
            if all(found.values()):
                return {door: int(m[1]) for door, m in found.items() if m}
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the server did not start: {text}")

    def sample(self) -> dict[str, float]:
        """
        @return: Its resident memory (MB), open descriptors, CPU seconds,
            and seconds its threads waited for a CPU while ready to run
            (C{/proc/PID/task/*/schedstat}: what a shared machine costs it).
        """
        status = Path(f"/proc/{self.pid}/status").read_text()
        rss = int(re.search(r"VmRSS:\s+(\d+)", status)[1])  # type: ignore[index]
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        waited = 0
        for task in Path(f"/proc/{self.pid}/task").iterdir():
            with contextlib.suppress(OSError, ValueError, IndexError):
                waited += int((task / "schedstat").read_text().split()[1])
        return {
            "rss": rss / 1024,
            "fds": len(os.listdir(f"/proc/{self.pid}/fd")),
            "cpu": (int(fields[11]) + int(fields[12])) / TICK,
            "waited": waited / 1e9,
            "at": time.monotonic(),
        }

    def tracebacks(self) -> int:
        """
        @return: How many tracebacks its log holds (twistd's rotated files,
            C{twistd.log.1} and on, included).
        """
        return sum(
            path.read_text(errors="replace").count("Traceback")
            for path in self.log.parent.glob(self.log.name + "*")
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def merge_minutes(parts: list[dict[int, dict[str, Any]]]) -> dict[int, dict[str, Any]]:
    """
    @return: The per-minute counts of several workers, added up.
    """
    merged: dict[int, dict[str, Any]] = {}
    for part in parts:
        for number, counts in part.items():
            into = merged.setdefault(number, _new_minute())
            for key in COUNTS:
                into[key] += counts[key]
            for name, hist in counts.items():
                if name.startswith("hist "):
                    into[name] = _added(into[name], hist)
                    into["hist"] = _added(into["hist"], hist)
    return merged


def _added(hist: dict[int, int], more: dict[int, int]) -> dict[int, int]:
    for key, n in more.items():
        hist[key] = hist.get(key, 0) + n
    return hist


def run(
    plan: Plan,
    directory: Path,
    out: Path | None = None,
    progress: Callable[[str], None] = lambda line: None,
    *,
    command: str = "",
) -> dict[str, Any]:
    """
    Run a soak.

    @param directory: Where the server keeps its log, certificate and
        history.
    @param out: A JSON file rewritten after every minute with what was
        measured so far.
    @param command: The command line that ran it, for the report.
    @return: The result: the plan, a row per minute, the totals.
    """
    raise_fd_limit()
    server = Server(directory, plan)
    result: dict[str, Any] = {
        "plan": asdict(plan),
        "rows": [],
        "started": time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime()),
        "load": [],
        "complete": False,
        "command": command or "python -m bench.soak",
    }
    pipes: list[Connection] = []
    processes = []
    context = multiprocessing.get_context("fork")
    try:
        for index in range(plan.workers):
            mine, theirs = context.Pipe()
            process = context.Process(
                target=_worker, args=(theirs, plan, index, server.ports)
            )
            process.start()
            pipes.append(mine)
            processes.append(process)
        joined = sum(_expect(p, "ready") for p in pipes)
        result["joined"] = joined
        progress(f"{joined} of {plan.users} users joined their rooms")
        _measure(plan, server, pipes, result, out=out, progress=progress)
        for pipe in pipes:
            pipe.send(("stop", None))
        time.sleep(plan.lag + plan.check)
        _collect(pipes, time.monotonic_ns())
        for pipe in pipes:
            pipe.send(("close", None))
        final = [_expect(p, "closed") for p in pipes]
        result["tracebacks"] = server.tracebacks()
        result["complete"] = True
        _finish(result, final)
        if out is not None:
            _save(result, final, out)
    finally:
        for process in processes:
            process.join(10)
            if process.is_alive():
                process.kill()
        server.stop()
    return result


def _measure(
    plan: Plan,
    server: Server,
    pipes: list[Connection],
    result: dict[str, Any],
    *,
    out: Path | None,
    progress: Callable[[str], None],
) -> None:
    """
    Start the sending and the leaving, and every C{check} seconds hand the
    lines sent to every worker to check; each minute, read the server and
    put a row into C{result} (and C{out}).
    """
    reports = _collect(pipes, 0)  # the generator's CPU time after logging in
    before = server.sample()
    before["gen"] = sum(r["cpu"] for r in reports)
    start = time.monotonic_ns() + int(0.5e9)
    for pipe in pipes:
        pipe.send(("go", start))
    period = int(plan.check * 1e9)
    perMinute = round(plan.minute / plan.check)
    for tick in range(1, plan.minutes * perMinute + 1):
        _sleep_until(start + tick * period)
        reports = _collect(pipes, start + tick * period - int(plan.lag * 1e9))
        if tick % perMinute == 0:
            now = server.sample()
            now["gen"] = sum(r["cpu"] for r in reports)
            row = _row(tick // perMinute, before, now, reports)
            result["rows"].append(row)
            result["load"].append(row["load"])
            before = now
            result["tracebacks"] = server.tracebacks()
            progress(_progress(row))
            if out is not None:
                _save(result, reports, out)


def _expect(pipe: Connection, what: str) -> Any:
    kind, value = pipe.recv()
    assert kind == what, (kind, what)
    return value


def _sleep_until(t: int) -> None:
    delay = (t - time.monotonic_ns()) / 1e9
    if delay > 0:
        time.sleep(delay)


def _collect(pipes: list[Connection], cut: int) -> list[dict[str, Any]]:
    for pipe in pipes:
        pipe.send(("report", None))
    reports = [_expect(p, "report") for p in pipes]
    entries = [e for r in reports for e in r["entries"]]
    for pipe in pipes:
        pipe.send(("check", (entries, cut)))
    return reports


def _row(
    number: int,
    before: dict[str, float],
    now: dict[str, float],
    reports: list[dict[str, Any]],
) -> dict[str, Any]:
    # The parent may read late, waiting for a busy worker's report: per
    # second of the time between the readings, not of the plan's minute.
    seconds = now["at"] - before["at"]
    return {
        "minute": number,
        "seconds": seconds,
        "rss": now["rss"],
        "fds": now["fds"],
        "serverCpu": (now["cpu"] - before["cpu"]) / seconds,
        "genCpu": (now["gen"] - before["gen"]) / seconds,
        "serverWaited": (now["waited"] - before["waited"]) / seconds,
        "online": sum(r["online"] for r in reports),
        "load": os.getloadavg()[0],
    }


def _fill(result: dict[str, Any], reports: list[dict[str, Any]]) -> None:
    minutes = merge_minutes([r["minutes"] for r in reports])
    for row in result["rows"]:
        counts = minutes.get(row["minute"] - 1, _new_minute())
        for key in COUNTS:
            row[key] = counts[key]
        row["p50"] = percentile(counts["hist"], 0.5)
        row["p99"] = percentile(counts["hist"], 0.99)
        row["hist"] = {str(k): n for k, n in counts["hist"].items()}
    result["doors"] = {}
    for door in DOORS:
        hist: dict[int, int] = {}
        for number, counts in minutes.items():
            if number >= 0:
                _added(hist, counts["hist " + door])
        result["doors"][door] = {
            "deliveries": sum(hist.values()),
            "p50": percentile(hist, 0.5),
            "p99": percentile(hist, 0.99),
        }


def _finish(result: dict[str, Any], reports: list[dict[str, Any]]) -> None:
    _fill(result, reports)
    totals = merge_minutes([r["minutes"] for r in reports])
    result["totals"] = {key: sum(c[key] for c in totals.values()) for key in COUNTS}
    result["verdict"] = verdict(result)


def _save(result: dict[str, Any], reports: list[dict[str, Any]], out: Path) -> None:
    if not result["complete"]:
        _fill(result, reports)
        result["totals"] = {key: sum(r[key] for r in result["rows"]) for key in COUNTS}
        result["verdict"] = verdict(result)
    out.write_text(json.dumps(result, indent=1))


def _progress(row: dict[str, Any]) -> str:
    return (
        f"minute {row['minute']}: RSS {row['rss']:.1f} MB, {row['fds']} fds, "
        f"server CPU {row['serverCpu']:.0%} (waited {row['serverWaited']:.0%}), "
        f"generator CPU {row['genCpu']:.0%}, "
        f"{row['online']} online, load {row['load']:.2f}"
    )


def _merged_hist(rows: list[dict[str, Any]]) -> dict[int, int]:
    hist: dict[int, int] = {}
    for row in rows:
        for k, n in row.get("hist", {}).items():
            hist[int(k)] = hist.get(int(k), 0) + n
    return hist


def verdict(result: dict[str, Any]) -> dict[str, Any]:
    """
    The targets: after the first C{settle} minutes RSS grows less than 5 %
    and p99 less than 20 % (the last minutes' p99 against the first ones'
    after settling, as many of each, up to 5), nothing lost, no traceback.

    @return: Each figure and whether it meets its target.
    """
    rows = result["rows"]
    settle = result["plan"]["settle"]
    after = [r for r in rows if r["minute"] > settle]
    out: dict[str, Any] = {"minutes": len(rows)}
    reference = [r for r in rows if r["minute"] == settle]
    if reference and after:
        out["rssGrowth"] = after[-1]["rss"] / reference[0]["rss"] - 1
        out["rssMaxGrowth"] = max(r["rss"] for r in after) / reference[0]["rss"] - 1
        span = max(1, min(5, len(after) // 2))
        first = percentile(_merged_hist(after[:span]), 0.99)
        last = percentile(_merged_hist(after[-span:]), 0.99)
        out["p99First"], out["p99Last"] = first, last
        out["p99Growth"] = last / first - 1 if first and last else None
    server = sum(r.get("serverCpu", 0) for r in rows)
    out["generatorPerServerCpu"] = (
        sum(r.get("genCpu", 0) for r in rows) / server if server else None
    )
    totals = result.get("totals", {})
    out["lost"] = totals.get("lost", 0)
    out["duplicated"] = totals.get("duplicated", 0)
    out["tracebacks"] = result.get("tracebacks", 0)
    out["rssOk"] = out.get("rssGrowth") is not None and out["rssGrowth"] < 0.05
    growth = out.get("p99Growth")
    out["p99Ok"] = growth is not None and growth < 0.20
    # A late line arrived (after its check): counted, not lost.
    bad = ("lost", "duplicated", "corrupted", "misrouted", "unexpected")
    out["nothingLost"] = all(not totals.get(key) for key in bad)
    out["noTraceback"] = not out["tracebacks"]
    return out


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"


def section(result: dict[str, Any], png: str | None = "soak.png") -> str:
    """
    @return: The RESULTS.md section of a soak: how it was run, the verdict,
        a row per minute.
    """
    plan = result["plan"]
    v = result["verdict"]
    rows = result["rows"]
    state = "" if result["complete"] else " (partial: the run did not finish)"
    loads = result.get("load", [])
    lines = [
        HEADING,
        "",
        f"`{result.get('command', 'python -m bench.soak')}`, started "
        f"{result['started']}{state}: one `twistd chat` "
        f"with the line door, IRC (plain and TLS, a self-signed certificate) and "
        f"the web door, history in SQLite; {plan['users']:,} users spread over the "
        f"four listeners and {plan['rooms']} rooms, {plan['churn']:.0%} of them "
        f"leaving and coming back each minute, {plan['rate']:g} lines/s in all, "
        f"{plan['workers']} asyncio load processes. "
        f"{result.get('joined', 0):,} users joined before the first minute.",
        "",
    ]
    if loads:
        lines += [
            f"Machine: 2 cores shared with other agents; 1-minute load average "
            f"{min(loads):.2f} to {max(loads):.2f} over the minutes "
            f"(median {sorted(loads)[len(loads) // 2]:.2f}).",
            "",
        ]

    def ok(flag: bool) -> str:
        return "met" if flag else "**not met**"

    growth = v.get("p99Growth")
    lines += [
        "| target | figure | |",
        "| --- | --- | --- |",
        f"| RSS grows < 5 % after minute {plan['settle']} | "
        f"{_pct(v.get('rssGrowth'))} at the end "
        f"(at most {_pct(v.get('rssMaxGrowth'))}) "
        f"| {ok(v['rssOk'])} |",
        f"| p99 grows < 20 % after minute {plan['settle']} | "
        f"{_ms(v.get('p99First'))} -> {_ms(v.get('p99Last'))} ms "
        f"({_pct(growth)}) | {ok(v['p99Ok'])} |",
        f"| nothing lost | lost {v['lost']:,} (of which "
        f"{result['totals'].get('lostNearQuit', 0):,} by a connection that quit "
        f"within {plan['lag']:g} s after), duplicated {v['duplicated']:,}, "
        f"corrupted, misrouted, unexpected "
        + ", ".join(
            f"{result['totals'].get(k, 0):,}"
            for k in ("corrupted", "misrouted", "unexpected")
        )
        + f" (late: {result['totals'].get('late', 0):,}; undecided at a join "
        f"or quit: {result['totals'].get('undecided', 0):,}) "
        f"| {ok(v['nothingLost'])} |",
        f"| no traceback in the server's log | {v['tracebacks']} "
        f"| {ok(v['noTraceback'])} |",
        f"| (the load generator cheaper than the server) | its CPU / the "
        f"server's over the minutes: {_ratio(v.get('generatorPerServerCpu'))} "
        f"| {_cheaper(v.get('generatorPerServerCpu'))} |",
        "",
        "| minute | sent | delivered | lost | dup | late | undecided | p50 ms "
        "| p99 ms | RSS MB | fds | server CPU | server waited | generator CPU "
        "| online | leaves | load |",
        "|" + " --- |" * 17,
    ]
    for r in rows:
        lines.append(
            f"| {r['minute']} | {r.get('sent', 0):,} | {r.get('delivered', 0):,} "
            f"| {r.get('lost', 0)} | {r.get('duplicated', 0)} | {r.get('late', 0)} "
            f"| {r.get('undecided', 0)} | {_ms(r.get('p50'))} "
            f"| {_ms(r.get('p99'))} | {r['rss']:.1f} | {r['fds']} "
            f"| {r['serverCpu']:.0%} | {r.get('serverWaited', 0):.0%} "
            f"| {r['genCpu']:.0%} | {r['online']:,} "
            f"| {r.get('leaves', 0)} | {r['load']:.2f} |"
        )
    doors = result.get("doors", {})
    if doors:
        lines += [
            "",
            "Deliveries and latency by the receiver's door, over the measured minutes: "
            + "; ".join(
                f"{door} {d['deliveries']:,} (p50 {_ms(d['p50'])} ms, "
                f"p99 {_ms(d['p99'])} ms)"
                for door, d in doors.items()
            )
            + ".",
        ]
    if png:
        lines += ["", f"![the soak, minute by minute]({png})"]
    return "\n".join(lines) + "\n"


def _cheaper(ratio: float | None) -> str:
    if ratio is None or ratio >= 1.05:
        return "**not met**"
    return "met" if ratio < 0.95 else "**about equal**"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:+.1%}"


def plot(result: dict[str, Any], path: Path) -> None:
    """
    Draw RSS, descriptors, latency and CPU per minute into a PNG.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = result["rows"]
    x = [r["minute"] for r in rows]
    figure, axes = plt.subplots(5, 1, figsize=(9, 13), sharex=True)
    axes[0].plot(x, [r["rss"] for r in rows], marker=".")
    axes[0].set_ylabel("server RSS (MB)")
    axes[1].plot(x, [r["fds"] for r in rows], marker=".")
    axes[1].set_ylabel("open descriptors")
    axes[2].plot(x, [r.get("p50") for r in rows], marker=".", label="p50")
    axes[2].plot(x, [r.get("p99") for r in rows], marker=".", label="p99")
    axes[2].set_ylabel("delivery latency (ms)")
    axes[2].set_yscale("log")
    axes[2].legend()
    axes[3].plot(x, [100 * r["serverCpu"] for r in rows], marker=".", label="server")
    axes[3].plot(
        x, [100 * r["genCpu"] for r in rows], marker=".", label="load generator"
    )
    axes[3].plot(
        x,
        [100 * r.get("serverWaited", 0) for r in rows],
        marker=".",
        label="server waiting for a CPU",
    )
    axes[3].set_ylabel("CPU (% of a core)")
    axes[3].legend()
    axes[4].plot(x, [r["load"] for r in rows], marker=".")
    axes[4].set_ylabel("load average (2 cores)")
    axes[4].set_xlabel("minute")
    for axis in axes:
        axis.grid(True, alpha=0.3)
        axis.axvline(result["plan"]["settle"], color="grey", linestyle=":")
    figure.suptitle("Soak: one twistd chat, minute by minute")
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)


def write_report(result: dict[str, Any], bench: Path) -> None:
    """
    Keep C{result} as C{bench/soak.json} (C{bench.report} puts its section
    into the C{RESULTS.md} it writes), draw C{bench/soak.png}, and put the
    section into C{bench/RESULTS.md}.
    """
    result["verdict"] = verdict(result)  # as this version judges
    (bench / "soak.json").write_text(json.dumps(result, indent=1) + "\n")
    png = bench / "soak.png"
    plot(result, png)
    put_section(bench / "RESULTS.md", HEADING, section(result, png.name))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=int, default=60)
    parser.add_argument("--users", type=int)
    parser.add_argument("--rooms", type=int)
    parser.add_argument("--rate", type=float, help="lines per second, in all")
    parser.add_argument("--workers", type=int, help="load processes")
    parser.add_argument("--tiny", action="store_true", help="the tests' smoke form")
    parser.add_argument("--out", type=Path, help="a directory for the run's files")
    parser.add_argument("--no-report", action="store_true")
    parser.add_argument("--report-only", type=Path, help="a soak.json to report")
    args = parser.parse_args(argv)
    command = "python -m bench.soak " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    bench = Path(__file__).parent
    if args.report_only:
        write_report(json.loads(args.report_only.read_text()), bench)
        return 0
    plan = tiny_plan(args.minutes) if args.tiny else Plan(minutes=args.minutes)
    if args.minutes < 20 and not args.tiny:
        plan.settle = max(1, args.minutes // 3)
    for name in ("users", "rooms", "rate", "workers"):
        if getattr(args, name) is not None:
            setattr(plan, name, getattr(args, name))
    out = args.out or Path(f"/tmp/soak-{os.getpid()}")
    out.mkdir(parents=True, exist_ok=True)
    result = run(
        plan,
        out,
        out / "soak.json",
        lambda line: print(line, flush=True),
        command=command,
    )
    print(json.dumps(result["verdict"], indent=1))
    if not args.no_report:
        write_report(result, bench)
    v = result["verdict"]
    return 0 if v["nothingLost"] and v["noTraceback"] else 1


if __name__ == "__main__":
    sys.exit(main())
