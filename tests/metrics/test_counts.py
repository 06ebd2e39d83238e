"""
What the chat counts for C{--metrics}: plain numbers, each counted where the
thing happens once.
"""

from __future__ import annotations

from chatserver.metrics.doors import door_of_class
from chatserver.testing import ChatHarness
from tests.test_gate import DoorFactory, connect, refusal


def test_refused_connections_are_counted_by_limit_without_figures() -> None:
    harness = ChatHarness(maxPerAddress=1)
    gate = harness.server.gate(DoorFactory(), refusal)
    connect(gate)
    connect(gate)
    connect(gate)
    assert harness.server.counts.drops == {"too many connections from your address": 2}


def test_a_gate_counts_its_open_connections() -> None:
    harness = ChatHarness()
    gate = harness.server.gate(DoorFactory(), refusal)
    connection, _ = connect(gate)
    assert gate.open == 1
    connection.connectionLost()
    assert gate.open == 0


def test_deliveries_count_each_recipient_of_a_turn_once_by_door() -> None:
    harness = ChatHarness(rate=0)
    alice = harness.login("alice")
    harness.login("bob")
    harness.login("carol")
    harness.flush()
    fanout = harness.realm.fanout
    before, bytesOut = sum(fanout.deliveries.values()), fanout.bytesOut
    alice.send("one")
    alice.send("two")
    harness.flush()
    assert sum(fanout.deliveries.values()) - before == 2
    assert [door_of_class(kind) for kind in fanout.deliveries] == ["line"]
    assert fanout.bytesOut - bytesOut > len("onetwo") * 2


def test_lines_received_are_counted_by_kind_and_door() -> None:
    harness = ChatHarness(rate=0)
    alice = harness.login("alice")
    harness.login("bob")
    alice.send("hello")
    alice.send("/me waves")
    alice.send("/msg bob psst")
    harness.flush()
    assert {
        (kind, door_of_class(mind)): number
        for (kind, mind), number in harness.realm.received.items()
    } == {("message", "line"): 1, ("action", "line"): 1, ("whisper", "line"): 1}


def test_a_refused_login_is_counted_by_its_reason() -> None:
    harness = ChatHarness()
    harness.login("alice")
    again = harness.connect()
    again.send("alice")
    harness.flush()
    assert harness.server.counts.refusedLogins == {"NameTaken": 1}


def test_bytes_out_are_counted_by_door_once_per_write() -> None:
    harness = ChatHarness(rate=0)
    alice = harness.login("alice")
    harness.login("bob")
    harness.flush()
    fanout = harness.realm.fanout
    before = dict(fanout.bytesByMind)
    alice.send("hello")
    harness.flush()
    added = {
        door_of_class(mind): number - before.get(mind, 0)
        for mind, number in fanout.bytesByMind.items()
    }
    assert list(added) == ["line"]
    assert added["line"] > len("hello") * 2
    assert sum(fanout.bytesByMind.values()) == fanout.bytesOut
