"""
Numbers users type: ASCII digits, within bounds, or nothing.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from chatserver.limits.numbers import MAX_INT64, parse_count


def test_ascii_digits_within_the_bounds_are_read():
    assert parse_count("0") == 0
    assert parse_count("42", 1, 100) == 42
    assert parse_count("007", 1, 100) == 7
    assert parse_count(str(MAX_INT64)) == MAX_INT64


def test_other_digits_signs_and_spaces_are_refused():
    for text in ("²", "٣", "\uff11", "-1", "+1", " 1", "1 ", "1_000", "", "1.0"):
        assert parse_count(text) is None, text


def test_numbers_out_of_bounds_are_refused():
    assert parse_count("0", 1, 100) is None
    assert parse_count("101", 1, 100) is None
    assert parse_count(str(MAX_INT64 + 1)) is None
    assert parse_count("9" * 23) is None


def test_a_very_long_number_is_refused_without_being_read():
    assert parse_count("1" * 100_000) is None
    assert parse_count("0" * 100_000 + "5", 1, 10) == 5


@given(st.text())
def test_any_text_is_a_number_or_none(text):
    number = parse_count(text, 1, 1000)
    assert number is None or (1 <= number <= 1000 and str(number) == text.lstrip("0"))


@given(st.integers(min_value=0, max_value=MAX_INT64))
def test_every_number_in_bounds_reads_back(number):
    assert parse_count(str(number)) == number
