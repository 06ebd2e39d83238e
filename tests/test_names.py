"""
Name rules and case-folded uniqueness.
"""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatwire.errors import InvalidName
from chatwire.names import MAX_NAME_LENGTH, check_name, name_key
from tests.strategies import names


@given(names)
def test_every_name_made_of_allowed_characters_is_valid(name):
    assert check_name(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "alice",
        "Bob_2",
        "jean-luc",
        "a.b",
        "Zoë",
        "李雷",
        "x",
        "\u30eb\u30fc\u30af",  # a prolonged sound mark (Lm) in katakana
        "\u4f50\u3005\u6728",  # an iteration mark (Lm)
    ],
)
def test_ordinary_names_are_valid(name):
    assert check_name(name) == name


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("", "empty"),
        ("a" * (MAX_NAME_LENGTH + 1), "at most 32"),
        ("/alice", "start with '/'"),
        ("al ice", "a space"),
        ("al\tice", "control character"),
        ("al\x1bice", "control character"),
        ("al,ice", "','"),
        ("<alice>", "'<'"),
        ("al*ce", "'*'"),
    ],
)
def test_invalid_names_are_refused_with_a_reason(name, why):
    with pytest.raises(InvalidName, match=why):
        check_name(name)


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("\u3164", "U\\+3164 HANGUL FILLER is not allowed in a name \\(it is drawn as"),
        ("bob\uffa0", "U\\+FFA0 HALFWIDTH HANGUL FILLER"),
        ("\u01c3\u01c3\u01c3", "U\\+01C3 LATIN LETTER RETROFLEX CLICK .*punctuation"),
        ("it\u02bcs", "U\\+02BC MODIFIER LETTER APOSTROPHE .*punctuation"),
        ("a\u02d0b", "U\\+02D0 MODIFIER LETTER TRIANGULAR COLON"),
        ("\u0640\u0640", "U\\+0640 ARABIC TATWEEL"),
        ("bob\u202e", "U\\+202E RIGHT-TO-LEFT OVERRIDE"),
        ("bo\u200db", "U\\+200D ZERO WIDTH JOINER"),
    ],
)
def test_names_drawn_blank_or_as_punctuation_are_refused(name, why):
    with pytest.raises(InvalidName, match=why):
        check_name(name)


def test_longest_name_is_allowed():
    assert check_name("a" * MAX_NAME_LENGTH)


@given(names)
def test_a_name_and_its_case_fold_share_a_key(name):
    assert name_key(name) == name_key(name.casefold())


@given(st.from_regex(r"[A-Za-z0-9_.-]{1,32}", fullmatch=True))
def test_ascii_names_differing_only_in_case_share_a_key(name):
    assert name_key(name) == name_key(name.upper()) == name_key(name.lower())


def test_full_width_letters_are_the_same_name():
    assert name_key("\uff41\uff4c\uff49\uff43\uff45") == name_key("alice")


def test_different_names_have_different_keys():
    assert name_key("alice") != name_key("alicia")
