"""
Which entries one query gives, the rule of L{HistoryStore.query} written
once: the memory store applies it to a room's ring, the SQLite store to
what it read merged with what it has not written yet.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from itertools import islice

from chatserver.history.store import MAX_PAGE, HistoryEntry


def _entry_id(entry: HistoryEntry) -> int:
    return entry.id


def select_page(
    entries: Sequence[HistoryEntry],
    limit: int,
    before: int | None,
    after: int | None,
    since: float,
    *,
    ids: Sequence[int] | None = None,
) -> list[HistoryEntry]:
    """
    Pick one page of a room's history.

    @param entries: The room's entries, by growing id.
    @param limit: The most entries wanted; at most L{MAX_PAGE} are given.
    @param before: As for L{HistoryStore.query}.
    @param after: As for L{HistoryStore.query}.
    @param since: Entries with an earlier time are too old to give.
    @param ids: The ids of C{entries}, if they can be read without reading
        the entries (see L{chatserver.history.ring.Ring.ids}).
    @return: The page, oldest first.
    """
    limit = min(limit, MAX_PAGE)
    if limit <= 0:
        return []
    if ids is None:
        low = 0 if after is None else bisect_right(entries, after, key=_entry_id)
        high = len(entries)
        if before is not None:
            high = bisect_left(entries, before, key=_entry_id)
    else:
        low = 0 if after is None else bisect_right(ids, after)
        high = len(entries)
        if before is not None:
            high = bisect_left(ids, before)
    if low >= high:
        return []
    # By index, so that the entries before the page are never read.
    if after is not None:
        forward = (entries[i] for i in range(low, high))
        return list(islice((e for e in forward if e.time >= since), limit))
    backward = (entries[i] for i in range(high - 1, low - 1, -1))
    page = list(islice((e for e in backward if e.time >= since), limit))
    page.reverse()
    return page
