"""
The realm as a node of a cluster, with peers of the tests' own: names are
claimed before they are used, room lines go out to the cluster and reach
the room when they come back, private lines to users of other nodes go to
their node, and rooms count their members on other nodes.  The cluster
tells the realm of the users of other nodes through the realm's methods: a
remote user is known unless its name is taken here, its leaving is told
once to each user who shared a room with it, a rename is told to its rooms,
joins and parts to the room, and a room nobody is in any more is forgotten.
"""

from __future__ import annotations

import pytest
from twisted.internet.defer import Deferred, succeed
from twisted.internet.task import Clock

from chatserver.config import ChatConfig
from chatserver.core.events import (
    Joined,
    Kicked,
    Parted,
    Quit,
    Renamed,
    RoleChanged,
    Said,
    TopicChanged,
    Whispered,
)
from chatserver.core.realm import ChatRealm
from chatserver.core.remote import RemoteUser
from chatserver.core.rooms import Room
from chatserver.core.users import ChatUser
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
        self.reservations: dict[str, Deferred[bool]] | None = None
        self.told: list[tuple[object, ...]] = []
        self.moderations: list[tuple[str, object]] = []
        self.rooms: list[tuple[str, str]] = []
        # Who was sent a whisper or a kick, and to which nodes.
        self.sent: list[tuple[str, tuple[str, ...]]] = []

    def claim(self, name: str, account: bool = False) -> Deferred[bool]:
        self.claims[name] = Deferred()
        return self.claims[name]

    def release(self, name: str) -> None:
        self.told.append(("release", name))

    def reserve(self, name: str) -> Deferred[bool]:
        # One more session of an account online here: reserved at once,
        # unless a test answers it (L{reservations}).
        if self.reservations is None:
            return succeed(True)
        self.reservations[name] = Deferred()
        return self.reservations[name]

    def unreserve(self, name: str) -> None:
        self.told.append(("unreserve", name))

    def keepPrivate(
        self, key: str, *, recipient: str, kind: str, sender: str, text: str
    ) -> None:
        self.told.append(("keepPrivate", key, sender, text))

    def sessionAdded(self, session: ChatUser) -> None:
        self.told.append(("sessionAdded", session.name))

    def sessionEnded(self, session: ChatUser) -> None:
        self.told.append(("sessionEnded", session.name))

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

    def whisper(self, key, nodes, event):
        copy = ("echo",) if event.echo else ()
        self.told.append(("whisper", event.sender, event.recipient, event.text, *copy))
        self.sent.append((key, tuple(nodes)))

    def kick(self, key, nodes, reason):
        self.told.append(("kick", key, reason))
        self.sent.append((key, tuple(nodes)))

    def endSession(self, key, session, node, reason):
        self.told.append(("endSession", key, session, node))

    def marked(self, key, nodes, target, event):
        self.told.append(("marked", key, tuple(nodes), target, event))

    def historyMark(self, room: Room) -> Deferred[int | None]:
        return succeed(None)

    def moderated(self, roomKey, event):
        self.moderations.append((roomKey, event))

    def claimRoom(self, user, room):
        self.rooms.append((user.name, room.name))

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
    mind.closing = True
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


# The realm's methods for the users and rooms of other nodes, through which a
# cluster node tells the realm what the cluster says.


def bob(chat: ChatRealm, *rooms: str) -> RemoteUser:
    user = RemoteUser("bob", "b", 0.0)
    assert chat.remoteLoggedIn(user)
    for name in rooms:
        chat.remoteJoined(chat.remoteRoom(name.lower(), name), user)
    return user


def test_a_remote_user_is_known_once_logged_in(chat):
    user = bob(chat)
    assert chat.lookup("BOB") is user
    assert "bob" in chat


def test_a_remote_user_whose_name_is_taken_here_is_not_known(chat, peers):
    alice, _ = log_in(chat, peers, "alice")
    assert not chat.remoteLoggedIn(RemoteUser("Alice", "b", 0.0))
    assert chat.lookup("alice") is alice


