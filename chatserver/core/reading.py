"""
Where a read marker falls in a room's or a private conversation's history:
at a line given by its id, at a time (as IRC's C{MARKREAD} gives it), or at
the newest line; and how many lines were said after it.
"""

from __future__ import annotations

from chatserver.history.store import MAX_PAGE, HistoryEntry, HistoryReader
from chatserver.state.markers import ReadMarker, millis

SCAN_PAGES = 50
"""
The most pages of history read looking for the line a time points at.
"""


async def marker_at(
    history: HistoryReader,
    key: str,
    *,
    id: int | None = None,
    stamp: int | None = None,
) -> ReadMarker | None:
    """
    @param stamp: A time, in milliseconds since the epoch.
    @return: The marker at the last line of C{key}'s history at or before
        line C{id} (with that line's time), or at C{stamp} (with the last
        line said at or before it, compared to the millisecond, or none),
        or at the newest line when neither is given; L{None} when C{id} or
        the newest line is no line.
    """
    if stamp is not None:
        return ReadMarker(await _line_at(history, key, stamp), stamp)
    if id is not None:
        page = await history.query(key, 1, before=id + 1)
        return _marker(page[-1]) if page else None
    page = await history.query(key, 1)
    return _marker(page[-1]) if page else None


async def _line_at(history: HistoryReader, key: str, stamp: int) -> int | None:
    """
    @return: The id of the last line of C{key}'s history said at or before
        C{stamp} (in milliseconds, as C{server-time} shows a line: a client
        points at a line by the time it was shown), or L{None}.
    """
    before: int | None = None
    for _ in range(SCAN_PAGES):
        page = await history.query(key, MAX_PAGE, before=before)
        for entry in reversed(page):
            if millis(entry.time) <= stamp:
                return entry.id
        if len(page) < MAX_PAGE:
            return None
        before = page[0].id
    return None


async def unread_after(history: HistoryReader, key: str, marker: ReadMarker) -> int:
    """
    @return: How many lines of C{key}'s history were said after C{marker}'s
        line (every line when it has none; L{MAX_PAGE} at most).
    """
    return len(await history.query(key, MAX_PAGE, after=marker.id or 0))


def _marker(entry: HistoryEntry) -> ReadMarker:
    return ReadMarker(entry.id, millis(entry.time))
