"""
Searching the history from the core (L{ChatUser.search}): only the rooms
the user is in, newest first, paged; and the search syntax a door reads
(L{chatserver.core.search}).
"""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.task import Clock

from chatserver.config import ChatConfig
from chatserver.core.events import SearchResults
from chatserver.core.realm import ChatRealm
from chatserver.core.search import SearchRequest, parse_search, parse_when
from chatserver.history.none import NoHistory
from chatwire.errors import InvalidSearch, NotInRoom, SearchUnavailable
from tests.core.fakes import RecordingMind


def realm(**kw):
    return ChatRealm(ChatConfig(**kw), clock=Clock())


def login(chat, name):
    mind = RecordingMind(chat.clock)
    user = chat.login(name, mind)
    return user, mind


def results(mind):
    return [
        [(e.room, e.text) for e in event.entries]
        for event in mind.events()
        if isinstance(event, SearchResults)
    ]


@pytest.fixture
def chat():
    chat = realm(defaultRoom="#lobby")
    alice, _ = login(chat, "alice")
    bob, bobMind = login(chat, "bob")
    alice.join("#secret")
    alice.say("deploy secret plans", "#secret")
    alice.join("#dev")
    bob.join("#dev")
    alice.say("deploy one", "#dev")
    alice.say("deploy lobby", "#lobby")
    bob.say("deploy two", "#dev")
    bobMind.events()
    return chat, alice, bob, bobMind


def test_search_finds_only_in_the_users_rooms_newest_first(chat):
    _, _, bob, bobMind = chat
    bob.search("deploy")
    assert results(bobMind) == [
        [("#dev", "deploy two"), ("#lobby", "deploy lobby"), ("#dev", "deploy one")]
    ]


def test_search_in_one_room(chat):
    _, _, bob, bobMind = chat
    bob.search("deploy", room="#lobby")
    assert results(bobMind) == [[("#lobby", "deploy lobby")]]


def test_search_in_a_room_the_user_is_not_in_is_refused(chat):
    _, _, bob, _ = chat
    with pytest.raises(NotInRoom, match="you are not in #secret"):
        bob.search("deploy", room="#secret")


def test_search_by_sender(chat):
    _, _, bob, bobMind = chat
    bob.search("deploy", sender="BOB")
    assert results(bobMind) == [[("#dev", "deploy two")]]


def test_search_more_pages_back_then_says_there_is_no_more(chat):
    _, _, bob, bobMind = chat
    bob.search("deploy", limit=2)
    bob.searchMore()
    bob.searchMore()
    events = [e for e in bobMind.events() if isinstance(e, SearchResults)]
    assert [[e.text for e in event.entries] for event in events] == [
        ["deploy two", "deploy lobby"],
        ["deploy one"],
        [],
    ]
    assert [event.more for event in events] == [True, False, False]


def test_search_without_words_is_refused(chat):
    _, _, bob, _ = chat
    with pytest.raises(InvalidSearch, match="nothing to search for"):
        bob.search(' " * -')


def test_more_without_a_search_is_refused(chat):
    _, _, bob, _ = chat
    with pytest.raises(InvalidSearch, match="no search to go on with"):
        bob.searchMore()


def test_search_with_no_history_kept_says_so():
    chat = ChatRealm(ChatConfig(), history=NoHistory(), clock=Clock())
    alice, _ = login(chat, "alice")
    with pytest.raises(SearchUnavailable, match="keeps no history"):
        alice.search("deploy")


# The search syntax


def test_filters_in_any_order_among_the_words():
    assert parse_search("deploy from:Bob #dev after:2026-12-01 done") == (
        SearchRequest(
            "deploy done",
            room="#dev",
            sender="Bob",
            after=parse_when("2026-12-01", end=True),
        )
    )


def test_a_day_before_is_its_start_and_after_is_its_end():
    assert parse_when("2026-12-07", end=False) == 1796601600.0
    assert parse_when("2026-12-07", end=True) == 1796601600.0 + 86400


def test_an_iso_time_is_utc_unless_it_says_otherwise():
    assert parse_when("2026-12-07T01:00", end=False) == 1796601600.0 + 3600
    assert parse_when("2026-12-07T01:00+01:00", end=True) == 1796601600.0
    assert parse_when("2026-12-07T00:00:00Z", end=True) == 1796601600.0


@pytest.mark.parametrize("bad", ["yesterday", "2026-13-01", "12/07/2026", "2026-12"])
def test_a_bad_date_is_refused_in_one_line(bad):
    with pytest.raises(InvalidSearch, match="is not a date: write YYYY-MM-DD"):
        parse_search(f"before:{bad} deploy")


def test_a_filter_twice_is_refused():
    with pytest.raises(InvalidSearch, match="from: is given twice"):
        parse_search("from:a from:b x")


def test_a_filter_without_value_is_refused():
    with pytest.raises(InvalidSearch, match="from: needs a value"):
        parse_search("from: x")


def test_an_unknown_filter_is_a_word():
    assert parse_search("re:deploy").words == "re:deploy"


@given(st.text())
def test_any_text_is_read_or_refused_with_a_reason(text):
    try:
        request = parse_search(text)
    except InvalidSearch as e:
        assert e.reason and "\n" not in e.reason
    else:
        assert set(request.words.split()) <= set(text.split())
