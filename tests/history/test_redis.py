"""
A cluster's history store, reading room streams through a link of the
tests' own that answers as Redis would (the real Redis is in
tests/integration/test_cluster.py).
"""

from __future__ import annotations

import pytest
from twisted.internet.defer import fail, succeed
from twisted.internet.task import Clock

from chatserver.cluster.link import RedisError
from chatserver.history.redis import RedisHistory
from chatserver.history.store import HistoryEntry, HistoryUnavailable
from tests.core.fakes import outcome


def entry(id: int, text: str, time: float = 100.0) -> list[object]:
    return [
        f"{id}-0",
        ["r", "#Dev", "k", "message", "s", "bob", "x", text, "t", repr(time)],
    ]


class FakeLink:
    def __init__(self, reply: object) -> None:
        self.reply = reply
        self.commands: list[tuple[object, ...]] = []

    def execute(self, *args: object, timeout: bool = True):
        self.commands.append(args)
        if isinstance(self.reply, Exception):
            return fail(self.reply)
        return succeed(self.reply)


def store(reply: object, now: float = 200.0) -> tuple[RedisHistory, FakeLink]:
    link = FakeLink(reply)
    clock = Clock()
    clock.advance(now)
    return RedisHistory(link, keepSeconds=150.0, clock=clock), link  # type: ignore[arg-type]


def test_the_last_lines_are_read_newest_first_and_given_oldest_first():
    history, link = store([entry(9, "b"), entry(4, "a")])
    assert outcome(history.query("#dev", 2)) == [
        HistoryEntry(4, "#Dev", 100.0, "message", "bob", "a"),
        HistoryEntry(9, "#Dev", 100.0, "message", "bob", "b"),
    ]
    assert link.commands == [
        ("XREVRANGE", "chat:room:#dev:lines", "+", "-", "COUNT", 2)
    ]


def test_pages_use_exclusive_ids_both_ways():
    history, link = store([])
    outcome(history.query("#dev", 5, before=9))
    outcome(history.query("#dev", 5, after=4))
    outcome(history.query("#dev", 500, before=9, after=4))
    assert link.commands == [
        ("XREVRANGE", "chat:room:#dev:lines", "(9-0", "-", "COUNT", 5),
        ("XRANGE", "chat:room:#dev:lines", "(4-0", "+", "COUNT", 5),
        ("XRANGE", "chat:room:#dev:lines", "(4-0", "(9-0", "COUNT", 200),
    ]


def test_lines_older_than_the_keeping_time_are_left_out():
    history, _ = store([entry(9, "new", 100.0), entry(4, "old", 10.0)])
    assert [e.text for e in outcome(history.query("#dev", 10))] == ["new"]


def test_a_redis_that_cannot_be_reached_is_history_unavailable():
    history, _ = store(RedisError("no connection to Redis redis://r:6379/0"))
    with pytest.raises(HistoryUnavailable, match="cannot be read: no connection"):
        outcome(history.query("#dev", 10))
