"""
The registry: who is online, and who gets what.
"""

import pytest

from chatserver.core.registry import NameTaken, Registry
from chatserver.doors.line import lines


class FakeUser:
    def __init__(self, name):
        self.name = name
        self.received = []

    def deliver(self, data):
        self.received.append(data)


def test_added_users_are_found_in_any_case():
    registry = Registry()
    alice = FakeUser("Alice")
    registry.add(alice)
    assert registry.get("ALICE") is alice
    assert "alice" in registry
    assert len(registry) == 1


def test_a_name_differing_only_in_case_is_taken():
    registry = Registry()
    registry.add(FakeUser("alice"))
    with pytest.raises(NameTaken):
        registry.add(FakeUser("ALICE"))


def test_removed_name_is_free_at_once():
    registry = Registry()
    alice = FakeUser("alice")
    registry.add(alice)
    registry.remove(alice)
    registry.add(FakeUser("alice"))


def test_removing_someone_else_of_that_name_changes_nothing():
    registry = Registry()
    alice = FakeUser("alice")
    registry.add(alice)
    registry.remove(FakeUser("alice"))
    assert registry.get("alice") is alice


def test_names_are_sorted_without_regard_to_case():
    registry = Registry()
    for name in ["bob", "Alice", "carol"]:
        registry.add(FakeUser(name))
    assert registry.names() == ("Alice", "bob", "carol")


def test_rename_moves_the_user():
    registry = Registry()
    bob = FakeUser("bob")
    registry.add(bob)
    registry.rename(bob, "bob", "robert")
    assert registry.get("robert") is bob
    assert registry.get("bob") is None


def test_rename_to_a_taken_name_is_refused():
    registry = Registry()
    bob = FakeUser("bob")
    registry.add(bob)
    registry.add(FakeUser("carol"))
    with pytest.raises(NameTaken):
        registry.rename(bob, "bob", "Carol")
    assert registry.get("bob") is bob


def test_rename_that_only_changes_case_is_allowed():
    registry = Registry()
    bob = FakeUser("bob")
    registry.add(bob)
    registry.rename(bob, "bob", "Bob")
    assert registry.get("BOB") is bob


def test_broadcast_reaches_everyone_but_the_sender_with_one_encoding():
    registry = Registry()
    alice, bob, carol = FakeUser("alice"), FakeUser("bob"), FakeUser("carol")
    for user in (alice, bob, carol):
        registry.add(user)
    registry.broadcast(lines.Message("alice", "hi"), exclude=alice)
    assert alice.received == []
    assert bob.received == [b"<alice> hi\r\n"]
    assert carol.received[0] is bob.received[0]


def test_a_user_leaving_during_a_broadcast_does_not_break_it():
    registry = Registry()

    class Leaver(FakeUser):
        def deliver(self, data):
            registry.remove(self)

    registry.add(Leaver("a"))
    bob = FakeUser("bob")
    registry.add(bob)
    registry.broadcast(lines.Info("x"))
    assert bob.received == [b"-!- x\r\n"]
