"""
The cluster's Lua scripts run by a real C{redis-server}: a node changes only
what is its own in Redis (a node taken for dead cannot take a name's rooms
from the node that has the name now), and the streams of rooms that are gone
are kept no longer than C{--history-keep}.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from chatserver.cluster import keys
from chatserver.cluster.scripts import SCRIPTS
from tests.integration.redis_support import RedisServer

KEEP = 3600


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    yield server
    server.stop()


def run(redis: RedisServer, script: str, *args: object) -> object:
    return redis.call("EVAL", SCRIPTS[script], 0, keys.PREFIX, *args)


def user(name: str, node: str, session: str = "") -> str:
    return json.dumps(
        {"name": name, "node": node, "since": 1.0, "away": "", "session": session}
    )


def log_in(redis: RedisServer, name: str, node: str, room: str = "#lobby") -> None:
    assert run(redis, "claim", name, node, user(name, node))[0] == 1  # type: ignore[index]
    assert run(redis, "login", name, node, user(name, node)) == 1
    run(redis, "join", room, room, name, name, node)


def line(redis: RedisServer, node: str, seq: int, sender: str, text: str) -> object:
    return run(
        redis,
        "line",
        "#lobby",
        100,
        node,
        "run1",
        seq,
        "#lobby",
        "message",
        sender,
        text,
        "0",
        "[]",
        sender,
        f"{node}/run1/1",
    )


def presence(redis: RedisServer) -> list[dict[str, str]]:
    entries = redis.call("XRANGE", keys.PRESENCE, "-", "+")
    assert isinstance(entries, list)
    return [dict(zip(flat[::2], flat[1::2], strict=True)) for _, flat in entries]


@pytest.fixture
def taken_over(redis: RedisServer) -> RedisServer:
    """
    Node a had alice; a was reaped (taken for dead) and alice logged in on
    node b.
    """
    run(redis, "hello", "epoch", 0, KEEP)
    log_in(redis, "alice", "a")
    run(redis, "goodbye", "a")
    log_in(redis, "alice", "b")
    return redis


def test_a_rename_by_a_node_that_lost_the_old_name_changes_nothing(taken_over):
    redis = taken_over
    before = presence(redis)
    assert run(redis, "claim", "x", "a", user("x", "a"))[0] == 1  # type: ignore[index]
    assert run(redis, "rename", "alice", "x", "a", "alice", user("x", "a")) == 0
    assert redis.call("HGET", "chat:room:#lobby:members", "alice") == "alice"
    assert redis.call("HEXISTS", "chat:room:#lobby:members", "x") == 0
    assert redis.call("SMEMBERS", "chat:user:alice:rooms") == ["#lobby"]
    assert json.loads(str(redis.call("HGET", "chat:users", "alice")))["node"] == "b"
    assert presence(redis) == before


def test_part_and_away_by_a_node_that_lost_the_name_change_nothing(taken_over):
    redis = taken_over
    assert run(redis, "part", "#lobby", "alice", "alice", "a", "Part") == 0
    assert run(redis, "away", "alice", "a", user("alice", "a")) == 0
    assert redis.call("HGET", "chat:room:#lobby:members", "alice") == "alice"


def test_a_line_of_a_name_another_node_has_now_is_refused(taken_over):
    redis = taken_over
    assert line(redis, "a", 1, "alice", "not me") == 0
    assert redis.call("XLEN", "chat:room:#lobby:lines") == 0
    assert line(redis, "b", 1, "alice", "me") == 1


def test_a_rename_event_carries_the_user_and_its_rooms(redis):
    log_in(redis, "alice", "a")
    assert run(redis, "claim", "x", "a", user("x", "a"))[0] == 1  # type: ignore[index]
    assert run(redis, "rename", "alice", "x", "a", "alice", user("x", "a", "s1")) == 1
    event = presence(redis)[-1]
    assert event["t"] == "rename"
    assert json.loads(event["u"])["session"] == "s1"
    assert json.loads(event["rooms"]) == [["#lobby", "#lobby"]]


def test_a_line_carries_its_sender_s_session(redis):
    log_in(redis, "alice", "a")
    line(redis, "a", 1, "alice", "hi")
    entries = redis.call("XRANGE", "chat:room:#lobby:lines", "-", "+")
    assert isinstance(entries, list)
    fields = entries[0][1]
    assert fields[fields.index("u") + 1] == "a/run1/1"


def test_the_stream_of_a_room_nobody_is_in_expires_after_history_keep(redis):
    run(redis, "hello", "epoch", 0, KEEP)
    log_in(redis, "alice", "a")
    line(redis, "a", 1, "alice", "hi")
    assert redis.call("TTL", "chat:room:#lobby:lines") == -1
    run(redis, "logout", "alice", "a", "alice", "Quit")
    assert 0 < int(str(redis.call("TTL", "chat:room:#lobby:lines"))) <= KEEP
    # A room used again is kept again.
    log_in(redis, "bob", "a")
    assert redis.call("TTL", "chat:room:#lobby:lines") == -1


def test_a_node_reaped_takes_the_streams_of_its_rooms_with_it(redis):
    run(redis, "hello", "epoch", 0, KEEP)
    log_in(redis, "alice", "a", "#gone")
    redis.call("XADD", "chat:room:#gone:lines", "1-0", "t", "1000.0", "x", "hi")
    run(redis, "goodbye", "a")
    assert int(str(redis.call("TTL", "chat:room:#gone:lines"))) > 0


def test_lines_older_than_history_keep_leave_as_lines_are_added(redis):
    run(redis, "hello", "epoch", 0, KEEP)
    log_in(redis, "alice", "a")
    redis.call("XADD", "chat:room:#lobby:lines", "1-0", "t", "1000.0", "x", "old")
    redis.call("XADD", "chat:room:#lobby:lines", "2-0", "t", "1001.0", "x", "old")
    line(redis, "a", 1, "alice", "new")
    entries = redis.call("XRANGE", "chat:room:#lobby:lines", "-", "+")
    assert isinstance(entries, list)
    assert [fields[fields.index("x") + 1] for _, fields in entries] == ["new"]


def test_a_line_sent_late_to_a_room_that_is_gone_expires_with_it(redis):
    run(redis, "hello", "epoch", 0, KEEP)
    log_in(redis, "alice", "a")
    run(redis, "logout", "alice", "a", "alice", "Quit")
    redis.call("DEL", "chat:room:#lobby:lines")
    # Kept while Redis was away, sent once it is back.
    line(redis, "a", 1, "alice", "late")
    assert 0 < int(str(redis.call("TTL", "chat:room:#lobby:lines"))) <= KEEP


def test_the_first_member_to_make_a_room_is_its_maker_and_nobody_after(redis):
    log_in(redis, "bob", "b", "#dev")
    log_in(redis, "alice", "a", "#dev")
    assert run(redis, "maker", "#dev", "bob", "b") == 1
    assert run(redis, "maker", "#dev", "alice", "a") == 0


def test_a_room_that_had_no_member_left_may_be_made_again(redis):
    log_in(redis, "bob", "b", "#dev")
    assert run(redis, "maker", "#dev", "bob", "b") == 1
    run(redis, "part", "#dev", "bob", "bob", "b", "Part")
    log_in(redis, "alice", "a", "#dev")
    assert run(redis, "maker", "#dev", "alice", "a") == 1


def test_a_node_cannot_make_a_room_for_a_name_it_does_not_hold(redis):
    log_in(redis, "bob", "b", "#dev")
    assert run(redis, "maker", "#dev", "bob", "a") == 0


def test_an_ended_ban_is_forgotten_once_and_a_newer_one_is_kept(redis):
    redis.call("HSET", "chat:moderation", "f", "old")
    assert run(redis, "expire", "f", "old") == 1
    assert run(redis, "expire", "f", "old") == 0
    redis.call("HSET", "chat:moderation", "f", "new")
    assert run(redis, "expire", "f", "old") == 0
    assert redis.call("HGET", "chat:moderation", "f") == "new"
