"""
What chat text may hold: the one gate every piece of text a user gives and
another user sees passes, whatever door it came through.

Text may not hold a character that can change how other users' screens
show what comes after it, or that shows nothing at all:

  - control characters (Unicode category Cc; the tab excepted), which could
    end a line, rewrite a terminal (ESC) or ring its bell;
  - lone surrogates (Cs), which are not text and cannot be encoded;
  - format characters (Cf): the bidirectional embeddings, overrides,
    isolates and marks (U+202A to U+202E, U+2066 to U+2069, U+200E, U+200F,
    U+061C) that make text read in another order than it is written
    ("Trojan Source"), the zero width space, the word joiner, the byte
    order mark, the invisible tag characters (U+E0000 to U+E007F), the soft
    hyphen, and the rest of the category;
  - the line and paragraph separators (Zl, Zp), which some programs take
    for line ends;
  - the other default-ignorable code points of Unicode (characters a font
    draws as nothing: the Hangul fillers U+115F, U+1160, U+3164 and U+FFA0,
    the combining grapheme joiner, the unassigned ones) and the
    noncharacters (U+FFFE, U+FFFF and their kind).

Three kinds of invisible characters stay allowed in text because writing
needs them: the zero width joiner and non-joiner (U+200D, U+200C: emoji
sequences, Persian and Indic scripts) and the variation selectors (U+FE00
to U+FE0F, U+E0100 to U+E01EF, U+180B to U+180F: an emoji's colour form);
text of nothing else than these and blanks has nothing to say.  Names are
stricter still (L{chatwire.names}).

Text a user can be refused (a line, a topic, a part or away reason) is
refused with one error naming the first such character (L{check_text});
text that cannot be refused, because the user is leaving anyway (a quit
reason) or the protocol has no answer for it (an IRC real name, a client
tag), has those characters taken out (L{clean_text}).  Lengths are bounded
in bytes of UTF-8, as every door's wire counts them.
"""

from __future__ import annotations

import re
import unicodedata

from chatwire.errors import InvalidText

MAX_TOPIC_LENGTH = 390
"""
The longest topic, in bytes of UTF-8 (as Ergo's default TOPICLEN).
"""
MAX_REASON_LENGTH = 390
"""
The longest part, quit or away reason, in bytes of UTF-8.
"""
MAX_REALNAME_LENGTH = 150
"""
The longest real name (IRC's C{USER}), in bytes of UTF-8.
"""

# One character class, so that checking a line is one regular expression
# search instead of a Python loop per character.  Every character of the
# categories Cc (but the tab), Cs, Cf (but the two joiners), Zl and Zp is
# in it (tests/core/test_text.py checks that against unicodedata), and so
# are the default-ignorable code points (DerivedCoreProperties.txt) but the
# variation selectors, and the noncharacters.
_FORBIDDEN = re.compile(
    "["
    "\x00-\x08\x0a-\x1f\x7f-\x9f"  # Cc but the tab
    "\u00ad"  # soft hyphen
    "\u034f"  # combining grapheme joiner
    "\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2"
    "\u115f\u1160"  # Hangul choseong and jungseong fillers
    "\u17b4\u17b5"  # Khmer inherent vowels
    "\u180e"  # Mongolian vowel separator
    "\u200b\u200e\u200f"  # zero width space, LRM, RLM (200C, 200D allowed)
    "\u2028-\u202e"  # line and paragraph separators, embeddings, overrides
    "\u2060-\u206f"  # word joiner, invisible operators, isolates, ...
    "\u3164"  # Hangul filler
    "\ud800-\udfff"  # Cs
    "\ufdd0-\ufdef"  # noncharacters
    "\ufeff"  # byte order mark
    "\uffa0"  # halfwidth Hangul filler
    "\ufff0-\ufffb"  # unassigned default-ignorables, interlinear annotation
    "\U000110bd\U000110cd"
    "\U00013430-\U0001343f"  # Egyptian hieroglyph format controls
    "\U0001bca0-\U0001bca3"  # shorthand format controls
    "\U0001d173-\U0001d17a"  # musical symbol format controls
    "\U000e0000-\U000e00ff"  # tag characters (invisible ASCII)
    "\U000e01f0-\U000e0fff"  # unassigned default-ignorables
    + "".join(
        f"{chr((plane << 16) | 0xFFFE)}{chr((plane << 16) | 0xFFFF)}"
        for plane in range(17)
    )
    + "]"
)

