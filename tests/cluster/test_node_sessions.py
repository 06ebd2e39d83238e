"""
A node of a cluster (its scripts answered by the test) with an account
whose sessions are on several nodes: the claim of an account online
elsewhere, the presence stream's sessions and joins, and its inbox's
private lines, session ends and read markers.
"""

from __future__ import annotations

import json

import pytest

from chatserver.cluster.messages import (
    EndSession,
    ReadMoved,
    Whisper,
    session_json,
    to_fields,
)
from chatserver.config import ChatConfig
from chatserver.core.events import Joined, Quit, ReadMarked, Renamed, Whispered
from chatserver.core.realm import ChatRealm
from chatserver.core.remote import RemoteSession
from chatwire.errors import TooManySessions
from tests.cluster.test_node import ScriptedNode
from tests.core.fakes import RecordingMind, outcome

PHONE = RemoteSession("b", "irc", "192.0.2.7:1", 1.0)


@pytest.fixture
def node() -> ScriptedNode:
    node = ScriptedNode()
    node.attach(ChatRealm(ChatConfig(), clock=node.reactor, peers=node))
    return node


def log_in_account(node, name):
    mind = RecordingMind(node.realm.clock)
    user = outcome(node.realm.claimAndLogin(name, mind, account=name))
    mind.events()
    return user, mind


def session_begun(key: str, session: str, info: RemoteSession) -> dict[str, str]:
    return {
        "t": "session",
        "node": info.node,
        "k": key,
        "s": session,
        "i": session_json(info),
    }


def test_an_account_claimed_as_online_elsewhere_is_not_told_as_leaving(node):
    carol = RecordingMind(node.realm.clock)
    outcome(node.realm.claimAndLogin("carol", carol))
    info = {"name": "alice", "node": "b", "since": 1.0, "account": "alice"}
    node.mirror.received(
        {"t": "login", "node": "b", "k": "alice", "u": json.dumps(info)}
    )
    node.mirror.received(
        {
            "t": "join",
            "node": "b",
            "room": "#lobby",
            "k": "alice",
            "n": "alice",
            "rn": "#lobby",
        }
    )
    carol.events()
    node.replies["claim"] = [1, "9-0", 1]
    alice, _ = log_in_account(node, "alice")
    assert carol.events() == []
    assert node.realm.rooms["#lobby"].members["alice"] is alice
    claim = next(ran for ran in node.ran if ran[:2] == ("claim", "alice"))
    assert claim[4] == node.realm.config.maxSessions


def test_a_guest_s_claim_asks_for_no_sessions(node):
    outcome(node.realm.claimAndLogin("carol", RecordingMind(node.realm.clock)))
    claim = next(ran for ran in node.ran if ran[0] == "claim")
    assert claim[4] == 0


def test_sessions_told_by_the_presence_stream_are_listed(node):
    alice, _ = log_in_account(node, "alice")
    node.mirror.received(session_begun("alice", "b/r/1", PHONE))
    assert [info.node for info in alice.sessionList()] == ["", "b"]
    node.mirror.received(
        {"t": "unsession", "node": "b", "k": "alice", "s": "b/r/1", "owner": "a"}
    )
    assert len(alice.sessionList()) == 1


def test_a_join_on_another_node_is_the_account_s_here(node):
    alice, mind = log_in_account(node, "alice")
    node.mirror.received(
        {
            "t": "join",
            "node": "b",
            "room": "#dev",
            "k": "alice",
            "n": "alice",
            "rn": "#dev",
        }
    )
    assert [room.name for room in alice.rooms] == ["#lobby", "#dev"]
    assert mind.events() == [Joined("#dev", "alice")]
    assert ("join", "#dev", "#dev", "alice", "alice", "a") in node.ran


def test_a_login_s_session_and_its_end_go_to_redis(node):
    alice, _ = log_in_account(node, "alice")
    login = next(ran for ran in node.ran if ran[0] == "login")
    session = node.sessions.of(alice)
    assert login[4] == session and json.loads(login[5])["node"] == "a"
    second = node.realm.login("alice", RecordingMind(node.realm.clock), account="alice")
    second.quit("Quit")
    assert (
        "session",
        "alice",
        "a",
        node.sessions.of(second) or login[4].rsplit("/", 1)[0] + "/2",
        "",
    ) in node.ran


