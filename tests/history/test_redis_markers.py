"""
A cluster's read markers in Redis, set by the store's script in a real
C{redis-server}: a hash value C{ID STAMP} (C{-} for no line, milliseconds)
whose time and id each only ever increase, and the markers kept before
markers had their own time (C{ID SECONDS}, their line's) read and merged
to the millisecond.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from chatserver.cluster import keys
from chatserver.history import redis as history
from chatserver.state.markers import ReadMarker
from tests.integration.redis_support import RedisServer

KEY = keys.read_markers("ann")


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    yield server
    server.stop()


def set_marker(redis: RedisServer, id: str, stamp: str) -> ReadMarker:
    kept = redis.call("EVAL", history._SET_MARKER, 1, KEY, "#dev", id, stamp)
    return history._marker(kept)


def test_a_marker_at_no_line_is_kept_with_its_time(redis):
    assert set_marker(redis, "-", "1600000000123") == ReadMarker(None, 1600000000123)
    assert redis.call("HGET", KEY, "#dev") == "- 1600000000123"


def test_the_later_time_and_the_larger_id_are_kept(redis):
    set_marker(redis, "-", "9000")
    assert set_marker(redis, "5", "3000") == ReadMarker(5, 9000)
    assert set_marker(redis, "2", "1000") == ReadMarker(5, 9000)
    assert set_marker(redis, "7", "-62135596800000") == ReadMarker(7, 9000)
    assert set_marker(redis, "-", "253402300799999") == ReadMarker(7, 253402300799999)


def test_a_marker_kept_in_seconds_is_read_to_the_millisecond(redis):
    redis.call("HSET", KEY, "#dev", "41 1700000000.5004")
    assert history._marker(redis.call("HGET", KEY, "#dev")) == ReadMarker(
        41, 1700000000500
    )
    assert set_marker(redis, "40", "1700000000400") == ReadMarker(41, 1700000000500)
    assert set_marker(redis, "-", "1700000000600") == ReadMarker(41, 1700000000600)
