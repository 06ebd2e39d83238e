"""
The cap on the size of a web client's message, applied to the bytes of its
connection before Twisted's WebSocket reads them.

Twisted's WebSocket (L{twisted.web.websocket}, over wsproto) puts a message
together in memory whatever its size, and offers no hook to refuse one.  So
the frames a client sends are read here first, header by header (RFC 6455,
section 5.2).  A frame's header tells the length of its payload before the
payload comes: a data message over the cap is known as soon as the header
of the frame that takes it over arrives.  That frame and the rest of its
message are dropped as they arrive, the frames held before it too, and the
message is reported too long once its last frame has gone by; the
connection is kept.

Control frames (ping, pong, close) pass at once, and so does the last frame
of a message within the cap, as it arrives.  The earlier frames of a
fragmented message are held until its last one shows that it is within the
cap: no more than the cap is ever held, because the headers of the frames
held count towards it (a message of endless empty fragments is too long,
not a leak).  What passes is the client's bytes, untouched: wsproto checks
them as ever.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet.protocol import Protocol, connectionDone
from twisted.python.failure import Failure

# What is done with the payload of the frame being read.
_PASS = 0
_HOLD = 1
_DROP = 2


def header_length(head: bytes | bytearray) -> int:
    """
    @param head: The first two bytes of a frame, at least.
    @return: The length of the frame's header: its two bytes, the extended
        payload length, and the masking key.
    """
    size = head[1] & 0x7F
    length = 2 + (2 if size == 126 else 8 if size == 127 else 0)
    return length + (4 if head[1] & 0x80 else 0)


def payload_length(head: bytes | bytearray) -> int:
    """
    @param head: A frame's whole header.
    @return: The length of the frame's payload.
    """
    size = head[1] & 0x7F
    if size == 126:
        return int.from_bytes(head[2:4], "big")
    if size == 127:
        return int.from_bytes(head[2:10], "big")
    return size


def whole_frames(data: bytes, cap: int) -> bool:
    """
    @return: Whether C{data} is whole frames, each a control frame or a
        message of its own within C{cap}.
    """
    pos, end = 0, len(data)
    while pos < end:
        if end - pos < 2:
            return False
        first, second = data[pos], data[pos + 1]
        size = second & 0x7F
        pos += 2
        if size == 126:
            size = int.from_bytes(data[pos : pos + 2], "big")
            pos += 2
        elif size == 127:
            size = int.from_bytes(data[pos : pos + 8], "big")
            pos += 8
        if second & 0x80:
            pos += 4
        pos += size
        opcode = first & 0x0F
        if opcode < 0x08 and (not first & 0x80 or opcode == 0 or size > cap):
            # A data frame that does not both begin and end its message,
            # or over the cap.
            return False
    return pos == end


class FrameReader:
    """
    Reads the frames a client sends, passing on those of messages within
    the cap and dropping those of the messages over it.

    @ivar cap: The most bytes a message may have.
    """

    def __init__(
        self, cap: int, deliver: Callable[[bytes], None], tooLong: Callable[[], None]
    ) -> None:
        """
        @param cap: The most bytes a message may have.
        @param deliver: Called with the bytes that pass, in order.
        @param tooLong: Called when a message over the cap has ended, in
            its place among what passes.
        """
        self.cap = cap
        self._deliver = deliver
        self._tooLong = tooLong
        self._head = bytearray()
        # The current frame: its payload bytes still to come, what is done
        # with them, whether it is the last frame of a data message.
        self._left = 0
        self._mode = _PASS
        self._last = False
        # The current data message: its size so far, its frames held, and
        # whether it is over the cap.
        self._size = 0
        self._held: list[bytes] = []
        self._dropping = False

    @property
    def held(self) -> int:
        """
        The bytes held: the earlier frames of a fragmented message.
        """
        return sum(len(piece) for piece in self._held)

    def feed(self, data: bytes) -> None:
        """
        Read C{data}, the next bytes from the client.
        """
        if not (
            self._left or self._head or self._held or self._dropping
        ) and whole_frames(data, self.cap):
            # What a browser sends: whole frames, each a message of its own.
            self._deliver(data)
            return
        out: list[bytes] = []
        pos, end = 0, len(data)
        while pos < end:
            if self._left:
                take = min(self._left, end - pos)
                if self._mode == _PASS:
                    out.append(data[pos : pos + take])
                elif self._mode == _HOLD:
                    self._held.append(data[pos : pos + take])
                pos += take
                self._left -= take
                if not self._left:
                    self._frameEnded(out)
                continue
            head = self._head
            want = header_length(head) if len(head) >= 2 else 2
            take = min(want - len(head), end - pos)
            head += data[pos : pos + take]
            pos += take
            if len(head) < 2 or len(head) < header_length(head):
                continue
            self._head = bytearray()
            self._frameStarted(bytes(head), out)
        if out:
            self._deliver(b"".join(out))

    def _frameStarted(self, head: bytes, out: list[bytes]) -> None:
        self._left = payload_length(head)
        if head[0] & 0x08:
            # A control frame, between the frames of a message or not.
            self._mode = _PASS
            self._last = False
            out.append(head)
        else:
            self._last = bool(head[0] & 0x80)
            self._size += self._left
            if not self._last:
                self._size += len(head)
            if self._dropping or self._size > self.cap:
                self._dropping = True
                self._held.clear()
                self._mode = _DROP
            elif self._last:
                out.extend(self._held)
                self._held.clear()
                out.append(head)
                self._mode = _PASS
            else:
                self._held.append(head)
                self._mode = _HOLD
        if not self._left:
            self._frameEnded(out)

    def _frameEnded(self, out: list[bytes]) -> None:
        if not self._last:
            return
        self._last = False
        self._size = 0
        if self._dropping:
            self._dropping = False
            if out:
                self._deliver(b"".join(out))
                out.clear()
            self._tooLong()


class MessageCap(Protocol):
    """
    In front of one connection of the web door (a L{ChatChannel
    <chatserver.doors.web.resource.ChatChannel>}): what arrives is passed
    on to it as it is until it becomes a WebSocket, and from then on read by
    a L{FrameReader} first.  What the channel writes goes straight to the
    connection.

    @ivar channel: The connection's HTTP channel.
    """

    def __init__(self, channel: Any) -> None:
        self.channel = channel
        self._reader: FrameReader | None = None

    def makeConnection(self, transport: Any) -> None:
        self.connected = 1
        self.transport = transport
        self.channel.makeConnection(transport)

    def capMessages(self, cap: int, tooLong: Callable[[], None]) -> None:
        """
        The connection is now a WebSocket: its messages are capped at
        C{cap} bytes, and C{tooLong} is called for each one over it.
        """
        self._reader = FrameReader(cap, self._pass, tooLong)

    def _pass(self, data: bytes) -> None:
        # Once upgraded, the channel's dataReceived is the WebSocket's.
        self.channel.dataReceived(data)

    def dataReceived(self, data: bytes) -> None:
        if self._reader is None:
            self.channel.dataReceived(data)
        else:
            self._reader.feed(data)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.connected = 0
        self._reader = None
        self.channel.connectionLost(reason)

    def serverStopping(self) -> None:
        self.channel.serverStopping()
