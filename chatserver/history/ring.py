"""
One room's history in memory, packed so that the garbage collector has
little to look at (issue 24).

A L{HistoryEntry} per line made every kept line an object the cyclic
garbage collector tracks: a million lines made every full collection walk a
million objects, and stop the reactor for 150 ms or more.  A L{Ring} keeps
its newest lines as plain tuples of strings and numbers (which the
collector stops tracking after their first collection) and seals every
L{CHUNK} of them into one tuple of columns: the ids and times in arrays,
the names and texts in tuples.  A full collection then visits one object
per chunk, plus the few lines not sealed yet, instead of every line; the
entries a query gives are made when it asks.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from struct import Struct
from typing import overload

from chatserver.history.store import HistoryEntry

CHUNK = 64
"""
How many lines are sealed together.  A full collection visits about one
object per chunk and one per line not sealed yet (at most C{CHUNK - 1} per
room): 64 keeps both small for a thousand rooms of a thousand lines.
"""

# A line before it is sealed: the fields of a HistoryEntry, in its order.
_Row = tuple[int, str, float, str, str, str]
# CHUNK lines sealed: ids and times packed in bytes (arrays would be
# objects the collector tracks), rooms, kinds, senders, texts.
_Chunk = tuple[
    bytes,
    bytes,
    tuple[str, ...],
    tuple[str, ...],
    tuple[str, ...],
    tuple[str, ...],
]


_IDS = Struct(f"{CHUNK}q")
_TIMES = Struct(f"{CHUNK}d")
_ID = Struct("q")
_TIME = Struct("d")


SEALED_LINE = 54
"""
The bytes a sealed line takes besides its text, measured with
C{tracemalloc} (a thousand rooms of 640 lines): its id and time packed, its
room, kind, sender and text each a pointer in a column, and its share of
the chunk's tuples.  The names are shared with the chat or among a
room's lines, so they are not counted.
"""

UNSEALED_LINE = 154
"""
The bytes a line not sealed yet takes besides its text, measured as
L{SEALED_LINE} (a thousand rooms of 1 to 63 lines): its tuple, its id and
time as objects of their own, and its pointer in the ring's newest lines.
"""

RING_OVERHEAD = 160
"""
The bytes a room's ring takes with no line, and its place among the
store's rooms, measured as L{SEALED_LINE}.
"""


def text_size(text: str) -> int:
    """
    @return: The bytes C{text} takes as Python holds it.
    """
    return sys.getsizeof(text)


class Ring(Sequence[HistoryEntry]):
    """
    A room's entries by growing id, appended at the newest end and dropped
    from the oldest, read as a sequence of L{HistoryEntry} made on demand.

    """

    __slots__ = ("_chunks", "_head", "_tail")

    def __init__(self) -> None:
        # Tuples, not lists, though they are copied to grow: the collector
        # stops tracking a tuple of untracked things (one level of tuples
        # per collection that sees them), and then no longer visits what it
        # holds.
        self._chunks: tuple[_Chunk, ...] = ()
        # Lines dropped from the first chunk.
        self._head = 0
        self._tail: tuple[_Row, ...] = ()

    @property
    def ids(self) -> Sequence[int]:
        """
        The entries' ids, as a sequence: for finding an id without making
        entries.
        """
        return _Ids(self)

    def __len__(self) -> int:
        return len(self._chunks) * CHUNK - self._head + len(self._tail)

    def append(self, entry: HistoryEntry) -> int:
        """
        Keep C{entry}, newer than every entry kept.

        @return: How many bytes the ring grew by: the new line's text and
            L{UNSEALED_LINE}, less what sealing the newest lines saved, if
            this line completed a chunk.
        """
        row = (entry.id, entry.room, entry.time, entry.kind, entry.sender, entry.text)
        added = UNSEALED_LINE + text_size(entry.text)
        tail = self._tail = (*self._tail, row)
        if len(tail) == CHUNK:
            ids, rooms, times, kinds, senders, texts = zip(*tail, strict=True)
            chunk = (_IDS.pack(*ids), _TIMES.pack(*times), rooms, kinds, senders, texts)
            self._chunks = (*self._chunks, chunk)
            self._tail = ()
            return added - CHUNK * (UNSEALED_LINE - SEALED_LINE)
        return added

    def popleft(self) -> int:
        """
        Drop the oldest entry.

        @return: The bytes it took: its text (L{text_size}) and
            L{SEALED_LINE} or L{UNSEALED_LINE}.
        @raise IndexError: If there is none.
        """
        chunks = self._chunks
        if not chunks:
            size = UNSEALED_LINE + text_size(self._tail[0][5])
            self._tail = self._tail[1:]
            return size
        size = SEALED_LINE + text_size(chunks[0][5][self._head])
        self._head += 1
        if self._head == CHUNK:
            self._chunks = chunks[1:]
            self._head = 0
        return size

    def oldestTime(self) -> float:
        """
        @return: The time of the oldest entry.
        @raise IndexError: If there is none.
        """
        if self._chunks:
            return float(_TIME.unpack_from(self._chunks[0][1], 8 * self._head)[0])
        return self._tail[0][2]

    def idAt(self, index: int) -> int:
        """
        @return: The id of the entry at C{index} (from 0, the oldest).
        """
        where = index + self._head
        sealed = len(self._chunks) * CHUNK
        if where < sealed:
            chunk = self._chunks[where // CHUNK]
            return int(_ID.unpack_from(chunk[0], 8 * (where % CHUNK))[0])
        return self._tail[where - sealed][0]

    @overload
    def __getitem__(self, index: int) -> HistoryEntry: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[HistoryEntry]: ...

    def __getitem__(self, index: int | slice) -> HistoryEntry | Sequence[HistoryEntry]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        index = _position(index, len(self))
        where = index + self._head
        sealed = len(self._chunks) * CHUNK
        if where < sealed:
            ids, times, rooms, kinds, senders, texts = self._chunks[where // CHUNK]
            i = where % CHUNK
            return HistoryEntry(
                _ID.unpack_from(ids, 8 * i)[0],
                rooms[i],
                _TIME.unpack_from(times, 8 * i)[0],
                kinds[i],
                senders[i],
                texts[i],
            )
        return HistoryEntry(*self._tail[where - sealed])

    def __iter__(self) -> Iterator[HistoryEntry]:
        return (self[i] for i in range(len(self)))

    def __reversed__(self) -> Iterator[HistoryEntry]:
        return (self[i] for i in range(len(self) - 1, -1, -1))


class _Ids(Sequence[int]):
    """
    The ids of a L{Ring}'s entries, as a sequence.
    """

    __slots__ = ("_ring",)

    def __init__(self, ring: Ring) -> None:
        self._ring = ring

    def __len__(self) -> int:
        return len(self._ring)

    @overload
    def __getitem__(self, index: int) -> int: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[int]: ...

    def __getitem__(self, index: int | slice) -> int | Sequence[int]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        index = _position(index, len(self))
        return self._ring.idAt(index)


def _position(index: int, length: int) -> int:
    """
    @return: C{index} of a sequence of C{length} items as a place from 0,
        counting a negative one from the end.
    @raise IndexError: If there is no such place.
    """
    place = index + length if index < 0 else index
    if not 0 <= place < length:
        raise IndexError(index)
    return place