def test_a_remote_user_already_known_is_not_replaced(chat):
    first = bob(chat)
    assert not chat.remoteLoggedIn(RemoteUser("bob", "c", 0.0))
    assert chat.lookup("bob") is first


def test_a_remote_join_is_told_to_the_room(chat, peers):
    _alice, mind = log_in(chat, peers, "alice")
    user = bob(chat, "#lobby")
    assert mind.events() == [Joined("#lobby", "bob")]
    assert chat.rooms["#lobby"].remote == {"bob": "bob"}
    assert list(user.rooms) == ["#lobby"]


def test_a_remote_join_into_a_room_unknown_here_makes_the_room(chat):
    bob(chat, "#Dev")
    room = chat.getRoom("#dev")
    assert room is not None and room.name == "#Dev" and len(room) == 1


def test_a_remote_join_told_twice_is_told_once(chat, peers):
    _alice, mind = log_in(chat, peers, "alice")
    user = bob(chat, "#lobby")
    chat.remoteJoined(chat.rooms["#lobby"], user)
    assert mind.events() == [Joined("#lobby", "bob")]


def test_a_remote_part_is_told_to_the_room_and_forgets_an_empty_room(chat, peers):
    _alice, mind = log_in(chat, peers, "alice")
    user = bob(chat, "#lobby", "#dev")
    mind.events()
    chat.remoteParted(chat.rooms["#lobby"], "bob", "bye")
    chat.remoteParted(chat.rooms["#dev"], "bob", "bye")
    assert mind.events() == [Parted("#lobby", "bob", "bye")]
    assert chat.getRoom("#dev") is None
    assert user.rooms == {}


def test_a_remote_user_leaving_is_told_once_to_each_who_shared_a_room(chat, peers):
    alice, mind = log_in(chat, peers, "alice")
    alice.join("#dev")
    user = bob(chat, "#lobby", "#dev", "#ops")
    mind.events()
    chat.remoteLoggedOut(user, "node lost")
    assert mind.events() == [Quit("bob", "node lost")]
    assert chat.lookup("bob") is None
    assert chat.rooms["#lobby"].remote == {}
    assert chat.getRoom("#ops") is None


def test_a_remote_user_no_longer_known_cannot_leave_again(chat, peers):
    _alice, mind = log_in(chat, peers, "alice")
    user = bob(chat, "#lobby")
    chat.remoteLoggedOut(user, "Quit")
    mind.events()
    newcomer = bob(chat)
    chat.remoteLoggedOut(user, "Quit")
    assert mind.events() == []
    assert chat.lookup("bob") is newcomer


def test_a_remote_rename_is_told_to_its_rooms(chat, peers):
    _alice, mind = log_in(chat, peers, "alice")
    user = bob(chat, "#lobby")
    mind.events()
    chat.remoteRenamed(user, "Robert")
    assert mind.events() == [Renamed("bob", "Robert")]
    assert chat.lookup("robert") is user and chat.lookup("bob") is None
    assert chat.rooms["#lobby"].remote == {"robert": "Robert"}


def test_a_remote_topic_sets_the_room_s_topic(chat):
    bob(chat, "#dev")
    room = chat.rooms["#dev"]
    chat.remoteTopic(room, "ship it", "bob", 5.0)
    assert (room.topic, room.topicSetter, room.topicTime) == ("ship it", "bob", 5.0)


def test_a_remote_away_message_is_kept(chat):
    user = bob(chat)
    chat.remoteAway(user, "lunch")
    assert chat.lookup("bob").away == "lunch"


def test_nobody_here_is_told_while_the_server_stops(chat, peers):
    _alice, mind = log_in(chat, peers, "alice")
    user = bob(chat, "#lobby")
    mind.events()
    chat.shuttingDown = True
    chat.remoteLoggedOut(user, "Quit")
    assert mind.events() == []