# What may be in text but shows nothing by itself.
_INVISIBLE = re.compile(
    "[\\s\u200c\u200d\u180b-\u180d\u180f\ufe00-\ufe0f\U000e0100-\U000e01ef]+"
)


def forbidden(char: str) -> bool:
    """
    @return: Whether the character C{char} may appear in no text.
    """
    return _FORBIDDEN.match(char) is not None


def describe(char: str) -> str:
    """
    @return: C{char} as an error line names it: its code point and, when it
        has one, its Unicode name (C{U+202E RIGHT-TO-LEFT OVERRIDE}).
    """
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X} {name}" if name else f"U+{ord(char):04X}"


def check_text(text: str) -> str:
    """
    @return: C{text} when it holds no forbidden character.
    @raise InvalidText: Naming the first forbidden character found.
    """
    # Printable ASCII (U+0020 to U+007E) holds nothing forbidden, and most
    # lines are that: two C-level scans instead of the class's search, which
    # tries each of its ranges at each character (a 60-character line: about
    # 6 us, paid for every line a fan-out relays; bench/NOTES.md, issue 25).
    if text.isascii() and text.isprintable():
        return text
    found = _FORBIDDEN.search(text)
    if found is not None:
        raise InvalidText(
            "control and format characters are not allowed "
            f"(found {describe(found[0])})"
        )
    return text


def shows_nothing(text: str) -> bool:
    """
    @return: Whether C{text} shows nothing: it is empty, or holds only
        blanks, joiners and variation selectors.
    """
    return _INVISIBLE.fullmatch(text) is not None or not text


def clean_text(text: str, limit: int | None = None) -> str:
    """
    Take what text may not hold out of C{text}, for text that cannot be
    refused.

    @param limit: The most bytes of UTF-8 to keep, if any.
    @return: C{text} without its forbidden characters, cut to C{limit}.
    """
    text = _FORBIDDEN.sub("", text)
    return text if limit is None else cut(text, limit)


def byte_length(text: str) -> int:
    """
    @return: The length of C{text} in bytes of UTF-8.
    """
    return len(text.encode("utf-8", "surrogatepass"))


def cut(text: str, limit: int) -> str:
    """
    @return: The longest start of C{text} that is at most C{limit} bytes of
        UTF-8, cut between characters.
    """
    if len(text) * 4 <= limit:
        return text
    data = text.encode("utf-8", "surrogatepass")
    if len(data) <= limit:
        return text
    end = max(limit, 0)
    while end > 0 and data[end] & 0xC0 == 0x80:
        end -= 1  # a continuation byte: the character starts before
    return data[:end].decode("utf-8", "surrogatepass")


def check_length(text: str, limit: int, what: str) -> str:
    """
    @param what: What C{text} is, as the error names it (C{a topic}).
    @return: C{text} when it is at most C{limit} bytes of UTF-8.
    @raise InvalidText: Saying how long C{what} may be, when it is longer.
    """
    if len(text) * 4 <= limit:
        return text
    size = byte_length(text)
    if size > limit:
        raise InvalidText(
            f"{what} is at most {limit} bytes of UTF-8 (that one has {size})"
        )
    return text


_CLIENT_TAG = re.compile(r"\+(?:[A-Za-z0-9.-]+/)?[A-Za-z0-9-]+")


def clean_tags(tags: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    """
    Clean the client-only tags a sender gave (IRCv3 C{+draft/reply=41}):
    a tag is no text to refuse a line for, so what text may not hold is
    taken out of its value, and a tag whose name is not a client tag's
    (C{+}, an optional C{vendor/}, letters, digits and C{-}) is dropped.

    @return: The tags fit to relay.
    """
    if not tags:
        return tags
    return tuple(
        (name, clean_text(value))
        for name, value in tags
        if _CLIENT_TAG.fullmatch(name) is not None
    )
