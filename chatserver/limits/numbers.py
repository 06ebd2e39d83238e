"""
Numbers users type, read the same way by every door.

C{str.isdigit} accepts more than C{int} does (C{'²'} is a digit to the
first, not to the second), and C{int} reads any length of digits into a
number that the stores cannot take: a door that pairs them can be made to
raise.  L{parse_count} reads ASCII digits only, within bounds, and answers
L{None} for anything else, for the door to refuse in its own words.
"""

from __future__ import annotations

MAX_INT64 = (1 << 63) - 1
"""
The largest id or count any store takes (an SQLite C{INTEGER}).
"""

_ASCII_DIGITS = frozenset("0123456789")


def parse_count(text: str, low: int = 0, high: int = MAX_INT64) -> int | None:
    """
    Read a whole number a user typed.

    @param text: What the user typed for it.
    @param low: The smallest number allowed.
    @param high: The largest number allowed.
    @return: The number, when C{text} is ASCII decimal digits alone (no
        sign, no space) and the number is from C{low} to C{high};
        otherwise L{None}.
    """
    if not text or not _ASCII_DIGITS.issuperset(text):
        return None
    digits = text.lstrip("0") or "0"
    # Longer than the bound's digits: too big, without reading it (int()
    # refuses strings of more than 4,300 digits, and is slow on long ones).
    if len(digits) > len(str(high)):
        return None
    number = int(digits)
    return number if low <= number <= high else None