def test_a_logout_that_left_the_account_to_nodes_gone_meanwhile_tells_it_left(node):
    carol = RecordingMind(node.realm.clock)
    outcome(node.realm.claimAndLogin("carol", carol))
    alice, _ = log_in_account(node, "alice")
    node.mirror.received(session_begun("alice", "b/r/1", PHONE))
    carol.events()
    node.replies["logout"] = 1
    alice.quit("Quit")
    assert "alice" not in node.realm.remote
    assert [type(event).__name__ for event in carol.events()] == ["Quit"]


def test_the_inbox_gives_an_echo_of_a_private_line_to_the_account_here(node):
    _alice, mind = log_in_account(node, "alice")
    echo = Whisper(
        to="alice", sender="alice", recipient="bob", text="hi", time=1.0, echo=True
    )
    node.inbox.received(to_fields(echo))
    assert mind.events() == [Whispered("alice", "bob", "hi", 1.0, echo=True)]


def test_the_inbox_ends_a_session_asked_for_on_another_node(node):
    alice, mind = log_in_account(node, "alice")
    ended = EndSession(to="alice", session=node.sessions.of(alice), reason="bye")
    node.inbox.received(to_fields(ended))
    assert mind.disconnected == ["bye"]


def test_the_inbox_tells_a_read_marker_moved_on_another_node(node):
    _alice, mind = log_in_account(node, "alice")
    moved = ReadMoved(
        to="alice", target="#lobby", shown="#lobby", id=4, stamp=2000, unread=1
    )
    node.inbox.received(to_fields(moved))
    assert mind.events() == [ReadMarked("#lobby", 4, 2000, 1)]


def test_a_read_marker_at_no_line_crosses_nodes_as_no_line(node):
    _alice, mind = log_in_account(node, "alice")
    moved = ReadMoved(
        to="alice", target="#lobby", shown="#lobby", id=0, stamp=2000, unread=3
    )
    node.inbox.received(to_fields(moved))
    assert mind.events() == [ReadMarked("#lobby", None, 2000, 3)]


def test_a_logout_that_left_the_account_to_sessions_unknown_here_knows_them(node):
    carol = RecordingMind(node.realm.clock)
    outcome(node.realm.claimAndLogin("carol", carol))
    alice, _ = log_in_account(node, "alice")
    carol.events()
    node.replies["logout"] = 2
    info = {"name": "alice", "node": "b", "since": 1.0, "account": "alice"}
    node.replies["holder"] = [json.dumps(info), [["#lobby", "#lobby"]]]
    alice.quit("Quit")
    assert node.realm.remote["alice"].node == "b"
    assert node.realm.rooms["#lobby"].remote == {"alice": "alice"}
    assert carol.events() == [Quit("alice", "Quit"), Joined("#lobby", "alice")]


def ran(node: ScriptedNode, script: str) -> list[tuple[object, ...]]:
    return [each for each in node.ran if each[0] == script]


def test_the_session_an_account_s_claim_reserved_is_the_one_its_login_tells(node):
    log_in_account(node, "alice")
    (claim,) = ran(node, "claim")
    (login,) = ran(node, "login")
    assert claim[5] == login[4] != ""


def test_one_more_session_here_is_the_one_the_cluster_reserved(node):
    alice, _ = log_in_account(node, "alice")
    mind = RecordingMind(node.realm.clock)
    outcome(node.realm.reserveAndLogin("alice", mind, "alice"))
    (reserve,) = ran(node, "reserve")
    (added,) = ran(node, "session")
    assert reserve[3] == node.realm.config.maxSessions
    assert reserve[4] == added[3] != ""
    assert len(alice.sessions) == 2


