"""
Hostile client messages of the web door: JSON nested to any depth, and
strings that are not text (lone surrogates, from C{\\uD800} to C{\\uDFFF}
escapes), each refused with one error, the connection kept.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatserver.doors.web.messages import (
    CLIENT_MESSAGES,
    MAX_DEPTH,
    BadMessage,
    _too_deep,
    parse_message,
)
from chatserver.testing import ChatHarness
from tests.doors.test_web import session

# Any text, lone surrogates and JSON's own special characters included.
hostile_text = st.text(
    st.characters(codec=None)
    | st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
    | st.sampled_from('[]{}"\\')
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | hostile_text,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(hostile_text, inner, max_size=3)
    ),
    max_leaves=30,
)


def depth(value: Any) -> int:
    """
    @return: How deeply arrays and objects nest in C{value}.
    """
    if isinstance(value, list):
        return 1 + max(map(depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(depth, value.values()), default=0)
    return 0


def text_fields() -> list[tuple[str, str]]:
    """
    @return: Every string field of every client message, as (type, field).
    """
    return [
        (kind, name)
        for kind, fields in CLIENT_MESSAGES.items()
        for name, field in fields.items()
        if field.kind is str
    ]


def test_json_nested_five_thousand_deep_is_refused_before_parsing():
    with pytest.raises(BadMessage) as raised:
        parse_message("[" * 5000)
    assert raised.value.why == f"not JSON: nested deeper than {MAX_DEPTH}"


def test_brackets_inside_strings_are_not_nesting():
    text = json.dumps({"type": "say", "text": '[{"[\\' * 100})
    assert parse_message(text)[1]["text"] == '[{"[\\' * 100


@pytest.mark.parametrize(("kind", "name"), text_fields())
def test_a_lone_surrogate_in_any_string_field_is_refused(kind, name):
    message = {
        field: "\ud800" if field == name else "x"
        for field, spec in CLIENT_MESSAGES[kind].items()
        if spec.kind is str
    }
    message["type"] = kind
    with pytest.raises(BadMessage) as raised:
        parse_message(json.dumps(message))
    assert raised.value.why == (
        f"{kind!r}: {name!r} is not text: a lone surrogate (\\ud800 to \\udfff)"
    )
    assert raised.value.about == kind


def test_a_lone_surrogate_as_the_type_is_refused():
    with pytest.raises(BadMessage) as raised:
        parse_message('{"type": "\\udfff"}')
    assert raised.value.why.startswith('"type" is not text')


def test_a_surrogate_pair_is_text():
    _, message = parse_message('{"type": "say", "text": "\\ud83d\\ude00"}')
    assert message["text"] == "\U0001f600"


@given(json_values)
def test_the_depth_check_reads_json_as_the_parser_does(value):
    assert _too_deep(json.dumps(value)) == (depth(value) > MAX_DEPTH)


@given(json_values)
def test_any_json_is_taken_or_refused_with_a_bad_message(value):
    try:
        kind, message = parse_message(json.dumps(value))
    except BadMessage as e:
        e.why.encode("utf-8")
    else:
        assert kind in CLIENT_MESSAGES
        json.dumps(message, ensure_ascii=False).encode("utf-8")


@pytest.mark.parametrize(
    "text",
    [
        "[" * 5000,
        '{"type": "msg", "to": "\\ud800", "text": "hi"}',
        '{"type": "say", "text": "\\udc00"}',
    ],
)
def test_a_hostile_message_gets_one_error_and_the_connection_stays(text):
    server = ChatHarness(rate=0)
    web, transport, tcp = session(server)
    web.textMessageReceived('{"type": "login", "name": "bob"}')
    del transport.sent[:]
    web.textMessageReceived(text)
    assert [m["type"] for m in transport.sent] == ["error"]
    assert not web.closing and transport.closed is None and not tcp.aborted
    web.textMessageReceived('{"type": "rooms"}')
    assert transport.sent[-1]["type"] == "rooms"


def test_a_private_action_is_taken():
    text = '{"type": "msg", "to": "bob", "text": "waves", "action": true}'
    assert parse_message(text)[1]["action"] is True


@pytest.mark.parametrize("value", ["1", '"yes"', "null"])
def test_action_must_be_true_or_false(value):
    with pytest.raises(BadMessage) as raised:
        parse_message(f'{{"type": "msg", "to": "b", "text": "x", "action": {value}}}')
    assert raised.value.why == "'msg': 'action' must be true or false"


def test_true_is_not_a_whole_number():
    with pytest.raises(BadMessage) as raised:
        parse_message('{"type": "history", "limit": true}')
    assert raised.value.why == "'history': 'limit' must be a whole number"


def test_a_private_action_reaches_its_reader_as_an_action():
    server = ChatHarness(rate=0)
    web = session(server)[0]
    bob, bobTransport, _ = session(server)
    web.textMessageReceived('{"type": "login", "name": "alice"}')
    bob.textMessageReceived('{"type": "login", "name": "bob"}')
    del bobTransport.sent[:]
    web.textMessageReceived(
        '{"type": "msg", "to": "bob", "text": "waves", "action": true}'
    )
    server.flush()
    private = [m for m in bobTransport.sent if m["type"] == "private"]
    assert [(m["from"], m["text"]) for m in private] == [("alice", "* alice waves")]
