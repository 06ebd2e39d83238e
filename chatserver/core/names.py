"""
The rules for user names, and the case folding that makes them unique.

A name is 1 to L{MAX_NAME_LENGTH} characters, each a letter (any script), a
digit, C{_}, C{-} or C{.}.  Two names are the same name when their
L{name_key}s are equal, so C{Alice} and C{alice} cannot be online together.
"""

from __future__ import annotations

import unicodedata

MAX_NAME_LENGTH = 32
_PUNCTUATION = frozenset("_-.")


class InvalidName(ValueError):
    """
    A proposed name breaks the name rules; the message says which one, in
    words fit to show the user.
    """


def _is_name_character(char: str) -> bool:
    if char in _PUNCTUATION:
        return True
    category = unicodedata.category(char)
    # Letters of any script, and decimal digits.  Marks (Mn, Mc) are left out:
    # a name made of combining characters alone renders as nothing.
    return category.startswith("L") or category == "Nd"


def check_name(name: str) -> str:
    """
    Check C{name} against the name rules.

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
    for char in name:
        if not _is_name_character(char):
            raise InvalidName(
                f"{_describe(char)} is not allowed in a name "
                "(use letters, digits, '_', '-' and '.')"
            )
    return name


def _describe(char: str) -> str:
    if char == " ":
        return "a space"
    if char.isprintable():
        return repr(char)
    return f"the control character U+{ord(char):04X}"


def name_key(name: str) -> str:
    """
    The key under which C{name} is unique: its NFKC-normalised case fold, so
    that names differing only in case, or in compatibility forms such as
    full-width letters, are the same name.

    @param name: A valid name.
    @return: The key to compare and index names by: C{name} itself when it
        is its own key (so a registry holds one string, not two, per user).
    """
    key = unicodedata.normalize("NFKC", name).casefold()
    return name if key == name else key
