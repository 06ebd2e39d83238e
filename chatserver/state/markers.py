"""
Read markers: for each account, per room and per private conversation, the
time (to the millisecond) it has read up to, and the id of the last line
said at or before that time, shared by all its sessions.

An IRC client marks a time (C{draft/read-marker}'s C{MARKREAD}), and is
answered that very time; the line door, the page and the Tk client mark a
line, and the marker takes that line's time.  Unread counts follow the id.

Every history store keeps them beside its lines (L{MarkerStore}): in memory
(L{MemoryMarkers}), in the SQLite file of the history, and in a cluster's
Redis.  A marker only moves forward: its time and its id each only ever
increase (L{farther}), so setting one older than the one kept keeps the one
kept, and says which.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from twisted.internet import defer


@dataclass(frozen=True, slots=True)
class ReadMarker:
    """
    Where an account has read a room or a private conversation up to.

    @ivar id: The id of the last line read: the last one said at or before
        C{stamp}; L{None} when no line was said by then.
    @ivar stamp: The time read up to, in whole milliseconds since the epoch
        (see L{millis}).
    """

    id: int | None
    stamp: int


def millis(when: float) -> int:
    """
    @param when: POSIX seconds, as a line's time.
    @return: C{when} in whole milliseconds, down (the precision of IRC's
        C{server-time}, by which a client points at a line).
    """
    return round(when * 1_000_000) // 1000


def farther(kept: ReadMarker | None, marker: ReadMarker) -> ReadMarker:
    """
    @return: The marker kept after C{marker} is set where C{kept} was: the
        later of the two times and the larger of the two ids, each of which
        only ever increases (a time an IRC client gave may be ahead of the
        lines another door marks read after it).
    """
    if kept is None:
        return marker
    ids = [id for id in (kept.id, marker.id) if id is not None]
    return ReadMarker(max(ids) if ids else None, max(kept.stamp, marker.stamp))


@runtime_checkable
class MarkerStore(Protocol):
    """
    Where accounts' read markers are kept.  Accounts are named by their
    name's key, targets by a room's key or a private conversation's key
    (L{chatserver.core.conversations.private_key}).
    """

    def readMarkers(self, account: str) -> defer.Deferred[dict[str, ReadMarker]]:
        """
        @return: A L{Deferred} firing with every marker of C{account}, by
            target.
        """

    def setReadMarker(
        self, account: str, target: str, marker: ReadMarker
    ) -> defer.Deferred[ReadMarker]:
        """
        Keep C{marker} for C{account} in C{target}, as far as the one kept
        is not farther (L{farther}).

        @return: A L{Deferred} firing with the marker kept now.
        """


class MemoryMarkers:
    """
    Read markers kept in this process, lost when it stops.
    """

    def __init__(self) -> None:
        self._markers: dict[str, dict[str, ReadMarker]] = {}

    def readMarkers(self, account: str) -> defer.Deferred[dict[str, ReadMarker]]:
        return defer.succeed(dict(self._markers.get(account, {})))

    def setReadMarker(
        self, account: str, target: str, marker: ReadMarker
    ) -> defer.Deferred[ReadMarker]:
        markers = self._markers.setdefault(account, {})
        markers[target] = kept = farther(markers.get(target), marker)
        return defer.succeed(kept)
