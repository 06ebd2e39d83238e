"""
The web door's cap on the size of a client's message, read from the frames
on the connection before Twisted's WebSocket reads them
(L{chatserver.doors.web.framecap}): what passes is read by wsproto, as
Twisted's WebSocket does, to check that every message within the cap still
arrives whole and in its place.
"""

from __future__ import annotations

from itertools import pairwise

from hypothesis import assume, given
from hypothesis import strategies as st
from wsproto.connection import Connection, ConnectionType
from wsproto.events import BytesMessage, Ping, TextMessage

from chatserver.doors.web.framecap import FrameReader, header_length

TEXT, BINARY, CONTINUATION, PING = 0x1, 0x2, 0x0, 0x9
CAP = 300


def frame(opcode: int, payload: bytes, fin: bool = True, key: bytes = b"k3y!") -> bytes:
    """
    @return: A client's frame (masked with C{key}), with the shortest
        length encoding.
    """
    first = (0x80 if fin else 0) | opcode
    size = len(payload)
    if size < 126:
        head = bytes([first, 0x80 | size])
    elif size < 1 << 16:
        head = bytes([first, 0x80 | 126]) + size.to_bytes(2, "big")
    else:
        head = bytes([first, 0x80 | 127]) + size.to_bytes(8, "big")
    masked = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return head + key + masked


class Server:
    """
    A L{FrameReader} in front of a wsproto server connection, noting what
    reaches it: whole messages, pings, and the messages too long.
    """

    def __init__(self, cap: int = CAP) -> None:
        self.wire = Connection(ConnectionType.SERVER)
        self.reader = FrameReader(cap, self.deliver, self.tooLong)
        self.seen: list[tuple[str, bytes]] = []
        self._message = b""

    def deliver(self, data: bytes) -> None:
        self.wire.receive_data(data)
        for event in self.wire.events():
            if isinstance(event, Ping):
                self.seen.append(("ping", bytes(event.payload)))
            elif isinstance(event, TextMessage):
                self._message += event.data.encode("utf-8")
            elif isinstance(event, BytesMessage):
                self._message += bytes(event.data)
            else:
                raise AssertionError(event)
            if (
                isinstance(event, (TextMessage, BytesMessage))
                and event.message_finished
            ):
                self.seen.append(("message", self._message))
                self._message = b""

    def tooLong(self) -> None:
        self.seen.append(("too long", b""))


def feed_in_chunks(server: Server, data: bytes, cuts: list[int]) -> None:
    points = sorted({cut % (len(data) + 1) for cut in cuts} | {0, len(data)})
    for start, end in pairwise(points):
        server.reader.feed(data[start:end])


def test_a_message_within_the_cap_passes():
    server = Server()
    server.reader.feed(frame(TEXT, b"x" * CAP))
    assert server.seen == [("message", b"x" * CAP)]


def test_a_message_over_the_cap_is_reported_and_the_next_one_passes():
    server = Server()
    server.reader.feed(frame(TEXT, b"x" * (CAP + 1)) + frame(TEXT, b"next"))
    assert server.seen == [("too long", b""), ("message", b"next")]


def test_a_huge_frame_is_dropped_as_it_arrives_never_held():
    server = Server()
    size = 1 << 40
    server.reader.feed(bytes([0x81, 0xFF]) + size.to_bytes(8, "big") + b"k3y!")
    for _ in range(100):
        server.reader.feed(b"\0" * 65536)
        assert server.reader.held == 0
    assert server.seen == []


def test_the_fragments_of_a_message_over_the_cap_are_dropped_with_it():
    server = Server()
    first = frame(TEXT, b"a" * 200, fin=False)
    server.reader.feed(first)
    assert server.reader.held == len(first)
    server.reader.feed(frame(PING, b"hi"))
    server.reader.feed(frame(CONTINUATION, b"b" * 200, fin=False))
    assert server.reader.held == 0
    server.reader.feed(frame(CONTINUATION, b"c"))
    server.reader.feed(frame(TEXT, b"next"))
    assert server.seen == [("ping", b"hi"), ("too long", b""), ("message", b"next")]


def test_endless_empty_fragments_are_a_message_too_long_not_a_leak():
    server = Server()
    server.reader.feed(frame(TEXT, b"", fin=False))
    for _ in range(10_000):
        server.reader.feed(frame(CONTINUATION, b"", fin=False))
        assert server.reader.held <= CAP
    server.reader.feed(frame(CONTINUATION, b""))
    assert server.seen == [("too long", b"")]


# A message as the client sends it: its opcode, its payload cut into
# fragments, and a ping before each fragment or not.
messages = st.lists(
    st.tuples(
        st.sampled_from([TEXT, BINARY]),
        st.integers(0, 2 * CAP),
        st.lists(st.integers(0, 2 * CAP), max_size=4),
        st.lists(st.booleans(), min_size=5, max_size=5),
        st.binary(min_size=4, max_size=4),
    ),
    max_size=6,
)


@given(messages, st.lists(st.integers(0, 10_000), max_size=20))
def test_messages_within_the_cap_arrive_whole_and_in_place(sent, cuts):
    stream = b""
    expected: list[tuple[str, bytes]] = []
    for n, (opcode, size, splits, pings, key) in enumerate(sent):
        payload = bytes([0x61 + n]) * size
        points = sorted({0, size} | {split % (size + 1) for split in splits})
        pieces = [payload[a:b] for a, b in pairwise(points)] or [b""]
        overhead = sum(header_length(frame(opcode, p)) for p in pieces[:-1])
        # Within the cap with the fragments' headers, or over it without.
        assume(size + overhead <= CAP or size > CAP)
        for i, piece in enumerate(pieces):
            if pings[i]:
                stream += frame(PING, b"p%d" % n, key=key)
                expected.append(("ping", b"p%d" % n))
            last = i == len(pieces) - 1
            stream += frame(opcode if i == 0 else CONTINUATION, piece, last, key)
        expected.append(("too long", b"") if size > CAP else ("message", payload))
    server = Server()
    feed_in_chunks(server, stream, cuts)
    assert server.seen == expected
    assert server.reader.held == 0


@given(st.binary(max_size=3000), st.lists(st.integers(0, 10_000), max_size=20))
def test_any_bytes_are_read_holding_no_more_than_the_cap(data, cuts):
    reader = FrameReader(CAP, lambda data: None, lambda: None)
    points = sorted({cut % (len(data) + 1) for cut in cuts} | {0, len(data)})
    for start, end in pairwise(points):
        reader.feed(data[start:end])
        assert reader.held <= CAP
