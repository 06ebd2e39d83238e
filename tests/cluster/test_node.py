"""
A cluster node's handling of what comes back from Redis, with the scripts'
replies given by the test: a rename event names its user by its session, so
a node that no longer knows the old name adds the new one; a line read back
names its sender by its session, so a sender renamed meanwhile is not sent
its own line; a rename the cluster refuses disconnects its user.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from twisted.internet import defer, reactor
from twisted.internet.task import Clock

from chatserver.cluster import keys
from chatserver.cluster.node import NAME_LOST, ClusterNode
from chatserver.cluster.url import RedisURL
from chatserver.config import ChatConfig
from chatserver.core.events import Joined, Quit, Renamed, Said
from chatserver.core.realm import ChatRealm
from chatserver.core.remote import RemoteUser
from tests.core.fakes import RecordingMind, outcome


class ScriptedNode(ClusterNode):
    """
    A node in the cluster whose scripts answer what the test says (1 by
    default) and are recorded; it reads no stream (its reader link is never
    up).
    """

    def __init__(self) -> None:
        # The links are never started: the reactor only builds them.
        super().__init__(RedisURL("127.0.0.1"), "a", reactor, 100)
        self.reactor = Clock()
        self.replies: dict[str, object] = {"claim": [1, "0-0", 0]}
        self.ran: list[tuple[Any, ...]] = []
        self.ready = self.connected = True

    async def script(self, name: str, *args: object) -> Any:
        self.ran.append((name, *args))
        return self.replies.get(name, 1)


@pytest.fixture
def node() -> ScriptedNode:
    node = ScriptedNode()
    realm = ChatRealm(ChatConfig(), clock=node.reactor, peers=node)
    node.attach(realm)
    return node


def log_in(node, name):
    mind = RecordingMind(node.realm.clock)
    user = outcome(node.realm.claimAndLogin(name, mind))
    mind.events()
    return user, mind


def remote(node: ScriptedNode, name: str, session: str) -> RemoteUser:
    user = RemoteUser.fromInfo(
        {"name": name, "node": "b", "since": 1.0, "session": session}
    )
    node.realm.remoteLoggedIn(user)
    node.realm.remoteJoined(node.realm.rooms["#lobby"], user)
    return user


def rename_event(old: str, new: str, session: str) -> dict[str, str]:
    info = {"name": new, "node": "b", "since": 1.0, "away": "", "session": session}
    return {
        "t": "rename",
        "node": "b",
        "k": old,
        "n": old,
        "nk": new,
        "nn": new,
        "u": json.dumps(info),
        "rooms": json.dumps([["#lobby", "#lobby"]]),
    }


def test_a_rename_of_a_user_known_by_its_old_name_renames_it(node):
    _carol, mind = log_in(node, "carol")
    remote(node, "alice", "b/r/1")
    mind.events()
    node.mirror.received(rename_event("alice", "x", "b/r/1"))
    assert mind.events() == [Renamed("alice", "x")]
    assert "x" in node.realm.remote and "alice" not in node.realm.remote


def test_a_rename_whose_old_name_is_unknown_here_adds_the_new_name(node):
    _carol, mind = log_in(node, "carol")
    # The old name was claimed here, and its holder heard to leave, before
    # the rename came.
    node.mirror.received(rename_event("alice", "x", "b/r/1"))
    assert mind.events() == [Joined("#lobby", "x")]
    assert node.realm.remote["x"].session == "b/r/1"
    assert node.realm.rooms["#lobby"].remote == {"x": "x"}


def test_a_rename_of_another_session_leaves_the_old_name_s_holder_alone(node):
    _carol, mind = log_in(node, "carol")
    holder = remote(node, "alice", "c/r/7")
    mind.events()
    node.mirror.received(rename_event("alice", "x", "b/r/1"))
    assert mind.events() == [Joined("#lobby", "x")]
    assert node.realm.remote["alice"] is holder
    assert not any(isinstance(event, Quit) for event in mind.events())


def flat(event: dict[str, str]) -> list[str]:
    return [word for field in event.items() for word in field]


def test_a_login_of_a_name_just_renamed_elsewhere_tells_the_rename_first(node):
    _carol, mind = log_in(node, "carol")
    remote(node, "alice", "b/r/1")
    mind.events()
    node.mirror.at = "4-0"
    # Node b renamed alice to x (entry 5), then this node claimed alice.
    node.replies["claim"] = [1, "5-0", 0]
    login = node.realm.claimAndLogin("alice", RecordingMind(node.realm.clock))
    assert "alice" not in [user.name for user in node.realm.users()]
    node.streams.gotRead(
        [[keys.PRESENCE, [["5-0", flat(rename_event("alice", "x", "b/r/1"))]]]]
    )
    assert outcome(login).name == "alice"
    assert mind.events() == [Renamed("alice", "x"), Joined("#lobby", "alice")]
    assert node.realm.remote["x"].session == "b/r/1"


def test_a_login_whose_news_does_not_come_in_time_says_the_old_holder_left(node):
    _carol, mind = log_in(node, "carol")
    remote(node, "alice", "b/r/1")
    mind.events()
    node.replies["claim"] = [1, "5-0", 0]
    login = node.realm.claimAndLogin("alice", RecordingMind(node.realm.clock))
    node.reactor.advance(5)
    assert outcome(login).name == "alice"
    assert mind.events() == [Quit("alice", "Quit"), Joined("#lobby", "alice")]


def test_a_line_renamed_after_it_was_sent_is_not_sent_back_to_its_sender(node):
    alice, aliceMind = log_in(node, "alice")
    _carol, carolMind = log_in(node, "carol")
    aliceMind.events()
    alice.say("hello")
    outcome(node.realm.rename(alice, "x"))
    aliceMind.events()
    carolMind.events()
    (line,) = [args for args in node.ran if args[0] == "line"]
    fields = {
        "r": "#lobby",
        "k": line[7],
        "s": line[8],
        "x": line[9],
        "t": "1.0",
        "n": line[10],
        "g": line[11],
        "o": "a",
        "q": str(line[5]),
        "u": line[13],
    }
    node.streams.line("#lobby", "5-0", fields)
    assert aliceMind.events() == []
    assert carolMind.events() == [Said("#lobby", "alice", "hello", 5, 1.0)]


def test_a_rename_the_cluster_refuses_disconnects_its_user(node):
    alice, mind = log_in(node, "alice")
    node.replies["rename"] = 0
    outcome(node.realm.rename(alice, "x"))
    assert mind.disconnected == [NAME_LOST]


def login_event(name: str) -> dict[str, str]:
    info = {"name": name, "node": "b", "since": 1.0, "away": "", "session": "b/r/9"}
    return {"t": "login", "node": "b", "k": name, "u": json.dumps(info)}


def test_a_malformed_presence_entry_is_skipped_and_the_next_ones_read(node):
    broken = {"t": "login", "node": "b", "k": "bob"}
    node.streams.gotRead(
        [
            [
                keys.PRESENCE,
                [
                    ["1-0", flat(broken)],
                    ["2-0", flat({"t": "shout", "node": "b"})],
                    ["3-0", flat(login_event("dave"))],
                ],
            ]
        ]
    )
    assert node.realm.remote["dave"].session == "b/r/9"
    assert node.mirror.at == "3-0"


def test_a_malformed_user_or_room_in_the_snapshot_is_skipped(node):
    _carol, mind = log_in(node, "carol")
    dave = login_event("dave")["u"]
    room = json.dumps({"name": "#lobby", "topic": "hi", "setter": "dave", "time": 2})
    node.replies["snapshot"] = [
        "7-0",
        ["bob", '{"name": 1}', "dave", dave],
        ["#lobby", room, "#dev", "[]"],
        [["#lobby", ["dave", "dave", "bob", "bob"]], ["#dev", ["dave", "dave"]]],
        [],
    ]
    outcome(defer.ensureDeferred(node.mirror.takeSnapshot()))
    assert sorted(node.realm.remote) == ["dave"]
    assert node.realm.rooms["#lobby"].remote == {"dave": "dave"}
    assert node.realm.rooms["#lobby"].topic == "hi"
    assert "#dev" not in node.realm.rooms
    assert mind.events() == [Joined("#lobby", "dave")]
