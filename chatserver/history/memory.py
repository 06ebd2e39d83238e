"""
History kept in memory only, lost when the server stops: a bounded ring of
entries per room, and a bound on the bytes all rooms' entries take
together.  Reading never waits: a query's L{Deferred} has already fired
when it is returned.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from itertools import islice
from typing import cast

from twisted.internet import defer
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.internet.task import LoopingCall

from chatserver.history.paging import select_page
from chatserver.history.ring import RING_OVERHEAD, UNSEALED_LINE, Ring, text_size
from chatserver.history.search import (
    SCAN_LIMIT,
    SCAN_SLICE,
    SearchPage,
    SearchQuery,
)
from chatserver.history.store import (
    DEFAULT_KEEP_SECONDS,
    DEFAULT_MAX_PER_ROOM,
    MAX_PAGE,
    HistoryEntry,
    check_retention,
)

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
"""
The most bytes all rooms' entries take together, unless told otherwise.
"""


def line_size(entry: HistoryEntry) -> int:
    """
    @return: How many bytes C{entry} takes in memory when it is appended:
        its text and L{UNSEALED_LINE}.  Once sealed with the lines after it
        (L{chatserver.history.ring.CHUNK} of them), it takes 100 bytes less
        (L{chatserver.history.ring.SEALED_LINE}), and the store counts it
        so: the bound keeps as many lines as fit in it as they are packed.
    """
    return UNSEALED_LINE + text_size(entry.text)


TRIM_INTERVAL = 60.0
"""
How often, in seconds, entries too old to keep are dropped.
"""

TRIM_BATCH = 500
"""
The most entries (or rooms looked at) one turn of the reactor trims; at
a few microseconds each on a busy machine, a few milliseconds at most.
"""


class MemoryHistory:
    """
    A L{HistoryStore} in memory: each room keeps its last C{maxPerRoom}
    entries, none older than C{keepSeconds}, and all rooms' entries take at
    most C{maxBytes} together, counted as they are packed: each room's
    ring (L{RING_OVERHEAD}), each line's text, and L{UNSEALED_LINE} for a
    line until it is sealed, then L{chatserver.history.ring.SEALED_LINE}
    (measured with C{tracemalloc}, see L{chatserver.history.ring}).

    Beyond C{maxBytes}, the room written least recently loses its oldest
    entries first: rooms nobody talks in any more (parted, forgotten by the
    chat but not by its history) go before the live ones, and the room just
    written loses its own oldest entries only when it is the last one
    left.  The rooms are kept in the order they were last written, so this
    costs nothing per line beyond the entries it drops.

    Ids come from one counter for all rooms, from 1.  Entries too old are
    never given by L{query}; they are dropped from memory every
    L{TRIM_INTERVAL} seconds between L{start} and L{stop}, L{TRIM_BATCH} at
    a time.  Each room's entries are packed (L{Ring}), so that the garbage
    collector has few objects to visit however many lines are kept.  A room left
    with no entries, whatever dropped them, is forgotten.

    @ivar maxPerRoom: The most entries kept of one room.
    @ivar keepSeconds: How long an entry is kept.
    @ivar maxBytes: The most bytes all entries take together.
    """

    def __init__(
        self,
        maxPerRoom: int = DEFAULT_MAX_PER_ROOM,
        keepSeconds: float = DEFAULT_KEEP_SECONDS,
        clock: IReactorTime | None = None,
        maxBytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        """
        @param clock: Tells the time and runs the trimming; the global
            reactor if not given.
        @raise ValueError: If C{maxPerRoom} is below 1, C{keepSeconds} is
            not positive or C{maxBytes} is below 1.
        """
        check_retention(maxPerRoom, keepSeconds)
        if maxBytes < 1:
            raise ValueError("a memory history keeps at least one byte")
        self.maxPerRoom = maxPerRoom
        self.keepSeconds = keepSeconds
        self.maxBytes = maxBytes
        if clock is None:
            from twisted.internet import reactor

            clock = cast(IReactorTime, reactor)
        self._clock = clock
        # Least recently written first.
        self._rooms: OrderedDict[str, Ring] = OrderedDict()
        self._bytes = 0
        self._lastId = 0
        self._trimming = LoopingCall(self.trim)
        self._trimming.clock = self._clock
        # The rooms a trim has still to look at, last first, while it runs.
        self._trimLeft: list[str] | None = None
        self._trimSince = 0.0
        self._trimCall: IDelayedCall | None = None

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
        if self._trimCall is not None:
            self._trimCall.cancel()
            self._trimCall = None
        self._trimLeft = None
        return defer.succeed(None)

    def append(
        self, roomKey: str, *, room: str, kind: str, sender: str, text: str, time: float
    ) -> HistoryEntry:
        """
        Keep one line, dropping the room's oldest entry if it is full, and
        the oldest entries of the rooms written least recently while all
        entries take more than C{maxBytes}.

        @return: The entry, with its new id (not kept if it alone takes
            more than C{maxBytes}).
        """
        self._lastId += 1
        entry = HistoryEntry(self._lastId, room, time, kind, sender, text)
        rooms = self._rooms
        ring = rooms.get(roomKey)
        if ring is None:
            ring = rooms[roomKey] = Ring()
            self._bytes += RING_OVERHEAD
        else:
            rooms.move_to_end(roomKey)
            if len(ring) >= self.maxPerRoom:
                self._bytes -= ring.popleft()
        self._bytes += ring.append(entry)
        while self._bytes > self.maxBytes:
            oldestKey, oldest = next(iter(rooms.items()))
            self._bytes -= oldest.popleft()
            if not oldest:
                del rooms[oldestKey]
                self._bytes -= RING_OVERHEAD
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
        return defer.succeed(
            select_page(ring, limit, before, after, since, ids=ring.ids)
        )

    def search(
        self,
        roomKeys: Sequence[str],
        query: SearchQuery,
        limit: int,
        before: int | None = None,
    ) -> Deferred[SearchPage]:
        """
        Find lines as L{HistoryStore.search} says, reading the rooms' rings
        newest first, all together: at most L{SCAN_LIMIT} lines a page,
        L{SCAN_SLICE} in a turn of the reactor.

        @return: A L{Deferred} that fires in this turn if one slice was
            enough, in a later one else.
        """
        limit = max(1, min(limit, MAX_PAGE))
        keys = sorted(set(roomKeys))
        since = self._clock.seconds() - self.keepSeconds
        found: list[HistoryEntry] = []
        done: Deferred[SearchPage] = Deferred()

        def step(below: int | None, read: int) -> None:
            # The rings are looked up again each slice: lines come and go
            # between two, and a line is found by its id.
            rings = [self._rooms[key] for key in keys if key in self._rooms]
            budget = min(SCAN_SLICE, SCAN_LIMIT - read)
            got, below, count = scan_search(
                rings,
                query,
                limit - len(found),
                before=below,
                since=since,
                budget=budget,
            )
            found.extend(got)
            read += count
            if below is None or len(found) >= limit or read >= SCAN_LIMIT:
                done.callback(SearchPage(tuple(found), below))
            else:
                self._clock.callLater(0, step, below, read)

        step(before, 0)
        return done

    def trim(self) -> None:
        """
        Drop the entries too old to keep, and forget the rooms left empty,
        unless that is being done already.

        Each room's ring is trimmed from its oldest end, up to the first
        entry young enough to keep, at most L{TRIM_BATCH} entries or rooms
        in one turn of the reactor: the rest is done in the turns after, so
        that a million lines growing too old at once never stop the chat.
        """
        if self._trimLeft is not None:
            return
        self._trimLeft = list(self._rooms)
        self._trimSince = self._clock.seconds() - self.keepSeconds
        self._trimSome()

    def _trimSome(self) -> None:
        """
        Go on trimming for at most L{TRIM_BATCH} entries or rooms; ask for
        another turn if some are left.
        """
        self._trimCall = None
        left = self._trimLeft
        if left is None:
            return
        since = self._trimSince
        budget = TRIM_BATCH
        while left and budget > 0:
            roomKey = left[-1]
            ring = self._rooms.get(roomKey)
            budget -= 1
            while ring and budget > 0 and ring.oldestTime() < since:
                self._bytes -= ring.popleft()
                budget -= 1
            if ring is not None and ring and ring.oldestTime() < since:
                break
            left.pop()
            if ring is not None and not ring:
                del self._rooms[roomKey]
                self._bytes -= RING_OVERHEAD
        if left:
            self._trimCall = self._clock.callLater(0, self._trimSome)
        else:
            self._trimLeft = None

    def roomCount(self) -> int:
        """
        @return: How many rooms have entries in memory.
        """
        return len(self._rooms)

    def byteCount(self) -> int:
        """
        @return: How many bytes all entries and their rooms' rings take, as
            L{MemoryHistory} counts them.
        """
        return self._bytes


def _newest_first(ring: Ring, before: int | None) -> Iterator[HistoryEntry]:
    high = len(ring)
    if before is not None:
        # By the ids alone: no entry is made to find the place.
        high = bisect_left(ring.ids, before)
    return islice(reversed(ring), len(ring) - high, None)


def scan_search(
    rooms: Sequence[Ring],
    query: SearchQuery,
    limit: int,
    *,
    before: int | None,
    since: float,
    budget: int,
) -> tuple[list[HistoryEntry], int | None, int]:
    """
    Search rooms' entries by reading them, newest first across all rooms.

    @param rooms: Each room's ring, its entries by growing id.
    @param limit: The most entries to find.
    @param before: Only entries with a smaller id.
    @param since: Entries with an earlier time are too old to give.
    @param budget: The most entries to read.
    @return: The entries found, newest first; where to go on (below the
        last entry found or read), or L{None} when every entry was read;
        and how many were read.
    """
    merged = heapq.merge(
        *(_newest_first(entries, before) for entries in rooms),
        key=lambda entry: -entry.id,
    )
    found: list[HistoryEntry] = []
    read = 0
    for read, entry in enumerate(merged, 1):
        if entry.time >= since and query.matches(entry):
            found.append(entry)
            if len(found) >= limit:
                return found, entry.id, read
        if read >= budget:
            return found, entry.id, read
    return found, None, read
