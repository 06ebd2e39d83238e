"""
The realm's methods for the users and rooms of other nodes, through which
a cluster node tells the realm what the cluster says: a remote user is
known unless its name is taken here, its leaving is told once to each user
who shared a room with it, a rename is told to its rooms, joins and parts
to the room, and a room nobody is in any more is forgotten.
"""

from __future__ import annotations

import pytest
from twisted.internet.task import Clock

from chatserver.config import ChatConfig
from chatserver.core.events import Joined, Parted, Quit, Renamed
from chatserver.core.realm import ChatRealm
from chatserver.core.remote import RemoteUser
from tests.core.test_peers import FakePeers, log_in


@pytest.fixture
def peers() -> FakePeers:
    return FakePeers()


@pytest.fixture
def chat(peers: FakePeers) -> ChatRealm:
    return ChatRealm(ChatConfig(), clock=Clock(), coalesce=False, peers=peers)


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
