"""
The rules for user and room names, and the case folding that makes them
unique.

A user name is 1 to L{MAX_NAME_LENGTH} characters, each a letter (any
script), a digit, C{_}, C{-} or C{.}.  A room name is C{#} followed by 1 to
L{MAX_ROOM_NAME_LENGTH} of the same characters.

Some letters are not allowed, because a name made of them would render
blank or pass for punctuation: the letters that text may not hold either
(L{chatwire.text.forbidden}: the Hangul fillers U+115F, U+1160,
U+3164, U+FFA0, drawn as nothing), and the letters drawn as punctuation
(L{LOOKALIKES}: the Latin clicks U+01C0 to U+01C3, drawn as C{|}, C{||},
C{≠} and C{!}; the spacing modifier letters U+02B0 to U+02FF, drawn as
quotes, primes, colons and tone bars; the modifier tone letters; the
Arabic tatweel and the NKo lajanyalan, drawn as a bare line; the
vertical tilde).  Unicode's letter category alone cannot tell them (U+01C3
is a letter, Lo, as much as C{a}), so they are listed.

Two names are the same name when their keys (L{name_key}, L{room_key}) are
equal, so C{Alice} and C{alice} cannot be online together, nor C{#Dev} and
C{#dev} both exist.
"""

from __future__ import annotations

import re
import unicodedata

from chatwire.errors import InvalidName, InvalidRoomName
from chatwire.text import describe, forbidden

MAX_NAME_LENGTH = 32
MAX_ROOM_NAME_LENGTH = 50
ROOM_PREFIX = "#"
_PUNCTUATION = frozenset("_-.")

LOOKALIKES = re.compile(
    "["
    "\u01c0-\u01c3"  # Latin letters dental, lateral, alveolar, retroflex click
    "\u02b0-\u02ff"  # spacing modifier letters
    "\u0640"  # Arabic tatweel
    "\u07fa"  # NKo lajanyalan
    "\u2e2f"  # vertical tilde
    "\ua700-\ua721"  # modifier tone letters
    "\ua788"  # modifier letter low circumflex accent
    "]"
)
"""
The letters not allowed in names because they are drawn as punctuation.
"""


def is_name_character(char: str) -> bool:
    """
    @return: Whether C{char} may be in a name.
    """
    if char in _PUNCTUATION:
        return True
    if forbidden(char) or LOOKALIKES.match(char):
        return False
    category = unicodedata.category(char)
    # Letters of any script, and decimal digits.  Marks (Mn, Mc) are left out:
    # a name made of combining characters alone renders as nothing.
    return category.startswith("L") or category == "Nd"


def _check_characters(name: str, what: str) -> str | None:
    """
    @return: Why C{name} (a user name or a room name without its C{#}) is
        not a valid C{what}, or L{None} when it is.
    """
    for char in name:
        if not is_name_character(char):
            if LOOKALIKES.match(char):
                why = "it is drawn as punctuation"
            elif forbidden(char) and unicodedata.category(char) != "Cc":
                why = "it is drawn as nothing, or changes the text around it"
            else:
                why = "use letters, digits, '_', '-' and '.'"
            return f"{_describe(char)} is not allowed in a {what} ({why})"
    return None


def check_name(name: str) -> str:
    """
    Check C{name} against the user name rules.

    @param name: The proposed name, already decoded.
    @return: C{name}, unchanged, when it is valid.
    @raise InvalidName: With a reason fit to show the user.
    """
    if not name:
        raise InvalidName("a name cannot be empty")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidName(
            f"a name is at most {MAX_NAME_LENGTH} characters (that one has {len(name)})"
        )
    if name.startswith("/"):
        raise InvalidName("a name cannot start with '/'")
    problem = _check_characters(name, "name")
    if problem is not None:
        raise InvalidName(problem)
    return name


def check_room_name(room: str) -> str:
    """
    Check C{room} against the room name rules.

    @param room: The proposed room name, with its C{#}.
    @return: C{room}, unchanged, when it is valid.
    @raise InvalidRoomName: With a reason fit to show the user.
    """
    if not room.startswith(ROOM_PREFIX):
        raise InvalidRoomName(f"a room name starts with '{ROOM_PREFIX}', as in #lobby")
    bare = room[len(ROOM_PREFIX) :]
    if not bare:
        raise InvalidRoomName(f"a room name needs something after the '{ROOM_PREFIX}'")
    if len(bare) > MAX_ROOM_NAME_LENGTH:
        raise InvalidRoomName(
            f"a room name is at most {MAX_ROOM_NAME_LENGTH} characters after the "
            f"'{ROOM_PREFIX}' (that one has {len(bare)})"
        )
    problem = _check_characters(bare, "room name")
    if problem is not None:
        raise InvalidRoomName(problem)
    return room


def _describe(char: str) -> str:
    if char == " ":
        return "a space"
    if char.isprintable() and not forbidden(char) and not LOOKALIKES.match(char):
        return repr(char)
    if unicodedata.category(char) == "Cc":
        return f"the control character U+{ord(char):04X}"
    return describe(char)


def name_key(name: str) -> str:
    """
    The key under which C{name} is unique: its NFKC-normalised case fold, so
    that names differing only in case, or in compatibility forms such as
    full-width letters, are the same name.

    @param name: A valid name.
    @return: The key to compare and index names by: C{name} itself when it
        is its own key (so the chat holds one string, not two, per user).
    """
    key = unicodedata.normalize("NFKC", name).casefold()
    return name if key == name else key


room_key = name_key
"""
The key under which a room name is unique, folded as user names are.
"""
