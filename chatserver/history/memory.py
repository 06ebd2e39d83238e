"""
History kept in memory only: a bounded ring of entries per room, lost when
the server stops.  Reading never waits: a query's L{Deferred} has already
fired when it is returned.
"""

from __future__ import annotations

from collections import deque
from typing import cast

from twisted.internet import defer
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.internet.task import LoopingCall

from chatserver.history.paging import select_page
from chatserver.history.store import (
    DEFAULT_KEEP_SECONDS,
    DEFAULT_MAX_PER_ROOM,
    HistoryEntry,
    check_retention,
)

TRIM_INTERVAL = 60.0
"""
How often, in seconds, entries too old to keep are dropped.
"""


class MemoryHistory:
    """
    A L{HistoryStore} in memory: each room keeps its last C{maxPerRoom}
    entries, none older than C{keepSeconds}.

    Ids come from one counter for all rooms, from 1.  Entries too old are
    never given by L{query}; they are dropped from memory every
    L{TRIM_INTERVAL} seconds between L{start} and L{stop}, and a room left
    with none is forgotten.

    @ivar maxPerRoom: The most entries kept of one room.
    @ivar keepSeconds: How long an entry is kept.
    """

    def __init__(
        self,
        maxPerRoom: int = DEFAULT_MAX_PER_ROOM,
        keepSeconds: float = DEFAULT_KEEP_SECONDS,
        clock: IReactorTime | None = None,
    ) -> None:
        """
        @param clock: Tells the time and runs the trimming; the global
            reactor if not given.
        @raise ValueError: If C{maxPerRoom} is below 1 or C{keepSeconds} is
            not positive.
        """
        check_retention(maxPerRoom, keepSeconds)
        self.maxPerRoom = maxPerRoom
        self.keepSeconds = keepSeconds
        if clock is None:
            from twisted.internet import reactor

            clock = cast(IReactorTime, reactor)
        self._clock = clock
        self._rooms: dict[str, deque[HistoryEntry]] = {}
        self._lastId = 0
        self._trimming = LoopingCall(self.trim)
        self._trimming.clock = self._clock

    def start(self) -> Deferred[None]:
        """
        Start dropping old entries in the background.
        """
        if not self._trimming.running:
            self._trimming.start(TRIM_INTERVAL, now=False)
        return defer.succeed(None)

    def stop(self) -> Deferred[None]:
        """
        Stop dropping old entries; what is kept stays until the store goes.
        """
        if self._trimming.running:
            self._trimming.stop()
        return defer.succeed(None)

    def append(
        self, roomKey: str, *, room: str, kind: str, sender: str, text: str, time: float
    ) -> HistoryEntry:
        """
        Keep one line, dropping the room's oldest entry if it is full.

        @return: The entry, with its new id.
        """
        self._lastId += 1
        entry = HistoryEntry(self._lastId, room, time, kind, sender, text)
        ring = self._rooms.get(roomKey)
        if ring is None:
            ring = self._rooms[roomKey] = deque(maxlen=self.maxPerRoom)
        ring.append(entry)
        return entry

    def query(
        self,
        roomKey: str,
        limit: int,
        before: int | None = None,
        after: int | None = None,
    ) -> Deferred[list[HistoryEntry]]:
        """
        Read a page of a room's history, as L{HistoryStore.query} says.

        @return: A L{Deferred} that has already fired.
        """
        ring = self._rooms.get(roomKey)
        if ring is None:
            return defer.succeed([])
        since = self._clock.seconds() - self.keepSeconds
        return defer.succeed(select_page(ring, limit, before, after, since))

    def trim(self) -> None:
        """
        Drop the entries too old to keep, and forget the rooms left empty.

        Each room's ring is trimmed from its oldest end, up to the first
        entry young enough to keep.
        """
        since = self._clock.seconds() - self.keepSeconds
        for roomKey, ring in list(self._rooms.items()):
            while ring and ring[0].time < since:
                ring.popleft()
            if not ring:
                del self._rooms[roomKey]

    def roomCount(self) -> int:
        """
        @return: How many rooms have entries in memory.
        """
        return len(self._rooms)
