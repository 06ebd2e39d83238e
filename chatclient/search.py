"""
The reader's search of the history (C{/search}): what was asked, the lines
found so far (newest first, each with its room), whether older ones may
match; read from the server lines between a L{lines.SearchHeader} and its
L{lines.SearchEnd}.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from chatwire import lines


@dataclass(frozen=True, slots=True)
class Hit:
    """
    One line found: C{entry} (with its id and time) said in C{room}.
    """

    room: str
    entry: lines.History

    def describe(
        self, localtime: Callable[[float], time.struct_time] = time.localtime
    ) -> str:
        """
        @return: The hit as the results list shows it: room, date and time,
            the line.
        """
        when = time.strftime("%Y-%m-%d %H:%M", localtime(self.entry.time))
        return f"{self.room}  {when}  {self.entry.line.format()}"


class Search:
    """
    The reader's last search and its results.

    @ivar words: The words the server searched for.
    @ivar hits: The lines found, newest first, every page asked so far.
    @ivar more: Whether older lines may match (L{older} asks for them).
    """

    def __init__(self) -> None:
        self.words = ""
        self.hits: list[Hit] = []
        self.more = False
        self._older = False
        self._incoming: list[Hit] | None = None

    def ask(self, text: str) -> str:
        """
        @return: The command line searching for C{text}; its results
            replace those shown.
        """
        self._older = False
        return f"/search {text.strip()}"

    def older(self) -> str | None:
        """
        @return: The command line asking for the next page, added to the
            results shown; L{None} if there is none.
        """
        if not self.more:
            return None
        self._older = True
        return "/search"

    def take(self, event: lines.Event) -> bool:
        """
        Read a server line, if it is part of search results.

        @return: Whether it was: a header, a line found, or the end (after
            which the results are complete).
        """
        if isinstance(event, lines.SearchHeader):
            self._incoming = []
            self.words = event.words
            return True
        incoming = self._incoming
        if incoming is None:
            return False
        if isinstance(event, lines.InRoom) and isinstance(event.line, lines.History):
            incoming.append(Hit(event.room, event.line))
            return True
        if isinstance(event, lines.SearchEnd):
            self.hits = [*self.hits, *incoming] if self._older else incoming
            self.more = event.more
            self._older = False
            self._incoming = None
            return True
        return False

    @property
    def complete(self) -> bool:
        """
        Whether no page is being received.
        """
        return self._incoming is None
