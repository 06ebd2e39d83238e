"""
IRCv3 timestamps (C{server-time}, C{draft/read-marker}): a time in whole
milliseconds is written in one form, and that form is read back to the
same time, so a client's timestamp is answered exactly as it gave it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatserver.doors.irc.codec import timestamp
from chatserver.doors.irc.stamps import format_stamp, parse_stamp

FIRST = -62_135_596_800_000  # 0001-01-01T00:00:00.000Z
LAST = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z

stamps = st.integers(FIRST, LAST)


@given(stamps)
def test_a_time_written_reads_back_the_same(stamp: int) -> None:
    assert parse_stamp(format_stamp(stamp)) == stamp


@given(stamps)
def test_a_timestamp_read_is_written_back_byte_for_byte(stamp: int) -> None:
    text = format_stamp(stamp)
    assert format_stamp(parse_stamp(text)) == text


@given(stamps)
def test_the_form_is_the_specifications(stamp: int) -> None:
    text = format_stamp(stamp)
    moment = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert len(text) == 24
    assert moment == datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=stamp)


def test_the_ends_of_the_calendar():
    assert format_stamp(FIRST) == "0001-01-01T00:00:00.000Z"
    assert format_stamp(LAST) == "9999-12-31T23:59:59.999Z"
    assert format_stamp(-1) == "1969-12-31T23:59:59.999Z"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "*",
        "not-a-timestamp",
        "2019-01-04T14:33:26Z",
        "2019-01-04T14:33:26.12Z",
        "2019-01-04T14:33:26.1234Z",
        "2019-01-04T14:33:26.123",
        "2019-01-04T14:33:26.123+00:00",
        "2019-02-30T14:33:26.123Z",
        "2019-01-04T24:33:26.123Z",
        "2019-01-04 14:33:26.123Z",
        "\uff12\uff10\uff11\uff19-01-04T14:33:26.123Z",
    ],
)
def test_anything_else_is_no_timestamp(text: str) -> None:
    with pytest.raises(ValueError):
        parse_stamp(text)


@given(st.text(max_size=30))
def test_any_text_is_a_timestamp_written_back_or_refused(text: str) -> None:
    try:
        stamp = parse_stamp(text)
    except ValueError:
        return
    assert format_stamp(stamp) == text


@given(st.floats(0, 2**33, allow_nan=False))
def test_server_time_shows_a_line_to_its_millisecond_down(when: float) -> None:
    assert parse_stamp(timestamp(when)) == round(when * 1_000_000) // 1000
