"""
A cluster's history: each room's lines are a Redis stream (see
L{chatserver.cluster.scripts}), kept in the cluster's one order by the
script that gives each line its id, and trimmed there to C{--history-max}
lines.  This store only reads them, through the node's command connection.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from twisted.internet import defer
from twisted.internet.interfaces import IReactorTime
from twisted.python.failure import Failure

from chatserver.cluster import keys, streams
from chatserver.cluster.link import RedisError, RedisLink
from chatserver.history.search import SearchPage, SearchQuery
from chatserver.history.store import MAX_PAGE, HistoryEntry, HistoryUnavailable
from chatserver.state.markers import ReadMarker, millis

SCAN_CHUNK = 500
"""
How many lines of a room's stream one command reads while searching.
"""

SCAN_LIMIT = 20000
"""
The most lines one page of search results reads from Redis, over all the
rooms searched (each is read at least one chunk).
"""


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

    def readMarkers(self, account: str) -> defer.Deferred[dict[str, ReadMarker]]:
        """
        @return: A L{Deferred} firing with C{account}'s read markers, kept
            in Redis for every node (see
            L{chatserver.state.markers.MarkerStore}).
        """

        def markers(flat: list[Any] | None) -> dict[str, ReadMarker]:
            found = streams.fields(flat or [])
            return {_text(target): _marker(value) for target, value in found.items()}

        reading = self.link.execute("HGETALL", keys.read_markers(account))
        return reading.addCallbacks(markers, _unavailable)

    def setReadMarker(
        self, account: str, target: str, marker: ReadMarker
    ) -> defer.Deferred[ReadMarker]:
        """
        Keep the farther of C{marker} and the one kept (L{farther}) in
        Redis.

        @return: A L{Deferred} firing with the marker kept now.
        """
        setting = self.link.execute(
            "EVAL",
            _SET_MARKER,
            1,
            keys.read_markers(account),
            target,
            "-" if marker.id is None else str(marker.id),
            str(marker.stamp),
        )
        return setting.addCallbacks(_marker, _unavailable)

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

        return reply.addCallbacks(entries, _unavailable)

    def search(
        self,
        roomKeys: Sequence[str],
        query: SearchQuery,
        limit: int,
        before: int | None = None,
    ) -> defer.Deferred[SearchPage]:
        """
        Find lines as L{HistoryStore.search} says, reading the rooms'
        streams newest first, L{SCAN_CHUNK} lines a command, all rooms at
        once: at most L{SCAN_LIMIT} lines in all (shared among the rooms, at
        least one chunk each).
        """
        limit = max(1, min(limit, MAX_PAGE))
        keys = sorted(set(roomKeys))
        if not keys or not query.terms:
            return defer.succeed(SearchPage((), None))
        budget = max(SCAN_CHUNK, SCAN_LIMIT // len(keys))
        since = self.clock.seconds() - self.keepSeconds
        rooms = [
            defer.Deferred.fromCoroutine(
                self._searchRoom(
                    key, query, limit, before=before, budget=budget, since=since
                )
            )
            for key in keys
        ]

        def page(results: list[tuple[list[HistoryEntry], int | None]]) -> SearchPage:
            # A room not read to its start leaves unknown what lies below
            # the last line read: the page stops there.
            stops = [lowest for _, lowest in results if lowest is not None]
            cutoff = max(stops) if stops else None
            found = sorted(
                (
                    entry
                    for entries, _ in results
                    for entry in entries
                    if cutoff is None or entry.id >= cutoff
                ),
                key=lambda entry: -entry.id,
            )[:limit]
            if len(found) == limit:
                return SearchPage(tuple(found), found[-1].id)
            return SearchPage(tuple(found), cutoff)

        gathered = defer.gatherResults(rooms, consumeErrors=True)
        return gathered.addErrback(_first_error).addCallbacks(page, _unavailable)

    async def _searchRoom(
        self,
        roomKey: str,
        query: SearchQuery,
        limit: int,
        *,
        before: int | None,
        budget: int,
        since: float,
    ) -> tuple[list[HistoryEntry], int | None]:
        """
        Read one room's stream newest first until C{limit} lines are found,
        C{budget} lines are read, or the stream's start.

        @return: The lines found, and the id of the last line read if the
            stream was not read to its start.
        """
        stream = keys.room_lines(roomKey)
        high = "+" if before is None else f"({before}-0"
        found: list[HistoryEntry] = []
        read = 0
        while True:
            chunk = await self.link.execute(
                "XREVRANGE", stream, high, "-", "COUNT", SCAN_CHUNK
            )
            if not chunk:
                return found, None
            for id, flat in chunk:
                entry = streams.line_entry(id, streams.fields(flat))
                if entry.time >= since and query.matches(entry):
                    found.append(entry)
            read += len(chunk)
            lowestId = streams.stream_id(chunk[-1][0])[0]
            if len(chunk) < SCAN_CHUNK:
                return found, None
            if len(found) >= limit or read >= budget:
                return found, lowestId
            high = f"({lowestId}-0"


# Keep the farther of a read marker and the one kept (the larger id, the
# later time: chatserver.state.markers.farther); answer the one kept.  A
# marker is 'ID STAMP': ID '-' for no line, STAMP in milliseconds; one kept
# before markers had their own time is 'ID SECONDS.FRACTION', its line's.
_SET_MARKER = """
local function stamp(text)
  if string.find(text, '[.eE]') then
    return math.floor(math.floor(tonumber(text) * 1000000 + 0.5) / 1000)
  end
  return tonumber(text)
end
local id, ms = ARGV[2], ARGV[3]
local kept = redis.call('HGET', KEYS[1], ARGV[1])
if kept then
  local keptId, keptMs = string.match(kept, '^(%S+) (%S+)$')
  if tonumber(keptId) and not (tonumber(id) and tonumber(id) > tonumber(keptId)) then
    id = keptId
  end
  if stamp(keptMs) > tonumber(ms) then ms = keptMs end
end
local value = id .. ' ' .. ms
if value ~= kept then redis.call('HSET', KEYS[1], ARGV[1], value) end
return value
"""


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _marker(value: object) -> ReadMarker:
    """
    @return: The read marker a value of the hash of an account's markers
        holds (see L{_SET_MARKER}).
    """
    id, stamp = _text(value).split(" ", 1)
    return ReadMarker(
        None if id == "-" else int(id),
        millis(float(stamp)) if "." in stamp or "e" in stamp else int(stamp),
    )


def _first_error(reason: Failure) -> Failure:
    reason.trap(defer.FirstError)
    return cast(defer.FirstError, reason.value).subFailure


def _unavailable(reason: Failure) -> Failure:
    if reason.check(RedisError):
        raise HistoryUnavailable(
            f"the cluster's history cannot be read: {reason.getErrorMessage()}"
        )
    return reason
