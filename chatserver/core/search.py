"""
What a user types to search the history, read into the parts of a search:
C{[#ROOM] [from:NAME] [before:DATE] [after:DATE] WORDS}, the filters in any
order among the words.  The line door reads C{/search}'s arguments with it,
the web door a C{search} message's C{query}.

A date is a day, C{YYYY-MM-DD}, or an ISO time, C{2026-12-07T18:30} (to the
minute or second, with C{Z} or an offset, UTC when it has none).
C{before:} a day means before that day begins, C{after:} a day means after
it ends; a time is the instant itself (C{after:} includes it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from chatwire.errors import InvalidSearch

SEARCH_USAGE = "[#ROOM] [from:NAME] [before:DATE] [after:DATE] WORDS"

_DAY = re.compile(r"\d{4}-\d\d-\d\d\Z")
_FILTERS = ("from", "before", "after")


@dataclass(frozen=True, slots=True)
class SearchRequest:
    """
    A search as typed, read.

    @ivar words: The words to find, separated by single spaces.
    @ivar room: The room to search (C{#dev}), or L{None} for all the user's.
    @ivar sender: Only lines by this name, if given.
    @ivar before: Only lines said before this POSIX time, if given.
    @ivar after: Only lines said at or after this POSIX time, if given.
    """

    words: str
    room: str | None = None
    sender: str | None = None
    before: float | None = None
    after: float | None = None


def parse_when(text: str, end: bool) -> float:
    """
    Read a date of a search filter.

    @param end: Whether a day stands for its end (C{after:}) rather than its
        start (C{before:}).
    @return: The POSIX time.
    @raise InvalidSearch: If C{text} is not a day nor an ISO time.
    """
    try:
        if _DAY.match(text):
            day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
            return (day + timedelta(days=1) if end else day).timestamp()
        if "T" not in text.upper():
            raise ValueError(text)
        when = datetime.fromisoformat(text)
    except (ValueError, OverflowError):
        raise InvalidSearch(
            f"{text!r} is not a date: write YYYY-MM-DD or an ISO time"
            " such as 2026-12-07T18:30 (UTC)"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def parse_search(text: str) -> SearchRequest:
    """
    Read what a user typed to search.

    @return: The search; its C{words} may be empty (the caller says what an
        empty search means).
    @raise InvalidSearch: If a filter is given twice, has no value, or a
        date is not one.
    """
    words: list[str] = []
    found: dict[str, str] = {}
    for token in text.split():
        name, colon, value = token.partition(":")
        name = name.lower()
        if token.startswith("#"):
            name, value = "room", token
        elif not (colon and name in _FILTERS):
            words.append(token)
            continue
        if not value:
            raise InvalidSearch(
                f"{name}: needs a value, as in {name}:{_EXAMPLES[name]}"
            )
        if name in found:
            raise InvalidSearch(
                f"{'a room' if name == 'room' else name + ':'} is given twice"
            )
        found[name] = value
    return SearchRequest(
        " ".join(words),
        room=found.get("room"),
        sender=found.get("from"),
        before=parse_when(found["before"], end=False) if "before" in found else None,
        after=parse_when(found["after"], end=True) if "after" in found else None,
    )


_EXAMPLES = {"from": "alice", "before": "2026-12-07", "after": "2026-12-07"}
