"""
The lag of each stream a node follows (C{chat_stream_lag_seconds}): how long
after Redis added the newest entry a read brought the node read it.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from twisted.internet.task import Clock

from chatserver.cluster import keys
from chatserver.cluster.following import RoomStreams


def streams_at(now: float) -> RoomStreams:
    clock = Clock()
    clock.advance(now)
    reader = SimpleNamespace(up=False)
    node: Any = SimpleNamespace(name="a", reactor=clock, reader=reader, ready=False)
    streams = RoomStreams(node)
    streams.follow("#lobby", "0-0")
    return streams


def test_a_read_gives_each_stream_the_age_of_its_newest_entry() -> None:
    streams = streams_at(1000.0)
    streams._measureLag(
        [
            [keys.PRESENCE, [["999000-0", []], ["999500-1", []]]],
            [keys.room_lines("#lobby"), [["998000-0", []]]],
        ]
    )
    assert streams.lag == {"presence": 0.5, "inbox": 0.0, "#lobby": 2.0}


def test_a_stream_a_read_brought_nothing_for_has_caught_up() -> None:
    streams = streams_at(1000.0)
    streams._measureLag([[keys.room_lines("#lobby"), [["998000-0", []]]]])
    streams._measureLag([[keys.PRESENCE, [["999999-0", []]]]])
    assert streams.lag["#lobby"] == 0.0


def test_an_entry_from_a_clock_ahead_is_no_lag() -> None:
    streams = streams_at(1000.0)
    streams._measureLag([[keys.inbox("a"), [["1001000-0", []]]]])
    assert streams.lag["inbox"] == 0.0
