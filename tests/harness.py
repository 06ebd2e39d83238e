"""
Run line-door connections without sockets: a real L{ChatServer} and
L{LineFactory} on a L{Clock}, and clients on L{StringTransport}s.
"""

from __future__ import annotations

from twisted.cred.checkers import ICredentialsChecker
from twisted.internet import error
from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure

from chatserver.config import ChatConfig
from chatserver.doors.line.factory import LineFactory, refusal
from chatserver.doors.line.protocol import ChatProtocol
from chatserver.history.store import HistoryStore
from chatserver.limits.gate import AdmittedConnection, AdmittingFactory
from chatserver.server import ChatServer
from chatwire import lines


class FakeClient:
    """
    One connection to the server, seen from the client's side.

    @ivar connection: The connection at the server's gate.
    @ivar protocol: The line door's protocol behind it (L{None} when the
        connection was refused).
    """

    def __init__(
        self, factory: AdmittingFactory, port: int, host: str = "127.0.0.1"
    ) -> None:
        address: IPv4Address | IPv6Address = (
            IPv6Address("TCP", host, port)
            if ":" in host
            else IPv4Address("TCP", host, port)
        )
        self.transport = StringTransport(
            hostAddress=IPv4Address("TCP", "127.0.0.1", 8123), peerAddress=address
        )
        self.connection: AdmittedConnection = factory.buildProtocol(address)
        self.connection.makeConnection(self.transport)
        self.protocol: ChatProtocol = self.connection.wrappedProtocol

    def send(self, data: bytes | str) -> None:
        if isinstance(data, str):
            data = data.encode("utf-8") + b"\r\n"
        self.protocol.dataReceived(data)

    def received(self) -> list[str]:
        """
        The lines received since the last call, as text without line ends.
        """
        data: bytes = self.transport.value()
        self.transport.clear()
        assert data == b"" or data.endswith(b"\r\n"), data
        return data.decode("utf-8").split("\r\n")[:-1]

    def events(self) -> list[lines.Event]:
        return [lines.parse(line) for line in self.received()]

    def lose(self, reason: Exception | None = None) -> None:
        """
        The connection goes away, for C{reason} (a clean close by default).
        """
        self.connection.connectionLost(Failure(reason or error.ConnectionDone()))

    @property
    def closing(self) -> bool:
        return bool(self.transport.disconnecting)


class FakeServer:
    """
    A chat server on a fake clock.
    """

    def __init__(
        self,
        checkers: list[ICredentialsChecker] | None = None,
        coalesce: bool = False,
        history: HistoryStore | None = None,
        **settings: object,
    ) -> None:
        self.clock = Clock()
        self.config = ChatConfig(**settings)  # type: ignore[arg-type]
        self.server = ChatServer(
            self.config,
            clock=self.clock,
            checkers=checkers,
            history=history,
            coalesce=coalesce,
        )
        self.realm = self.server.realm
        self.factory = LineFactory(self.server)
        self._ports = iter(range(40000, 60000))

    def connect(self, host: str = "127.0.0.1") -> FakeClient:
        return FakeClient(
            self.server.gate(self.factory, refusal), next(self._ports), host
        )

    def login(self, name: str) -> FakeClient:
        """
        Connect and log in as C{name}; the lines received so far are read.
        """
        client = self.connect()
        client.send(name)
        received = client.received()
        assert f"=== Welcome to {self.config.serverName}, {name}!" in received
        return client
