"""
IRC clients without sockets: an L{IrcFactory} on the same fake server as
the line door's clients (L{tests.harness.FakeServer}).
"""

from __future__ import annotations

from twisted.internet import error
from twisted.internet.address import IPv4Address
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure

from chatserver.doors.irc.factory import IrcFactory
from chatserver.doors.irc.message import Message, parse
from chatserver.doors.irc.protocol import IrcProtocol
from tests.harness import FakeServer


class IrcClient:
    def __init__(self, factory: IrcFactory, port: int) -> None:
        address = IPv4Address("TCP", "127.0.0.1", port)
        self.transport = StringTransport(
            hostAddress=IPv4Address("TCP", "127.0.0.1", 6667), peerAddress=address
        )
        self.protocol: IrcProtocol = factory.buildProtocol(address)
        self.protocol.makeConnection(self.transport)

    def send(self, *lines: str) -> None:
        for line in lines:
            self.protocol.dataReceived(line.encode("utf-8") + b"\r\n")

    def raw(self) -> list[str]:
        data: bytes = self.transport.value()
        self.transport.clear()
        assert data == b"" or data.endswith(b"\r\n"), data
        return data.decode("utf-8").split("\r\n")[:-1]

    def messages(self) -> list[Message]:
        return [parse(line) for line in self.raw()]

    def commands(self) -> list[str]:
        return [m.command for m in self.messages()]

    def lose(self) -> None:
        self.protocol.connectionLost(Failure(error.ConnectionDone()))


class IrcServer(FakeServer):
    def __init__(self, *args: object, **settings: object) -> None:
        super().__init__(*args, **settings)  # type: ignore[arg-type]
        self.ircFactory = IrcFactory(self.server)

    def irc(self) -> IrcClient:
        return IrcClient(self.ircFactory, next(self._ports))

    def ircLogin(self, nick: str, *caps: str, join: str = "") -> IrcClient:
        """
        Register C{nick} with C{caps}, and join C{join} if given (IRC
        users start in no room).
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
