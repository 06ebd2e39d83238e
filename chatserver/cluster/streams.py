"""
How the cluster's stream entries read: entry ids, field lists, and a room
line as the C{line} script of L{chatserver.cluster.scripts} writes it
(fields C{r} room name, C{k} kind, C{s} sender, C{x} text, C{t} time,
C{n} notice, C{g} client-only tags as JSON, C{o} node, C{q} node's line
number).  The node that reads lines back and the history store that pages
them both read them here.
"""

from __future__ import annotations

import json
from typing import Any

from chatserver.core.events import Tags
from chatserver.history.store import HistoryEntry


def stream_id(text: str) -> tuple[int, int]:
    """
    @return: A stream entry id (C{1700000000000-3}) as numbers, to compare.
    """
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


def fields(flat: list[Any]) -> dict[str, Any]:
    """
    @return: An entry's or a hash's flat C{[field, value, ...]} reply as a
        dict.
    """
    return dict(zip(flat[::2], flat[1::2], strict=True))


def line_entry(id: str, line: dict[str, str]) -> HistoryEntry:
    """
    @param id: The line's entry id in its room's stream (C{N-0}: line N).
    @param line: The entry's fields.
    @return: The line as the history keeps it.
    """
    return HistoryEntry(
        stream_id(id)[0],
        line["r"],
        float(line["t"]),
        line["k"],
        line["s"],
        line["x"],
    )


def tags(entry: dict[str, str]) -> Tags:
    """
    @return: The client-only tags an entry (a line, a private line)
        carries.
    """
    return tuple((name, value) for name, value in json.loads(entry.get("g") or "[]"))
