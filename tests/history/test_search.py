"""
Searching the history: how words are matched (L{chatserver.history.search}),
and each store's search: memory, SQLite with FTS5 (on real files), a
cluster's Redis streams (through a link of the tests' own), none.
"""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twisted.internet.defer import fail, succeed
from twisted.internet.task import Clock

from chatserver.cluster.link import RedisError
from chatserver.history.memory import MemoryHistory
from chatserver.history.none import NoHistory
from chatserver.history.redis import SCAN_CHUNK, RedisHistory
from chatserver.history.search import (
    SearchPage,
    SearchQuery,
    Term,
    fts_query,
    terms_of,
    words_of,
)
from chatserver.history.store import MESSAGE, HistoryUnavailable
from tests.core.fakes import outcome
from tests.history.support import result
from tests.history.test_sqlite import Opened


def query(words, **kw):
    return SearchQuery(terms_of(words), **kw)


# Matching words


def test_words_are_folded_as_unicode61_folds_them():
    assert words_of("Café CRÈME, naïve-idea don't") == [
        "cafe",
        "creme",
        "naive",
        "idea",
        "don",
        "t",
    ]


def test_a_word_must_be_whole_unless_it_ends_with_a_star():
    assert not query("dep").matchesText("we deployed")
    assert query("dep*").matchesText("we deployed")
    assert query("deployed").matchesText("We DEPLOYED it")


def test_every_word_must_be_there():
    assert query("red fox").matchesText("the fox is red")
    assert not query("red fox").matchesText("the fox is brown")


def test_a_word_with_a_separator_is_its_pieces_in_a_row():
    assert query("don't").matchesText("I don't know")
    assert not query("don't").matchesText("don know t")


def test_words_with_nothing_to_find_are_left_out():
    assert terms_of('" * - : ( NEAR(') == (Term("NEAR(", False, ("near",)),)
    assert terms_of("*** --") == ()


def test_the_fts_query_quotes_every_word():
    assert fts_query(terms_of('say" OR x* NEAR(a')) == (
        '"say" AND "or" AND "x"* AND "near a"'
    )


# Memory


def memory_store(now=1000.0, **kw):
    clock = Clock()
    clock.advance(now)
    return MemoryHistory(clock=clock, **kw)


def say(store, roomKey, text, time=500.0, sender="ann"):
    return store.append(
        roomKey,
        room=roomKey.title(),
        kind=MESSAGE,
        sender=sender,
        text=text,
        time=time,
    )


def texts(page):
    return [entry.text for entry in page.entries]


def test_memory_search_is_newest_first_across_the_rooms_asked():
    store = memory_store()
    say(store, "#a", "deploy one")
    say(store, "#b", "deploy two")
    say(store, "#c", "deploy elsewhere")
    say(store, "#a", "nothing")
    say(store, "#b", "deploy three")
    page = result(store.search(["#a", "#b"], query("deploy"), 10))
    assert texts(page) == ["deploy three", "deploy two", "deploy one"]
    assert page.next is None


def test_memory_search_pages_by_id():
    store = memory_store()
    for n in range(5):
        say(store, "#a", f"deploy {n}")
    first = result(store.search(["#a"], query("deploy"), 2))
    assert texts(first) == ["deploy 4", "deploy 3"]
    second = result(store.search(["#a"], query("deploy"), 2, before=first.next))
    assert texts(second) == ["deploy 2", "deploy 1"]


def test_memory_search_filters_sender_and_times():
    store = memory_store()
    say(store, "#a", "deploy early", time=100.0, sender="Bob")
    say(store, "#a", "deploy late", time=900.0, sender="Bob")
    say(store, "#a", "deploy by ann", time=500.0)
    assert texts(result(store.search(["#a"], query("deploy", senderKey="bob"), 9))) == [
        "deploy late",
        "deploy early",
    ]
    between = query("deploy", since=100.0, until=900.0)
    assert texts(result(store.search(["#a"], between, 9))) == [
        "deploy by ann",
        "deploy early",
    ]


def test_memory_search_leaves_out_lines_too_old_to_keep():
    store = memory_store(now=1000.0, keepSeconds=100.0)
    say(store, "#a", "deploy old", time=10.0)
    say(store, "#a", "deploy new", time=950.0)
    assert texts(result(store.search(["#a"], query("deploy"), 9))) == ["deploy new"]


def test_memory_search_reads_at_most_the_scan_limit(monkeypatch):
    monkeypatch.setattr("chatserver.history.memory.SCAN_LIMIT", 3)
    store = memory_store()
    say(store, "#a", "deploy")
    ids = [say(store, "#a", f"other {n}").id for n in range(4)]
    page = result(store.search(["#a"], query("deploy"), 9))
    assert page == SearchPage((), ids[1])
    page = result(store.search(["#a"], query("deploy"), 9, before=page.next))
    assert texts(page) == ["deploy"]


