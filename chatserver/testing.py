"""
Test a door, or anything that talks to the chat, in memory: a real
L{ChatServer} on a L{Clock}, and clients connected to a door's factory over
L{StringTransport}s, no socket and no reactor.

The server's output goes through the same fan-out as in production: what a
turn of the reactor sends is coalesced and written when the turn ends.
Here the turn ends when the clock is advanced by nothing
(L{ChatHarness.flush}), which every client's reading method does first, so
a test feeds input and reads output as it would over a socket::

    from chatserver.testing import ChatHarness

    def test_my_door_says_each_line_in_the_default_room():
        chat = ChatHarness(rate=0)
        watcher = chat.login("watcher")
        mine = chat.connect(factory=MyDoor.makeFactory(chat.server))
        mine.send(b"shouty\\nhello\\n")  # a name, then a line to say
        assert "<shouty> hello" in watcher.received()

Every connection passes the server's admission, as the service puts it
around every door's factory (C{--max-clients}, the per-address limits, the
refusal while stopping).  Time is the harness's clock: advance it
(C{chat.clock.advance(30)}) to reach a timeout or refill a token bucket.

There is a client for each of our doors (L{LineClient}, L{IrcClient},
L{WebClient}), and L{DoorClient} for any other: bytes in, bytes out.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from itertools import count
from typing import Any, Generic, TypeVar, cast

from twisted.cred.checkers import ICredentialsChecker
from twisted.internet import error
from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.interfaces import IProtocolFactory
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure

from chatserver.config import ChatConfig
from chatserver.doors.irc import message as irc
from chatserver.doors.irc.factory import IrcFactory
from chatserver.doors.irc.factory import refusal as irc_refusal
from chatserver.doors.line.factory import LineFactory
from chatserver.doors.line.factory import refusal as line_refusal
from chatserver.doors.web.codec import split_messages
from chatserver.doors.web.resource import refusal as web_refusal
from chatserver.doors.web.resource import web_site
from chatserver.history.store import HistoryStore
from chatserver.limits.gate import AdmittedConnection, AdmittingFactory, no_refusal
from chatserver.server import ChatServer
from chatwire import lines

__all__ = [
    "WEBSOCKET_UPGRADE",
    "ChatHarness",
    "ClientTransport",
    "DoorClient",
    "IrcClient",
    "LineClient",
    "WebClient",
]

_P = TypeVar("_P", bound=Protocol)

LINE_END = b"\r\n"

WEBSOCKET_UPGRADE = (
    b"GET /ws HTTP/1.1\r\n"
    b"Host: chat.example\r\n"
    b"Upgrade: websocket\r\n"
    b"Connection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    b"Sec-WebSocket-Version: 13\r\n"
    b"\r\n"
)
"""
A browser's request for the web door's WebSocket.
"""


class ClientTransport(StringTransport):
    """
    The server's side of one in-memory connection: what the door writes is
    kept to be read, and an abort is remembered.

    Reading what was written (L{value}) or dropping it (L{clear}) ends the
    current turn first, as a client reading a socket sees what the turns
    before it wrote.

    @ivar aborted: Whether the door aborted the connection.
    """

    aborted = False

    def __init__(self, flush: Callable[[], None], **kwargs: Any) -> None:
        self._flush = flush
        super().__init__(**kwargs)

    def value(self) -> bytes:
        """
        @return: What the door wrote, the current turn ended.
        """
        self._flush()
        data: bytes = super().value()
        return data

    def clear(self) -> None:
        """
        Drop what the door wrote, the current turn ended.
        """
        self._flush()
        super().clear()

    def abortConnection(self) -> None:
        self.aborted = True
        super().abortConnection()


class DoorClient(Generic[_P]):
    """
    One connection to a door's factory, seen from the client's side: bytes
    in, bytes out.

    @ivar harness: The chat it is connected to.
    @ivar transport: What the door writes to (a L{ClientTransport}).
    @ivar connection: The connection at the server's admission.
    @ivar protocol: The door's protocol behind it; L{None} when the
        connection was refused (the refusal is in L{output}).
    """

    def __init__(
        self,
        harness: ChatHarness,
        gate: AdmittingFactory,
        peer: IPv4Address | IPv6Address,
        host: IPv4Address,
    ) -> None:
        self.harness = harness
        self.transport = ClientTransport(
            harness.flush, hostAddress=host, peerAddress=peer
        )
        self.connection: AdmittedConnection = gate.buildProtocol(peer)
        self.connection.makeConnection(self.transport)
        self.protocol: _P = self.connection.wrappedProtocol

    def send(self, data: bytes) -> None:
        """
        The client sends C{data}; the door reads it at once.
        """
        self.protocol.dataReceived(data)

    def output(self) -> bytes:
        """
        @return: The bytes the door wrote since the last call, once the
            current turn has ended (L{ChatHarness.flush}).
        """
        self.harness.flush()
        data: bytes = self.transport.value()
        self.transport.clear()
        return data

    def lose(self, reason: Exception | None = None) -> None:
        """
        The connection goes away, for C{reason} (a clean close by default).
        """
        self.connection.connectionLost(Failure(reason or error.ConnectionDone()))

    @property
    def closing(self) -> bool:
        """
        Whether the door has closed (or is closing) the connection.
        """
        return bool(self.transport.disconnecting)


def _lines(data: bytes) -> list[str]:
    """
    @return: C{data}, complete lines of UTF-8 text, as text without line
        ends.
    """
    assert data == b"" or data.endswith(LINE_END), data
    return data.decode("utf-8").split("\r\n")[:-1]


class LineClient(DoorClient[Any]):
    """
    A client of the line door: it reads lines of L{chatwire.lines}.
    """

    def send(self, data: bytes | str) -> None:
        """
        The client sends C{data}: bytes as they are, text as one line.
        """
        if isinstance(data, str):
            data = data.encode("utf-8") + LINE_END
        super().send(data)

    def received(self) -> list[str]:
        """
        @return: The lines received since the last call, as text without
            their line ends.
        """
        return _lines(self.output())

    def events(self) -> list[lines.Event]:
        """
        @return: The lines received since the last call, parsed.
        """
        return [lines.parse(line) for line in self.received()]


class IrcClient(DoorClient[Any]):
    """
    A client of the IRC door.
    """

    def send(self, *lines: str) -> None:  # type: ignore[override]
        """
        The client sends each of C{lines}, with its line end.
        """
        for line in lines:
            self.protocol.dataReceived(line.encode("utf-8") + LINE_END)

    def raw(self) -> list[str]:
        """
        @return: The lines received since the last call, without their line
            ends.
        """
        return _lines(self.output())

    def messages(self) -> list[irc.Message]:
        """
        @return: The messages received since the last call, parsed.
        """
        return [irc.parse(line) for line in self.raw()]

    def commands(self) -> list[str]:
        """
        @return: The commands (or numerics) of the messages received since
            the last call.
        """
        return [m.command for m in self.messages()]


class WebClient(DoorClient[Any]):
    """
    A browser on the web door's WebSocket: it upgrades at once, then sends
    and reads JSON messages.
    """

    def upgrade(self) -> None:
        """
        Ask for the WebSocket at C{/ws}; the C{101} answer is read and left
        out of L{messages}.
        """
        self.send(WEBSOCKET_UPGRADE)
        head, _, rest = self.transport.value().partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101 "), head
        self.transport.clear()
        self.transport.io.write(rest)

    def send(self, data: bytes | dict[str, Any]) -> None:
        """
        The browser sends C{data}: bytes as they are (before the upgrade),
        a message as one masked text frame.
        """
        if isinstance(data, dict):
            data = _client_frame(json.dumps(data).encode("utf-8"))
        self.connection.dataReceived(data)

    def messages(self) -> list[dict[str, Any]]:
        """
        @return: The messages received since the last call.
        """
        found: list[dict[str, Any]] = [
            json.loads(text) for text in split_messages(self.output())
        ]
        return found


def _client_frame(payload: bytes) -> bytes:
    """
    @return: C{payload} in one final text frame, masked as a client's are.
    """
    size = len(payload)
    if size < 126:
        head = bytes([0x81, 0x80 | size])
    elif size < 1 << 16:
        head = bytes([0x81, 0x80 | 126]) + size.to_bytes(2, "big")
    else:
        head = bytes([0x81, 0x80 | 127]) + size.to_bytes(8, "big")
    mask = os.urandom(4)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


_C = TypeVar("_C", bound=DoorClient[Any])


class ChatHarness:
    """
    A chat server on a fake clock, and its doors, in memory.

    @ivar clock: The server's clock.
    @ivar config: The server's settings.
    @ivar server: The server, to give a door's C{makeFactory}.
    @ivar realm: The chat.
    @ivar factory: The line door's factory.

    @param checkers: The C{--auth} checkers; none for an open server.
    @param history: Where lines are kept; in memory by default.
    @param operCheckers: The C{--oper} checkers.
    @param operators: The C{--operator} accounts.
    @param settings: The L{ChatConfig} fields to set (C{rate=0} to take
        away the pacing of input, say).
    """

    def __init__(
        self,
        checkers: list[ICredentialsChecker] | None = None,
        history: HistoryStore | None = None,
        *,
        operCheckers: list[ICredentialsChecker] | None = None,
        operators: tuple[str, ...] = (),
        **settings: Any,
    ) -> None:
        self.clock = Clock()
        self.config = ChatConfig(**settings)
        self.server = ChatServer(
            self.config,
            clock=self.clock,
            checkers=checkers,
            history=history,
            operCheckers=operCheckers,
            operators=operators,
        )
        self.realm = self.server.realm
        self.factory = LineFactory(self.server)
        self._ircFactory: IrcFactory | None = None
        self._ports = count(40000)

    def flush(self) -> None:
        """
        End the current turn: what the chat sent during it is written.
        """
        self.clock.advance(0)

    def _client(
        self,
        kind: Callable[..., _C],
        factory: IProtocolFactory,
        refusal: Callable[[str], bytes],
        host: str,
        port: int,
    ) -> _C:
        peer: IPv4Address | IPv6Address = (
            IPv6Address("TCP", host, next(self._ports))
            if ":" in host
            else IPv4Address("TCP", host, next(self._ports))
        )
        # The service gates any door's factory the same way.
        gate = self.server.gate(cast("Factory[Any]", factory), refusal)
        return kind(self, gate, peer, IPv4Address("TCP", "127.0.0.1", port))

    def connect(
        self,
        host: str = "127.0.0.1",
        *,
        factory: IProtocolFactory | None = None,
        refusal: Callable[[str], bytes] = no_refusal,
    ) -> Any:
        """
        Open a connection to a door.

        @param host: The client's address.
        @param factory: The door's factory (a door plugin's
            C{makeFactory(harness.server)}); the line door's by default.
        @param refusal: What the door tells a connection the admission
            refuses (nothing by default); the line door's own for it.
        @return: A L{LineClient} for the line door, a L{DoorClient} for
            any other.
        """
        if factory is None:
            return self._client(LineClient, self.factory, line_refusal, host, 8123)
        return self._client(DoorClient, factory, refusal, host, 8123)

    def login(self, name: str) -> LineClient:
        """
        Connect to the line door and log in as C{name}; the lines received
        so far are read.
        """
        client: LineClient = self.connect()
        client.send(name)
        received = client.received()
        assert f"=== Welcome to {self.config.serverName}, {name}!" in received
        return client

    def irc(self, host: str = "127.0.0.1") -> IrcClient:
        """
        Open a connection to the IRC door.
        """
        if self._ircFactory is None:
            self._ircFactory = IrcFactory(self.server)
        return self._client(IrcClient, self._ircFactory, irc_refusal, host, 6667)

    def ircLogin(self, nick: str, *caps: str, join: str = "") -> IrcClient:
        """
        Register C{nick} on the IRC door with C{caps}, and join C{join} if
        given (IRC users start in no room); what was received is read.
        """
        client = self.irc()
        if caps:
            client.send("CAP LS 302", f"CAP REQ :{' '.join(caps)}")
        client.send(f"NICK {nick}", f"USER {nick} 0 * :Real {nick}")
        if caps:
            client.send("CAP END")
        received = client.commands()
        assert "001" in received, received
        if join:
            client.send(f"JOIN {join}")
            client.raw()
        return client

    def web(
        self, host: str = "127.0.0.1", origins: list[str] | None = None
    ) -> WebClient:
        """
        Open a connection to the web door and upgrade it to its WebSocket.

        @param origins: The C{--web-origin} values.
        """
        client = self._client(
            WebClient, web_site(self.server, origins or []), web_refusal, host, 8080
        )
        client.upgrade()
        return client
