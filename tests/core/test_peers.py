"""
The realm as a node of a cluster, with peers of the tests' own: names are
claimed before they are used, room lines go out to the cluster and reach
the room when they come back, private lines to users of other nodes go to
their node, and rooms count their members on other nodes.
"""

from __future__ import annotations

import pytest
from twisted.internet.defer import Deferred, succeed
from twisted.internet.task import Clock

from chatserver.config import ChatConfig
from chatserver.core.events import Said, TopicChanged, Whispered
from chatserver.core.realm import ChatRealm
from chatserver.core.remote import RemoteUser
from chatserver.core.rooms import Room
from chatserver.history.store import MESSAGE, TOPIC, HistoryEntry
from chatwire.errors import ClusterUnavailable, LoginAbandoned, NameTaken
from tests.core.fakes import RecordingMind, outcome


class FakePeers:
    """
    Peers that record what the realm tells them; each claim waits for the
    test to answer it.
    """

    def __init__(self) -> None:
        self.claims: dict[str, Deferred[bool]] = {}
        self.told: list[tuple[object, ...]] = []

    def claim(self, name: str) -> Deferred[bool]:
        self.claims[name] = Deferred()
        return self.claims[name]

    def release(self, name: str) -> None:
        self.told.append(("release", name))

    def loggedIn(self, user):
        self.told.append(("loggedIn", user.name))

    def loggedOut(self, user, rooms, reason):
        self.told.append(("loggedOut", user.name, tuple(r.name for r in rooms), reason))

    def renamed(self, user, oldName):
        self.told.append(("renamed", oldName, user.name))

    def joined(self, user, room):
        self.told.append(("joined", user.name, room.name))

    def parted(self, user, room, reason):
        self.told.append(("parted", user.name, room.name, reason))

    def away(self, user):
        self.told.append(("away", user.name, user.away))

    def publish(self, room, kind, sender, text, *, notice, tags):
        self.told.append(("publish", room.name, kind, sender.name, text))

    def whisper(self, sender, recipient, text, *, notice, action, tags):
        self.told.append(("whisper", sender.name, recipient.name, text))

    def kick(self, recipient, reason):
        self.told.append(("kick", recipient.name, reason))

    def historyMark(self, room: Room) -> Deferred[int | None]:
        return succeed(None)

    def take(self) -> list[tuple[object, ...]]:
        told, self.told = self.told, []
        return told


@pytest.fixture
def peers() -> FakePeers:
    return FakePeers()


@pytest.fixture
def chat(peers: FakePeers) -> ChatRealm:
    return ChatRealm(ChatConfig(), clock=Clock(), peers=peers)


def log_in(chat, peers, name):
    mind = RecordingMind(chat.clock)
    login = chat.claimAndLogin(name, mind)
    peers.claims[name].callback(True)
    user = outcome(login)
    mind.events()
    return user, mind


def test_a_login_waits_for_the_claim_of_its_name(chat, peers):
    login = chat.claimAndLogin("alice", RecordingMind(chat.clock))
    assert "alice" not in chat
    peers.claims["alice"].callback(True)
    assert outcome(login).name == "alice"
    assert peers.take() == [("loggedIn", "alice"), ("joined", "alice", "#lobby")]


def test_a_name_claimed_elsewhere_is_taken(chat, peers):
    login = chat.claimAndLogin("alice", RecordingMind(chat.clock))
    peers.claims["alice"].callback(False)
    with pytest.raises(NameTaken):
        outcome(login)
    assert "alice" not in chat


def test_a_name_being_claimed_here_is_taken_at_once(chat, peers):
    chat.claimAndLogin("alice", RecordingMind(chat.clock))
    with pytest.raises(NameTaken):
        outcome(chat.claimAndLogin("ALICE", RecordingMind(chat.clock)))


def test_a_claim_that_cannot_be_made_says_why(chat, peers):
    login = chat.claimAndLogin("alice", RecordingMind(chat.clock))
    peers.claims["alice"].errback(ClusterUnavailable())
    with pytest.raises(ClusterUnavailable):
        outcome(login)
    # The name is not held here either.
    chat.claimAndLogin("alice", RecordingMind(chat.clock))


def test_a_session_gone_while_its_name_is_claimed_gives_the_name_back(chat, peers):
    mind = RecordingMind(chat.clock)
    login = chat.claimAndLogin("alice", mind)
    mind.closing = True  # type: ignore[attr-defined]
    peers.claims["alice"].callback(True)
    with pytest.raises(LoginAbandoned):
        outcome(login)
    assert "alice" not in chat
    assert peers.take() == [("release", "alice")]


