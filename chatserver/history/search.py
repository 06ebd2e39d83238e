"""
What a search of the history asks for, and how a line is matched, written
once for every store.

A search is a few words, each found in a line's text as a whole word, or as
the start of one when it ends with C{*} (C{deplo*} finds C{deployed}).
Words are compared the way SQLite's FTS5 C{unicode61} tokenizer with
C{remove_diacritics 2} compares them: a word is a run of letters, digits and
marks, case and diacritics do not count (C{Café} is found by C{cafe}), and
anything else separates words.  A word of the user's holding a separator
(C{don't}) is found as its pieces in a row.  The SQLite store has FTS5 do
the matching (L{fts_query} turns the words into an FTS5 query that cannot be
anything but words, whatever the user typed); the memory and Redis stores
match each line with L{SearchQuery.matches}.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from chatserver.history.store import HistoryEntry
from chatwire.names import name_key

SCAN_LIMIT = 200000
"""
The most lines a store without an index (memory, a cluster's Redis) reads
for one page of results; a page that reaches it ends there, and the next
page goes on below the oldest line read.
"""

SCAN_SLICE = 5000
"""
The most lines the memory store reads in one turn of the reactor while
searching (about 2.5 ms on the machine of C{docs/search.md}); the search
goes on in the next turn, so the chat never waits for a whole scan.
"""


def _is_word_character(char: str) -> bool:
    category = unicodedata.category(char)
    return category[0] in "LNM" or category == "Co"


def _fold(text: str) -> str:
    """
    @return: C{text} lower-cased, its diacritics removed.
    """
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words_of(text: str) -> list[str]:
    """
    @return: The words of C{text}, folded as they are compared.
    """
    return _split(_fold(text))


def _split(folded: str) -> list[str]:
    words: list[str] = []
    current: list[str] = []
    for char in folded:
        if _is_word_character(char):
            current.append(char)
        elif current:
            words.append("".join(current))
            current = []
    if current:
        words.append("".join(current))
    return words


@dataclass(frozen=True, slots=True)
class Term:
    """
    One word the user typed.

    @ivar text: The word as typed, without a trailing C{*}.
    @ivar prefix: Whether it ended with C{*}: its last piece is matched as
        the start of a word.
    @ivar pieces: Its words, as L{words_of} finds them.
    """

    text: str
    prefix: bool
    pieces: tuple[str, ...]


def terms_of(words: str) -> tuple[Term, ...]:
    """
    @return: The terms of what the user typed, split at blanks; a word with
        nothing to find in it (C{-}, C{"}, a lone C{*}) is left out.
    """
    terms = []
    for word in words.split():
        prefix = word.endswith("*")
        bare = word.rstrip("*")
        pieces = tuple(words_of(bare))
        if pieces:
            terms.append(Term(bare, prefix, pieces))
    return tuple(terms)


def fts_query(terms: tuple[Term, ...]) -> str:
    """
    @return: An FTS5 query finding lines holding every term: each term is
        one quoted string (a C{"} in it doubled), so no user text is ever
        read as FTS5 syntax (C{NEAR(}, C{-}, C{:}, C{AND}, C{^}), followed
        by C{*} for a prefix.
    """
    parts = []
    for term in terms:
        quoted = '"' + " ".join(term.pieces).replace('"', '""') + '"'
        parts.append(quoted + "*" if term.prefix else quoted)
    return " AND ".join(parts)


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """
    What to look for.

    @ivar terms: Every one must be in a line's text (at least one).
    @ivar senderKey: Only lines by this name (its L{name_key}), if given.
    @ivar since: Only lines said at or after this POSIX time, if given.
    @ivar until: Only lines said before this POSIX time, if given.
    """

    terms: tuple[Term, ...]
    senderKey: str | None = None
    since: float | None = None
    until: float | None = None

    def matchesText(self, text: str) -> bool:
        """
        @return: Whether every term is in C{text}.
        """
        folded = _fold(text)
        # Most lines hold not even the letters: they cost no more than this.
        for term in self.terms:
            for piece in term.pieces:
                if piece not in folded:
                    return False
        words = _split(folded)
        return all(_holds(words, term) for term in self.terms)

    def matches(self, entry: HistoryEntry) -> bool:
        """
        @return: Whether C{entry} is one the query looks for (its time
            against the keeping time is the store's to check).
        """
        if self.senderKey is not None and name_key(entry.sender) != self.senderKey:
            return False
        if self.since is not None and entry.time < self.since:
            return False
        if self.until is not None and entry.time >= self.until:
            return False
        return self.matchesText(entry.text)


def _holds(words: list[str], term: Term) -> bool:
    pieces = term.pieces
    count = len(pieces)
    for start in range(len(words) - count + 1):
        if words[start : start + count - 1] != list(pieces[:-1]):
            continue
        last = words[start + count - 1]
        if last == pieces[-1] or (term.prefix and last.startswith(pieces[-1])):
            return True
    return False


@dataclass(frozen=True, slots=True)
class SearchPage:
    """
    One page of search results.

    @ivar entries: The lines found, newest first.
    @ivar next: Where the next page starts (the C{before} to give the next
        search), or L{None} when no older line can match.
    """

    entries: tuple[HistoryEntry, ...]
    next: int | None