def test_memory_search_reads_a_slice_a_turn(monkeypatch):
    monkeypatch.setattr("chatserver.history.memory.SCAN_SLICE", 2)
    store = memory_store()
    say(store, "#a", "deploy old")
    for n in range(4):
        say(store, "#a", f"other {n}")
    say(store, "#b", "deploy new")
    searching = store.search(["#a", "#b"], query("deploy"), 9)
    assert not searching.called
    # (Clock runs the slices each scheduled by the one before at once.)
    store._clock.advance(0)
    assert texts(result(searching)) == ["deploy new", "deploy old"]


def test_memory_search_sees_lines_come_and_go_between_slices(monkeypatch):
    monkeypatch.setattr("chatserver.history.memory.SCAN_SLICE", 2)
    store = memory_store(maxPerRoom=5)
    say(store, "#a", "deploy 1")
    for n in range(3):
        say(store, "#a", f"other {n}")
    searching = store.search(["#a"], query("deploy"), 9)
    say(store, "#a", "deploy 2")
    say(store, "#a", "other")
    store._clock.advance(0)
    # The oldest line was dropped meanwhile; the newest came after the
    # search began, above where it reads.
    assert texts(result(searching)) == []


# SQLite


@pytest.fixture
def opened(tmp_path):
    store = Opened(tmp_path / "chat.db").start()
    store.clock.advance(1000.0)
    yield store
    store.stop()


def sqlite_say(opened, roomKey, text, sender="ann", time=None):
    return opened.store.append(
        roomKey,
        room=roomKey.title(),
        kind=MESSAGE,
        sender=sender,
        text=text,
        time=opened.clock.seconds() if time is None else time,
    )


def test_sqlite_search_ignores_case_and_diacritics(opened):
    sqlite_say(opened, "#a", "Le CAFÉ est fermé")
    opened.flush()
    assert texts(result(opened.store.search(["#a"], query("cafe ferme"), 9))) == [
        "Le CAFÉ est fermé"
    ]


def test_sqlite_search_finds_prefixes_only_when_asked(opened):
    sqlite_say(opened, "#a", "we deployed it")
    opened.flush()
    assert texts(result(opened.store.search(["#a"], query("deploy"), 9))) == []
    assert texts(result(opened.store.search(["#a"], query("deploy*"), 9))) == [
        "we deployed it"
    ]


@pytest.mark.parametrize(
    "hostile", ['"', "*", "NEAR(", "-", ":", "a:b", 'x" OR "y', "^start", "AND", "(("]
)
def test_sqlite_search_reads_fts5_syntax_as_words(opened, hostile):
    sqlite_say(opened, "#a", f"text with {hostile} in it")
    opened.flush()
    page = result(opened.store.search(["#a"], query(f"text {hostile}"), 9))
    assert texts(page) == [f"text with {hostile} in it"]


def test_sqlite_search_sees_lines_not_yet_written(opened):
    sqlite_say(opened, "#a", "deploy written")
    opened.flush()
    sqlite_say(opened, "#a", "deploy pending")
    assert texts(result(opened.store.search(["#a"], query("deploy"), 9))) == [
        "deploy pending",
        "deploy written",
    ]


def test_sqlite_search_only_in_the_rooms_asked_and_pages(opened):
    for n in range(4):
        sqlite_say(opened, "#a", f"deploy {n}")
        sqlite_say(opened, "#b", f"deploy b{n}")
    opened.flush()
    first = result(opened.store.search(["#a"], query("deploy"), 3))
    assert texts(first) == ["deploy 3", "deploy 2", "deploy 1"]
    second = result(opened.store.search(["#a"], query("deploy"), 3, before=first.next))
    assert second == SearchPage(second.entries, None)
    assert texts(second) == ["deploy 0"]


def test_sqlite_search_filters_sender_whatever_its_case(opened):
    sqlite_say(opened, "#a", "deploy", sender="Ölaf")
    sqlite_say(opened, "#a", "deploy", sender="ann")
    opened.flush()
    page = result(opened.store.search(["#a"], query("deploy", senderKey="ölaf"), 9))
    assert [entry.sender for entry in page.entries] == ["Ölaf"]


def test_sqlite_search_filters_times(opened):
    sqlite_say(opened, "#a", "deploy early", time=100.0)
    sqlite_say(opened, "#a", "deploy late", time=900.0)
    opened.flush()
    page = result(opened.store.search(["#a"], query("deploy", until=900.0), 9))
    assert texts(page) == ["deploy early"]
    page = result(opened.store.search(["#a"], query("deploy", since=900.0), 9))
    assert texts(page) == ["deploy late"]


def test_sqlite_trimmed_lines_leave_the_index(opened):
    sqlite_say(opened, "#a", "deploy old", time=0.0)
    sqlite_say(opened, "#a", "deploy new")
    opened.flush()
    opened.store.keepSeconds = 10.0
    result(opened.store._trim())
    assert texts(result(opened.store.search(["#a"], query("deploy"), 9))) == [
        "deploy new"
    ]
    connection = sqlite3.connect(opened.store.path)
    (count,) = connection.execute(
        "SELECT count(*) FROM history_fts WHERE history_fts MATCH 'deploy'"
    ).fetchone()
    connection.close()
    assert count == 1


