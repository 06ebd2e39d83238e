"""
Durations of bans, mutes and klines: a whole number and a unit, C{30s},
C{10m}, C{2h}, C{7d}; none means until lifted.
"""

from __future__ import annotations

import re

from chatserver.core.moderation.errors import InvalidDuration

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

MAX_DURATION = 366 * 86400
"""
The longest duration, in seconds: a year (and a day); longer is until lifted.
"""

_DURATION = re.compile(r"([0-9]{1,9})([smhd])")

USAGE = "a duration is a number and s, m, h or d (30s, 10m, 2h, 7d), at most 366d"


def looks_like_duration(word: str) -> bool:
    """
    @return: Whether C{word}, an optional argument, is meant as a duration
        (it starts with a digit), and must then be a valid one.
    """
    return word[:1].isascii() and word[:1].isdigit()


def parse_duration(text: str) -> int:
    """
    @return: The seconds C{text} (C{10m}) stands for.
    @raise InvalidDuration: If it is not a positive number and a unit, or
        longer than L{MAX_DURATION}.
    """
    match = _DURATION.fullmatch(text)
    if match is None:
        raise InvalidDuration(f"invalid duration {text!r}: {USAGE}")
    seconds = int(match.group(1)) * UNITS[match.group(2)]
    if not 0 < seconds <= MAX_DURATION:
        raise InvalidDuration(f"invalid duration {text!r}: {USAGE}")
    return seconds


def format_duration(seconds: float) -> str:
    """
    @return: C{seconds} in the largest unit that divides them (C{2h}), or
        in seconds.
    """
    whole = round(seconds)
    for unit in ("d", "h", "m"):
        if whole and whole % UNITS[unit] == 0:
            return f"{whole // UNITS[unit]}{unit}"
    return f"{whole}s"
