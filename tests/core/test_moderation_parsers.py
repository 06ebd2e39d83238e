"""
The parsers of moderation: durations, masks and mode changes, each
refusing bad input with one clear error (and nothing else, whatever the
text: Hypothesis).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatserver.core.moderation.durations import (
    MAX_DURATION,
    format_duration,
    looks_like_duration,
    parse_duration,
)
from chatserver.core.moderation.errors import InvalidDuration, InvalidMask, InvalidMode
from chatserver.core.moderation.masks import Who, parse_mask
from chatserver.core.moderation.modes import ModeChange, parse_modes


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30), ("10m", 600), ("2h", 7200), ("7d", 604800)]
)
def test_a_duration_is_a_number_and_a_unit(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    "text", ["", "10", "m", "0m", "10x", "1.5h", " 1h", "1H", "367d", "-1m", "\uff11m"]
)
def test_anything_else_is_not_a_duration(text):
    with pytest.raises(InvalidDuration) as raised:
        parse_duration(text)
    assert "30s, 10m, 2h, 7d" in raised.value.reason


@given(st.text(max_size=12))
def test_any_text_is_a_duration_in_range_or_refused_with_invalid_duration(text):
    try:
        seconds = parse_duration(text)
    except InvalidDuration:
        return
    assert 0 < seconds <= MAX_DURATION


@given(st.integers(1, MAX_DURATION))
def test_a_formatted_duration_parses_back(seconds):
    assert parse_duration(format_duration(seconds)) == seconds


def test_a_word_starting_with_a_digit_is_meant_as_a_duration():
    assert looks_like_duration("10x")
    assert not looks_like_duration("spam")


def test_a_name_pattern_matches_names_regardless_of_case():
    mask = parse_mask("Spam*")
    assert mask.matches(Who("spammer"))
    assert not mask.matches(Who("ham"))
    assert mask.key == parse_mask("spam*").key


def test_an_irc_mask_matches_name_ident_and_host():
    mask = parse_mask("bob!~b*@198.51.100.*")
    assert mask.matches(Who("Bob", "~bobby", "198.51.100.3"))
    assert not mask.matches(Who("bob", "~bobby", "203.0.113.3"))
    assert not mask.matches(Who("bob", "other", "198.51.100.3"))


def test_a_mask_without_an_ident_matches_any_ident():
    assert parse_mask("bob@192.0.2.1").matches(Who("bob", "x", "192.0.2.1"))


@pytest.mark.parametrize(
    ("text", "host", "matches"),
    [
        ("203.0.113.7", "203.0.113.7", True),
        ("203.0.113.7", "203.0.113.8", False),
        ("203.0.113.0/24", "203.0.113.200", True),
        ("203.0.113.0/24", "::ffff:203.0.113.9", True),
        ("2001:db8::/32", "2001:db8:1::1", True),
        ("2001:db8::/32", "2001:db9::1", False),
        ("203.0.113.0/24", "", False),
    ],
)
def test_addresses_and_networks_match_the_address(text, host, matches):
    assert parse_mask(text).matches(Who("anyone", "", host)) is matches


def test_a_network_is_shown_in_its_normal_form():
    assert parse_mask("203.0.113.7/24").text == "203.0.113.0/24"


@pytest.mark.parametrize(
    "text", ["", "a b", "a,b", "10.0.0.0/33", "a!b!c@d", "x" * 600]
)
def test_a_bad_mask_is_refused(text):
    with pytest.raises(InvalidMask):
        parse_mask(text)


@given(st.text(max_size=40))
def test_any_text_is_a_mask_or_refused_with_invalid_mask(text):
    try:
        mask = parse_mask(text)
    except InvalidMask:
        return
    mask.matches(Who("bob", "b", "192.0.2.1"))


def test_mode_changes_read_signs_letters_and_arguments():
    assert parse_modes("+mk-i+o", ["key", "bob"]) == [
        ModeChange(True, "m"),
        ModeChange(True, "k", "key"),
        ModeChange(False, "i"),
        ModeChange(True, "o", "bob"),
    ]


@pytest.mark.parametrize(
    ("flags", "arguments"),
    [
        ("+z", []),
        ("+k", []),
        ("+l", ["many"]),
        ("+l", ["0"]),
        ("+m", ["extra"]),
        ("+", []),
    ],
)
def test_bad_mode_changes_are_refused(flags, arguments):
    with pytest.raises(InvalidMode):
        parse_modes(flags, arguments)


@given(st.text(max_size=10), st.lists(st.text(max_size=10), max_size=3))
def test_any_mode_text_is_changes_or_refused_with_invalid_mode(flags, arguments):
    try:
        changes = parse_modes(flags, arguments)
    except InvalidMode:
        return
    assert changes