def test_a_file_of_schema_2_is_indexed_when_opened(tmp_path):
    path = tmp_path / "chat.db"
    connection = sqlite3.connect(path)
    from chatserver.history import sqlite

    for statement in (*sqlite._SCHEMA_1, sqlite._SCHEMA_2):
        connection.execute(statement)
    connection.execute(
        "INSERT INTO history VALUES (7, '#a', '#a', 0, 'message', 'ann', 'older café')"
    )
    connection.execute("PRAGMA user_version=2")
    connection.commit()
    connection.close()
    opened = Opened(path).start()
    page = result(opened.store.search(["#a"], query("cafe"), 9))
    assert [entry.id for entry in page.entries] == [7]
    opened.stop()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(words=st.text(min_size=1, max_size=40))
def test_sqlite_search_never_fails_whatever_the_words(opened, words):
    page = result(opened.store.search(["#a"], query(words), 9))
    assert isinstance(page, SearchPage)


# The same words found by FTS5 and by the scan: a small alphabet of letters
# with and without accents, and FTS5's own syntax.
_alphabet = st.sampled_from(list('aAéEb ÉÀàc"*-:()^'))


@settings(max_examples=60, deadline=None)
@given(
    text=st.text(_alphabet, min_size=1, max_size=12),
    words=st.text(_alphabet, min_size=1, max_size=8),
)
def test_sqlite_and_the_scan_find_the_same_lines(text, words):
    wanted = query(words)
    if not wanted.terms:
        return
    connection = sqlite3.connect(":memory:")
    connection.execute(
        "CREATE VIRTUAL TABLE t USING fts5(x, tokenize='unicode61 remove_diacritics 2')"
    )
    connection.execute("INSERT INTO t VALUES (?)", (text,))
    found = connection.execute(
        "SELECT count(*) FROM t WHERE t MATCH ?", (fts_query(wanted.terms),)
    ).fetchone() == (1,)
    connection.close()
    assert found == wanted.matchesText(text)


# Redis


def stream_entry(id, text, time=100.0):
    return [
        f"{id}-0",
        ["r", "#Dev", "k", "message", "s", "bob", "x", text, "t", repr(time)],
    ]


class FakeStreams:
    """
    A link answering C{XREVRANGE} from lists of entries per stream.
    """

    def __init__(self, streams=None, error=None):
        self.streams = streams or {}
        self.error = error
        self.commands = []

    def execute(self, *args, timeout=True):
        self.commands.append(args)
        if self.error is not None:
            return fail(self.error)
        _, stream, high, _, _, count = args
        entries = self.streams.get(stream, [])
        if high != "+":
            below = int(high[1:].partition("-")[0])
            entries = [e for e in entries if int(e[0].partition("-")[0]) < below]
        return succeed(entries[:count])


def redis_store(link, now=200.0):
    clock = Clock()
    clock.advance(now)
    return RedisHistory(link, keepSeconds=150.0, clock=clock)


def test_redis_search_reads_the_room_streams_newest_first():
    link = FakeStreams(
        {
            "chat:room:#a:lines": [stream_entry(9, "deploy a"), stream_entry(3, "x")],
            "chat:room:#b:lines": [
                stream_entry(7, "deploy b"),
                stream_entry(5, "deploy"),
            ],
        }
    )
    page = outcome(redis_store(link).search(["#a", "#b"], query("deploy"), 2))
    assert texts(page) == ["deploy a", "deploy b"]
    assert page.next == 7


def test_redis_search_stops_at_its_budget_and_goes_on_below(monkeypatch):
    monkeypatch.setattr("chatserver.history.redis.SCAN_LIMIT", 1)
    lines = [stream_entry(n, "other") for n in range(2 * SCAN_CHUNK, 0, -1)]
    lines[-1] = stream_entry(1, "deploy")
    link = FakeStreams({"chat:room:#a:lines": lines})
    history = redis_store(link)
    page = outcome(history.search(["#a"], query("deploy"), 5))
    assert page == SearchPage((), SCAN_CHUNK + 1)
    page = outcome(history.search(["#a"], query("deploy"), 5, before=page.next))
    assert texts(page) == ["deploy"]


def test_redis_search_when_redis_is_away_is_history_unavailable():
    link = FakeStreams(error=RedisError("no connection to Redis"))
    with pytest.raises(HistoryUnavailable, match="cannot be read"):
        outcome(redis_store(link).search(["#a"], query("deploy"), 5))


def test_no_history_cannot_be_searched():
    failure = result(NoHistory().search(["#a"], query("x"), 5))
    assert failure.check(HistoryUnavailable)
    assert "--history none" in failure.getErrorMessage()
