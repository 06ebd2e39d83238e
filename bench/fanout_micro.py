"""
The fan-out alone, in process: no sockets, deliveries counted and dropped.

Users in one room (the line door's codec, so events are really encoded),
a few senders, turns of many lines: how much Python one line and one
recipient cost in L{chatserver.core.fanout.Fanout}.  For comparing revisions
of the fan-out on the same machine in the same minute, not for absolute
figures.

    .venv/bin/python -m bench.fanout_micro
"""

from __future__ import annotations

import time

from twisted.internet.task import Clock
from zope.interface import implementer

from chatserver.config import ChatConfig
from chatserver.core.fanout import Codec
from chatserver.core.minds import IMind
from chatserver.core.realm import ChatRealm
from chatserver.doors.line.codec import LineCodec

USERS = 200
SENDERS = 4
LINES_PER_TURN = 400
TURNS = 50


@implementer(IMind)
class DroppingMind:
    """
    A session that counts what it is sent.
    """

    codec: Codec = LineCodec("#lobby")
    peer = "bench"
    door = "bench"
    ident = ""
    realname = ""
    echoes = False
    joinsDefaultRoom = True
    lastActive = 0.0
    closing = False

    def __init__(self) -> None:
        self.bytes = 0

    def deliver(self, data: bytes) -> None:
        self.bytes += len(data)

    def disconnect(self, reason: str) -> None:
        pass


def main() -> None:
    clock = Clock()
    realm = ChatRealm(ChatConfig(), clock=clock)
    users = [realm.login(f"user{n}", DroppingMind()) for n in range(USERS)]
    clock.advance(0)
    senders = users[:SENDERS]
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(TURNS):
            for n in range(LINES_PER_TURN):
                senders[n % SENDERS].say("a line of chat of a usual length")
            clock.advance(0)
        best = min(best, time.perf_counter() - start)
    lines = TURNS * LINES_PER_TURN
    print(
        f"{best / lines * 1e6:.2f} us per line, "
        f"{best / (TURNS * USERS) * 1e6:.2f} us per recipient per turn "
        f"({USERS} users, {SENDERS} senders, {LINES_PER_TURN} lines a turn, "
        "best of 5)"
    )


if __name__ == "__main__":
    main()
