"""
The cluster's scripts for an account with sessions on several nodes, run by
a real C{redis-server}: its name is held by every node with a session (a
guest's by one), C{--max-sessions} counts every node's sessions, and it
leaves the chat only with its last node.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from chatserver.cluster import keys
from tests.cluster.test_scripts import presence, run
from tests.integration.redis_support import RedisServer

MOST = 3


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    yield server
    server.stop()


def account(name: str, node: str) -> str:
    return json.dumps({"name": name, "node": node, "since": 1.0, "account": name})


def session(node: str) -> str:
    return json.dumps(
        {"node": node, "door": "line", "peer": "127.0.0.1:1", "since": 2.0}
    )


def on(redis: RedisServer, node: str, name: str = "alice", most: int = MOST) -> object:
    """
    Log the account C{name} in on C{node} (its first session there).

    @return: What the claim answered.
    """
    claimed = run(redis, "claim", name, node, account(name, node), most)
    if isinstance(claimed, list):
        run(
            redis,
            "login",
            name,
            node,
            account(name, node),
            f"{node}/r/1",
            session(node),
        )
        run(redis, "join", "#lobby", "#lobby", name, name, node)
    return claimed


def kinds(redis: RedisServer) -> list[tuple[str, str]]:
    return [(entry["t"], entry["node"]) for entry in presence(redis)]


def test_an_account_online_on_a_node_is_claimed_by_another_as_shared(redis):
    assert on(redis, "a")[2] == 0  # type: ignore[index]
    assert on(redis, "b")[2] == 1  # type: ignore[index]
    assert sorted(redis.call("SMEMBERS", keys.PREFIX + "user:alice:nodes")) == [
        "a",
        "b",
    ]


def test_the_shared_claim_answers_the_account_s_sessions_on_other_nodes(redis):
    on(redis, "a")
    claimed = run(redis, "claim", "alice", "b", account("alice", "b"), MOST)
    assert claimed[3] == ["a/r/1", session("a")]  # type: ignore[index]


def test_a_guest_s_name_stays_one_node_s(redis):
    guest = json.dumps({"name": "carol", "node": "a", "since": 1.0})
    assert run(redis, "claim", "carol", "a", guest, 0)[0] == 1  # type: ignore[index]
    assert run(redis, "claim", "carol", "b", guest, MOST) == 0
    assert run(redis, "claim", "carol", "b", guest, 0) == 0


def test_the_second_node_s_login_and_join_announce_only_its_session(redis):
    on(redis, "a")
    before = len(presence(redis))
    on(redis, "b")
    assert kinds(redis)[before:] == [("session", "b")]


def test_max_sessions_counts_the_sessions_of_every_node(redis):
    on(redis, "a", most=2)
    run(redis, "session", "alice", "a", "a/r/2", session("a"))
    assert on(redis, "b", most=2) == -1


def test_the_first_node_to_leave_ends_only_its_sessions(redis):
    on(redis, "a")
    on(redis, "b")
    before = len(presence(redis))
    assert run(redis, "logout", "alice", "a", "alice", "Quit") == 2
    assert presence(redis)[before:] == [
        {"t": "unsession", "node": "a", "k": "alice", "s": "a/r/1", "owner": "b"}
    ]
    members = redis.call("HGETALL", keys.PREFIX + "room:#lobby:members")
    assert members == ["alice", "alice"]
    assert json.loads(redis.call("HGET", keys.PREFIX + "users", "alice"))["node"] == "b"


def test_the_last_node_to_leave_logs_the_account_out(redis):
    on(redis, "a")
    on(redis, "b")
    run(redis, "logout", "alice", "a", "alice", "Quit")
    assert run(redis, "logout", "alice", "b", "alice", "Quit") == 1
    assert kinds(redis)[-1] == ("logout", "b")
    assert redis.call("HGET", keys.PREFIX + "users", "alice") is None
    assert redis.call("EXISTS", keys.PREFIX + "user:alice:sessions") == 0


def test_a_join_of_a_member_already_in_the_room_is_not_announced(redis):
    on(redis, "a")
    on(redis, "b")
    assert [kind for kind, _ in kinds(redis)].count("join") == 1


def test_a_part_of_a_member_that_left_on_another_node_changes_nothing(redis):
    on(redis, "a")
    on(redis, "b")
    assert run(redis, "part", "#lobby", "alice", "alice", "a", "Part") == 1
    assert run(redis, "part", "#lobby", "alice", "alice", "b", "Part") == 0
    assert [kind for kind, _ in kinds(redis)].count("part") == 1


def test_a_node_reaped_leaves_the_account_to_the_other(redis):
    on(redis, "a")
    on(redis, "b")
    run(redis, "goodbye", "a")
    assert ("lost", "a") not in kinds(redis)
    assert kinds(redis)[-1] == ("unsession", "a")
    sessions = redis.call("HKEYS", keys.PREFIX + "user:alice:sessions")
    assert sessions == ["b/r/1"]
    run(redis, "goodbye", "b")
    assert kinds(redis)[-1] == ("lost", "b")


def test_the_snapshot_holds_every_account_s_sessions(redis):
    on(redis, "a")
    on(redis, "b")
    sessions = run(redis, "snapshot")[4]  # type: ignore[index]
    assert sessions[0][0] == "alice"
    assert sorted(sessions[0][1][::2]) == ["a/r/1", "b/r/1"]


def test_a_change_of_case_of_an_account_s_name_on_its_second_node_is_made(redis):
    on(redis, "a")
    on(redis, "b")
    assert (
        run(redis, "rename", "alice", "alice", "b", "alice", account("Alice", "b")) == 1
    )


def claim(redis: RedisServer, node: str, most: int = 1) -> object:
    """
    Claim alice's account on C{node} for a login, its session reserved.
    """
    return run(
        redis,
        "claim",
        "alice",
        node,
        account("alice", node),
        most,
        f"{node}/r/1",
        session(node),
    )


def test_of_two_claims_at_once_on_two_nodes_past_the_most_one_is_refused(redis):
    # Neither login has told its session yet: the claims reserve them.
    assert isinstance(claim(redis, "a"), list)
    assert claim(redis, "b") == -1


def test_a_claim_reserves_its_session_without_announcing_it(redis):
    claim(redis, "a")
    sessions = redis.call("HKEYS", keys.PREFIX + "user:alice:sessions")
    assert sessions == ["a/r/1"]
    assert presence(redis) == []


def test_a_reservation_given_back_frees_its_place(redis):
    claim(redis, "a", most=2)
    assert run(redis, "reserve", "alice", "a", 2, "a/r/2", session("a")) == 1
    assert claim(redis, "b", most=2) == -1
    assert run(redis, "reserve", "alice", "a", 0, "a/r/2", "") == 1
    assert isinstance(claim(redis, "b", most=2), list)


def test_one_more_session_on_a_node_is_refused_past_the_most_of_every_node(redis):
    claim(redis, "a", most=2)
    claim(redis, "b", most=2)
    assert run(redis, "reserve", "alice", "a", 2, "a/r/2", session("a")) == -1


def test_a_reservation_of_a_node_that_does_not_hold_the_account_is_refused(redis):
    claim(redis, "a", most=2)
    assert run(redis, "reserve", "alice", "b", 2, "b/r/1", session("b")) == 0


def test_a_claim_given_up_takes_its_reservation_with_it(redis):
    claim(redis, "a", most=2)
    claim(redis, "b", most=2)
    run(redis, "unclaim", "alice", "b")
    sessions = redis.call("HKEYS", keys.PREFIX + "user:alice:sessions")
    assert sessions == ["a/r/1"]


def test_a_reaped_node_s_reservations_go_with_it(redis):
    claim(redis, "a", most=2)
    claim(redis, "b", most=2)
    run(redis, "goodbye", "b")
    sessions = redis.call("HKEYS", keys.PREFIX + "user:alice:sessions")
    assert sessions == ["a/r/1"]


def test_a_reservation_given_back_is_told_as_a_session_that_ended(redis):
    # A node whose snapshot held the reservation forgets it.
    claim(redis, "a", most=2)
    run(redis, "reserve", "alice", "a", 2, "a/r/2", session("a"))
    run(redis, "reserve", "alice", "a", 0, "a/r/2", "")
    assert presence(redis) == [
        {"t": "unsession", "node": "a", "k": "alice", "s": "a/r/2", "owner": "a"}
    ]