def test_one_more_session_past_the_most_of_every_node_is_refused(node):
    alice, _ = log_in_account(node, "alice")
    node.replies["reserve"] = -1
    login = node.realm.reserveAndLogin(
        "alice", RecordingMind(node.realm.clock), "alice"
    )
    with pytest.raises(TooManySessions):
        outcome(login)
    assert len(alice.sessions) == 1
    assert ran(node, "session") == []


def test_a_login_that_did_not_happen_gives_its_reservation_back(node):
    log_in_account(node, "alice")
    mind = RecordingMind(node.realm.clock)
    mind.closing = True
    login = node.realm.reserveAndLogin("alice", mind, "alice")
    login.addErrback(lambda reason: None)
    (reserve, given) = ran(node, "reserve")
    assert given == ("reserve", "alice", "a", 0, reserve[4], "")


def case_changed(node_name: str, session: str) -> dict[str, str]:
    """
    @return: The presence entry of alice's account called Alice on
        C{node_name}, by its session there C{session}.
    """
    info = {
        "name": "Alice",
        "node": node_name,
        "since": 1.0,
        "account": "alice",
        "session": session,
    }
    return {
        "t": "rename",
        "node": node_name,
        "k": "alice",
        "n": "alice",
        "nk": "alice",
        "nn": "Alice",
        "u": json.dumps(info),
        "rooms": json.dumps([["#lobby", "#lobby"]]),
    }


def test_a_change_of_case_on_another_node_renames_the_account_s_sessions_here(node):
    alice, laptop = log_in_account(node, "alice")
    carol = RecordingMind(node.realm.clock)
    outcome(node.realm.claimAndLogin("carol", carol))
    laptop.events()
    carol.events()
    node.mirror.received(case_changed("b", "b/r/1"))
    assert laptop.events() == carol.events() == [Renamed("alice", "Alice")]
    assert alice.name == "Alice"
    assert node.realm.rooms["#lobby"].names() == ("Alice", "carol")
    assert [ran for ran in node.ran if ran[0] == "rename"] == []


def test_a_change_of_case_by_another_of_the_account_s_nodes_is_shown_here(node):
    carol = RecordingMind(node.realm.clock)
    outcome(node.realm.claimAndLogin("carol", carol))
    info = {
        "name": "alice",
        "node": "b",
        "since": 1.0,
        "account": "alice",
        "session": "b/r/1",
    }
    node.mirror.received(
        {"t": "login", "node": "b", "k": "alice", "u": json.dumps(info)}
    )
    node.mirror.received(
        {
            "t": "join",
            "node": "b",
            "room": "#lobby",
            "k": "alice",
            "n": "alice",
            "rn": "#lobby",
        }
    )
    carol.events()
    # Its session on node c, which this node had not heard of yet.
    node.mirror.received(case_changed("c", "c/r/1"))
    assert carol.events() == [Renamed("alice", "Alice")]


def test_the_claim_tells_the_account_s_sessions_not_read_yet_from_the_stream(node):
    """
    The presence stream has not brought the account's session on node b
    yet when its session here logs in and ends: the claim told of it, so
    the account stays online, and nobody here is told it left.
    """
    carol = RecordingMind(node.realm.clock)
    outcome(node.realm.claimAndLogin("carol", carol))
    node.replies["claim"] = [1, "9-0", 1, ["b/r/1", session_json(PHONE)]]
    alice, _ = log_in_account(node, "alice")
    carol.events()
    node.replies["logout"] = 2
    alice.quit("Quit")
    assert carol.events() == []
    assert node.realm.remote["alice"].node == "b"
    assert node.realm.elsewhere == {"alice": {"b/r/1": PHONE}}


def test_a_claim_older_than_the_stream_read_keeps_the_stream_s_sessions(node):
    """
    A session the claim told of, but whose end this node has read from
    the presence stream after the claim's place, is over.
    """
    node.mirror.read(
        "10-0",
        {"t": "unsession", "node": "b", "k": "alice", "s": "b/r/1", "owner": "a"},
    )
    node.replies["claim"] = [1, "9-0", 1, ["b/r/1", session_json(PHONE)]]
    alice, _ = log_in_account(node, "alice")
    assert len(alice.sessionList()) == 1
