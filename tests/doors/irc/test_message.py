"""
The IRC message parser and formatter, with Hypothesis: whatever is
formatted parses back to the same message.
"""

from hypothesis import given
from hypothesis import strategies as st

from chatserver.doors.irc.message import (
    MAX_LINE,
    Message,
    encode,
    escape_tag_value,
    format,
    parse,
    unescape_tag_value,
)
from chatserver.testing import ChatHarness

_word = st.text(
    st.characters(blacklist_characters=" \r\n\0:", blacklist_categories=["Cs"]),
    min_size=1,
    max_size=12,
)
_trailing = st.text(
    st.characters(blacklist_characters="\r\n\0", blacklist_categories=["Cs"]),
    max_size=40,
)
_tag_key = st.from_regex(r"\+?[a-z][a-z0-9\-/.]{0,10}", fullmatch=True)
_tag_value = st.text(
    st.characters(blacklist_characters="\0", blacklist_categories=["Cs"]),
    max_size=20,
)


@given(
    command=st.from_regex(r"[A-Z]{1,10}|[0-9]{3}", fullmatch=True),
    middle=st.lists(_word, max_size=5),
    last=st.one_of(_word, _trailing),
    prefix=st.one_of(st.just(""), _word),
    tags=st.dictionaries(_tag_key, _tag_value, max_size=4),
)
def test_format_then_parse_gives_the_message_back(command, middle, last, prefix, tags):
    params = (*middle, last)
    line = format(command, *params, prefix=prefix, tags=tags)
    assert parse(line) == Message(command, params, prefix, tags)


@given(
    middle=st.lists(_trailing, min_size=1, max_size=4),
    last=_trailing,
)
def test_a_parameter_that_cannot_be_a_middle_one_is_a_star(middle, last):
    message = parse(format("403", *middle, last))
    assert len(message.params) == len(middle) + 1
    for given_, read in zip(middle, message.params, strict=False):
        fits = given_ and " " not in given_ and given_[0] != ":"
        assert read == (given_ if fits else "*")


def test_a_channel_with_a_blank_is_named_a_star_in_its_403():
    client = ChatHarness(rate=0).ircLogin("al")
    client.send("JOIN :#a b")
    assert client.raw() == [":chat 403 al * :No such channel"]


@given(
    # As long as a mask and a room name get: the last parameter is what is cut.
    prefix=_word.map(lambda word: word * 3),
    middle=st.lists(_word.map(lambda word: word * 4), max_size=2),
    last=st.text(
        st.characters(blacklist_characters="\r\n\0", blacklist_categories=["Cs"]),
        max_size=600,
    ),
    tags=st.dictionaries(_tag_key, _tag_value, max_size=4),
)
def test_an_encoded_line_is_within_512_bytes_without_its_tags(
    prefix, middle, last, tags
):
    data = encode("TOPIC", *middle, last, prefix=prefix, tags=tags)
    assert data.endswith(b"\r\n") and data.count(b"\n") == 1
    line = data[:-2].decode("utf-8")
    body = line.partition(" ")[2] if tags else line
    assert len(body.encode("utf-8")) + 2 <= MAX_LINE
    message = parse(line)
    assert message.params[:-1] == tuple(middle)
    kept = message.params[-1]
    assert last.startswith(kept)
    if kept != last:
        # Cut between characters, as close to the limit as a character allows.
        whole = len((body + last[len(kept)]).encode("utf-8"))
        assert whole + 2 > MAX_LINE - 1


@given(_tag_value)
def test_tag_values_unescape_what_was_escaped(value):
    assert unescape_tag_value(escape_tag_value(value)) == value


@given(st.text(max_size=200))
def test_parsing_anything_gives_a_message_or_a_clean_error(text):
    try:
        message = parse(text)
    except ValueError:
        return
    assert message.command


def test_parsing_examples_from_the_specifications():
    assert parse(":nick!u@h PRIVMSG #chan :hello there") == Message(
        "PRIVMSG", ("#chan", "hello there"), "nick!u@h"
    )
    assert parse("@time=2026-01-01T00:00:00.000Z;+typing CAP  REQ  :a b") == Message(
        "CAP",
        ("REQ", "a b"),
        "",
        {"time": "2026-01-01T00:00:00.000Z", "+typing": ""},
    )
    assert parse("@a=b\\sc\\:d\\\\ ping x").tags == {"a": "b c;d\\"}
    assert parse("privmsg a :").params == ("a", "")


def test_a_line_without_an_id_yet_has_no_msgid():
    # A cluster node cut off from Redis tells its users a line before the
    # cluster has given it an id.
    from chatserver.core.events import Said
    from chatserver.doors.irc import caps
    from chatserver.doors.irc.codec import IrcCodec
    from chatserver.doors.irc.message import parse

    codec = IrcCodec(
        "chat",
        frozenset({caps.MESSAGE_TAGS, caps.SERVER_TIME}),
        lambda name: f"{name}!{name}@line",
        lambda: 0.0,
    )
    kept = parse(codec.encode(Said("#dev", "bob", "hi", 7, 1.0), None).decode().strip())
    told = parse(codec.encode(Said("#dev", "bob", "hi", 0, 1.0), None).decode().strip())
    assert kept.tags["msgid"] == "7"
    assert "msgid" not in told.tags and "time" in told.tags
