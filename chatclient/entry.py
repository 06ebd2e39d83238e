"""
What happens to a line the user types before it leaves: the history that
Up and Down walk through, the completion of names with Tab, and what is sent
and what is shown at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from chatwire import lines
from chatwire.commands import Chat, parse_input
from chatwire.errors import InvalidText


class InputHistory:
    """
    The lines the user sent, newest last, walked like a shell's history.

    Walking up from the line being typed remembers it as the draft; walking
    back down past the newest entry gives the draft back.
    """

    def __init__(self, limit: int = 500) -> None:
        """
        @param limit: How many lines to remember at most.
        """
        self.limit = limit
        self.entries: list[str] = []
        self._index = 0
        self._draft = ""

    def add(self, text: str) -> None:
        """
        Remember a sent line (unless it is blank or repeats the last one) and
        go back to an empty draft.
        """
        if text.strip() and (not self.entries or self.entries[-1] != text):
            self.entries.append(text)
            del self.entries[: -self.limit]
        self._index = len(self.entries)
        self._draft = ""

    def previous(self, current: str) -> str | None:
        """
        @param current: What the entry holds now.
        @return: The line before the one shown, or L{None} at the oldest.
        """
        if self._index == 0:
            return None
        if self._index == len(self.entries):
            self._draft = current
        self._index -= 1
        return self.entries[self._index]

    def next(self, current: str) -> str | None:
        """
        @param current: What the entry holds now.
        @return: The line after the one shown, the draft after the newest,
            or L{None} when already at the draft.
        """
        if self._index >= len(self.entries):
            return None
        self._index += 1
        if self._index == len(self.entries):
            return self._draft
        return self.entries[self._index]


class NameCompleter:
    """
    Completes the word (not empty) before the cursor to a user's name; pressing Tab
    again (with nothing typed between) cycles through the other matches.

    A name completed at the start of the line is followed by C{": "},
    elsewhere by a space.
    """

    def __init__(self) -> None:
        self._last: tuple[str, int] | None = None
        self._start = 0
        self._matches: list[str] = []
        self._choice = 0

    def reset(self) -> None:
        """
        Forget the cycle: the next Tab starts a new completion.
        """
        self._last = None

    def complete(
        self, text: str, cursor: int, names: Iterable[str]
    ) -> tuple[str, int] | None:
        """
        @param text: What the entry holds.
        @param cursor: Where the cursor is in C{text}.
        @param names: The names that can be completed.
        @return: The new text and cursor, or L{None} when no name matches.
        """
        if self._last == (text, cursor) and self._matches:
            self._choice = (self._choice + 1) % len(self._matches)
            end = cursor
        else:
            start = cursor
            while start > 0 and not text[start - 1].isspace():
                start -= 1
            prefix = text[start:cursor].casefold()
            if not prefix:
                self._last = None
                return None
            self._matches = sorted(
                (n for n in set(names) if n.casefold().startswith(prefix)),
                key=lambda n: (n.casefold(), n),
            )
            if not self._matches:
                self._last = None
                return None
            self._start, self._choice, end = start, 0, cursor
        suffix = ": " if self._start == 0 else " "
        completion = self._matches[self._choice] + suffix
        newText = text[: self._start] + completion + text[end:]
        newCursor = self._start + len(completion)
        self._last = (newText, newCursor)
        return newText, newCursor


@dataclass(frozen=True, slots=True)
class Outgoing:
    """
    What to do with a typed line.

    @ivar send: The line to send to the server, or L{None}.
    @ivar echo: The event to show at once (the server sends no copy of your
        own chat lines and actions), or L{None}.
    @ivar error: Why nothing is sent, or C{""}.
    @ivar quits: Whether the line says goodbye (C{/quit}).
    """

    send: str | None = None
    echo: lines.Event | None = None
    error: str = ""
    quits: bool = False


def prepare_outgoing(text: str, ownName: str) -> Outgoing:
    """
    Read a typed line the way the server will (with
    L{chatwire.commands.parse_input}) to know what to show at once.

    @param text: The line as typed.
    @param ownName: The name the user is logged in as.
    """
    try:
        parsed = parse_input(text)
    except InvalidText as e:
        return Outgoing(error=str(e))
    if parsed is None:
        return Outgoing()
    if isinstance(parsed, Chat):
        return Outgoing(send=text, echo=lines.Message(ownName, parsed.text))
    if parsed.name == "me" and parsed.args:
        return Outgoing(send=text, echo=lines.Action(ownName, parsed.args))
    return Outgoing(send=text, quits=parsed.name == "quit")
