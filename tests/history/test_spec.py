"""
The C{--history} option's values, and the stores they make.
"""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.task import Clock

from chatserver.history.memory import MemoryHistory
from chatserver.history.none import NoHistory
from chatserver.history.spec import (
    DEFAULT_HISTORY,
    HistorySpec,
    make_store,
    parse_history,
)
from chatserver.history.sqlite import SQLiteHistory
from chatserver.history.store import MESSAGE
from tests.history.support import result


def test_the_three_kinds():
    assert parse_history("memory") == DEFAULT_HISTORY == HistorySpec("memory")
    assert parse_history("none") == HistorySpec("none")
    assert parse_history("sqlite:chat.db") == HistorySpec("sqlite", "chat.db")
    assert parse_history("sqlite:/var/a:b.db").path == "/var/a:b.db"


@pytest.mark.parametrize(
    "text", ["", "Memory", "memory:", "redis", "sqlite", "sqlite:", " none", "x:y"]
)
def test_nonsense_is_refused(text):
    with pytest.raises(ValueError) as raised:
        parse_history(text)
    assert repr(text) in str(raised.value)
    assert "\n" not in str(raised.value)


@given(st.text())
def test_any_text_is_read_or_refused(text):
    try:
        spec = parse_history(text)
    except ValueError as error:
        assert str(error).startswith(repr(text))
    else:
        assert str(spec) == text
        assert parse_history(str(spec)) == spec


@given(st.text(min_size=1).filter(lambda path: "\0" not in path))
def test_any_file_name(path):
    spec = parse_history("sqlite:" + path)
    assert spec == HistorySpec("sqlite", path)


def test_make_store(tmp_path):
    clock = Clock()
    memory = make_store(HistorySpec("memory"), 5, 60.0, clock)
    assert isinstance(memory, MemoryHistory)
    assert (memory.maxPerRoom, memory.keepSeconds) == (5, 60.0)
    bounded = make_store(HistorySpec("memory"), 5, 60.0, clock, maxMemory=4096)
    assert isinstance(bounded, MemoryHistory) and bounded.maxBytes == 4096
    path = str(tmp_path / "chat.db")
    sqlite = make_store(HistorySpec("sqlite", path), 7, 30.0, clock)
    assert isinstance(sqlite, SQLiteHistory)
    assert (sqlite.path, sqlite.maxPerRoom, sqlite.keepSeconds) == (path, 7, 30.0)
    assert isinstance(make_store(HistorySpec("none"), 5, 60.0), NoHistory)


def test_no_history_keeps_nothing():
    store = make_store(HistorySpec("none"), 5, 60.0)
    assert result(store.start()) is None
    ids = [
        store.append("#a", room="#a", kind=MESSAGE, sender="ann", text="hi", time=0)
        for _ in range(3)
    ]
    assert [entry.id for entry in ids] == [1, 2, 3]
    assert ids[0].text == "hi"
    assert result(store.query("#a", 10)) == []
    assert result(store.stop()) is None