def test_in_a_cluster_who_makes_a_room_asks_the_cluster_to_be_its_operator(chat, peers):
    alice, _ = log_in(chat, peers, "alice")
    alice.join("#dev")
    assert peers.rooms == [("alice", "#dev")]
    assert chat.moderation.roles("#dev", "alice") == ""


def test_the_maker_the_cluster_names_is_the_room_s_operator_and_the_room_told(
    chat, peers
):
    alice, mind = log_in(chat, peers, "alice")
    alice.join("#dev")
    mind.events()
    chat.madeRoom(alice, chat.rooms["#dev"])
    assert chat.moderation.roles("#dev", "alice") == "o"
    told = RoleChanged("#dev", "alice", "alice", "o", True)
    assert mind.events() == [told]
    assert peers.moderations == [("#dev", told)]


def test_a_maker_who_left_the_room_meanwhile_is_not_its_operator(chat, peers):
    alice, _ = log_in(chat, peers, "alice")
    alice.join("#dev")
    room = chat.rooms["#dev"]
    alice.part("#dev")
    chat.madeRoom(alice, room)
    assert chat.moderation.roles("#dev", "alice") == ""


def test_joining_a_room_of_another_node_asks_for_no_operator(chat, peers):
    alice, _ = log_in(chat, peers, "alice")
    bob(chat, "#dev")
    alice.join("#dev")
    assert peers.rooms == []


def operator_of_dev(chat, peers):
    alice, mind = log_in(chat, peers, "alice")
    alice.join("#dev")
    chat.madeRoom(alice, chat.rooms["#dev"])
    mind.events()
    peers.moderations.clear()
    return alice, mind


def test_a_kick_of_a_member_of_another_node_is_told_here_and_to_the_cluster(
    chat, peers
):
    alice, mind = operator_of_dev(chat, peers)
    bob(chat, "#dev")
    mind.events()
    alice.kick("#dev", "bob", "spam")
    kicked = Kicked("#dev", "alice", "bob", "spam")
    assert mind.events() == [kicked]
    assert peers.moderations == [("#dev", kicked)]
    assert chat.rooms["#dev"].remote == {}


def test_a_kick_of_a_member_here_reaches_the_cluster_before_its_part(chat, peers):
    alice, _ = operator_of_dev(chat, peers)
    carol, _ = log_in(chat, peers, "carol")
    carol.join("#dev")
    peers.take()
    alice.kick("#dev", "carol")
    assert peers.moderations == [("#dev", Kicked("#dev", "alice", "carol", ""))]
    assert peers.take() == [("parted", "carol", "#dev", "Kicked by alice")]


def test_a_kick_made_on_another_node_takes_a_member_here_out_of_the_room(chat, peers):
    carol, mind = log_in(chat, peers, "carol")
    carol.join("#dev")
    mind.events()
    kicked = Kicked("#dev", "bob", "carol", "spam")
    chat.remoteKicked(chat.rooms["#dev"], "carol", kicked)
    assert mind.events() == [kicked]
    assert chat.rooms.get("#dev") is None
    assert peers.take()[-1] == ("parted", "carol", "#dev", "Kicked by bob: spam")


def test_a_kick_made_on_another_node_of_a_third_node_s_member_is_told_here(chat, peers):
    carol, mind = log_in(chat, peers, "carol")
    carol.join("#dev")
    bob(chat, "#dev")
    mind.events()
    kicked = Kicked("#dev", "dave", "bob", "")
    chat.remoteKicked(chat.rooms["#dev"], "bob", kicked)
    assert mind.events() == [kicked]
    assert chat.rooms["#dev"].remote == {}
    assert chat.lookup("bob").rooms == {}


def test_an_invitation_is_used_up_by_a_join_on_another_node(chat, peers):
    chat.moderation.room("#dev").invited.add("bob")
    bob(chat, "#dev")
    assert chat.moderation.room("#dev").invited == set()
