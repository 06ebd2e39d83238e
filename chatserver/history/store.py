"""
What the chat keeps of a room's past, and the one small interface every
history store offers: in memory (L{chatserver.history.memory}), in SQLite
(L{chatserver.history.sqlite}), and later shared through Redis.

Every room message, action and topic change is kept as a L{HistoryEntry}.
The interface is asynchronous where a store may have to wait (reading), and
synchronous where the chat cannot (L{HistoryStore.append} gives the entry
its id and time at once, so that the line goes out to the room without
waiting for a disk; the store writes it in the background).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from twisted.internet.defer import Deferred

if TYPE_CHECKING:
    from chatserver.history.search import SearchPage, SearchQuery

MESSAGE = "message"
ACTION = "action"
TOPIC = "topic"

KINDS = (MESSAGE, ACTION, TOPIC)
"""
The kinds of line a room's history keeps.
"""

MAX_PAGE = 200
"""
The most entries one query returns.
"""

DEFAULT_MAX_PER_ROOM = 10000
"""
The most entries a store keeps of one room, unless told otherwise.
"""

DEFAULT_KEEP_SECONDS = 30 * 86400.0
"""
How long a store keeps an entry, unless told otherwise: thirty days.
"""


def check_retention(maxPerRoom: int, keepSeconds: float) -> None:
    """
    Check a store's retention limits.

    @raise ValueError: If C{maxPerRoom} is below 1 or C{keepSeconds} is not
        positive.
    """
    if maxPerRoom < 1:
        raise ValueError("a history store keeps at least one entry per room")
    if not keepSeconds > 0:
        raise ValueError("a history store keeps entries for some time")


class HistoryUnavailable(Exception):
    """
    A history store cannot be opened; the message says why in one line, fit
    for the operator (C{cannot use history file chat.db: file is not a
    database}).
    """


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """
    One line of a room's past.

    @ivar id: Grows with every entry the store keeps, across all rooms and
        across restarts of a persistent store; an entry's id is never
        reused.
    @ivar room: The room's name as it was written (C{#Dev}).
    @ivar time: When it was said, in POSIX seconds.
    @ivar kind: L{MESSAGE}, L{ACTION} or L{TOPIC} (the new topic is the
        text; an empty text clears it).
    @ivar sender: The name of who said it.
    @ivar text: What was said.
    """

    id: int
    room: str
    time: float
    kind: str
    sender: str
    text: str


class HistoryReader(Protocol):
    """
    Where rooms' history is read.  Rooms are identified by their key (the
    case-folded name, L{chatwire.names.room_key}).

    A cluster's history (L{chatserver.history.redis}) is only read through
    this interface: its lines are kept by the cluster as it orders them.
    """

    def start(self) -> Deferred[None]:
        """
        Begin: open what must be opened, start trimming in the background.
        """

    def stop(self) -> Deferred[None]:
        """
        Write what is still pending, stop trimming, close.
        """

    def query(
        self,
        roomKey: str,
        limit: int,
        before: int | None = None,
        after: int | None = None,
    ) -> Deferred[list[HistoryEntry]]:
        """
        Read a page of a room's history, oldest entry first.

        @param limit: The most entries wanted (at most L{MAX_PAGE} are
            given).
        @param before: Only entries with a smaller id; with no C{after},
            the I{last} C{limit} of those.
        @param after: Only entries with a greater id; with no C{before},
            the I{first} C{limit} of those.  With both: the first C{limit}
            entries between the two.
        @return: The entries, oldest first; an empty list for a room
            with no history.
        """

    def search(
        self,
        roomKeys: Sequence[str],
        query: SearchQuery,
        limit: int,
        before: int | None = None,
    ) -> Deferred[SearchPage]:
        """
        Find the lines of some rooms that C{query} looks for, newest first
        (see L{chatserver.history.search}).

        @param roomKeys: The rooms to search.
        @param limit: The most lines wanted (at most L{MAX_PAGE} are
            given).
        @param before: Only lines with a smaller id: where the page before
            ended (its L{SearchPage.next}).
        @return: A page of lines, newest first; a store without an index
            reads a bounded number of lines for it, and the page's C{next}
            goes on below the last line read.
        @raise HistoryUnavailable: (In the L{Deferred}) if the store
            cannot search, saying why in one line.
        """


class HistoryStore(HistoryReader, Protocol):
    """
    Where a single node keeps rooms' history and reads it.
    """

    def append(
        self, roomKey: str, *, room: str, kind: str, sender: str, text: str, time: float
    ) -> HistoryEntry:
        """
        Keep one line, at once: the entry, with its new id, is returned
        before anything is written anywhere.  Queries made afterwards see
        it, even before a persistent store has written it.
        """
