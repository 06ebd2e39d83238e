"""
The outbox: output coalesced per reactor turn, with each recipient's order
kept, nothing lost, and no delay when the server is idle.
"""

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet.task import Clock

from chatserver.config import ChatConfig
from chatserver.core.outbox import Outbox
from chatserver.doors.line import lines
from chatserver.doors.line.factory import ChatFactory
from tests.harness import FakeClient


class Sink:
    def __init__(self, name):
        self.name = name
        self.deliveries = []

    def deliver(self, data):
        self.deliveries.append(data)

    @property
    def data(self):
        return b"".join(self.deliveries)


class Room:
    """
    An outbox over a dict of members, as the registry uses it.
    """

    def __init__(self, clock=None):
        self.members: dict[str, Sink] = {}
        self.outbox = Outbox(self.members.values, self.isMember, clock)

    def isMember(self, sink):
        return self.members.get(sink.name) is sink

    def join(self, name):
        sink = Sink(name)
        self.members[name] = sink
        self.outbox.joined(sink)
        return sink

    def leave(self, sink):
        del self.members[sink.name]
        self.outbox.left(sink)


def test_a_turn_reaches_each_recipient_in_one_delivery_in_order():
    clock = Clock()
    room = Room(clock)
    alice, bob, carol = room.join("alice"), room.join("bob"), room.join("carol")
    for i in range(5):
        room.outbox.broadcast(b"<alice> %d\r\n" % i, exclude=alice)
    room.outbox.broadcast(b"<bob> hi\r\n", exclude=bob)
    assert carol.deliveries == []
    clock.advance(0)
    assert carol.deliveries == [
        b"<alice> 0\r\n<alice> 1\r\n<alice> 2\r\n<alice> 3\r\n<alice> 4\r\n<bob> hi\r\n"
    ]
    assert bob.deliveries == [b"".join(b"<alice> %d\r\n" % i for i in range(5))]
    assert alice.deliveries == [b"<bob> hi\r\n"]


def test_no_delay_when_idle():
    """
    A lone line is flushed by a call scheduled with no delay, at the end of
    the turn that produced it.
    """
    clock = Clock()
    room = Room(clock)
    alice, bob = room.join("alice"), room.join("bob")
    room.outbox.broadcast(b"<alice> hello\r\n", exclude=alice)
    calls = clock.getDelayedCalls()
    assert [call.getTime() for call in calls] == [0.0]
    clock.advance(0)
    assert bob.deliveries == [b"<alice> hello\r\n"]
    assert clock.getDelayedCalls() == []


def test_one_flush_is_scheduled_per_turn():
    clock = Clock()
    room = Room(clock)
    room.join("alice")
    bob = room.join("bob")
    for _ in range(100):
        room.outbox.broadcast(b"x\r\n")
        room.outbox.send(bob, b"y\r\n")
    assert len(clock.getDelayedCalls()) == 1
    clock.advance(0)
    assert len(bob.deliveries) == 1
    assert not room.outbox.pending


def test_own_lines_are_merged_in_order_with_broadcasts():
    clock = Clock()
    room = Room(clock)
    alice, bob = room.join("alice"), room.join("bob")
    room.outbox.broadcast(b"1\r\n")
    room.outbox.send(bob, b"reply\r\n")
    room.outbox.broadcast(b"2\r\n", exclude=bob)
    room.outbox.broadcast(b"3\r\n")
    room.outbox.send(bob, b"error\r\n")
    clock.advance(0)
    assert bob.deliveries == [b"1\r\nreply\r\n3\r\nerror\r\n"]
    assert alice.deliveries == [b"1\r\n2\r\n3\r\n"]


def test_a_member_who_joins_mid_turn_gets_only_later_broadcasts():
    clock = Clock()
    room = Room(clock)
    room.join("alice")
    room.outbox.broadcast(b"before\r\n")
    bob = room.join("bob")
    room.outbox.send(bob, b"welcome\r\n")
    room.outbox.broadcast(b"after\r\n")
    clock.advance(0)
    assert bob.deliveries == [b"welcome\r\nafter\r\n"]


def test_a_connection_not_logged_in_gets_its_own_lines_only():
    clock = Clock()
    room = Room(clock)
    room.join("alice")
    stranger = Sink("")
    room.outbox.broadcast(b"chat\r\n")
    room.outbox.send(stranger, b"prompt\r\n")
    clock.advance(0)
    assert stranger.deliveries == [b"prompt\r\n"]


def test_flush_one_delivers_at_once_and_keeps_the_rest_of_the_turn():
    clock = Clock()
    room = Room(clock)
    alice, bob = room.join("alice"), room.join("bob")
    room.outbox.broadcast(b"1\r\n")
    room.outbox.send(bob, b"goodbye\r\n")
    room.outbox.flushOne(bob)
    assert bob.deliveries == [b"1\r\ngoodbye\r\n"]
    assert alice.deliveries == []
    room.outbox.broadcast(b"2\r\n")
    clock.advance(0)
    assert alice.deliveries == [b"1\r\n2\r\n"]
    assert bob.deliveries == [b"1\r\ngoodbye\r\n", b"2\r\n"]


