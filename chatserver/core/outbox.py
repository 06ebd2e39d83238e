"""
Everything a server sends, coalesced per reactor turn.

A naive broadcast pays Python once per recipient per line: it formats,
encodes and writes each line for each user.  The L{Outbox} pays once per line
and once per recipient per turn instead: a broadcast only appends its encoded
line to the turn's log, and at the end of the turn (one C{callLater(0)},
scheduled by the first line of the turn) each recipient gets everything of
that turn in one C{deliver}.  When the server is idle, a line is the only one
of its turn and goes out as soon as the reactor finishes reading: no delay is
added.

The order is kept per recipient: lines for one user alone (replies, errors,
private messages) are merged with the broadcasts at the place they were sent,
a user who joins in the middle of a turn gets only what was broadcast after
joining, and one excluded from a broadcast does not get it.

Without a clock the outbox delivers at once, which is what the tests that
read a transport right after feeding it lines expect.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

from twisted.internet.interfaces import IDelayedCall, IReactorTime


class Sink(Protocol):
    """
    Anything that takes encoded lines.
    """

    def deliver(self, data: bytes) -> None:
        """
        Send C{data}, one or more encoded server lines.
        """


class Outbox:
    """
    The output of one server's connections.

    @param members: Returns the users who get broadcasts, asked at the end of
        each turn (and at once without a clock).
    @param isMember: Says whether a sink is one of those users.
    @param clock: Schedules the flush at the end of the turn; L{None}
        delivers every line at once.
    """

    def __init__(
        self,
        members: Callable[[], Iterable[Sink]],
        isMember: Callable[[Sink], bool],
        clock: IReactorTime | None = None,
    ) -> None:
        self._members = members
        self._isMember = isMember
        self._clock = clock
        self._flushCall: IDelayedCall | None = None
        # This turn's broadcasts, in order.
        self._log: list[bytes] = []
        # Who was left out of which broadcast (position in the log).
        self._excluded: dict[Sink, set[int]] = {}
        # Lines for one recipient alone, with the log position they follow.
        self._own: dict[Sink, list[tuple[int, bytes]]] = {}
        # Members who joined during this turn, and from which log position
        # they get broadcasts.
        self._since: dict[Sink, int] = {}

    @property
    def pending(self) -> bool:
        """
        Whether anything waits for the end of the turn.
        """
        return bool(self._log or self._own)

    def _schedule(self) -> None:
        if self._flushCall is None and self._clock is not None:
            self._flushCall = self._clock.callLater(0, self.flush)

    def broadcast(self, data: bytes, exclude: Sink | None = None) -> None:
        """
        Send C{data} to every member but C{exclude}.
        """
        if self._clock is None:
            for member in tuple(self._members()):
                if member is not exclude:
                    member.deliver(data)
            return
        if exclude is not None:
            self._excluded.setdefault(exclude, set()).add(len(self._log))
        self._log.append(data)
        self._schedule()

    def send(self, sink: Sink, data: bytes) -> None:
        """
        Send C{data} to C{sink} alone, after whatever it was sent before.
        """
        if self._clock is None:
            sink.deliver(data)
            return
        own = self._own.get(sink)
        if own is None:
            own = self._own[sink] = []
        own.append((len(self._log), data))
        self._schedule()

    def joined(self, member: Sink) -> None:
        """
        C{member} has just become a member: it gets only the broadcasts from
        now on.
        """
        if self._log:
            self._since[member] = len(self._log)

    def left(self, member: Sink) -> None:
        """
        C{member} is gone: forget what was waiting for it.
        """
        self._own.pop(member, None)
        self._since.pop(member, None)
        self._excluded.pop(member, None)

    def _linesFor(self, sink: Sink, isMember: bool) -> list[bytes]:
        log = self._log
        start = self._since.get(sink, 0) if isMember else len(log)
        skip = self._excluded.get(sink, ())
        out: list[bytes] = []
        for position, data in self._own.get(sink, ()):
            if position > start:
                out.extend(log[i] for i in range(start, position) if i not in skip)
                start = position
            out.append(data)
        out.extend(log[i] for i in range(start, len(log)) if i not in skip)
        return out

    def flushOne(self, sink: Sink) -> None:
        """
        Deliver what waits for C{sink} now (before closing its connection,
        say); the rest of the turn is unchanged.
        """
        if self._clock is None or not self.pending:
            return
        data = b"".join(self._linesFor(sink, self._isMember(sink)))
        self._own.pop(sink, None)
        self._excluded.pop(sink, None)
        if self._log:
            self._since[sink] = len(self._log)
        if data:
            sink.deliver(data)

    def flush(self) -> None:
        """
        Deliver everything of this turn: one C{deliver} per recipient.
        """
        if self._flushCall is not None:
            if self._flushCall.active():
                self._flushCall.cancel()
            self._flushCall = None
        if not self.pending:
            self._since.clear()
            self._excluded.clear()
            return
        special: set[Sink] = set()
        special.update(self._own, self._since, self._excluded)
        writes: list[tuple[Sink, bytes]] = []
        if self._log:
            whole = b"".join(self._log)
            writes.extend((m, whole) for m in self._members() if m not in special)
        isMember = self._isMember
        for sink in special:
            data = b"".join(self._linesFor(sink, isMember(sink)))
            if data:
                writes.append((sink, data))
        self._log = []
        self._own = {}
        self._since = {}
        self._excluded = {}
        # Deliveries may broadcast (a user dropped for not reading leaves):
        # those lines belong to the next turn.
        for sink, data in writes:
            sink.deliver(data)