def test_a_room_line_goes_to_the_cluster_and_reaches_the_room_when_it_comes_back(
    chat, peers
):
    alice, _ = log_in(chat, peers, "alice")
    _bob, bobMind = log_in(chat, peers, "bob")
    peers.take()
    assert alice.say("hi") is None
    assert peers.take() == [("publish", "#lobby", MESSAGE, "alice", "hi")]
    assert bobMind.events() == []
    entry = HistoryEntry(42, "#lobby", 1000.0, MESSAGE, "alice", "hi")
    chat.heard(alice.current, entry, sender=alice)
    assert bobMind.events() == [Said("#lobby", "alice", "hi", 42, 1000.0)]


def test_a_topic_comes_back_to_set_the_room_s_topic(chat, peers):
    alice, aliceMind = log_in(chat, peers, "alice")
    alice.setTopic("ship it")
    room = alice.current
    assert room.topic == ""
    chat.heard(room, HistoryEntry(7, "#lobby", 5.0, TOPIC, "alice", "ship it"))
    assert (room.topic, room.topicSetter, room.topicTime) == ("ship it", "alice", 5.0)
    assert aliceMind.events() == [TopicChanged("#lobby", "alice", "ship it", 7, 5.0)]


def test_a_door_that_echoes_gets_its_own_line_back_in_its_place(chat, peers):
    alice, aliceMind = log_in(chat, peers, "alice")
    aliceMind.echoes = True
    entry = HistoryEntry(3, "#lobby", 9.0, MESSAGE, "alice", "mine")
    chat.heard(alice.current, entry, sender=alice)
    assert aliceMind.events() == [Said("#lobby", "alice", "mine", 3, 9.0)]


def test_a_private_line_to_a_user_of_another_node_goes_to_its_node(chat, peers):
    alice, aliceMind = log_in(chat, peers, "alice")
    chat.remote["bob"] = RemoteUser("bob", "b", 0.0)
    peers.take()
    assert alice.whisper("BOB", "psst").name == "bob"
    assert peers.take() == [("whisper", "alice", "bob", "psst")]
    assert aliceMind.events() == []


def test_a_door_that_echoes_sees_its_private_line_to_another_node(chat, peers):
    alice, aliceMind = log_in(chat, peers, "alice")
    aliceMind.echoes = True
    chat.remote["bob"] = RemoteUser("bob", "b", 0.0)
    alice.whisper("bob", "psst")
    [echo] = aliceMind.events()
    assert isinstance(echo, Whispered) and (echo.sender, echo.recipient) == (
        "alice",
        "bob",
    )


def test_a_rename_waits_for_its_claim_and_frees_the_old_name(chat, peers):
    alice, _ = log_in(chat, peers, "alice")
    peers.take()
    renaming = alice.rename("alicia")
    assert alice.name == "alice"
    peers.claims["alicia"].callback(True)
    assert outcome(renaming) == "alice"
    assert alice.name == "alicia"
    assert peers.take() == [("renamed", "alice", "alicia")]


def test_a_user_gone_while_its_new_name_was_claimed_gives_it_back(chat, peers):
    alice, _ = log_in(chat, peers, "alice")
    renaming = alice.rename("alicia")
    alice.quit("Quit")
    peers.take()
    peers.claims["alicia"].callback(True)
    outcome(renaming)
    assert peers.take() == [("release", "alicia")]


def test_who_and_rooms_count_the_members_of_other_nodes(chat, peers):
    alice, _ = log_in(chat, peers, "alice")
    room = alice.current
    chat.remote["bob"] = RemoteUser("bob", "b", 0.0)
    room.addRemote("bob", "bob")
    assert alice.who() == (room, ("alice", "bob"))
    assert [(info.name, info.members) for info in alice.listRooms()] == [("#lobby", 2)]
    assert [user.name for user in chat.everyone()] == ["alice", "bob"]


def test_a_room_with_members_elsewhere_only_is_kept(chat, peers):
    alice, _ = log_in(chat, peers, "alice")
    room, _ = alice.join("#dev")
    room.addRemote("bob", "bob")
    alice.part("#dev")
    assert chat.getRoom("#dev") is room
    room.removeRemote("bob")
    chat.forgetIfEmpty(room)
    assert chat.getRoom("#dev") is None


def test_leaving_tells_the_cluster_which_rooms(chat, peers):
    alice, _ = log_in(chat, peers, "alice")
    alice.join("#dev")
    peers.take()
    alice.quit("Quit: bye")
    assert peers.take() == [("loggedOut", "alice", ("#lobby", "#dev"), "Quit: bye")]


def test_kicking_a_user_of_another_node_asks_its_node(chat, peers):
    chat.remote["bob"] = RemoteUser("bob", "b", 0.0)
    chat.kick("bob", "spam")
    assert peers.take() == [("kick", "bob", "spam")]
