"""
No history at all: every line is forgotten at once.  With it, the server
can be measured without what keeping history costs.
"""

from __future__ import annotations

from collections.abc import Sequence

from twisted.internet import defer
from twisted.internet.defer import Deferred

from chatserver.history.search import SearchPage, SearchQuery
from chatserver.history.store import HistoryEntry, HistoryUnavailable


class NoHistory:
    """
    A L{HistoryStore} that keeps nothing: L{append} still gives each entry a
    new id, and L{query} always gives an empty page.
    """

    def __init__(self) -> None:
        self._lastId = 0

    def start(self) -> Deferred[None]:
        return defer.succeed(None)

    def stop(self) -> Deferred[None]:
        return defer.succeed(None)

    def append(
        self, roomKey: str, *, room: str, kind: str, sender: str, text: str, time: float
    ) -> HistoryEntry:
        """
        @return: The entry, with its new id; it is not kept.
        """
        self._lastId += 1
        return HistoryEntry(self._lastId, room, time, kind, sender, text)

    def query(
        self,
        roomKey: str,
        limit: int,
        before: int | None = None,
        after: int | None = None,
    ) -> Deferred[list[HistoryEntry]]:
        """
        @return: An empty page, already given.
        """
        return defer.succeed([])

    def search(
        self,
        roomKeys: Sequence[str],
        query: SearchQuery,
        limit: int,
        before: int | None = None,
    ) -> Deferred[SearchPage]:
        """
        @return: A L{Deferred} failing with L{HistoryUnavailable}: nothing
            is kept, so there is nothing to search.
        """
        return defer.fail(
            HistoryUnavailable("this server keeps no history (--history none)")
        )
