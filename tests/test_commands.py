"""
Reading what a user typed: commands, chat text, blank lines, control
characters.
"""

import pytest
from hypothesis import given

from chatwire.commands import (
    Chat,
    Command,
    parse_input,
    split_first,
)
from chatwire.errors import InvalidText
from chatwire.text import check_text
from tests.strategies import texts


def test_plain_text_is_chat():
    assert parse_input("hello there") == Chat("hello there")


def test_slash_starts_a_command_with_its_arguments():
    assert parse_input("/msg bob  hi  there ") == Command("msg", "bob  hi  there")


def test_command_names_ignore_case():
    assert parse_input("/WHO") == Command("who", "")


def test_double_slash_sends_text_starting_with_a_slash():
    assert parse_input("//shrug") == Chat("/shrug")


@pytest.mark.parametrize("line", ["", " ", "\t  "])
def test_blank_lines_are_ignored(line):
    assert parse_input(line) is None


@pytest.mark.parametrize("char", ["\x1b", "\x00", "\x7f", "\x85", "\r"])
def test_control_characters_are_refused(char):
    with pytest.raises(InvalidText, match="control and format characters"):
        parse_input(f"red{char}[31m")


@given(texts)
def test_any_text_without_control_characters_is_accepted(text):
    assert check_text(text) == text
    parsed = parse_input(text)
    if text.strip() and not text.startswith("/"):
        assert parsed == Chat(text)


def test_split_first_takes_one_word():
    assert split_first(" bob  hello  you ") == ("bob", "hello  you")
    assert split_first("") == ("", "")
