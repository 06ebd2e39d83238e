"""
IRCv3 timestamps, as C{server-time} and C{draft/read-marker} write them:
C{YYYY-MM-DDThh:mm:ss.sssZ}, in UTC, to the millisecond.

A time is kept as whole milliseconds since the epoch, so that a timestamp a
client gives is answered back exactly as it gave it
(C{format_stamp(parse_stamp(text)) == text}).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_STAMP = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})\.([0-9]{3})Z",
    re.ASCII,
)


def format_stamp(stamp: int) -> str:
    """
    @param stamp: Milliseconds since the epoch, in the years 1 to 9999.
    @return: C{stamp} as an IRCv3 timestamp (C{2026-12-01T09:14:03.120Z}).
    """
    seconds, ms = divmod(stamp, 1000)
    moment = _EPOCH + timedelta(seconds=seconds)
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
        f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}.{ms:03d}Z"
    )


def parse_stamp(text: str) -> int:
    """
    @return: The milliseconds since the epoch C{text}, an IRCv3 timestamp
        in the form L{format_stamp} writes, stands for.
    @raise ValueError: If C{text} is not such a timestamp, or no such day
        or time exists.
    """
    match = _STAMP.fullmatch(text)
    if match is None:
        raise ValueError(f"not a timestamp: {text!r}")
    year, month, day, hour, minute, second, ms = map(int, match.groups())
    moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(seconds=1) * 1000 + ms
