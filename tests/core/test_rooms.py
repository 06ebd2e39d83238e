"""
A room's members on this node and on others.
"""

from chatserver.core.rooms import Room
from chatserver.core.users import ChatUser


class _Member:
    def __init__(self, name: str) -> None:
        self.name = name
        self.key = name.casefold()
        self.sessions = [self]


def member(name: str) -> ChatUser:
    return _Member(name)  # type: ignore[return-value]


def test_members_of_other_nodes_are_listed_and_counted_with_local_ones():
    room = Room("#dev")
    room.add(member("carol"))
    room.addRemote("alice", "Alice")
    room.addRemote("bob", "bob")
    assert room.names() == ("Alice", "bob", "carol")
    assert len(room) == 3


def test_a_member_of_another_node_is_listed_once():
    room = Room("#dev")
    room.addRemote("bob", "bob")
    room.addRemote("bob", "bob")
    assert room.names() == ("bob",) and len(room) == 1


def test_a_member_of_another_node_leaves_and_is_renamed():
    room = Room("#dev")
    room.addRemote("bob", "bob")
    room.addRemote("dan", "dan")
    room.renamedRemote("bob", "robert", "Robert")
    assert room.names() == ("dan", "Robert")
    room.removeRemote("dan")
    room.removeRemote("nobody")
    assert room.names() == ("Robert",) and set(room.remote) == {"robert"}


def test_local_members_are_the_ones_sent_events():
    room = Room("#dev")
    carol = member("carol")
    room.add(carol)
    room.addRemote("bob", "bob")
    assert list(room.members.values()) == [carol]
    assert carol in room and "bob" not in room
