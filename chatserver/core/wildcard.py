"""
Wildcard masks (C{*} any run of characters, C{?} any one character), matched
in time bounded by the lengths, for every door and every list of masks.

A mask is cut at its C{*}s into segments; each segment is found once, at the
leftmost place it matches after the previous one (the first segment at the
start of the text, the last one at its end).  Taking the leftmost place is
never wrong, since a later place leaves less text for the segments after
it, so the matcher never goes back: no backtracking, one search per segment.
A segment without C{?} is found by C{str.find} (linear in the text), one
with C{?} by a fixed-length pattern that is tried at each place (at most the
text's length times the segment's).  A match therefore costs at most
O(len(text) * len(mask)), and usually O(len(text) + len(mask)).

Masks and texts are compared folded with L{name_key}, as names are.
"""

from __future__ import annotations

import re

from chatwire.errors import ChatError
from chatwire.names import name_key

MAX_MASK_LENGTH = 512
"""
The longest mask, in characters, that L{compile_mask} takes.
"""


class MaskTooLong(ChatError):
    """
    A mask is longer than L{MAX_MASK_LENGTH}.
    """

    def __init__(self, length: int) -> None:
        super().__init__(
            f"a mask is at most {MAX_MASK_LENGTH} characters (that one has {length})"
        )


class _Segment:
    """
    A run of a mask between two C{*}s: literal text, with C{?} for any one
    character.

    @ivar length: How many characters of text it matches.
    """

    __slots__ = ("_literal", "_pattern", "length")

    def __init__(self, pieces: list[str | None]) -> None:
        # Each piece: folded literal text, or None for one '?'.
        self.length = sum(1 if piece is None else len(piece) for piece in pieces)
        self._literal: str | None = None
        self._pattern: re.Pattern[str] | None = None
        if None in pieces:
            # A fixed-length pattern: no repetition, nothing to backtrack.
            self._pattern = re.compile(
                "".join("." if piece is None else re.escape(piece) for piece in pieces),
                re.DOTALL,
            )
        else:
            self._literal = "".join(piece for piece in pieces if piece is not None)

    def find(self, text: str, start: int, end: int) -> int:
        """
        @return: The leftmost index from C{start} where the segment matches
            within C{text[:end]}, or -1.
        """
        if self._pattern is None:
            assert self._literal is not None
            return text.find(self._literal, start, end)
        found = self._pattern.search(text, start, end)
        return -1 if found is None else found.start()

    def matchesAt(self, text: str, start: int) -> bool:
        """
        @return: Whether the segment matches C{text} at C{start} exactly.
        """
        if self._pattern is None:
            assert self._literal is not None
            return text.startswith(self._literal, start)
        return self._pattern.match(text, start) is not None


def _segments(mask: str) -> tuple[list[_Segment], bool]:
    """
    @return: The segments of C{mask} between its C{*}s (runs of C{*}
        collapsed), and whether it has a C{*} at all.
    """
    runs = mask.split("*")
    segments = []
    for run in runs:
        pieces: list[str | None] = []
        for i, literal in enumerate(run.split("?")):
            if i:
                pieces.append(None)
            if literal:
                pieces.append(name_key(literal))
        segments.append(_Segment(pieces))
    return segments, len(runs) > 1


class Mask:
    """
    A compiled wildcard mask: see L{compile_mask}.

    @ivar text: The mask as given.
    """

    __slots__ = ("_minimum", "_segments", "_starred", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._segments, self._starred = _segments(text)
        self._minimum = sum(segment.length for segment in self._segments)

    def __repr__(self) -> str:
        return f"Mask({self.text!r})"

    def matches(self, text: str) -> bool:
        """
        @param text: A name, a room name, a real name: folded here with
            L{name_key}.
        @return: Whether the mask matches the whole of C{text}.
        """
        return self._match(name_key(text))[0]

    def searches(self, text: str) -> int:
        """
        @return: How many segment searches matching C{text} takes: at most
            one per segment, whatever the text (the matcher never goes
            back).
        """
        return self._match(name_key(text))[1]

    def _match(self, text: str) -> tuple[bool, int]:
        segments = self._segments
        if len(text) < self._minimum:
            return False, 0
        first = segments[0]
        if not self._starred:
            return len(text) == first.length and first.matchesAt(text, 0), 1
        last = segments[-1]
        end = len(text) - last.length
        if not (first.matchesAt(text, 0) and last.matchesAt(text, end)):
            return False, 2
        position = first.length
        searched = 2
        for segment in segments[1:-1]:
            if not segment.length:
                continue
            searched += 1
            found = segment.find(text, position, end)
            if found < 0:
                return False, searched
            position = found + segment.length
        return True, searched


def compile_mask(mask: str) -> Mask:
    """
    @param mask: A wildcard mask: C{*} matches any run of characters,
        C{?} any one character, anything else itself (folded with
        L{name_key}).
    @return: The mask, ready to match.
    @raise MaskTooLong: When C{mask} is longer than L{MAX_MASK_LENGTH}.
    """
    if len(mask) > MAX_MASK_LENGTH:
        raise MaskTooLong(len(mask))
    return Mask(mask)