def test_lines_sent_while_flushing_go_out_next_turn():
    clock = Clock()
    room = Room(clock)
    alice = room.join("alice")
    bob = room.join("bob")

    def deliver(data):
        alice.deliveries.append(data)
        if len(alice.deliveries) == 1:
            room.outbox.broadcast(b"alice left\r\n", exclude=alice)

    alice.deliver = deliver
    room.outbox.broadcast(b"1\r\n")
    clock.advance(0)
    # A second flush, scheduled by the first (Clock runs it in the same
    # advance): the line was not lost, nor slipped into the first delivery.
    assert bob.deliveries == [b"1\r\n", b"alice left\r\n"]
    assert not room.outbox.pending


def test_without_a_clock_everything_is_delivered_at_once():
    room = Room()
    alice, bob = room.join("alice"), room.join("bob")
    room.outbox.broadcast(b"1\r\n", exclude=alice)
    room.outbox.send(alice, b"2\r\n")
    assert bob.deliveries == [b"1\r\n"]
    assert alice.deliveries == [b"2\r\n"]


NAMES = ["a", "b", "c", "d"]
operations = st.lists(
    st.one_of(
        st.tuples(st.just("broadcast"), st.sampled_from(NAMES), st.booleans()),
        st.tuples(st.just("send"), st.sampled_from(NAMES), st.booleans()),
        st.tuples(st.just("join"), st.sampled_from(NAMES), st.booleans()),
        st.tuples(st.just("leave"), st.sampled_from(NAMES), st.booleans()),
        st.tuples(st.just("turn"), st.sampled_from(NAMES), st.booleans()),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(operations)
def test_coalesced_output_is_what_immediate_output_would_be(ops):
    """
    Whatever the mix of broadcasts, own lines, joins and turns, everyone
    present at the end receives exactly the bytes, in the same order, that
    delivering every line at once would have given them: nothing lost,
    nothing repeated, each sender's order kept.
    """
    clock = Clock()
    coalesced, immediate = Room(clock), Room()
    serial = 0
    for op, name, flag in ops:
        serial += 1
        if op == "turn":
            clock.advance(0)
            continue
        for room in (coalesced, immediate):
            member = room.members.get(name)
            if op == "join" and member is None:
                room.join(name)
            elif op == "leave" and member is not None:
                room.leave(member)
            elif op == "broadcast" and member is not None:
                data = b"<%s> %d\r\n" % (name.encode(), serial)
                room.outbox.broadcast(data, exclude=member if flag else None)
            elif op == "send" and member is not None:
                room.outbox.send(member, b"to %s %d\r\n" % (name.encode(), serial))
    clock.advance(0)
    assert not coalesced.outbox.pending
    for name, sink in coalesced.members.items():
        assert sink.data == immediate.members[name].data


# The outbox under a real protocol, on a fake clock.


def coalescingServer(**settings):
    clock = Clock()
    factory = ChatFactory(ChatConfig(**settings), clock=clock, coalesce=True)
    ports = iter(range(40000, 60000))

    def login(name):
        client = FakeClient(factory, next(ports))
        client.send(name)
        clock.advance(0)
        assert f"=== Welcome to chat, {name}!" in client.received()
        return client

    return clock, factory, login


def test_lines_read_together_are_written_together():
    clock, _factory, login = coalescingServer(rate=0)
    alice, bob = login("alice"), login("bob")
    bob.received()
    writes: list[bytes] = []
    bob.transport.write = writes.append
    alice.send(b"one\r\ntwo\r\nthree\r\n")
    assert writes == []
    clock.advance(0)
    assert writes == [b"<alice> one\r\n<alice> two\r\n<alice> three\r\n"]


def test_replies_arrive_in_order_with_broadcasts():
    clock, _factory, login = coalescingServer(rate=0)
    alice, bob = login("alice"), login("bob")
    alice.received()
    bob.received()
    alice.send("hello")
    bob.send("/nosuchcommand")
    bob.send("/who")
    alice.send("again")
    clock.advance(0)
    assert bob.received() == [
        "<alice> hello",
        "!!! unknown command /nosuchcommand, try /help",
        "=== Users online (2): alice, bob",
        "<alice> again",
    ]


def test_quit_sends_the_turns_lines_before_closing():
    _clock, _factory, login = coalescingServer(rate=0)
    alice, bob = login("alice"), login("bob")
    bob.received()
    alice.send("bye all")
    bob.send("/quit")
    assert bob.closing
    assert bob.received() == ["<alice> bye all", "-!- Goodbye!"]


def test_a_client_that_does_not_read_is_still_dropped():
    clock, _factory, login = coalescingServer(rate=0, maxBuffer=1000)
    alice, bob, carol = login("alice"), login("bob"), login("carol")
    bob.protocol._guard.pauseProducing()  # bob's transport buffer is full
    for i in range(40):
        alice.send(f"line {i} " + "x" * 40)
    clock.advance(0)
    assert bob.protocol._guard.overflowed
    carol.received()
    bob.lose()
    clock.advance(0)
    assert carol.received() == ["<-- bob has left (Send queue exceeded)"]
    assert lines.parse(alice.received()[-1]) == lines.Left("bob", "Send queue exceeded")
