"""
Which history store the server uses, as the C{--history} option names it:
C{memory} (the default), C{none}, or C{sqlite:PATH}.
"""

from __future__ import annotations

from dataclasses import dataclass

from twisted.internet.interfaces import IReactorTime

from chatserver.history.memory import DEFAULT_MAX_BYTES, MemoryHistory
from chatserver.history.none import NoHistory
from chatserver.history.sqlite import SQLiteHistory
from chatserver.history.store import HistoryStore

MEMORY = "memory"
NONE = "none"
SQLITE = "sqlite"

_USAGE = "memory, none or sqlite:PATH"


@dataclass(frozen=True)
class HistorySpec:
    """
    A history store, named.

    @ivar kind: L{MEMORY}, L{NONE} or L{SQLITE}.
    @ivar path: The file of an L{SQLITE} store; empty for the others.
    """

    kind: str
    path: str = ""

    def __str__(self) -> str:
        """
        @return: The spec as L{parse_history} reads it.
        """
        if self.kind == SQLITE:
            return f"{SQLITE}:{self.path}"
        return self.kind


DEFAULT_HISTORY = HistorySpec(MEMORY)


def parse_history(text: str) -> HistorySpec:
    """
    Read a C{--history} value: C{memory}, C{none} or C{sqlite:PATH}.

    @raise ValueError: With what is wrong, fit for a usage error.
    """
    if text in (MEMORY, NONE):
        return HistorySpec(text)
    kind, colon, path = text.partition(":")
    if kind == SQLITE and colon:
        if not path:
            raise ValueError(f"{text!r} names no file: write sqlite:PATH")
        if "\0" in path:
            raise ValueError(f"{text!r} is not a file name")
        return HistorySpec(SQLITE, path)
    raise ValueError(f"{text!r} is not a history store: write {_USAGE}")


def make_store(
    spec: HistorySpec,
    maxPerRoom: int,
    keepSeconds: float,
    clock: IReactorTime | None = None,
    maxMemory: int = DEFAULT_MAX_BYTES,
) -> HistoryStore:
    """
    Make the store C{spec} names; an SQLite store is not checked yet (see
    L{SQLiteHistory.check}).

    @param maxMemory: The most bytes a memory store keeps over all rooms.
    """
    if spec.kind == MEMORY:
        return MemoryHistory(maxPerRoom, keepSeconds, clock, maxMemory)
    if spec.kind == SQLITE:
        return SQLiteHistory(spec.path, maxPerRoom, keepSeconds, clock)
    if spec.kind == NONE:
        return NoHistory()
    raise ValueError(f"unknown history store {spec.kind!r}")
