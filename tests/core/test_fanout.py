"""
The fan-out: everything of a turn reaches each recipient in one delivery,
encoded once per codec and form, in the order it was sent.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet.task import Clock

from chatserver.core.events import ChatEvent, Joined, Renamed, Said
from chatserver.core.fanout import Fanout
from chatserver.core.rooms import Room


class CountingCodec:
    """
    Encodes an event as its repr, marked with the form: a line about a room
    is marked with it for a reader in several rooms.
    """

    def __init__(self) -> None:
        self.encoded = 0

    def form(self, rooms: Collection[Room], room: Room | None) -> Hashable:
        return room is not None and len(rooms) != 1

    def encode(self, event: ChatEvent, form: Hashable) -> bytes:
        self.encoded += 1
        return (f"{'M ' if form else ''}{event!r}\n").encode()


class FailingCodec(CountingCodec):
    """
    Encodes as L{CountingCodec} does, but cannot encode a line whose text is
    a lone surrogate, as a real door's codec cannot.
    """

    def encode(self, event: ChatEvent, form: Hashable) -> bytes:
        if isinstance(event, Said) and event.text == "\ud800":
            self.encoded += 1
            return event.text.encode()
        return super().encode(event, form)


class Mind:
    def __init__(self, codec: CountingCodec) -> None:
        self.codec = codec
        self.deliveries: list[bytes] = []
        self.peer = "test"
        self.broken = False

    def deliver(self, data: bytes) -> None:
        if self.broken:
            raise ConnectionError("the transport is gone")
        self.deliveries.append(data)

    def disconnect(self, reason: str) -> None:
        pass

    @property
    def data(self) -> bytes:
        return b"".join(self.deliveries)


class User:
    """
    What the fan-out reads of a user: its codec, its rooms, its mind, its
    account's sessions.
    """

    def __init__(self, name: str, codec: CountingCodec) -> None:
        self.name = self.key = name
        self.mind = Mind(codec)
        self.codec = codec
        self.rooms: tuple[Room, ...] = ()
        self.sessions = [self]


class Chat:
    """
    Users and rooms over one fan-out, as the realm drives it.
    """

    def __init__(self, clock: Clock | None = None) -> None:
        self.codec = CountingCodec()
        self.clock = clock if clock is not None else Clock()
        self.fanout = Fanout(self.clock)
        self.rooms = {name: Room(name) for name in ("#a", "#b")}
        self.users: dict[str, User] = {}

    def user(self, name: str, codec: CountingCodec | None = None) -> User:
        user = self.users.get(name)
        if user is None:
            user = self.users[name] = User(name, codec or self.codec)
        return user

    def join(self, name: str, room: str, codec: CountingCodec | None = None) -> User:
        user, where = self.user(name, codec), self.rooms[room]
        if where not in user.rooms:
            where.add(user)  # type: ignore[arg-type]
            user.rooms = (*user.rooms, where)
            self.fanout.joined(user, where)  # type: ignore[arg-type]
        return user

    def part(self, name: str, room: str) -> None:
        user, where = self.user(name), self.rooms[room]
        if where in user.rooms:
            where.remove(user)  # type: ignore[arg-type]
            user.rooms = tuple(r for r in user.rooms if r is not where)
            self.fanout.parted(user, where)  # type: ignore[arg-type]

    def say(
        self, name: str, room: str, n: int, exclude: bool = True, text: str = ""
    ) -> None:
        where = self.rooms[room]
        event = Said(room, name, text or str(n), n, 0.0)
        user = self.users.get(name)
        self.fanout.toRoom(where, event, user if exclude else None)  # type: ignore[arg-type]


def said(room: str, sender: str, n: int, marked: bool = False) -> bytes:
    return f"{'M ' if marked else ''}{Said(room, sender, str(n), n, 0.0)!r}\n".encode()


def test_a_turn_reaches_each_recipient_in_one_delivery_in_order():
    clock = Clock()
    chat = Chat(clock)
    alice, bob, carol = (chat.join(n, "#a") for n in ("alice", "bob", "carol"))
    for i in range(5):
        chat.say("alice", "#a", i)
    chat.say("bob", "#a", 5)
    assert carol.mind.deliveries == []
    clock.advance(0)
    assert carol.mind.deliveries == [
        b"".join([*(said("#a", "alice", i) for i in range(5)), said("#a", "bob", 5)])
    ]
    assert alice.mind.deliveries == [said("#a", "bob", 5)]
    assert bob.mind.deliveries == [b"".join(said("#a", "alice", i) for i in range(5))]


def test_an_event_is_encoded_once_for_everyone_in_one_room():
    clock = Clock()
    chat = Chat(clock)
    for n in range(50):
        chat.join(f"user{n}", "#a")
    chat.say("user0", "#a", 1, exclude=False)
    clock.advance(0)
    assert chat.codec.encoded == 1


def test_a_room_event_is_encoded_once_per_form():
    clock = Clock()
    chat = Chat(clock)
    for n in range(10):
        chat.join(f"only{n}", "#a")
    for n in range(10):
        chat.join(f"both{n}", "#a")
        chat.join(f"both{n}", "#b")
    clock.advance(0)
    chat.codec.encoded = 0
    chat.say("only0", "#a", 1, exclude=False)
    clock.advance(0)
    assert chat.codec.encoded == 2
    assert chat.users["only1"].mind.deliveries == [said("#a", "only0", 1)]
    assert chat.users["both1"].mind.deliveries == [said("#a", "only0", 1, True)]


def test_a_user_in_two_rooms_gets_one_write_per_turn_in_order():
    clock = Clock()
    chat = Chat(clock)
    both = chat.join("both", "#a")
    chat.join("both", "#b")
    chat.join("alice", "#a")
    chat.join("bob", "#b")
    clock.advance(0)
    chat.say("alice", "#a", 1)
    chat.say("bob", "#b", 2)
    chat.say("alice", "#a", 3)
    clock.advance(0)
    assert both.mind.deliveries == [
        said("#a", "alice", 1, True)
        + said("#b", "bob", 2, True)
        + said("#a", "alice", 3, True)
    ]


def test_no_delay_when_idle():
    clock = Clock()
    chat = Chat(clock)
    chat.join("alice", "#a")
    bob = chat.join("bob", "#a")
    chat.say("alice", "#a", 1)
    assert clock.getDelayedCalls()[0].getTime() == clock.seconds()
    clock.advance(0)
    assert bob.mind.deliveries == [said("#a", "alice", 1)]


def test_one_flush_is_scheduled_per_turn():
    clock = Clock()
    chat = Chat(clock)
    chat.join("alice", "#a")
    chat.join("bob", "#a")
    for i in range(10):
        chat.say("alice", "#a", i)
    assert len(clock.getDelayedCalls()) == 1


def test_own_lines_are_merged_in_order_with_room_events():
    clock = Clock()
    chat = Chat(clock)
    chat.join("alice", "#a")
    bob = chat.join("bob", "#a")
    chat.say("alice", "#a", 1)
    chat.fanout.send(bob, b"reply\n")  # type: ignore[arg-type]
    chat.say("alice", "#a", 2)
    clock.advance(0)
    assert bob.mind.deliveries == [
        said("#a", "alice", 1) + b"reply\n" + said("#a", "alice", 2)
    ]


def test_a_member_who_joins_mid_turn_gets_only_later_events():
    clock = Clock()
    chat = Chat(clock)
    chat.join("alice", "#a")
    chat.say("alice", "#a", 1)
    late = chat.join("late", "#a")
    chat.say("alice", "#a", 2)
    clock.advance(0)
    assert late.mind.deliveries == [said("#a", "alice", 2)]


def test_a_member_who_parts_mid_turn_gets_only_earlier_events():
    clock = Clock()
    chat = Chat(clock)
    chat.join("alice", "#a")
    leaving = chat.join("leaving", "#a")
    chat.say("alice", "#a", 1)
    chat.part("leaving", "#a")
    chat.say("alice", "#a", 2)
    clock.advance(0)
    assert leaving.mind.deliveries == [said("#a", "alice", 1)]


def test_an_event_to_chosen_users_reaches_each_once():
    clock = Clock()
    chat = Chat(clock)
    both = chat.join("both", "#a")
    chat.join("both", "#b")
    other = chat.join("other", "#b")
    event = Renamed("x", "y")
    chat.fanout.toUsers([both, other], event)  # type: ignore[list-item]
    clock.advance(0)
    assert both.mind.deliveries == [f"{event!r}\n".encode()]
    assert other.mind.deliveries == [f"{event!r}\n".encode()]
    assert chat.codec.encoded == 1


def test_flush_one_delivers_at_once_and_keeps_the_rest_of_the_turn():
    clock = Clock()
    chat = Chat(clock)
    chat.join("alice", "#a")
    bob = chat.join("bob", "#a")
    carol = chat.join("carol", "#a")
    chat.say("alice", "#a", 1)
    chat.fanout.flushOne(bob)  # type: ignore[arg-type]
    assert bob.mind.deliveries == [said("#a", "alice", 1)]
    chat.say("alice", "#a", 2)
    clock.advance(0)
    assert bob.mind.deliveries == [said("#a", "alice", 1), said("#a", "alice", 2)]
    assert carol.mind.deliveries == [said("#a", "alice", 1) + said("#a", "alice", 2)]


def test_held_output_waits_for_the_gap_to_be_filled():
    clock = Clock()
    chat = Chat(clock)
    chat.join("alice", "#a")
    bob = chat.join("bob", "#a")
    chat.fanout.send(bob, b"before\n")  # type: ignore[arg-type]
    gap = chat.fanout.hold(bob)  # type: ignore[arg-type]
    assert bob.mind.deliveries == [b"before\n"]
    chat.say("alice", "#a", 1)
    clock.advance(0)
    chat.say("alice", "#a", 2)
    assert bob.mind.deliveries == [b"before\n"]
    replay = Joined("#a", "replay")
    chat.fanout.fill(bob, gap, replay, chat.rooms["#a"])  # type: ignore[arg-type]
    assert bob.mind.data == (
        b"before\n"
        + f"{replay!r}\n".encode()
        + said("#a", "alice", 1)
        + said("#a", "alice", 2)
    )
    clock.advance(0)
    assert bob.mind.data.count(said("#a", "alice", 2)) == 1


def test_gaps_are_filled_in_their_places_whatever_order_they_are_filled_in():
    chat = Chat()
    chat.join("alice", "#a")
    bob = chat.join("bob", "#a")
    first = chat.fanout.hold(bob)  # type: ignore[arg-type]
    chat.say("alice", "#a", 1)
    second = chat.fanout.hold(bob)  # type: ignore[arg-type]
    chat.say("alice", "#a", 2)
    chat.fanout.fill(bob, second, Joined("#a", "second"))  # type: ignore[arg-type]
    assert bob.mind.deliveries == []
    chat.fanout.fill(bob, first, Joined("#a", "first"))  # type: ignore[arg-type]
    assert bob.mind.data == (
        f"{Joined('#a', 'first')!r}\n".encode()
        + said("#a", "alice", 1)
        + f"{Joined('#a', 'second')!r}\n".encode()
        + said("#a", "alice", 2)
    )


def test_unhold_sends_everything_held_and_leaves_the_gaps_empty():
    chat = Chat()
    chat.join("alice", "#a")
    bob = chat.join("bob", "#a")
    gap = chat.fanout.hold(bob)  # type: ignore[arg-type]
    chat.say("alice", "#a", 1)
    chat.fanout.unhold(bob)  # type: ignore[arg-type]
    assert bob.mind.data == said("#a", "alice", 1)
    chat.fanout.fill(bob, gap, Joined("#a", "late"))  # type: ignore[arg-type]
    chat.say("alice", "#a", 2)
    chat.clock.advance(0)
    assert bob.mind.data == said("#a", "alice", 1) + said("#a", "alice", 2)


def test_unhold_keeps_this_turns_output_after_what_was_held():
    clock = Clock()
    chat = Chat(clock)
    chat.join("alice", "#a")
    bob = chat.join("bob", "#a")
    chat.fanout.hold(bob)  # type: ignore[arg-type]
    chat.say("alice", "#a", 1)
    clock.advance(0)
    chat.fanout.send(bob, b"goodbye\n")  # type: ignore[arg-type]
    chat.fanout.unhold(bob)  # type: ignore[arg-type]
    assert bob.mind.data == said("#a", "alice", 1) + b"goodbye\n"


def test_output_held_too_long_is_sent_without_waiting_any_more():
    chat = Chat()
    chat.fanout.heldLimit = 100
    chat.join("alice", "#a")
    bob = chat.join("bob", "#a")
    chat.fanout.hold(bob)  # type: ignore[arg-type]
    for n in range(5):
        chat.say("alice", "#a", n)
    chat.clock.advance(0)
    assert bob.mind.data == b"".join(said("#a", "alice", n) for n in range(5))


def test_a_user_who_leaves_is_forgotten():
    clock = Clock()
    chat = Chat(clock)
    chat.join("alice", "#a")
    bob = chat.join("bob", "#a")
    chat.fanout.send(bob, b"reply\n")  # type: ignore[arg-type]
    chat.part("bob", "#a")
    chat.fanout.left(bob)  # type: ignore[arg-type]
    clock.advance(0)
    assert bob.mind.deliveries == []
    assert not chat.fanout.pending


NAMES = ["a", "b", "c", "d"]
ROOMS = ["#a", "#b"]
operations = st.lists(
    st.tuples(
        st.sampled_from(["say", "send", "join", "part", "users", "turn", "flushOne"]),
        st.sampled_from(NAMES),
        st.sampled_from(ROOMS),
        st.booleans(),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(operations)
def test_coalesced_output_is_what_immediate_output_would_be(ops):
    """
    Whatever the mix of room events, replies, joins, parts and turns,
    everyone receives exactly the bytes, in the same order, that delivering
    everything at once (a turn per operation) would have given them:
    nothing lost, nothing repeated, the same forms.
    """
    clock = Clock()
    coalesced, immediate = Chat(clock), Chat()
    for serial, (op, name, room, flag) in enumerate(ops):
        if op == "turn":
            clock.advance(0)
            continue
        for chat in (coalesced, immediate):
            user = chat.user(name)
            if op == "join":
                chat.join(name, room)
            elif op == "part":
                chat.part(name, room)
            elif op == "say" and chat.rooms[room] in user.rooms:
                chat.say(name, room, serial, exclude=flag)
            elif op == "send":
                data = b"to %s %d\n" % (name.encode(), serial)
                chat.fanout.send(user, data)  # type: ignore[arg-type]
            elif op == "users":
                chosen: list[Any] = [chat.user(n) for n in NAMES if n <= name]
                chat.fanout.toUsers(chosen, Renamed(name, str(serial)))
            elif op == "flushOne":
                chat.fanout.flushOne(user)  # type: ignore[arg-type]
        immediate.clock.advance(0)
    clock.advance(0)
    assert not coalesced.fanout.pending
    for name, user in coalesced.users.items():
        assert user.mind.data == immediate.users[name].mind.data


# Faults: an event a codec cannot encode, a recipient that cannot take it.

BAD = "\ud800"


def failing_chat(clock: Clock | None) -> tuple[Chat, FailingCodec]:
    """
    A chat whose users I{f1} (in #a) and I{f2} (in #a and #b, another form)
    have a codec that cannot encode a lone surrogate, and I{ok} (in #a) a
    codec that can.
    """
    chat = Chat(clock)
    failing = FailingCodec()
    chat.join("f1", "#a", failing)
    chat.join("f2", "#a", failing)
    chat.join("f2", "#b")
    chat.join("ok", "#a")
    chat.join("speaker", "#a")
    return chat, failing


def bad_said(n: int) -> bytes:
    return f"{Said('#a', 'speaker', BAD, n, 0.0)!r}\n".encode("utf-8", "surrogatepass")


def test_an_event_a_codec_cannot_encode_is_left_out_for_that_codec_only(errors):
    clock = Clock()
    chat, _ = failing_chat(clock)
    chat.say("speaker", "#a", 1)
    chat.say("speaker", "#a", 2, text=BAD)
    chat.say("speaker", "#a", 3)
    clock.advance(0)
    f1, f2, ok = (chat.users[n] for n in ("f1", "f2", "ok"))
    assert f1.mind.data == said("#a", "speaker", 1) + said("#a", "speaker", 3)
    assert f2.mind.data == said("#a", "speaker", 1, True) + said(
        "#a", "speaker", 3, True
    )
    assert ok.mind.data == said("#a", "speaker", 1) + bad_said(2) + said(
        "#a", "speaker", 3
    )


def test_an_encoding_failure_is_logged_once_per_event_and_codec(errors):
    clock = Clock()
    chat, _ = failing_chat(clock)
    chat.say("speaker", "#a", 1, text=BAD)
    chat.say("speaker", "#a", 2, text=BAD)
    clock.advance(0)
    assert [(e["codec"], e["event"].id) for e in errors] == [
        ("FailingCodec", 1),
        ("FailingCodec", 2),
    ]
    assert all(e["log_failure"].check(UnicodeEncodeError) for e in errors)


def test_the_turns_after_an_encoding_failure_are_delivered(errors):
    clock = Clock()
    chat, _ = failing_chat(clock)
    chat.say("speaker", "#a", 1, text=BAD)
    clock.advance(0)
    assert not chat.fanout.pending
    chat.say("speaker", "#a", 2)
    clock.advance(0)
    assert chat.users["f1"].mind.deliveries == [said("#a", "speaker", 2)]
    assert chat.users["ok"].mind.deliveries == [bad_said(1), said("#a", "speaker", 2)]


def test_an_event_for_one_user_that_cannot_be_encoded_costs_that_event_alone(
    errors,
):
    clock = Clock()
    chat, _ = failing_chat(clock)
    f1 = chat.users["f1"]
    chat.fanout.send(f1, b"before\n")  # type: ignore[arg-type]
    chat.fanout.toUser(f1, Said("#a", "x", BAD, 1, 0.0))  # type: ignore[arg-type]
    chat.fanout.toUsers([f1], Said("#a", "x", BAD, 2, 0.0))  # type: ignore[list-item]
    chat.fanout.send(f1, b"after\n")  # type: ignore[arg-type]
    clock.advance(0)
    assert f1.mind.data == b"before\nafter\n"
    assert len(errors) == 2


def test_a_recipient_whose_delivery_raises_does_not_stop_the_others(errors):
    clock = Clock()
    chat = Chat(clock)
    members = [chat.join(f"u{n}", "#a") for n in range(5)]
    members[1].mind.broken = True
    chat.say("u0", "#a", 1, exclude=False)
    clock.advance(0)
    assert [len(m.mind.deliveries) for m in members] == [1, 0, 1, 1, 1]
    assert [e["name"] for e in errors] == ["u1"]
    chat.say("u0", "#a", 2, exclude=False)
    clock.advance(0)
    assert [len(m.mind.deliveries) for m in members] == [2, 0, 2, 2, 2]


def test_a_recipient_whose_delivery_raises_while_others_are_held(errors):
    clock = Clock()
    chat = Chat(clock)
    members = [chat.join(f"u{n}", "#a") for n in range(3)]
    chat.fanout.hold(members[2])  # type: ignore[arg-type]
    members[0].mind.broken = True
    chat.say("u0", "#a", 1, exclude=False)
    clock.advance(0)
    assert [len(m.mind.deliveries) for m in members] == [0, 1, 0]
    assert [e["name"] for e in errors] == ["u0"]


@settings(max_examples=200, deadline=None)
@given(operations, st.sets(st.integers(min_value=0, max_value=60)))
def test_coalesced_output_with_failures_is_what_immediate_output_would_be(ops, failing):
    """
    With some lines that one door cannot encode, the users of that door
    miss those lines alone, coalesced or not: everything else arrives as
    it would have.
    """
    clock = Clock()
    coalesced, immediate = Chat(clock), Chat()
    for chat in (coalesced, immediate):
        chat.codec = FailingCodec()
    for serial, (op, name, room, flag) in enumerate(ops):
        if op == "turn":
            clock.advance(0)
            continue
        for chat in (coalesced, immediate):
            user = chat.user(name)
            if op == "join":
                chat.join(name, room)
            elif op == "part":
                chat.part(name, room)
            elif op == "say" and chat.rooms[room] in user.rooms:
                text = BAD if serial in failing else ""
                chat.say(name, room, serial, exclude=flag, text=text)
            elif op == "send":
                chat.fanout.send(user, b"to %s %d\n" % (name.encode(), serial))  # type: ignore[arg-type]
            elif op == "flushOne":
                chat.fanout.flushOne(user)  # type: ignore[arg-type]
        immediate.clock.advance(0)
    clock.advance(0)
    assert not coalesced.fanout.pending
    for name, user in coalesced.users.items():
        assert user.mind.data == immediate.users[name].mind.data
