"""
A cluster's history: each room's lines are a Redis stream (see
L{chatserver.cluster.scripts}), kept in the cluster's one order by the
script that gives each line its id, and trimmed there to C{--history-max}
lines.  This store only reads them, through the node's command connection.
"""

from __future__ import annotations

from typing import Any

from twisted.internet import defer
from twisted.internet.interfaces import IReactorTime
from twisted.python.failure import Failure

from chatserver.cluster import keys, streams
from chatserver.cluster.link import RedisError, RedisLink
from chatserver.history.store import MAX_PAGE, HistoryEntry, HistoryUnavailable


class RedisHistory:
    """
    The history of a cluster's rooms, read from their streams.

    @param link: The node's connection for commands.
    @param keepSeconds: How long a line is shown: older lines are left out
        of pages (the stream is trimmed by count only).
    """

    def __init__(
        self, link: RedisLink, keepSeconds: float, clock: IReactorTime
    ) -> None:
        self.link = link
        self.keepSeconds = keepSeconds
        self.clock = clock

    def start(self) -> defer.Deferred[None]:
        return defer.succeed(None)

    def stop(self) -> defer.Deferred[None]:
        return defer.succeed(None)

    def query(
        self,
        roomKey: str,
        limit: int,
        before: int | None = None,
        after: int | None = None,
    ) -> defer.Deferred[list[HistoryEntry]]:
        limit = max(1, min(limit, MAX_PAGE))
        stream = keys.room_lines(roomKey)
        newestFirst = after is None
        high = "+" if before is None else f"({before}-0"
        if newestFirst:
            reply = self.link.execute("XREVRANGE", stream, high, "-", "COUNT", limit)
        else:
            reply = self.link.execute(
                "XRANGE", stream, f"({after}-0", high, "COUNT", limit
            )
        oldest = self.clock.seconds() - self.keepSeconds

        def entries(found: list[Any] | None) -> list[HistoryEntry]:
            page = [
                streams.line_entry(id, streams.fields(flat)) for id, flat in found or ()
            ]
            if newestFirst:
                page.reverse()
            return [entry for entry in page if entry.time >= oldest]

        def unavailable(reason: Failure) -> Failure:
            if reason.check(RedisError):
                raise HistoryUnavailable(
                    f"the cluster's history cannot be read: {reason.getErrorMessage()}"
                )
            return reason

        return reply.addCallbacks(entries, unavailable)
