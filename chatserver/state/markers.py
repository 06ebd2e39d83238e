"""
Read markers: for each account, per room and per private conversation, the
id (and time) of the last line its user read, shared by all its sessions.

Every history store keeps them beside its lines (L{MarkerStore}): in memory
(L{MemoryMarkers}), in the SQLite file of the history, and in a cluster's
Redis.  A marker only moves forward: setting one older than the one kept
keeps the one kept, and says which.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from twisted.internet import defer


@dataclass(frozen=True, slots=True, order=True)
class ReadMarker:
    """
    Where an account has read a room or a private conversation up to.

    @ivar id: The id of the last line read.
    @ivar time: When that line was said, in POSIX seconds.
    """

    id: int
    time: float


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
        Keep C{marker} for C{account} in C{target}, unless the one kept is
        as far or farther.

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
        kept = markers.get(target)
        if kept is None or marker.id > kept.id:
            markers[target] = kept = marker
        return defer.succeed(kept)
