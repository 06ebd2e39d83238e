"""
C{/search} in the line door: the lines found, marked with their rooms and as
history, newest first, between a header and an end line; C{/search} alone
for the next page; one-line errors.
"""

import pytest

from chatserver.history.none import NoHistory
from chatserver.testing import ChatHarness
from chatwire import lines


@pytest.fixture
def chat():
    # No pacing: the tests send many lines at once.
    server = ChatHarness(rate=0)
    alice = server.login("alice")
    bob = server.login("bob")
    alice.send("/join #dev")
    alice.send("deploy one")
    alice.send("/join #secret")
    alice.send("deploy secret")
    bob.send("/join #dev")
    alice.send("/msg bob x")
    alice.send("/join #dev")
    alice.send("deploy two")
    alice.received()
    bob.received()
    return server, alice, bob


def found(events):
    return [
        (e.room, e.line.id, e.line.line.text)
        for e in events
        if isinstance(e, lines.InRoom)
        and isinstance(e.line, lines.History)
        and isinstance(e.line.line, lines.Message)
    ]


def test_search_shows_lines_of_the_users_rooms_newest_first(chat):
    _, _, bob = chat
    bob.send("/search deploy")
    events = bob.events()
    assert events[0] == lines.SearchHeader(2, "deploy")
    assert [(room, text) for room, _, text in found(events)] == [
        ("#dev", "deploy two"),
        ("#dev", "deploy one"),
    ]
    assert events[-1] == lines.SearchEnd(2, False)


def test_search_alone_shows_the_next_page(chat):
    _, alice, _ = chat
    alice.send("/search #dev deploy")
    alice.received()
    alice.send("/search deploy")
    first = alice.events()
    assert [text for _, _, text in found(first)] == [
        "deploy two",
        "deploy secret",
        "deploy one",
    ]
    assert first[-1] == lines.SearchEnd(3, False)
    alice.send("/search")
    assert alice.events() == [
        lines.SearchHeader(0, "deploy"),
        lines.SearchEnd(0, False),
    ]


def test_search_pages_are_twenty_lines(chat):
    _, alice, _ = chat
    for n in range(25):
        alice.send(f"deploy {n}")
    alice.received()
    alice.send("/search #dev deploy")
    first = alice.events()
    assert first[-1] == lines.SearchEnd(20, True)
    alice.send("/search")
    second = alice.events()
    assert second[-1] == lines.SearchEnd(7, False)
    ids = [id for _, id, _ in found(first) + found(second)]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 27


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("/search #secret deploy", "you are not in #secret"),
        ("/search before:someday deploy", "'someday' is not a date"),
        ("/search from:bob", "usage: /search [#ROOM] [from:NAME]"),
        ('/search " * -', "nothing to search for"),
        ("/search", "there is no search to go on with"),
    ],
)
def test_a_bad_search_is_one_error_line(chat, typed, error):
    _, _, bob = chat
    bob.send(typed)
    (event,) = bob.events()
    assert isinstance(event, lines.Error)
    assert error in event.text


def test_search_without_history_says_so():
    server = ChatHarness(history=NoHistory())
    alice = server.login("alice")
    alice.send("/search deploy")
    assert alice.events() == [
        lines.Error("this server keeps no history, so there is nothing to search")
    ]
