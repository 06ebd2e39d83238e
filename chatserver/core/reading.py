"""
Where a read marker falls in a room's or a private conversation's history:
at a line given by its id, by its time (as IRC's C{MARKREAD} gives it), or
at the newest line; and how many lines were said after it.
"""

from __future__ import annotations

from chatserver.history.store import MAX_PAGE, HistoryEntry, HistoryReader
from chatserver.state.markers import ReadMarker

SCAN_PAGES = 50
"""
The most pages of history read looking for the line a time points at.
"""


def millis(when: float) -> int:
    """
    @return: C{when} in whole milliseconds, as IRC's C{server-time} shows
        it: a client points at a line by the time it was shown.
    """
    return round(when * 1_000_000) // 1000


async def marker_at(
    history: HistoryReader,
    key: str,
    *,
    id: int | None = None,
    time: float | None = None,
) -> ReadMarker | None:
    """
    @return: The marker at the last line of C{key}'s history at or before
        line C{id}, or said at or before C{time}, or the newest line when
        neither is given; L{None} when there is no such line.
    """
    if id is not None:
        page = await history.query(key, 1, before=id + 1)
        return _marker(page[-1]) if page else None
    if time is None:
        page = await history.query(key, 1)
        return _marker(page[-1]) if page else None
    when = millis(time)
    before: int | None = None
    for _ in range(SCAN_PAGES):
        page = await history.query(key, MAX_PAGE, before=before)
        for entry in reversed(page):
            if millis(entry.time) <= when:
                return _marker(entry)
        if len(page) < MAX_PAGE:
            return None
        before = page[0].id
    return None


async def unread_after(history: HistoryReader, key: str, marker: ReadMarker) -> int:
    """
    @return: How many lines of C{key}'s history were said after C{marker}
        (L{MAX_PAGE} at most).
    """
    return len(await history.query(key, MAX_PAGE, after=marker.id))


def _marker(entry: HistoryEntry) -> ReadMarker:
    return ReadMarker(entry.id, entry.time)
