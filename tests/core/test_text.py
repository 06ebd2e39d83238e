"""
The one gate for text (L{chatwire.text}): which characters no text
may hold, how text that cannot be refused is cleaned, and lengths in bytes.
"""

from __future__ import annotations

import sys
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatwire.errors import InvalidText
from chatwire.text import (
    byte_length,
    check_length,
    check_text,
    clean_tags,
    clean_text,
    cut,
    forbidden,
    shows_nothing,
)

# Default_Ignorable_Code_Point (Unicode's DerivedCoreProperties.txt).
DEFAULT_IGNORABLE = [
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
]
# Format characters of Unicode versions newer than some Pythons' unicodedata.
NEWER_FORMAT = [(0x13430, 0x1343F)]
# What writing needs: the joiners, and the variation selectors.
ALLOWED_INVISIBLE = {0x200C, 0x200D, 0x180B, 0x180C, 0x180D, 0x180F}
ALLOWED_INVISIBLE |= set(range(0xFE00, 0xFE10)) | set(range(0xE0100, 0xE01F0))


def _noncharacter(code: int) -> bool:
    return 0xFDD0 <= code <= 0xFDEF or code & 0xFFFE == 0xFFFE


def test_refused_characters_are_control_format_separators_and_default_ignorables():
    expected = set()
    for code in range(sys.maxunicode + 1):
        category = unicodedata.category(chr(code))
        if category in ("Cc", "Cs", "Cf", "Zl", "Zp") or _noncharacter(code):
            expected.add(code)
    for first, last in DEFAULT_IGNORABLE + NEWER_FORMAT:
        expected.update(range(first, last + 1))
    expected -= ALLOWED_INVISIBLE | {ord("\t")}
    refused = {code for code in range(sys.maxunicode + 1) if forbidden(chr(code))}
    assert refused == expected


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("bye\r\n:admin PRIVMSG #lobby :spoofed", "U+000D"),
        ("\x1b[2J", "U+001B"),
        ("\ud800", "U+D800"),
        ("evil \u202eexe.txt", "U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("a\u2066b", "U+2066 LEFT-TO-RIGHT ISOLATE"),
        ("a\u200eb", "U+200E LEFT-TO-RIGHT MARK"),
        ("x\u3164", "U+3164 HANGUL FILLER"),
        ("hidden\U000e0041", "U+E0041 TAG LATIN CAPITAL LETTER A"),
        ("a\u2028b", "U+2028 LINE SEPARATOR"),
    ],
)
def test_a_refusal_names_the_first_forbidden_character(text, named):
    with pytest.raises(InvalidText) as refused:
        check_text(text)
    assert refused.value.reason == (
        f"control and format characters are not allowed (found {named})"
    )


@pytest.mark.parametrize(
    "text",
    [
        "tabs\tare fine",
        "a family 👨\u200d👩\u200d👧 and a red heart ❤\ufe0f",
        # Persian (mi-khaham) with a zero width non-joiner.
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",
        "Zo\u00eb \u674e\u96f7",
    ],
)
def test_what_writing_needs_is_allowed(text):
    assert check_text(text) == text


@pytest.mark.parametrize("text", ["", " ", "\u200d", "\ufe0f \u200c", "\t"])
def test_joiners_and_selectors_alone_show_nothing(text):
    assert shows_nothing(text)


def test_text_that_cannot_be_refused_is_cleaned_and_cut():
    forged = "bye\r\n:admin!admin@irc PRIVMSG #lobby :spoofed\x1b\x07\x00\u202e"
    assert clean_text(forged) == "bye:admin!admin@irc PRIVMSG #lobby :spoofed"
    assert clean_text("é" * 10, 5) == "éé"


@given(st.text(), st.integers(min_value=0, max_value=100))
def test_cut_keeps_the_longest_start_within_the_limit(text, limit):
    kept = cut(text, limit)
    assert text.startswith(kept)
    assert byte_length(kept) <= limit
    if kept != text:
        assert byte_length(text[: len(kept) + 1]) > limit


def test_lengths_are_bytes_of_utf8():
    assert check_length("é" * 195, 390, "a topic") == "é" * 195
    with pytest.raises(InvalidText, match=r"a topic is at most 390 bytes .*has 392"):
        check_length("é" * 196, 390, "a topic")


def test_client_tags_are_cleaned_and_bad_names_dropped():
    given_ = (
        ("+draft/reply", "41\x00\x1b[2J"),
        ("+typing", "active"),
        ("+bad\x01name", "x"),
        ("msgid", "forged"),
    )
    assert clean_tags(given_) == (("+draft/reply", "41[2J"), ("+typing", "active"))


@given(st.text(alphabet=st.characters(max_codepoint=0x2100)))
def test_a_text_is_refused_exactly_when_it_holds_a_forbidden_character(text):
    """
    Whatever way L{check_text} takes (printable ASCII has its own), it
    refuses a text exactly when a character of it is forbidden.
    """
    refused = any(forbidden(char) for char in text)
    try:
        check_text(text)
    except InvalidText:
        assert refused
    else:
        assert not refused


@pytest.mark.parametrize("code", [*range(0x20), 0x7F])
def test_ascii_controls_but_the_tab_are_refused_within_printable_text(code):
    text = f"a line {chr(code)} of ASCII"
    if code == 0x09:
        assert check_text(text) == text
    else:
        with pytest.raises(InvalidText):
            check_text(text)
